"""The importers, one module each (``junit``, ``ctrf``, ``pytest_json``), behind one entry
point that detects the format and streams batches to a sink.
"""

from __future__ import annotations

import codecs
import gc
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from maestro_test_result_aggregator._errors import (
    ConfigurationError,
    ReportFileError,
    UnsupportedFormatError,
)

from .ctrf import CtrfReader
from .jsonstream import Streamed, walk
from .junit import parse_junit
from .parsed import ParsedAttempt, ParsedReport
from .pytest_json import PytestJsonReader

FORMATS = ("auto", "junit", "ctrf", "pytest-json")

#: Attempts per batch handed to the store while a file is read (parse, store, forget); the
#: SQLite store takes a full batch in one statement (``_store.MAX_STATEMENT_ROWS``).
BATCH_SIZE = 4_096

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
    read (every format streams) and the report keeps none.
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
        return _read_json(name, handle, format, sink, batch_size)


#: Where each JSON format keeps its tests (the arrays read one element at a time).
_TEST_ARRAYS = {"ctrf": ("results", "tests"), "pytest-json": ("tests",)}


def _read_json(
    name: str, handle: IO[bytes], format: str, sink: ReportSink | None, batch_size: int
) -> ParsedReport:
    """Two passes over the file: the skeleton (everything but the tests, and the whole
    file's syntax checked), then the tests one at a time, batches leaving for the sink."""
    skeleton = walk(name, handle, _TEST_ARRAYS.values())
    if format == "json":
        format = _json_format(name, skeleton)
    reader: CtrfReader | PytestJsonReader
    if format == "ctrf":
        reader = CtrfReader(name, skeleton, sink, batch_size)
    else:
        reader = PytestJsonReader(name, skeleton, sink, batch_size)
    target = _TEST_ARRAYS[format]

    def add(path: tuple[str, ...], index: int, test: Any) -> None:
        if path == target:
            reader.add(index, test)

    handle.seek(0)
    walk(name, handle, [target], add)
    return reader.finish()


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


def _json_format(name: str, doc: Any) -> str:
    if isinstance(doc, dict):
        if doc.get("reportFormat") == "CTRF" or isinstance(doc.get("results"), dict):
            return "ctrf"
        if isinstance(doc.get("tests"), list | Streamed) and ("summary" in doc or "created" in doc):
            return "pytest-json"
    raise UnsupportedFormatError(
        "JSON that is neither CTRF (reportFormat 'CTRF') nor pytest-json-report", path=name
    )
