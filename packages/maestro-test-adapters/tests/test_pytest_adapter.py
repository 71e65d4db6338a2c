"""PytestAdapter: a real pytest subprocess, results read back from its JUnit XML."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from maestro_test_adapters import CaseStatus, PytestAdapter, PytestRunError

SUITE = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture boom")

def test_ok():
    assert True

def test_bad():
    assert 1 == 2, "one is not two"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

def test_error(broken):
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n
"""


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A small pytest project with passing, failing, skipped and erroring tests."""
    (tmp_path / "test_sample.py").write_text(textwrap.dedent(SUITE))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def test_run_returns_per_test_results(suite: Path) -> None:
    """Every test comes back with its status; the exit code is pytest's."""
    result = PytestAdapter(cwd=suite, args=["-p", "no:cacheprovider"]).run("test_sample.py")
    assert result.exit_code == 1
    assert not result
    by_name = {t.name: t for t in result.tests}
    assert by_name["test_ok"].status is CaseStatus.PASSED
    assert by_name["test_bad"].status is CaseStatus.FAILED
    assert "one is not two" in (by_name["test_bad"].message or "")
    assert by_name["test_skipped"].status is CaseStatus.SKIPPED
    assert by_name["test_error"].status is CaseStatus.ERROR
    assert {"test_param[1]", "test_param[2]"} <= set(by_name)
    assert by_name["test_ok"].file == "test_sample.py"
    assert result.count("passed") == 3
    assert [t.name for t in result.failures] == ["test_bad", "test_error"]
    assert "FAILED test_sample::test_bad" in result.report()


def test_selection_args_pass_through(suite: Path) -> None:
    """Extra arguments reach pytest: -k narrows the run and a green run is truthy."""
    result = PytestAdapter(cwd=suite).run("-p", "no:cacheprovider", "-k", "test_ok or test_param")
    assert result
    assert result.exit_code == 0
    assert sorted(t.name for t in result.tests) == ["test_ok", "test_param[1]", "test_param[2]"]


async def test_arun_matches_run(suite: Path) -> None:
    """The async form returns the same structured results without blocking the loop."""
    result = await PytestAdapter(cwd=suite).arun("-p", "no:cacheprovider", "-k", "test_ok")
    assert result.exit_code == 0
    assert [t.status for t in result.tests] == [CaseStatus.PASSED]


def test_usage_error_gives_exit_code_and_no_tests(suite: Path) -> None:
    """A pytest usage error is reported through the exit code, with no tests."""
    result = PytestAdapter(cwd=suite).run("--no-such-option")
    assert result.exit_code == 4
    assert result.tests == ()
    assert "no-such-option" in result.stderr


def test_timeout_stops_the_run(tmp_path: Path) -> None:
    """A suite that overruns the timeout is killed and PytestRunError is raised."""
    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hang():\n    time.sleep(60)\n")
    with pytest.raises(PytestRunError, match=r"did not finish within 1\.0s"):
        PytestAdapter(cwd=tmp_path, timeout=1.0).run("-p", "no:cacheprovider")


def test_missing_interpreter_is_a_clear_error(tmp_path: Path) -> None:
    """A python path that does not exist raises PytestRunError naming it."""
    with pytest.raises(PytestRunError, match="cannot start"):
        PytestAdapter(python=tmp_path / "python-nope").run()
