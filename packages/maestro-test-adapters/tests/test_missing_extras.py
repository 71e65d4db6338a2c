"""Using an engine whose extra is not installed names the exact pip command."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, tempfile, pathlib
    sys.modules["playwright"] = None
    sys.modules["selenium"] = None
    sys.modules["yaml"] = None
    from maestro_test_adapters import (
        AdvancedWebTester, Journey, MissingExtraError, PlaywrightAdapter, SeleniumAdapter,
    )
    yaml_file = pathlib.Path(tempfile.mkdtemp()) / "journey.yaml"
    yaml_file.write_text("- action: navigate\\n  url: http://127.0.0.1:9/\\n")
    checks = {
        "journey-playwright": lambda: asyncio.run(AdvancedWebTester().run_user_journey(
            [{"action": "navigate", "url": "http://127.0.0.1:9/"}])),
        "journey-selenium": lambda: asyncio.run(AdvancedWebTester("selenium").run_user_journey(
            [{"action": "navigate", "url": "http://127.0.0.1:9/"}])),
        "selenium-adapter": lambda: SeleniumAdapter().create_driver(),
        "playwright-adapter": lambda: PlaywrightAdapter().launch(),
        "yaml-journey": lambda: Journey.from_file(yaml_file),
    }
    for name, call in checks.items():
        try:
            call()
        except MissingExtraError as exc:
            assert isinstance(exc, ImportError)
            print(name, "|", exc)
    """
)


@pytest.fixture(scope="module")
def messages() -> dict[str, str]:
    """Each entry point's error message with selenium, playwright and pyyaml unimportable."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(line.split(" | ", 1) for line in out.stdout.splitlines())


@pytest.mark.parametrize(
    ("entry", "extra"),
    [
        ("journey-playwright", "playwright"),
        ("journey-selenium", "selenium"),
        ("selenium-adapter", "selenium"),
        ("playwright-adapter", "playwright"),
        ("yaml-journey", "yaml"),
    ],
)
def test_missing_extra_names_pip_install(messages: dict[str, str], entry: str, extra: str) -> None:
    """The error has the family's form and names pip install 'maestro-test-adapters[<extra>]'."""
    assert messages[entry].endswith(
        f" needs the {extra} extra: pip install 'maestro-test-adapters[{extra}]'"
    )
