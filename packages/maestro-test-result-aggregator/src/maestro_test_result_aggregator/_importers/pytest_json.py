"""pytest-json-report import, and pytest node ids as test identities."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_test_result_aggregator._errors import ReportFileError, UnsupportedFormatError
from maestro_test_result_aggregator._model import ResultStatus, TestIdentity

from .ctrf import _millis
from .jsonstream import Streamed
from .junit import _Seen
from .parsed import ParsedAttempt, ParsedReport


def _pytest_identity(nodeid: str) -> TestIdentity:
    """``tests/test_x.py::TestC::test_y[p]`` -> class ``tests.test_x.TestC``, name ``test_y``.

    Parameters are cut off first, so a parameter containing ``::`` stays a parameter.
    """
    params = ""
    if nodeid.endswith("]"):
        cut = nodeid.find("[", nodeid.rfind("::", 0, nodeid.find("[")) + 2)
        if cut > 0 and len(nodeid) - cut > 2:
            nodeid, params = nodeid[:cut], nodeid[cut:]
    parts = nodeid.split("::")
    parts[-1] += params
    module = parts[0]
    if module.endswith(".py"):
        module = module[:-3].replace("/", ".").replace("\\", ".")
    class_name = ".".join([module, *parts[1:-1]]) if len(parts) > 1 else ""
    return TestIdentity.from_name(parts[-1], class_name)


def identity_from_nodeid(nodeid: str) -> TestIdentity:
    """The identity pytest's JUnit XML gives the same test (so histories line up)."""
    return _pytest_identity(nodeid)


_PYTEST_OUTCOMES = {
    "passed": ResultStatus.PASSED,
    "failed": ResultStatus.FAILED,
    "error": ResultStatus.ERROR,
    "skipped": ResultStatus.SKIPPED,
    "xfailed": ResultStatus.SKIPPED,
    "xpassed": ResultStatus.PASSED,
    "rerun": ResultStatus.FAILED,
}


def parse_pytest_json(path: str | Path, doc: Any) -> ParsedReport:
    """Read a decoded pytest-json-report document into a ``ParsedReport``."""
    reader = PytestJsonReader(str(path), doc)
    for index, test in enumerate(doc["tests"]):
        reader.add(index, test)
    return reader.finish()


class PytestJsonReader:
    """Reads pytest-json-report tests one at a time (the importers stream them); with a
    ``sink``, full batches leave as tests are added."""

    def __init__(
        self,
        name: str,
        doc: Any,
        sink: Callable[[ParsedReport, list[ParsedAttempt]], None] | None = None,
        batch_size: int = 5_000,
    ) -> None:
        tests = doc.get("tests") if isinstance(doc, dict) else None
        if not isinstance(tests, list | Streamed):
            raise UnsupportedFormatError("not a pytest-json-report file: no tests list", path=name)
        self.name = name
        self.report = ParsedReport(
            path=name, format="pytest-json", sink=sink, batch_size=batch_size
        )
        self.report.distinct = 0
        self.seen = _Seen()  # distinct tests, by key hash (compact at millions)

    def add(self, index: int, test: Any) -> None:
        """Read ``tests[index]``."""
        name, report = self.name, self.report
        where = f"tests[{index}]"
        if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str):
            raise ReportFileError(f"{where} has no nodeid", path=name)
        outcome = str(test.get("outcome", ""))
        status = _PYTEST_OUTCOMES.get(outcome)
        if status is None:
            raise ReportFileError(f"{where}.outcome {outcome!r} is not a pytest outcome", path=name)
        duration = 0.0
        message = trace = ""
        for stage in ("setup", "call", "teardown"):
            info = test.get(stage)
            if not isinstance(info, dict):
                continue
            duration += _millis((info.get("duration") or 0) * 1000, f"{where}.{stage}", name)
            if info.get("outcome") == "failed":
                if stage != "call" and status is ResultStatus.FAILED:
                    status = ResultStatus.ERROR
                crash = info.get("crash") or {}
                message = message or str(crash.get("message") or "")
                trace = trace or str(info.get("longrepr") or "")
            elif info.get("outcome") == "skipped" and not message:
                message = str(info.get("longrepr") or "")
        metadata: dict[str, Any] = {"nodeid": test["nodeid"]}
        if test.get("lineno") is not None:
            metadata["line"] = test["lineno"]
        identity = _pytest_identity(test["nodeid"])
        key = hash(identity.key)
        if not self.seen.get(key):
            self.seen.put(key, 1)
            report.distinct += 1  # type: ignore[operator]
        report.attempts.append(
            ParsedAttempt(identity, status, outcome, duration, message, trace, metadata)
        )
        if report.sink is not None and len(report.attempts) >= report.batch_size:
            report.flush()

    def finish(self) -> ParsedReport:
        """The report; the last batch leaves for the sink."""
        self.report.flush(final=True)
        return self.report
