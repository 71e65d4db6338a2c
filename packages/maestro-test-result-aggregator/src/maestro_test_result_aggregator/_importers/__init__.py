"""The importers, one module each (``junit``, ``ctrf``, ``pytest_json``), behind one entry
point that detects the format and streams batches to a sink.
"""

from __future__ import annotations

import codecs
import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_test_result_aggregator._errors import (
    ConfigurationError,
    ReportFileError,
    UnsupportedFormatError,
)

from .ctrf import load_json, parse_ctrf
from .junit import parse_junit
from .parsed import ParsedAttempt, ParsedReport
from .pytest_json import parse_pytest_json

FORMATS = ("auto", "junit", "ctrf", "pytest-json")

#: Attempts per batch handed to the store while a file is read (parse, store, forget).
BATCH_SIZE = 5_000

ReportSink = Callable[[ParsedReport, list[ParsedAttempt]], None]


def read_report(
    path: str | Path,
    format: str = "auto",
    *,
    sink: Callable[[list[ParsedAttempt]], None] | None = None,
    batch_size: int | None = None,
    report_sink: ReportSink | None = None,
) -> ParsedReport:
    """Parse one report file; ``format`` is auto, junit, ctrf or pytest-json.

    With ``sink``, attempts are handed over in batches of ``batch_size`` as the file is
    read (JUnit XML streams; JSON formats are decoded first) and the report keeps none.
    """
    if sink is not None:
        one = sink

        def report_sink(_report: ParsedReport, batch: list[ParsedAttempt]) -> None:
            one(batch)

    # Parsing allocates many small objects and no cycles; the cyclic collector would
    # walk the growing result list again and again (about a third of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_report(path, format, report_sink, batch_size or BATCH_SIZE)
    finally:
        if was_enabled:
            gc.enable()


def _read_report(
    path: str | Path, format: str, sink: ReportSink | None, batch_size: int
) -> ParsedReport:
    report = _parse(path, format, sink, batch_size)
    if sink is not None and report.sink is None:  # a JSON format: decoded whole first
        report.distinct = report.tests
        report.sink, report.batch_size = sink, batch_size
        report.flush(final=True)
    return report


def _parse(path: str | Path, format: str, sink: ReportSink | None, batch_size: int) -> ParsedReport:
    if format not in FORMATS:
        raise ConfigurationError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    file = Path(path)
    name = str(path)
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise ReportFileError(f"cannot read the file: {exc.strerror}", path=name) from None
    with handle:
        head = handle.read(4096)
        handle.seek(0)
        if format == "auto":
            format = _sniff(head, name)
        if format == "junit":
            return parse_junit(name, handle, sink=sink, batch_size=batch_size)
        doc = load_json(name, handle.read())
    if format == "ctrf":
        return parse_ctrf(name, doc)
    if format == "pytest-json":
        return parse_pytest_json(name, doc)
    return detect_json(name, doc)


def _sniff(head: bytes, name: str) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "junit"
    if text.startswith(("{", "[")):
        return "json"
    if not text:
        raise ReportFileError("the file is empty", path=name)
    raise UnsupportedFormatError(
        "neither XML nor JSON: supported formats are JUnit XML, CTRF JSON and "
        "pytest-json-report JSON",
        path=name,
    )


def detect_json(path: str | Path, doc: Any) -> ParsedReport:
    """Pick the CTRF or pytest-json-report reader for a decoded JSON document."""
    if isinstance(doc, dict):
        if doc.get("reportFormat") == "CTRF" or isinstance(doc.get("results"), dict):
            return parse_ctrf(path, doc)
        if isinstance(doc.get("tests"), list) and ("summary" in doc or "created" in doc):
            return parse_pytest_json(path, doc)
    raise UnsupportedFormatError(
        "JSON that is neither CTRF (reportFormat 'CTRF') nor pytest-json-report", path=str(path)
    )
