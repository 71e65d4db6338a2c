"""maestro-journey: validate and run journey files, with meaningful exit statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from maestro_test_adapters._cli import main


def write(path: Path, steps: object) -> Path:
    """Write a JSON journey file."""
    path.write_text(json.dumps(steps))
    return path


def test_validate_reports_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate prints the step count and exits 0 without a browser."""
    file = write(tmp_path / "ok.json", [{"action": "navigate", "url": "http://127.0.0.1/"}])
    assert main(["validate", str(file)]) == 0
    assert "is valid (1 steps)" in capsys.readouterr().out


def test_invalid_file_exits_2_naming_step_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed journey exits 2 with the step index and field on stderr."""
    file = write(tmp_path / "bad.json", [{"action": "navigate"}])
    assert main(["run", str(file)]) == 2
    assert "step 0, field 'url'" in capsys.readouterr().err


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["playwright", "selenium"])
def test_run_passes_and_fails_with_exit_status(
    engine: str, site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run exits 0 on a passing journey and 1 on a failing one, printing the report."""
    good = write(tmp_path / "good.json", {"name": "good", "steps": [
        {"action": "navigate", "url": "/next.html"},
        {"action": "assert_text", "selector": "#msg", "text": "You made it"},
    ]})  # fmt: skip
    bad = write(tmp_path / "bad.json", [
        {"action": "navigate", "url": "/next.html"},
        {"action": "assert_title", "title": "Nope", "timeout": 0.3},
    ])  # fmt: skip
    common = ["--engine", engine, "--base-url", site, "--artifacts", str(tmp_path / "art")]
    assert main(["run", str(good), *common]) == 0
    assert "journey 'good' on " + engine + ": PASSED" in capsys.readouterr().out
    assert main(["run", str(bad), *common, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"passed": 1, "failed": 1, "skipped": 0}


def test_console_script_is_installed() -> None:
    """The maestro-journey entry point is on the environment's PATH and shows its help."""
    script = shutil.which("maestro-journey") or str(
        Path(__import__("sys").executable).with_name("maestro-journey")
    )
    out = subprocess.run([script, "--help"], capture_output=True, text=True, check=True)
    assert "run" in out.stdout
    assert "validate" in out.stdout


def test_version_and_error_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version; errors carry 'maestro-journey: error:'."""
    from maestro_testkit import package_version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert (
        capsys.readouterr().out.strip()
        == f"maestro-journey {package_version('maestro-test-adapters')}"
    )
    missing = tmp_path / "missing.json"
    assert main(["validate", str(missing)]) == 2
    assert capsys.readouterr().err.startswith("maestro-journey: error: ")
