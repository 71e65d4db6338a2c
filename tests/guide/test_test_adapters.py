"""The integration guide's maestro-test-adapters examples, run verbatim against loopback.

Only the URL string "https://example.com" is rewritten, to a page served on 127.0.0.1
with the ``#login-button`` and ``#username`` elements the examples use. The Migration
block's BEFORE lines import ``services...`` (the old in-repo code, which cannot exist
here), so only its AFTER lines run.
"""

from __future__ import annotations

import ast
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

PACKAGE = "maestro-test-adapters"
CHROMIUM = Path("/usr/bin/chromium")
GUIDE_URL = "https://example.com"
PAGE = b"""<!doctype html><html><head><title>Example Domain</title></head><body>
<button id="login-button"
  onclick="document.getElementById('username').style.visibility='visible'">Log in</button>
<input id="username" style="visibility:hidden"
  oninput="fetch('/typed?value=' + encodeURIComponent(this.value))">
</body></html>"""


@pytest.fixture(autouse=True)
def _browser_gate(request: pytest.FixtureRequest) -> None:
    """Skip browser examples when Chromium is missing, except under CI=true where they fail."""
    if request.node.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI=true: install chromium chromium-driver")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)")


class _Site(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = PAGE if self.path in ("/", "/index.html") else b""
        self.send_response(200 if body or self.path.startswith("/typed") else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[tuple[str, list[str]]]:
    """A loopback server standing in for example.com; yields its URL and the paths requested."""
    requests: ClassVar[list[str]] = []
    handler = type("Handler", (_Site,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def adapter_blocks(guide_blocks: Callable[..., list[str]]) -> list[str]:
    """The python blocks of the guide's maestro-test-adapters section."""
    blocks = guide_blocks(PACKAGE)
    assert len(blocks) == 3, "the section's python blocks changed; update this test"
    return blocks


def to_loopback(code: str, url: str) -> str:
    """Point the example at the loopback page, changing nothing but the URL string."""
    assert GUIDE_URL in code
    return code.replace(GUIDE_URL, url)


@pytest.mark.browser
def test_basic_usage_block_drives_selenium(
    adapter_blocks: list[str], site: tuple[str, list[str]]
) -> None:
    """The Basic Usage block creates a headless driver, loads the page and quits."""
    url, requests = site
    namespace: dict[str, object] = {}
    exec(compile(to_loopback(adapter_blocks[0], url), "guide-basic", "exec"), namespace)
    assert "/" in requests
    driver = namespace["driver"]
    assert getattr(driver, "_maestro_profile", "gone") is None  # quit() ran and cleaned up


@pytest.mark.browser
async def test_advanced_usage_block_runs_the_journey(
    adapter_blocks: list[str],
    site: tuple[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Advanced Usage block (top-level await) navigates, clicks and types on the page."""
    from maestro_test_adapters.advanced_web_testing import AdvancedWebTester, JourneyResult

    url, requests = site
    monkeypatch.chdir(tmp_path)  # failure artifacts, if any, stay out of the repository
    results: list[JourneyResult] = []
    real_run = AdvancedWebTester.run_user_journey

    async def keep_result(self: AdvancedWebTester, *args: Any, **kwargs: Any) -> JourneyResult:
        result = await real_run(self, *args, **kwargs)
        results.append(result)  # the block discards the result; keep it to check it
        return result

    monkeypatch.setattr(AdvancedWebTester, "run_user_journey", keep_result)
    code = compile(
        to_loopback(adapter_blocks[1], url),
        "guide-advanced",
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
    )
    namespace: dict[str, object] = {}
    coroutine = eval(code, namespace)
    if coroutine is not None:
        await coroutine
    (result,) = results
    assert result, result.report()
    assert [step.action for step in result.steps] == ["navigate", "click", "type"]
    # The page reports keystrokes to the server: the typing really reached it.
    assert any(path.startswith("/typed?value=t") for path in requests)
    assert not (tmp_path / "maestro-artifacts").exists()


def test_migration_block_after_lines_import(adapter_blocks: list[str]) -> None:
    """The Migration block's AFTER imports work (its BEFORE lines name code that cannot exist)."""
    block = adapter_blocks[2]
    after = block.split("# AFTER", 1)[1]
    after_lines = "\n".join(after.splitlines()[1:])
    assert "from maestro_test_adapters import SeleniumAdapter" in after_lines
    namespace: dict[str, object] = {}
    exec(compile(after_lines, "guide-migration-after", "exec"), namespace)
    assert namespace["AdvancedWebTester"].__module__.startswith("maestro_test_adapters")  # type: ignore[attr-defined]
    assert "services" in block.split("# AFTER", 1)[0]
