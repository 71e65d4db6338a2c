"""Streaming exports to JSON, JSON Lines and CSV: temp file, fsync, rename, manifest.

Each export writes ``<path>`` and ``<path>.manifest.json``; the manifest states the
sequence range covered, the record count, the filters and the SHA-256 of the export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from maestro_audit_logger._errors import AuditStorageError, ConfigurationError
from maestro_audit_logger._event import format_ts
from maestro_audit_logger._reader import Filters, iter_records
from maestro_audit_logger._storage import fsync_directory

ExportFormat = Literal["json", "jsonl", "csv"]

#: CSV columns, in order; ``changes`` and ``details`` hold compact JSON.
CSV_COLUMNS = (
    "sequence",
    "event_id",
    "timestamp",
    "event_type",
    "outcome",
    "user_id",
    "on_behalf_of",
    "resource_type",
    "resource_id",
    "source_ip",
    "user_agent",
    "correlation_id",
    "service",
    "reason",
    "changes",
    "details",
    "prev_hash",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A formula, possibly after leading whitespace or newlines, with ASCII or full-width signs.
_FORMULA = re.compile("\\s*[=+\\-@\uff1d\uff0b\uff0d\uff20]")
#: Bidirectional embedding, override and isolate characters (Trojan Source, CVE-2021-42574).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: First characters of an ASCII cell that need a closer look.
_SUSPECT_ASCII = frozenset(" \t\r\n\v\f=+-@")


def _escape_bidi(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def neutralise(cell: str) -> str:
    """Make a cell safe to open in a spreadsheet.

    A cell a spreadsheet would run as a formula (``= + - @``, also after leading
    whitespace or newlines, and the full-width ``＝＋－＠``) or that starts with a tab or
    carriage return is prefixed with ``'`` (OWASP advice); bidirectional override
    characters are written as visible ``\\u202e`` escapes.
    """
    if cell.isascii():
        if not cell or cell[0] not in _SUSPECT_ASCII:
            return cell
    elif _BIDI.search(cell) is not None:
        cell = _BIDI.sub(_escape_bidi, cell)
    if cell.startswith(_FORMULA_START) or _FORMULA.match(cell) is not None:
        return "'" + cell
    return cell


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote: where, how many records, which sequence range."""

    path: Path
    manifest_path: Path
    format: str
    count: int
    first_sequence: int | None
    last_sequence: int | None
    sha256: str


class _HashingWriter:
    """A binary file wrapper that hashes what it writes."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.h = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.h.update(data)
        self.f.write(data)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    t = type(value)
    if t is str:
        return neutralise(value)
    if t is dict or t is list:
        # Compact JSON starts with { or [, never with a formula character.
        text = orjson.dumps(value).decode()
        return text if text.isascii() else _BIDI.sub(_escape_bidi, text)
    if t is int:
        return str(value)
    return neutralise(str(value))


_PLAIN = ("sequence", "event_id", "timestamp", "event_type", "outcome", "user_id", "on_behalf_of")
_LATER = ("source_ip", "user_agent", "correlation_id", "service", "reason")
_TAIL = ("changes", "details", "prev_hash")


def _csv_row(rec: dict[str, Any]) -> list[str]:
    get = rec.get
    res = get("resource")
    if type(res) is not dict:
        res = {}
    values = [get(k) for k in _PLAIN]
    values.append(res.get("type"))
    values.append(res.get("id"))
    values.extend([get(k) for k in _LATER])
    values.extend([get(k) for k in _TAIL])
    # Inline the common cases (text, absent, integers); everything else goes through _cell.
    return [
        (v if v.isascii() and (not v or v[0] not in _SUSPECT_ASCII) else neutralise(v))
        if type(v) is str
        else ""
        if v is None
        else _cell(v)
        for v in values
    ]


class _CsvSink:
    """csv.writer writes into a StringIO (C speed); drain() flushes it as UTF-8 bytes."""

    def __init__(self, out: _HashingWriter) -> None:
        self.out = out
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\r\n")
        self.rows = 0

    def writerow(self, row: Iterable[str]) -> None:
        self.writer.writerow(row)
        self.rows += 1
        if self.rows >= 2048:
            self.drain()

    def drain(self) -> None:
        self.out.write(self.buf.getvalue().encode())
        self.buf.seek(0)
        self.buf.truncate()
        self.rows = 0


def _atomic_write(target: Path, body: Callable[[_HashingWriter], None]) -> str:
    """Write via ``body`` into a temp file beside ``target``, fsync, rename; return sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            w = _HashingWriter(f)
            body(w)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_directory(target.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return w.h.hexdigest()


def export(
    directory: str | os.PathLike[str],
    path: str | os.PathLike[str],
    fmt: ExportFormat,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    event_type: str | None = None,
    user_id: str | None = None,
    outcome: str | None = None,
    bom: bool = False,
) -> ExportResult:
    """Export the matching records of ``directory`` to ``path`` as ``json``, ``jsonl`` or ``csv``.

    Memory stays bounded whatever the log size; the file appears only when complete.
    A target inside the audit directory is refused (it could overwrite or plant
    evidence). ``bom=True`` starts a CSV export with a UTF-8 byte order mark, for Excel.
    """
    if fmt not in ("json", "jsonl", "csv"):
        raise ConfigurationError(f"export format {fmt!r} is not one of 'json', 'jsonl', 'csv'")
    if bom and fmt != "csv":
        raise ConfigurationError("bom=True applies to CSV exports only")
    filters = Filters(since, until, event_type, user_id, outcome)
    target = Path(path)
    source = os.path.realpath(directory)
    if os.path.isdir(source):
        resolved = os.path.realpath(target)
        if os.path.commonpath([source, resolved]) == source:
            raise ConfigurationError(
                f"export target {target} is inside the audit directory {directory}; "
                "write exports elsewhere (a file there could overwrite or plant evidence)"
            )
    seen = {"count": 0, "first": None, "last": None}

    def note(rec: dict[str, Any]) -> None:
        seq = rec.get("sequence")
        if seen["first"] is None:
            seen["first"] = seq
        seen["last"] = seq
        seen["count"] += 1  # type: ignore[operator]

    def write_json(w: _HashingWriter) -> None:
        w.write(b"[")
        sep = b"\n"
        for line, rec in iter_records(directory, filters):
            note(rec)
            w.write(sep + line)
            sep = b",\n"
        w.write(b"\n]\n")

    def write_jsonl(w: _HashingWriter) -> None:
        for line, rec in iter_records(directory, filters):
            note(rec)
            w.write(line + b"\n")

    def write_csv(w: _HashingWriter) -> None:
        if bom:
            w.write(b"\xef\xbb\xbf")
        sink = _CsvSink(w)
        sink.writerow(CSV_COLUMNS)
        for _, rec in iter_records(directory, filters):
            note(rec)
            sink.writerow(_csv_row(rec))
        sink.drain()

    writers = {"json": write_json, "jsonl": write_jsonl, "csv": write_csv}
    try:
        digest = _atomic_write(target, writers[fmt])
        result = ExportResult(
            path=target,
            manifest_path=target.with_name(target.name + ".manifest.json"),
            format=fmt,
            count=seen["count"],  # type: ignore[arg-type]
            first_sequence=seen["first"],
            last_sequence=seen["last"],
            sha256=digest,
        )
        manifest = {
            **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()},
            "source": str(Path(directory).resolve()),
            "filters": filters.as_dict(),
            "created_at": format_ts(datetime.now(UTC)),
        }
        data = orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
        _atomic_write(result.manifest_path, lambda w: w.write(data))
    except OSError as exc:
        if isinstance(exc, AuditStorageError):
            raise
        raise AuditStorageError(
            exc.errno or 5, f"cannot write export {target}: {exc.strerror or exc}"
        ) from exc
    return result
