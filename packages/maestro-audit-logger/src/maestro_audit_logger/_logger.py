"""AuditLogger: validate, mask and serialise events, then append them with a durability mode."""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

from maestro_audit_logger._checkpoint import Checkpoint, Signer, Verifier, signer_from_env
from maestro_audit_logger._context import current_context
from maestro_audit_logger._deprecation import warn_once
from maestro_audit_logger._errors import (
    AuditBufferFullError,
    AuditLoggerClosedError,
    CheckpointSinkError,
    ConfigurationError,
    InvalidEventError,
    MaestroAuditError,
)
from maestro_audit_logger._event import (
    RESERVED_EVENT_TYPES,
    AuditEvent,
    Outcome,
    format_ts,
    utc_now,
)
from maestro_audit_logger._export import ExportFormat, ExportResult, export
from maestro_audit_logger._masking import DEFAULT_MASK_KEYS, Masker
from maestro_audit_logger._reader import read_events
from maestro_audit_logger._record import CHAIN_PREFIX_BYTES, encode_body, system_body
from maestro_audit_logger._storage import Store
from maestro_audit_logger._verify import VerifyResult, verify

Durability = Literal["sync", "batch", "os"]

#: The default cap on one event's record: 256 KB, as CloudTrail's event size limit.
DEFAULT_MAX_EVENT_BYTES = 256 * 1024
Overflow = Literal["block", "raise", "drop"]


_OPEN: weakref.WeakSet[AuditLogger] = weakref.WeakSet()


@atexit.register
def _close_open_loggers() -> None:
    """Flush and close loggers still open at interpreter exit (batch buffers included)."""
    for logger in list(_OPEN):
        logger._close_at_exit()


def _after_fork_in_child() -> None:
    # The parent's buffered events stay the parent's to write; the child starts clean.
    for logger in list(_OPEN):
        logger._reset_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass(frozen=True, slots=True)
class LoggerStats:
    """Counters of one logger since it was opened (auditd's ``lost`` is ``dropped``)."""

    durability: str
    logged: int
    dropped: int
    buffered: int
    last_sequence: int
    recoveries: int
    sink_errors: int


class AuditLogger:
    """Append audit events to a tamper-evident, crash-safe log in ``output_dir``.

    ``durability`` is ``"sync"`` (fsync before ``log()`` returns: nothing acknowledged is
    lost, even on power loss), ``"batch"`` (group commit every ``batch_size`` events or
    ``batch_interval`` seconds: a process crash loses at most the buffered events, a power loss
    nothing that was flushed) or ``"os"`` (one ``write()`` per event, no fsync: a process
    crash loses nothing, a power or kernel failure loses what the OS had not written yet,
    typically up to ~30 s).
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str] = "./audit_logs",
        *,
        durability: Durability = "sync",
        batch_size: int = 1000,
        batch_interval: float | timedelta = 0.2,
        max_buffer: int = 100_000,
        overflow: Overflow = "block",
        max_segment_bytes: int = 64 * 1024 * 1024,
        max_event_bytes: int | None = None,
        rotate_daily: bool = True,
        retention: float | timedelta | None = None,
        archive_dir: str | os.PathLike[str] | None = None,
        mask_keys: Iterable[str] | None = None,
        signer: Signer | None = None,
        checkpoint_sink: Callable[[Checkpoint], None] | None = None,
        checkpoint_on_close: bool = True,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        batch_interval_ms: float | None = None,
        retention_days: float | None = None,
    ) -> None:
        if retention_days is not None:
            if retention is not None:
                raise ConfigurationError("give retention= or retention_days=, not both")
            warn_once("AuditLogger(retention_days=...)", "retention= (seconds or a timedelta)")
            retention = _days_to_seconds(retention_days, "retention_days")
        if batch_interval_ms is not None:
            warn_once("AuditLogger(batch_interval_ms=...)", "batch_interval= (seconds)")
            batch_interval = batch_interval_ms / 1000.0
        if isinstance(batch_interval, timedelta):
            batch_interval = batch_interval.total_seconds()
        if durability not in get_args(Durability):
            raise ConfigurationError(
                f"durability {durability!r} is not one of 'sync', 'batch', 'os'"
            )
        if overflow not in get_args(Overflow):
            raise ConfigurationError(
                f"overflow {overflow!r} is not one of 'block', 'raise', 'drop'"
            )
        if batch_size < 1 or max_buffer < batch_size:
            raise ConfigurationError("need 1 <= batch_size <= max_buffer")
        if not isinstance(batch_interval, int | float) or not batch_interval > 0:
            raise ConfigurationError(
                f"batch_interval must be a positive number of seconds, got {batch_interval!r}"
            )
        if max_segment_bytes < 4096:
            raise ConfigurationError("max_segment_bytes must be at least 4096")
        if max_event_bytes is None:
            max_event_bytes = min(DEFAULT_MAX_EVENT_BYTES, max_segment_bytes)
        elif max_event_bytes < 512 or max_event_bytes > max_segment_bytes:
            raise ConfigurationError(
                f"max_event_bytes={max_event_bytes} must be between 512 and "
                f"max_segment_bytes={max_segment_bytes} (one event never exceeds a segment)"
            )
        self.max_event_bytes = max_event_bytes
        if isinstance(mask_keys, str):
            raise ConfigurationError("mask_keys is a collection of key names, not one string")
        # Absolute, so a later chdir (or the exit-time close) still finds the directory.
        self.output_dir = Path(os.path.abspath(output_dir))
        self.durability: Durability = durability
        self._batch = durability == "batch"
        self._fsync = durability == "sync"
        self._batch_size = batch_size
        self._interval = float(batch_interval)
        self._monotonic = monotonic
        self._max_buffer = max_buffer
        self._overflow: Overflow = overflow
        self._masker = Masker(DEFAULT_MASK_KEYS if mask_keys is None else mask_keys)
        self._clock = clock
        self._checkpoint_on_close = checkpoint_on_close
        self._retention = (
            None if retention is None else _age_seconds(retention, "retention", allow_none=True)
        )
        self._archive_dir = os.path.abspath(archive_dir) if archive_dir is not None else None
        self._rotations_seen = -1
        self._store = Store(
            self.output_dir,
            max_segment_bytes=max_segment_bytes,
            rotate_daily=rotate_daily,
            signer=signer if signer is not None else signer_from_env(),
            checkpoint_sink=checkpoint_sink,
            clock=clock,
            dir_fsync=durability != "os",
        )
        self._logged = 0
        self._dropped = 0
        self._unreported_drops = 0
        self._recoveries = 0
        self._closed = False
        self._buffer: list[bytes] = []
        self._cond = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()
        self._flush_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # Trim a torn tail now (and record it) rather than at the first event; apply
        # retention once at open, then after each rotation.
        try:
            self._write([], fsync=durability != "os")
        except BaseException:
            self._store.close()
            raise
        if durability == "batch":
            self._thread = threading.Thread(
                target=self._flusher, name="maestro-audit-flusher", daemon=True
            )
            self._thread.start()
        _OPEN.add(self)
        # Loggers dropped without close() still release their descriptors.
        # (Not at exit: _close_open_loggers flushes and closes them first.)
        weakref.finalize(self, self._store.close).atexit = False

    # -- logging -----------------------------------------------------------------------

    def log(self, event: AuditEvent) -> str:
        """Record one event; returns its ``event_id``.

        In ``sync`` and ``os`` mode the event is in the file when this returns (and on
        disk in ``sync`` mode); in ``batch`` mode it is buffered for the next group commit.
        """
        now = self._now()
        body = self._encode(event, now)
        if self._batch:
            self._enqueue([body])
        else:
            self._recoveries += self._store.write(
                [body], fsync=self._fsync, clock=self._clock, now=now
            )
            self._logged += 1
            if self._store.rotations != self._rotations_seen:
                self._retain_after_rotation()
        return event.event_id

    def log_many(self, events: Iterable[AuditEvent]) -> list[str]:
        """Record several events with one write (and one fsync unless ``durability="os"``)."""
        evs = list(events)
        now = self._now()
        bodies = [self._encode(e, now) for e in evs]
        self._write(bodies, fsync=self.durability != "os")
        return [e.event_id for e in evs]

    async def alog(self, event: AuditEvent) -> str:
        """``log()`` for asyncio code: the write runs in a worker thread (context is kept)."""
        return await asyncio.to_thread(self.log, event)

    async def alog_many(self, events: Iterable[AuditEvent]) -> list[str]:
        """``log_many()`` for asyncio code."""
        return await asyncio.to_thread(self.log_many, list(events))

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ConfigurationError(
                "clock= returned a naive datetime; it must return an aware UTC datetime "
                "(attach a timezone, e.g. datetime.now(UTC))"
            )
        return now

    def _encode(self, event: AuditEvent, now: datetime) -> bytes:
        if self._closed:
            raise AuditLoggerClosedError(
                f"this AuditLogger for '{self.output_dir}' is closed; open a new one"
            )
        if not isinstance(event, AuditEvent):
            raise InvalidEventError(f"log() takes an AuditEvent, got {type(event).__name__}")
        if event.event_type.startswith("audit.") and event.event_type in RESERVED_EVENT_TYPES:
            raise InvalidEventError(
                f"event_type {event.event_type!r} is reserved for the logger itself"
            )
        ts = format_ts(event.timestamp if event.timestamp is not None else now)
        body = encode_body(event, ts, current_context(), self._masker)
        if len(body) + CHAIN_PREFIX_BYTES > self.max_event_bytes:
            raise InvalidEventError(
                f"event {event.event_type!r} is {len(body) + CHAIN_PREFIX_BYTES} bytes as a "
                f"record, over max_event_bytes={self.max_event_bytes}; store large payloads "
                "elsewhere and log a reference (or raise max_event_bytes)"
            )
        return body

    def _write(self, bodies: list[bytes], *, fsync: bool) -> None:
        """Write the pending buffer plus ``bodies`` in one append, holding the directory lock."""
        with self._write_lock:
            with self._cond:
                pending, self._buffer = self._buffer, []
                drops, self._unreported_drops = self._unreported_drops, 0
                self._cond.notify_all()
            batch = pending + bodies
            if drops:
                now_ts = format_ts(self._clock())
                details = {"count": drops, "total_dropped": self._dropped, "policy": "drop"}
                batch.append(system_body("audit.dropped", details, now_ts))
            try:
                self._recoveries += self._store.write(batch, fsync=fsync, clock=self._clock)
            except BaseException:
                # Nothing accepted is lost: buffered events go back to the front.
                with self._cond:
                    self._buffer[:0] = pending
                    self._unreported_drops += drops
                raise
            self._logged += len(bodies) + len(pending)
        self._retain_after_rotation()

    # -- batch mode ----------------------------------------------------------------------

    def _enqueue(self, bodies: list[bytes]) -> None:
        with self._cond:
            while len(self._buffer) + len(bodies) > self._max_buffer:
                if self._overflow == "drop":
                    self._dropped += len(bodies)
                    self._unreported_drops += len(bodies)
                    return
                if self._overflow == "raise":
                    raise AuditBufferFullError(
                        f"the audit buffer holds {len(self._buffer)} events (max_buffer="
                        f"{self._max_buffer}); slow down, raise max_buffer or use "
                        "overflow='block'"
                    )
                self._cond.notify_all()
                self._cond.wait(self._interval)
                if self._closed:
                    raise AuditLoggerClosedError("the logger was closed while waiting")
            was_empty = not self._buffer
            self._buffer.extend(bodies)
            if was_empty or len(self._buffer) >= self._batch_size:
                self._cond.notify_all()

    def _flusher(self) -> None:
        while True:
            with self._cond:
                while not self._buffer and not self._unreported_drops and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                deadline = self._monotonic() + self._interval
                while len(self._buffer) < self._batch_size and not self._closed:
                    left = deadline - self._monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            try:
                self._write([], fsync=True)
                self._flush_error = None
            except Exception as exc:  # kept for flush()/close(); events stay buffered
                self._flush_error = exc
                with self._cond:
                    self._cond.wait(self._interval)

    def flush(self) -> None:
        """Write buffered events now (fsync unless ``durability="os"``); raise if that fails."""
        if self._closed:
            return
        self._write([], fsync=self.durability != "os")

    async def aflush(self) -> None:
        """``flush()`` for asyncio code (in a worker thread)."""
        await asyncio.to_thread(self.flush)

    # -- checkpoints, verification, queries, exports ---------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        """Write a checkpoint for the active segment now (after flushing); None if empty.

        Raises :class:`CheckpointSinkError` when the external sink failed.
        """
        self.flush()
        before = self._store.sink_errors
        with self._store.locked() as recoveries:
            if recoveries:
                self._store.append([], fsync=True, now=self._clock(), recoveries=recoveries)
            cp = self._store.write_checkpoint("manual")
        if self._store.sink_errors != before:
            raise CheckpointSinkError(
                f"checkpoint sink failed: {self._store.last_sink_error}; "
                "the checkpoint is in checkpoints.jsonl, send it again"
            )
        return cp

    def verify(
        self,
        *,
        keys: Verifier | Iterable[Verifier] | None = None,
        checkpoints: Iterable[Checkpoint] | str | os.PathLike[str] | None = None,
        require_signatures: bool = False,
        trusted_checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    ) -> VerifyResult:
        """Flush, then :func:`maestro_audit_logger.verify` this logger's directory."""
        self.flush()
        return verify(
            self.output_dir,
            keys=keys,
            checkpoints=checkpoints,
            require_signatures=require_signatures,
            trusted_checkpoint=trusted_checkpoint,
        )

    async def averify(
        self,
        *,
        keys: Verifier | Iterable[Verifier] | None = None,
        checkpoints: Iterable[Checkpoint] | str | os.PathLike[str] | None = None,
        require_signatures: bool = False,
        trusted_checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    ) -> VerifyResult:
        """``verify()`` for asyncio code (in a worker thread)."""
        return await asyncio.to_thread(
            lambda: self.verify(
                keys=keys,
                checkpoints=checkpoints,
                require_signatures=require_signatures,
                trusted_checkpoint=trusted_checkpoint,
            )
        )

    async def acheckpoint(self) -> Checkpoint | None:
        """``checkpoint()`` for asyncio code (in a worker thread)."""
        return await asyncio.to_thread(self.checkpoint)

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_type: str | None = None,
        user_id: str | None = None,
        outcome: Outcome | None = None,
    ) -> Iterator[AuditEvent]:
        """Flush, then iterate matching events lazily, oldest first.

        ``event_type`` takes wildcards (``"user.*"``); ``since`` is inclusive, ``until``
        exclusive.
        """
        self.flush()
        return read_events(
            self.output_dir,
            since=since,
            until=until,
            event_type=event_type,
            user_id=user_id,
            outcome=outcome,
        )

    def _export(
        self,
        path: str | os.PathLike[str],
        fmt: ExportFormat,
        *,
        since: datetime | None,
        until: datetime | None,
        event_type: str | None,
        user_id: str | None,
        outcome: Outcome | None,
        bom: bool = False,
    ) -> ExportResult:
        self.flush()
        return export(
            self.output_dir,
            path,
            fmt,
            since=since,
            until=until,
            event_type=event_type,
            user_id=user_id,
            outcome=outcome,
            bom=bom,
        )

    def export_to_json(
        self,
        path: str | os.PathLike[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_type: str | None = None,
        user_id: str | None = None,
        outcome: Outcome | None = None,
    ) -> ExportResult:
        """Export (filtered) records as one JSON array, plus ``<path>.manifest.json``."""
        return self._export(
            path,
            "json",
            since=since,
            until=until,
            event_type=event_type,
            user_id=user_id,
            outcome=outcome,
        )

    def export_to_jsonl(
        self,
        path: str | os.PathLike[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_type: str | None = None,
        user_id: str | None = None,
        outcome: Outcome | None = None,
    ) -> ExportResult:
        """Export (filtered) records as JSON Lines, byte for byte as stored."""
        return self._export(
            path,
            "jsonl",
            since=since,
            until=until,
            event_type=event_type,
            user_id=user_id,
            outcome=outcome,
        )

    def export_to_csv(
        self,
        path: str | os.PathLike[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_type: str | None = None,
        user_id: str | None = None,
        outcome: Outcome | None = None,
        bom: bool = False,
    ) -> ExportResult:
        """Export (filtered) records as CSV with formula injection neutralised.

        ``bom=True`` writes a UTF-8 byte order mark first, so Excel reads the text right.
        """
        return self._export(
            path,
            "csv",
            since=since,
            until=until,
            event_type=event_type,
            user_id=user_id,
            outcome=outcome,
            bom=bom,
        )

    # -- retention ---------------------------------------------------------------------------

    def _retain_after_rotation(self) -> None:
        if self._retention is None or self._store.rotations == self._rotations_seen:
            return
        self._rotations_seen = self._store.rotations
        self.apply_retention(older_than=self._retention, archive_dir=self._archive_dir)

    def apply_retention(
        self,
        days: float | None = None,
        *,
        older_than: float | timedelta | None = None,
        archive_dir: str | os.PathLike[str] | None = None,
    ) -> list[str]:
        """Delete (or move to ``archive_dir``) closed segments whose newest event is older
        than ``older_than`` (seconds or a ``timedelta``); returns their names.

        Their checkpoints stay in ``checkpoints.jsonl`` and an ``audit.retention`` event is
        logged first, so the remaining chain still verifies. ``days`` is the deprecated
        spelling (a number of days).
        """
        if days is not None:
            if older_than is not None:
                raise ConfigurationError("give older_than= or days, not both")
            warn_once("AuditLogger.apply_retention(days)", "apply_retention(older_than=...)")
            older_than = _days_to_seconds(days, "days")
        if older_than is None:
            raise ConfigurationError(
                "apply_retention needs older_than= (seconds or a timedelta), "
                "e.g. older_than=timedelta(days=90)"
            )
        seconds = _age_seconds(older_than, "older_than")
        self.flush()
        archive = Path(archive_dir) if archive_dir is not None else None
        with self._store.locked() as recoveries:
            now = self._clock()
            expired = self._store.expired_segments(now - timedelta(seconds=seconds))
            if not expired and not recoveries:
                return []
            bodies = []
            if expired:
                self._store.ensure_checkpoints(expired)
                details = {
                    "action": "archived" if archive else "deleted",
                    "segments": [e[0] for e in expired],
                    "first_sequence": expired[0][1],
                    "last_sequence": expired[-1][2],
                    "older_than_seconds": seconds,
                    "days": seconds / 86400,
                }
                bodies.append(system_body("audit.retention", details, format_ts(now)))
            self._store.append(bodies, fsync=True, now=now, recoveries=recoveries)
            self._store.remove_segments(expired, archive)
        return [e[0] for e in expired]

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def last_sequence(self) -> int:
        """The sequence number of the newest record this logger has seen or written."""
        return self._store.last_sequence

    @property
    def stats(self) -> LoggerStats:
        """Counters: events written, dropped (overflow='drop'), buffered, recoveries."""
        with self._cond:
            buffered = len(self._buffer)
        return LoggerStats(
            durability=self.durability,
            logged=self._logged,
            dropped=self._dropped,
            buffered=buffered,
            last_sequence=self._store.last_sequence,
            recoveries=self._recoveries,
            sink_errors=self._store.sink_errors,
        )

    def close(self) -> None:
        """Flush, write a closing checkpoint (unless disabled) and release the files."""
        if self._closed:
            return
        # If this final flush fails the logger stays open with its buffer: fix and retry.
        self._write([], fsync=self.durability != "os")
        _OPEN.discard(self)
        try:
            if self._checkpoint_on_close:
                with self._store.locked():
                    self._store.write_checkpoint("close")
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            if self._thread is not None:
                self._thread.join()
            self._store.close()

    async def aclose(self) -> None:
        """``close()`` for asyncio code (in a worker thread)."""
        await asyncio.to_thread(self.close)

    def _reset_after_fork(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._write_lock = threading.Lock()
        self._buffer = []
        self._unreported_drops = 0
        if self._thread is not None and not self._closed:
            self._thread = threading.Thread(
                target=self._flusher, name="maestro-audit-flusher", daemon=True
            )
            self._thread.start()

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except (MaestroAuditError, OSError) as exc:
            buffered = self.stats.buffered
            sys.stderr.write(
                f"maestro-audit-logger: closing {self.output_dir} at exit failed: {exc}; "
                f"{buffered} buffered events could not be written\n"
            )

    def __enter__(self) -> AuditLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AuditLogger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AuditLogger(output_dir={str(self.output_dir)!r}, durability={self.durability!r})"


def _days_to_seconds(days: object, name: str) -> float:
    """A deprecated ``*_days`` argument as seconds (checked like any age)."""
    if isinstance(days, bool) or not isinstance(days, int | float):
        raise ConfigurationError(f"{name} must be a number of days, got {days!r}")
    return _age_seconds(float(days) * 86400, name)


def _age_seconds(value: object, name: str, *, allow_none: bool = False) -> float:
    """``value`` (seconds or a ``timedelta``) as a finite, non-negative float."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " (or None to keep everything)" if allow_none else ""
        raise ConfigurationError(
            f"{name} must be seconds (a number) or a timedelta{hint}, got {value!r}"
        )
    if not 0 <= value < float("inf"):
        raise ConfigurationError(f"{name} must be a finite number of seconds >= 0, got {value}")
    return float(value)
