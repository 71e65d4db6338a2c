"""One identity and one status mapping, whichever way a test result arrives."""

from __future__ import annotations

from pathlib import Path

import pytest
from maestro_test_result_aggregator import ResultStatus, TestResultAggregator
from maestro_test_result_aggregator._importers.pytest_json import identity_from_nodeid
from maestro_test_result_aggregator._model import TestIdentity, failure_status

from .test_plugin import run_pytest

BOTH_WAYS = """
import pytest

@pytest.mark.parametrize("x", ["a::b", "plain", "c[d]"])
def test_param(x):
    pass

def test_timeout():
    raise TimeoutError("took too long")

def test_fail():
    assert 1 == 2

@pytest.fixture
def broken():
    raise RuntimeError("fixture down")

def test_setup_error(broken):
    pass

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

class TestGroup:
    def test_method(self):
        pass
"""


@pytest.mark.slow
def test_plugin_and_junit_give_every_row_the_same_identity_and_status(tmp_path: Path) -> None:
    """One suite recorded by the plugin and by --junitxml: the same rows, field by field."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_both.py").write_text(BOTH_WAYS)
    db = tmp_path / "store.db"
    done = run_pytest(tmp_path, f"--results-db={db}", "--results-run=plugin", "--junitxml=j.xml")
    assert done.returncode == 1, done.stdout
    with TestResultAggregator(db_path=db) as agg:
        agg.import_file(tmp_path / "j.xml", orchestration_id="junit")

        def rows(run: str) -> dict[str, tuple[str, str, str, str]]:
            return {
                r.test_id: (r.class_name, r.name, r.parameters, r.status.value)
                for r in agg.get_results(run)
            }

        plugin, junit = rows("plugin"), rows("junit")
    assert plugin == junit
    assert len(plugin) == 8
    assert plugin["test_both::test_param[a::b]"][2] == "a::b"
    assert plugin["test_both::test_timeout"][3] == "timeout"


def test_nodeid_with_a_double_colon_in_its_parameters() -> None:
    """A parameter containing '::' stays inside the parameters."""
    identity = identity_from_nodeid("tests/test_x.py::TestC::test_y[a::b-1]")
    assert identity == TestIdentity("test_y", "tests.test_x.TestC", "a::b-1")
    assert identity_from_nodeid("t.py::test_z") == TestIdentity("test_z", "t", "")


def test_one_failure_status_mapping() -> None:
    """Timeout types and messages map to timeout for every ingestion path, others to failed."""
    assert failure_status("TimeoutError", "took too long") is ResultStatus.TIMEOUT
    assert failure_status("", "TimeoutError: took too long") is ResultStatus.TIMEOUT
    assert failure_status("", "Failed: Timeout >5.0s") is ResultStatus.TIMEOUT
    assert failure_status("AssertionError", "assert 1 == 2") is ResultStatus.FAILED
    assert failure_status("", "assert timeout_ms == 3") is ResultStatus.FAILED
