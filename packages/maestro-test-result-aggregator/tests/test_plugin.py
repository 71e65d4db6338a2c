"""The pytest plugin, run in a real inner pytest session through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from maestro_test_result_aggregator import ResultStatus, TestResultAggregator

INNER_TESTS = """
import pytest

attempts = {"n": 0}

def test_pass():
    pass

def test_fail():
    assert 1 == 2

@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    pass

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.fixture
def broken():
    raise RuntimeError("fixture down")

def test_setup_error(broken):
    pass

class TestGroup:
    def test_method(self):
        pass
"""


def inner(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run INNER_TESTS in a pytest session of their own in tmp_path."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    return run_pytest(tmp_path, *args, env=env)


def run_pytest(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A pytest session in tmp_path with CI and MAESTRO variables of this run removed."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("GITHUB_", "CI_", "MAESTRO_", "BUILDKITE", "CIRCLE", "TRAVIS", "BUILD_TAG", "GIT_")
        )
    }
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean,
        check=False,
        timeout=180,
    )


def test_plugin_records_every_test_of_the_session(tmp_path: Path) -> None:
    """With --results-db every test is stored with outcome, identity, run, commit and branch."""
    db = tmp_path / "store.db"
    done = inner(
        tmp_path,
        f"--results-db={db}",
        "--results-run=ci-42",
        "--results-category=unit",
        env={"GITHUB_SHA": "deadbeef", "GITHUB_REF_NAME": "main"},
    )
    assert done.returncode == 1, done.stdout  # test_fail fails; the plugin does not change that
    assert "maestro-results: stored 8 results as run 'ci-42'" in done.stdout
    with TestResultAggregator(db_path=db) as agg:
        results = {r.test_id: r for r in agg.get_results("ci-42")}
        summary = agg.get_summary("ci-42")
    assert set(results) == {
        "test_inner::test_pass",
        "test_inner::test_fail",
        "test_inner::test_param[1]",
        "test_inner::test_param[2]",
        "test_inner::test_skip",
        "test_inner::test_xfail",
        "test_inner::test_setup_error",
        "test_inner.TestGroup::test_method",
    }
    assert results["test_inner::test_fail"].status is ResultStatus.FAILED
    assert "assert 1 == 2" in results["test_inner::test_fail"].trace
    assert results["test_inner::test_setup_error"].status is ResultStatus.ERROR
    assert results["test_inner::test_xfail"].raw_status == "xfailed"
    assert results["test_inner::test_skip"].message.endswith("not today")
    assert results["test_inner::test_pass"].commit == "deadbeef"
    assert results["test_inner::test_pass"].branch == "main"
    assert results["test_inner::test_pass"].category == "unit"
    assert (summary["passed"], summary["failed"], summary["error"], summary["skipped"]) == (
        4,
        1,
        1,
        2,
    )


def test_plugin_reads_the_environment(tmp_path: Path) -> None:
    """MAESTRO_RESULTS__DB enables it and GitHub's run id and attempt name the run."""
    db = tmp_path / "env.db"
    done = inner(
        tmp_path,
        "-k",
        "test_pass",
        env={"MAESTRO_RESULTS__DB": str(db), "GITHUB_RUN_ID": "777", "GITHUB_RUN_ATTEMPT": "2"},
    )
    assert done.returncode == 0, done.stdout
    with TestResultAggregator(db_path=db) as agg:
        assert agg.get_summary("777-2")["passed"] == 1


def test_plugin_is_inert_without_a_store(tmp_path: Path) -> None:
    """Without an option or variable nothing is recorded and nothing is printed."""
    done = inner(tmp_path, "-k", "test_pass")
    assert done.returncode == 0
    assert "maestro-results" not in done.stdout


def test_unavailable_store_warns_and_keeps_results_for_later(tmp_path: Path) -> None:
    """An unreachable store never fails the session: a warning and a CTRF file to import later."""
    done = inner(
        tmp_path,
        "--results-db=postgresql://nobody@127.0.0.1:1/none",
        "--results-run=r5",
        "-k",
        "pass or param",
    )
    assert done.returncode == 0, done.stdout
    assert "maestro-results: WARNING: the result store is unavailable" in done.stdout
    (kept,) = (tmp_path / ".maestro-results").glob("r5-*.ctrf.json")
    doc = json.loads(kept.read_text())
    assert doc["runId"] == "r5"
    assert doc["results"]["summary"]["passed"] == 3
    with TestResultAggregator(db_path=tmp_path / "later.db") as agg:
        agg.import_file(kept)
        assert {r.test_id for r in agg.get_results("r5")} == {
            "test_inner::test_pass",
            "test_inner::test_param[1]",
            "test_inner::test_param[2]",
        }


@pytest.mark.parametrize("bad_db", ["/nonexistent-dir/x/store.db"])
def test_unwritable_store_path_also_falls_back(tmp_path: Path, bad_db: str) -> None:
    """A SQLite path in a missing directory falls back the same way."""
    done = inner(tmp_path, f"--results-db={bad_db}", "--results-run=r6", "-k", "test_pass")
    assert done.returncode == 0
    assert "WARNING" in done.stdout
    assert list((tmp_path / ".maestro-results").glob("r6-*.ctrf.json"))


RERUN_CONFTEST = """
import pytest
from _pytest.runner import runtestprotocol


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    # The reporting of pytest-rerunfailures releases before pytest-dev/pytest-rerunfailures
    # #347: a failed attempt is logged as "rerun" and its teardown is not logged at all,
    # then the test runs again. (Current releases are run for real below.)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for attempt in range(3):
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        for report in reports:
            if report.failed and attempt < 2:
                report.outcome = "rerun"
                item.ihook.pytest_runtest_logreport(report=report)
                break
            item.ihook.pytest_runtest_logreport(report=report)
        else:
            break
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
"""

RERUN_TESTS = """
calls = {"n": 0}

def test_flaky():
    calls["n"] += 1
    assert calls["n"] >= 3, "not yet"

def test_steady():
    pass
"""


def test_reruns_become_attempts_of_one_test(tmp_path: Path) -> None:
    """Reruns reported the older pytest-rerunfailures way (no teardown) are attempts too."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(RERUN_CONFTEST)
    (tmp_path / "test_rerun.py").write_text(RERUN_TESTS)
    db = tmp_path / "store.db"
    done = run_pytest(
        tmp_path,
        f"--results-db={db}",
        "--results-run=rr",
    )
    assert done.returncode == 0, done.stdout
    with TestResultAggregator(db_path=db) as agg:
        attempts = [
            (r.test_id, r.attempt, r.status, r.raw_status)
            for r in agg.get_results("rr", include_retries=True)
        ]
        summary = agg.get_summary("rr")
        verdicts = agg.flaky_tests()
    assert attempts == [
        ("test_rerun::test_flaky", 1, ResultStatus.FAILED, "rerun"),
        ("test_rerun::test_flaky", 2, ResultStatus.FAILED, "rerun"),
        ("test_rerun::test_flaky", 3, ResultStatus.PASSED, "passed"),
        ("test_rerun::test_steady", 1, ResultStatus.PASSED, "passed"),
    ]
    assert (summary["total"], summary["passed"], summary["flaky"], summary["attempts"]) == (
        2,
        2,
        1,
        4,
    )
    assert [v.test_id for v in verdicts] == ["test_rerun::test_flaky"]


REAL_RERUN_TESTS = """
from pathlib import Path

COUNTER = Path(__file__).with_name("calls")


def test_flaky():
    calls = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(calls))
    assert calls >= 2, "fails the first time only"
"""


def test_real_pytest_rerunfailures_gives_one_flaky_test_with_two_attempts(tmp_path: Path) -> None:
    """A real --reruns session stores a test that failed once then passed as one flaky test."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_real_rerun.py").write_text(REAL_RERUN_TESTS)
    db = tmp_path / "store.db"
    done = run_pytest(
        tmp_path,
        "-p",
        "rerunfailures",
        "--reruns",
        "2",
        f"--results-db={db}",
        "--results-run=real",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 rerun" in done.stdout  # the real plugin did rerun it
    assert (tmp_path / "calls").read_text() == "2"
    with TestResultAggregator(db_path=db) as agg:
        attempts = [
            (r.test_id, r.attempt, r.is_final, r.status, r.raw_status)
            for r in agg.get_results("real", include_retries=True)
        ]
        summary = agg.get_summary("real")
        verdicts = agg.flaky_tests()
    assert attempts == [
        ("test_real_rerun::test_flaky", 1, False, ResultStatus.FAILED, "rerun"),
        ("test_real_rerun::test_flaky", 2, True, ResultStatus.PASSED, "passed"),
    ]
    assert (summary["total"], summary["passed"], summary["attempts"], summary["flaky"]) == (
        1,
        1,
        2,
        1,
    )
    assert [(v.test_id, v.verdict, v.evidence) for v in verdicts] == [
        ("test_real_rerun::test_flaky", "flaky", ("real",))
    ]


XDIST_TESTS = """
import pytest


@pytest.mark.parametrize("n", range(6))
def test_many(n):
    assert n != 4, "four fails"
"""


def test_real_xdist_session_is_recorded_once_by_the_controller(tmp_path: Path) -> None:
    """With pytest-xdist the controller records every test once; workers record nothing."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_dist.py").write_text(XDIST_TESTS)
    db = tmp_path / "store.db"
    done = run_pytest(
        tmp_path,
        "-p",
        "xdist",
        "-n",
        "2",
        f"--results-db={db}",
        "--results-run=dist",
    )
    assert done.returncode == 1, done.stdout + done.stderr  # one test fails on purpose
    assert "5 passed" in done.stdout
    with TestResultAggregator(db_path=db) as agg:
        results = agg.get_results("dist", include_retries=True)
        summary = agg.get_summary("dist")
    assert sorted(r.test_id for r in results) == [f"test_dist::test_many[{n}]" for n in range(6)]
    assert all(r.attempt == 1 for r in results)
    assert (summary["total"], summary["passed"], summary["failed"]) == (6, 5, 1)
