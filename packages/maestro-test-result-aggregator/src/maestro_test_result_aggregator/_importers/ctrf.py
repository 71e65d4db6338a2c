"""CTRF JSON, both ways: the importer and the export of a stored run.

CTRF durations are milliseconds and are normalised to seconds; ``retryAttempts`` become
attempts of one test (with or without the final attempt listed among them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maestro_test_result_aggregator._errors import ReportFileError, UnsupportedFormatError
from maestro_test_result_aggregator._model import ResultStatus, TestIdentity, TestResult, truncate
from maestro_test_result_aggregator._version import __version__

from .jsonstream import Streamed
from .junit import _Seen
from .parsed import ParsedAttempt, ParsedReport

_CTRF_STATUS = {
    "passed": ResultStatus.PASSED,
    "failed": ResultStatus.FAILED,
    "skipped": ResultStatus.SKIPPED,
    "pending": ResultStatus.SKIPPED,
    "other": ResultStatus.CANCELLED,
}


def _status(raw: object, where: str, name: str) -> ResultStatus:
    if isinstance(raw, str):
        status = _CTRF_STATUS.get(raw.lower())
        if status is not None:
            return status
        try:
            return ResultStatus.parse(raw)
        except ValueError:
            pass
    raise ReportFileError(
        f"{where}.status is {raw!r}; CTRF allows passed, failed, skipped, pending, other",
        path=name,
    )


#: Longest duration any report may state: one year (a bigger one is a unit or encoding bug).
MAX_DURATION = 366 * 86_400.0


def _millis(raw: object, where: str, name: str) -> float:
    if raw is None:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw >= 0:
        raise ReportFileError(f"{where}.duration {raw!r} is not a non-negative number", path=name)
    if not math.isfinite(raw) or raw / 1000.0 > MAX_DURATION:
        raise ReportFileError(
            f"{where}.duration {raw!r} ms is more than a year; CTRF durations are milliseconds",
            path=name,
        )
    return float(raw) / 1000.0


def _retries(raw: object, where: str, name: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0 or raw > 10_000:
        raise ReportFileError(
            f"{where}.retries {raw!r} is not a non-negative integer (at most 10000)", path=name
        )
    return raw


def _start(raw: object, where: str, name: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ReportFileError(f"{where}.start {raw!r} is not a number of milliseconds", path=name)
    try:
        return datetime.fromtimestamp(raw / 1000, UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        raise ReportFileError(
            f"{where}.start {raw!r} is not a time (milliseconds since 1970)", path=name
        ) from None


def _lines(raw: object) -> str:
    if isinstance(raw, list):
        return "\n".join(str(x) for x in raw)
    return str(raw) if raw else ""


def parse_ctrf(path: str | Path, doc: Any) -> ParsedReport:
    """Read a decoded CTRF document into a ``ParsedReport``."""
    tests: list[Any] = _results(str(path), doc)["tests"]
    reader = CtrfReader(str(path), doc)
    for index, test in enumerate(tests):
        reader.add(index, test)
    return reader.finish()


def _results(name: str, doc: Any) -> dict[str, Any]:
    results = doc.get("results") if isinstance(doc, dict) else None
    tests = results.get("tests") if isinstance(results, dict) else None
    if not isinstance(results, dict) or not isinstance(tests, list | Streamed):
        raise UnsupportedFormatError("not a CTRF report: results.tests is missing", path=name)
    return results


class CtrfReader:
    """Reads CTRF tests one at a time into a ``ParsedReport`` (the importers stream them).

    ``doc`` is the document without its tests (or with them: they are not read from it);
    with a ``sink``, full batches leave as tests are added.
    """

    def __init__(
        self,
        name: str,
        doc: Any,
        sink: Callable[[ParsedReport, list[ParsedAttempt]], None] | None = None,
        batch_size: int = 5_000,
    ) -> None:
        results = _results(name, doc)
        self.name = name
        self.results = results
        report = ParsedReport(path=name, format="ctrf", sink=sink, batch_size=batch_size)
        report.distinct = 0
        if isinstance(doc.get("runId"), str):
            report.run_id = doc["runId"]
        env = results.get("environment") or {}
        if isinstance(env, dict):
            report.commit = str(env.get("commit") or "")
            report.branch = str(env.get("branchName") or "")
        tool = results.get("tool") or {}
        self.tool = tool.get("name", "") if isinstance(tool, dict) else ""
        self.report = report
        # Repeat detection: hash of the test key -> times listed (compact at millions).
        self.listed = _Seen()
        self.repeated: list[str] = []
        self.repeats = 0
        self.counted: dict[str, int] = {"tests": 0}

    def add(self, index: int, test: Any) -> None:
        """Read ``results.tests[index]``."""
        name, report = self.name, self.report
        where = f"results.tests[{index}]"
        if not isinstance(test, dict) or not isinstance(test.get("name"), str) or not test["name"]:
            raise ReportFileError(f"{where} has no name", path=name)
        counted = self.counted
        counted["tests"] += 1
        raw_status = str(test.get("status"))
        counted[raw_status] = counted.get(raw_status, 0) + 1
        suite = test.get("suite")
        suite_text = " > ".join(map(str, suite)) if isinstance(suite, list) else str(suite or "")
        class_name = suite_text or str(test.get("filePath") or "")
        params = test.get("parameters")
        param_text = ""
        if isinstance(params, dict) and params:
            param_text = ",".join(f"{k}={v}" for k, v in params.items())
        extra = test.get("extra")
        if isinstance(extra, dict) and isinstance(extra.get("parameters"), str):
            param_text = extra["parameters"]
        identity = TestIdentity(test["name"], class_name, param_text, suite_text)
        key = hash(identity.key)
        times = self.listed.get(key) + 1
        self.listed.put(key, min(times, 65_535))
        if times > 1:
            # The same test listed again: a repeat (Playwright --repeat-each), not a retry.
            if times == 2:
                self.repeats += 1
                if len(self.repeated) < 5:
                    self.repeated.append(identity.key)
            repeat = f"#{times}"
            identity = TestIdentity(
                identity.name,
                identity.class_name,
                f"{param_text},{repeat}" if param_text else repeat,
                identity.suite,
            )
        report.distinct += 1  # type: ignore[operator]
        status = _status(test.get("status"), where, name)
        retries = _retries(test.get("retries"), where, name)
        flaky = test.get("flaky")
        if flaky is not None and not isinstance(flaky, bool):
            raise ReportFileError(f"{where}.flaky {flaky!r} is not true or false", path=name)
        if isinstance(extra, dict) and isinstance(extra.get("maestro_status"), str):
            # Our own export keeps the finer status (error, timeout) that CTRF folds into failed.
            status = _status(extra["maestro_status"], where, name)
        metadata: dict[str, Any] = {"source": self.tool} if self.tool else {}
        for meta in ("filePath", "line", "tags", "type", "browser", "labels", "testId"):
            if test.get(meta) not in (None, "", [], {}):
                metadata[meta] = test[meta]
        if test.get("stdout"):
            metadata["stdout"] = truncate(_lines(test["stdout"]), 4_096)
        if test.get("stderr"):
            metadata["stderr"] = truncate(_lines(test["stderr"]), 4_096)
        start = _start(test.get("start"), where, name)
        if start is not None:
            metadata["start"] = start
        if flaky is not None:
            metadata["flaky"] = flaky
        if retries:
            metadata["retries"] = retries
        final = ParsedAttempt(
            identity,
            status,
            raw_status,
            _millis(test.get("duration"), where, name),
            str(test.get("message") or ""),
            str(test.get("trace") or ""),
            metadata,
        )
        attempts = test.get("retryAttempts")
        attempts = [] if attempts is None else attempts
        if not isinstance(attempts, list):
            raise ReportFileError(f"{where}.retryAttempts is not a list", path=name)
        parsed: list[ParsedAttempt] = []
        for number, attempt in enumerate(attempts):
            at = f"{where}.retryAttempts[{number}]"
            if not isinstance(attempt, dict):
                raise ReportFileError(f"{at} is not an object", path=name)
            parsed.append(
                ParsedAttempt(
                    identity,
                    _status(attempt.get("status"), at, name),
                    str(attempt.get("status")),
                    _millis(attempt.get("duration"), at, name),
                    str(attempt.get("message") or ""),
                    str(attempt.get("trace") or ""),
                    {"rerun": True},
                )
            )
        # Producers differ: some list the final attempt among retryAttempts, some do not.
        if parsed and parsed[-1].status == status:
            last = parsed.pop()
            final.duration = last.duration
            final.message = final.message or last.message
            final.trace = final.trace or last.trace
        missing = retries - len(parsed)
        if flaky and not parsed and missing <= 0 and status is ResultStatus.PASSED:
            missing = 1  # flaky means a failed attempt came first, even if not described
        if missing > 0:
            if parsed:
                report.warnings.append(
                    f"{name}: {where} states retries={retries} but lists {len(parsed)} "
                    f"retryAttempts; {missing} more failed attempts are recorded without details"
                )
            parsed.extend(
                ParsedAttempt(
                    identity,
                    ResultStatus.FAILED,
                    "retry",
                    0.0,
                    "a failed attempt the report counts (retries / flaky) but does not describe",
                    "",
                    {"rerun": True, "described": False},
                )
                for _ in range(missing)
            )
        report.attempts.extend(parsed)
        report.attempts.append(final)
        if report.sink is not None and len(report.attempts) >= report.batch_size:
            report.flush()

    def finish(self) -> ParsedReport:
        """The report, with its warnings; the last batch leaves for the sink."""
        report = self.report
        if self.repeats:
            shown = ", ".join(repr(k) for k in self.repeated)
            more = f" and {self.repeats - len(self.repeated)} more" if self.repeats > 5 else ""
            report.warnings.append(
                f"{self.name}: {self.repeats} tests are listed more than once ({shown}{more}), "
                "as Playwright's --repeat-each writes them; each repeat is kept as its own test "
                "(parameters #2, #3, ...), not folded into retries"
            )
        _check_summary(self.results.get("summary"), self.counted, report)
        report.flush(final=True)
        return report


def _check_summary(summary: object, counted: dict[str, int], report: ParsedReport) -> None:
    if not isinstance(summary, dict):
        return
    for key in ("tests", "passed", "failed", "skipped", "pending", "other"):
        declared = summary.get(key)
        if isinstance(declared, int) and declared != counted.get(key, 0):
            report.warnings.append(
                f"{report.path}: summary declares {key}={declared} but the tests give "
                f"{counted.get(key, 0)}; the counts from the tests are used"
            )


_EXPORT_STATUS = {
    ResultStatus.PASSED: "passed",
    ResultStatus.FAILED: "failed",
    ResultStatus.ERROR: "failed",
    ResultStatus.TIMEOUT: "failed",
    ResultStatus.SKIPPED: "skipped",
    ResultStatus.CANCELLED: "other",
}


def to_ctrf(
    results: Iterable[TestResult],
    *,
    orchestration_id: str = "",
    commit: str = "",
    branch: str = "",
    tool: str = "maestro-test-result-aggregator",
) -> dict[str, Any]:
    """A CTRF 1.0 document of ``results`` (all attempts; retries become ``retryAttempts``)."""
    by_test: dict[tuple[str, str], list[TestResult]] = {}
    for result in results:
        by_test.setdefault((result.orchestration_id, result.test_id), []).append(result)
    tests: list[dict[str, Any]] = []
    counts = dict.fromkeys(("passed", "failed", "pending", "skipped", "other"), 0)
    starts: list[float] = []
    for attempts in by_test.values():
        attempts.sort(key=lambda r: r.attempt)
        final = attempts[-1]
        status = _EXPORT_STATUS[final.status]
        counts[status] += 1
        starts.append(final.recorded_at.timestamp())
        entry: dict[str, Any] = {
            "name": final.name or final.test_id,
            "status": status,
            "duration": round(final.duration * 1000, 3),
            "rawStatus": final.raw_status or final.status.value,
            "extra": {
                "test_id": final.test_id,
                "category": final.category,
                "maestro_status": final.status.value,
                "metadata": dict(final.metadata),
            },
        }
        if final.class_name:
            entry["suite"] = final.class_name.split(" > ")
        if final.parameters:
            entry["extra"]["parameters"] = final.parameters
        if final.message:
            entry["message"] = final.message
        if final.trace:
            entry["trace"] = final.trace
        if len(attempts) > 1:
            entry["retries"] = len(attempts) - 1
            entry["flaky"] = final.status is ResultStatus.PASSED and any(
                a.status.is_failure for a in attempts[:-1]
            )
            entry["retryAttempts"] = [
                {
                    "attempt": a.attempt,
                    "status": _EXPORT_STATUS[a.status],
                    "duration": round(a.duration * 1000, 3),
                    **({"message": a.message} if a.message else {}),
                    **({"trace": a.trace} if a.trace else {}),
                }
                for a in attempts
            ]
        tests.append(entry)
    start_ms = int(min(starts) * 1000) if starts else 0
    stop_ms = int(max(starts) * 1000) if starts else 0
    environment: dict[str, Any] = {}
    if commit:
        environment["commit"] = commit
    if branch:
        environment["branchName"] = branch
    if orchestration_id:
        environment["buildName"] = orchestration_id
    doc: dict[str, Any] = {
        "reportFormat": "CTRF",
        "specVersion": "1.0.0",
        "generatedBy": f"maestro-test-result-aggregator {__version__}",
        **({"runId": orchestration_id} if orchestration_id else {}),
        "results": {
            "tool": {"name": tool},
            "summary": {"tests": len(tests), **counts, "start": start_ms, "stop": stop_ms},
            "tests": tests,
        },
    }
    if environment:
        doc["results"]["environment"] = environment
    return doc
