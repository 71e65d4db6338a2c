"""pytest plugin: record every test of a session into a result store.

Enabled by ``--results-db PATH_OR_URL`` or ``$MAESTRO_RESULTS__DB``; otherwise it does
nothing. The orchestration id, commit and branch come from options or the usual CI
variables (GitHub Actions, GitLab CI, Jenkins, Buildkite, CircleCI, Travis). When the store
cannot be reached the session is not failed: the plugin prints a warning and keeps the
results in a CTRF file under ``--results-fallback-dir`` to import later with
``maestro-results import FILE``.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ._deprecation import getenv
from ._errors import InvalidResultError
from ._importers.ctrf import to_ctrf
from ._importers.pytest_json import identity_from_nodeid
from ._model import ResultStatus, TestIdentity, TestResult, failure_status
from ._store import PendingResult, validate

_RUN_VARS = (
    "MAESTRO_ORCHESTRATION_ID",
    "GITHUB_RUN_ID",
    "CI_PIPELINE_ID",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_WORKFLOW_ID",
    "BUILD_TAG",
    "TRAVIS_BUILD_ID",
)
_COMMIT_VARS = (
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BUILDKITE_COMMIT",
    "CIRCLE_SHA1",
    "GIT_COMMIT",
    "TRAVIS_COMMIT",
)
_BRANCH_VARS = (
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
    "CIRCLE_BRANCH",
    "GIT_BRANCH",
    "TRAVIS_BRANCH",
)


def _first(names: tuple[str, ...]) -> str:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            if name == "GITHUB_RUN_ID" and os.environ.get("GITHUB_RUN_ATTEMPT"):
                value += f"-{os.environ['GITHUB_RUN_ATTEMPT']}"
            return value
    return ""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the plugin's command-line options."""
    group = parser.getgroup("maestro-results", "record test results into a maestro result store")
    group.addoption(
        "--results-db",
        default=None,
        help="SQLite path or postgresql:// URL (or $MAESTRO_RESULTS__DB)",
    )
    group.addoption(
        "--results-run", default=None, help="orchestration id (default: CI run id or a new one)"
    )
    group.addoption(
        "--results-category", default=None, help="category of the results (default: pytest)"
    )
    group.addoption("--results-commit", default=None, help="commit (default: from CI variables)")
    group.addoption("--results-branch", default=None, help="branch (default: from CI variables)")
    group.addoption(
        "--results-fallback-dir",
        default=None,
        help="where results go when the store is unavailable (default: .maestro-results)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start recording when a store is configured (never on xdist workers)."""
    target = config.getoption("results_db") or getenv("MAESTRO_RESULTS__DB", "MAESTRO_RESULTS_DB")
    if not target or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(Recorder(config, target), "maestro-results-recorder")


class Recorder:
    """Collects each test's attempts from its reports and stores them at session end."""

    def __init__(self, config: pytest.Config, target: str) -> None:
        self.config = config
        self.target = target
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run = (
            config.getoption("results_run")
            or _first(_RUN_VARS)
            or f"pytest-{stamp}-{uuid.uuid4().hex[:8]}"
        )
        self.category = (
            config.getoption("results_category")
            or getenv("MAESTRO_RESULTS__CATEGORY", "MAESTRO_RESULTS_CATEGORY")
            or "pytest"
        )
        self.commit = config.getoption("results_commit") or _first(_COMMIT_VARS)
        self.branch = config.getoption("results_branch") or _first(_BRANCH_VARS)
        fallback = config.getoption("results_fallback_dir") or ".maestro-results"
        self.fallback_dir = Path(config.rootpath, fallback)
        self.current: dict[str, dict[str, Any]] = {}
        self.results: list[TestResult] = []
        self.fallback_file: Path | None = None

    def _finish(self, nodeid: str) -> None:
        state = self.current.pop(nodeid, None)
        if state is None:
            return
        identity = identity_from_nodeid(nodeid)
        status = state["status"]
        if status.is_failure:  # the same mapping as the JUnit and CTRF importers
            status = failure_status("", state["message"], status)
        try:
            pending = self._validate(nodeid, identity, state, status)
        except InvalidResultError as exc:  # never break the session over one record
            self._say(f"maestro-results: WARNING: {nodeid} not recorded: {exc}")
            return
        self.results.append(pending.to_result(1, True))

    def _validate(
        self, nodeid: str, identity: TestIdentity, state: dict[str, Any], status: ResultStatus
    ) -> PendingResult:
        return validate(
            identity.key,
            self.run,
            self.category,
            status,
            state["duration"],
            {"nodeid": nodeid},
            raw_status=state["raw"],
            message=state["message"],
            trace=state["trace"],
            class_name=identity.class_name,
            name=identity.name,
            parameters=identity.parameters,
            commit=self.commit,
            branch=self.branch,
        )

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold setup / call / teardown reports (and reruns) into attempts.

        pytest-rerunfailures logs the failed phase of an attempt that will be rerun with
        the outcome "rerun". Current releases then log the rest of that attempt too (its
        teardown; later failed phases also as "rerun"); older releases logged nothing more,
        so there the next attempt's setup report is what closes the rerun attempt.
        """
        nodeid = report.nodeid
        state = self.current.get(nodeid)
        if state is not None and state["rerun"] and report.when == "setup":
            self._finish(nodeid)  # an older pytest-rerunfailures: a new attempt begins
            state = None
        if state is None:
            state = self.current[nodeid] = {
                "status": ResultStatus.PASSED,
                "raw": "passed",
                "duration": 0.0,
                "message": "",
                "trace": "",
                "rerun": False,
            }
        state["duration"] += max(0.0, float(report.duration or 0.0))
        outcome: str = str(report.outcome)
        text = str(report.longrepr) if report.longrepr is not None else ""
        message = text.strip().splitlines()[-1] if text.strip() else ""
        crash = getattr(report.longrepr, "reprcrash", None)
        if crash is not None and getattr(crash, "message", None):
            # "TimeoutError: took too long": what pytest's JUnit XML writes as the message.
            message = str(crash.message)
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            message = str(report.longrepr[2])
        if outcome == "rerun":  # pytest-rerunfailures: this attempt failed, another follows
            if not state["rerun"]:  # the first failed phase names the failure
                state.update(
                    status=ResultStatus.FAILED, raw="rerun", message=message, trace=text, rerun=True
                )
            if report.when == "teardown":
                self._finish(nodeid)
            return
        xfail = hasattr(report, "wasxfail")
        if report.when == "setup":
            if outcome == "failed":
                state.update(status=ResultStatus.ERROR, raw="error", message=message, trace=text)
            elif outcome == "skipped":
                state.update(
                    status=ResultStatus.SKIPPED,
                    raw="xfailed" if xfail else "skipped",
                    message=message,
                )
        elif report.when == "call":
            if outcome == "failed":
                state.update(status=ResultStatus.FAILED, raw="failed", message=message, trace=text)
            elif outcome == "skipped":
                state.update(
                    status=ResultStatus.SKIPPED,
                    raw="xfailed" if xfail else "skipped",
                    message=message,
                )
            elif xfail:
                state.update(status=ResultStatus.PASSED, raw="xpassed")
        elif report.when == "teardown":
            if outcome == "failed" and state["status"] is not ResultStatus.FAILED:
                state.update(status=ResultStatus.ERROR, raw="error", message=message, trace=text)
            self._finish(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Store everything in one transaction, or keep it in a fallback file and warn."""
        for nodeid in list(self.current):
            self._finish(nodeid)
        if not self.results:
            return
        from ._cli import open_store

        try:
            with open_store(self.target) as agg:
                agg.store_results(self.results)
        except Exception as exc:  # the session must never fail because of the store
            self._fallback(exc)
            return
        self._say(f"maestro-results: stored {len(self.results)} results as run {self.run!r}")

    def _fallback(self, exc: BaseException) -> None:
        try:
            self.fallback_dir.mkdir(parents=True, exist_ok=True)
            path = self.fallback_dir / f"{self.run}-{uuid.uuid4().hex[:6]}.ctrf.json"
            doc = to_ctrf(
                self.results, orchestration_id=self.run, commit=self.commit, branch=self.branch
            )
            path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        except OSError as write_error:
            self._say(
                f"maestro-results: WARNING: the result store is unavailable ({exc}) and the "
                f"fallback file could not be written ({write_error}); results were not kept",
            )
            return
        self.fallback_file = path
        self._say(
            f"maestro-results: WARNING: the result store is unavailable ({exc}); "
            f"{len(self.results)} results kept in {path}; import them later with "
            f"`maestro-results --db <store> import {path}`",
        )

    def _say(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line, yellow="WARNING" in line)
