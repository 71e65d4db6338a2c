"""Format detection: one entry point that reads any supported report file."""

from __future__ import annotations

import codecs
import gc
from pathlib import Path

from ._ctrf import detect_json, load_json, parse_ctrf, parse_pytest_json
from ._errors import ReportFileError, UnsupportedFormatError
from ._junit import parse_junit
from ._parsed import ParsedReport

FORMATS = ("auto", "junit", "ctrf", "pytest-json")


def read_report(path: str | Path, format: str = "auto") -> ParsedReport:
    """Parse one report file; ``format`` is auto, junit, ctrf or pytest-json."""
    # Parsing allocates many small objects and no cycles; the cyclic collector would
    # walk the growing result list again and again (about a third of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_report(path, format)
    finally:
        if was_enabled:
            gc.enable()


def _read_report(path: str | Path, format: str) -> ParsedReport:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
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
            return parse_junit(name, handle)
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
