"""CTRF JSON, both ways: the importer and the export of a stored run.

CTRF durations are milliseconds and are normalised to seconds; ``retryAttempts`` become
attempts of one test (with or without the final attempt listed among them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maestro_test_result_aggregator._errors import ReportFileError, UnsupportedFormatError
from maestro_test_result_aggregator._model import ResultStatus, TestIdentity, TestResult, truncate
from maestro_test_result_aggregator._version import __version__

from .parsed import ParsedAttempt, ParsedReport

_CTRF_STATUS = {
    "passed": ResultStatus.PASSED,
    "failed": ResultStatus.FAILED,
    "skipped": ResultStatus.SKIPPED,
    "pending": ResultStatus.SKIPPED,
    "other": ResultStatus.CANCELLED,
}


def load_json(path: str | Path, data: bytes) -> Any:
    """Decode JSON, turning a syntax error into a ``ReportFileError`` with line and column."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReportFileError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ReportFileError(
            f"malformed JSON: {exc.msg}", path=str(path), line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:
        raise ReportFileError(
            "JSON arrays or objects nest too deeply to be a test report; the file is refused",
            path=str(path),
        ) from None


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
    name = str(path)
    results = doc.get("results") if isinstance(doc, dict) else None
    tests = results.get("tests") if isinstance(results, dict) else None
    if not isinstance(results, dict) or not isinstance(tests, list):
        raise UnsupportedFormatError("not a CTRF report: results.tests is missing", path=name)
    report = ParsedReport(path=name, format="ctrf")
    if isinstance(doc.get("runId"), str):
        report.run_id = doc["runId"]
    env = results.get("environment") or {}
    if isinstance(env, dict):
        report.commit = str(env.get("commit") or "")
        report.branch = str(env.get("branchName") or "")
    tool = (results.get("tool") or {}).get("name", "") if isinstance(results, dict) else ""
    listed: dict[str, int] = {}
    repeated: list[str] = []
    for index, test in enumerate(tests):
        where = f"results.tests[{index}]"
        if not isinstance(test, dict) or not isinstance(test.get("name"), str) or not test["name"]:
            raise ReportFileError(f"{where} has no name", path=name)
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
        times = listed.get(identity.key, 0) + 1
        listed[identity.key] = times
        if times > 1:
            # The same test listed again: a repeat (Playwright --repeat-each), not a retry.
            if times == 2:
                repeated.append(identity.key)
            repeat = f"#{times}"
            identity = TestIdentity(
                identity.name,
                identity.class_name,
                f"{param_text},{repeat}" if param_text else repeat,
                identity.suite,
            )
        status = _status(test.get("status"), where, name)
        retries = _retries(test.get("retries"), where, name)
        flaky = test.get("flaky")
        if flaky is not None and not isinstance(flaky, bool):
            raise ReportFileError(f"{where}.flaky {flaky!r} is not true or false", path=name)
        if isinstance(extra, dict) and isinstance(extra.get("maestro_status"), str):
            # Our own export keeps the finer status (error, timeout) that CTRF folds into failed.
            status = _status(extra["maestro_status"], where, name)
        metadata: dict[str, Any] = {"source": tool} if tool else {}
        for key in ("filePath", "line", "tags", "type", "browser", "labels", "testId"):
            if test.get(key) not in (None, "", [], {}):
                metadata[key] = test[key]
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
            str(test.get("status")),
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
    if repeated:
        shown = ", ".join(repr(k) for k in repeated[:5])
        more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        report.warnings.append(
            f"{name}: {len(repeated)} tests are listed more than once ({shown}{more}), as "
            "Playwright's --repeat-each writes them; each repeat is kept as its own test "
            "(parameters #2, #3, ...), not folded into retries"
        )
    _check_summary(results.get("summary"), tests, report)
    return report


def _check_summary(summary: object, tests: list[Any], report: ParsedReport) -> None:
    if not isinstance(summary, dict):
        return
    counted: dict[str, int] = {"tests": len(tests)}
    for test in tests:
        key = str(test.get("status"))
        counted[key] = counted.get(key, 0) + 1
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
