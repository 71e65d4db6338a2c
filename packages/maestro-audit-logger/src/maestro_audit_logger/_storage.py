"""The segment store: append-only JSON Lines files, one directory lock, one write per batch.

Layout of ``output_dir``::

    audit-000000000001-20261126.jsonl   segments, named by first sequence and UTC day;
                                         closed ones are sealed read-only (mode 0440)
    checkpoints.jsonl                    one checkpoint per closed segment (and on demand)
    .audit.lock                          the flock target

Every append takes an exclusive ``fcntl.flock`` on ``.audit.lock`` (plus a thread lock),
re-reads the tail if another process moved it, assigns sequence numbers, and writes all
its lines with one ``write()`` on an ``O_APPEND`` descriptor, so writers in several
threads or processes never interleave partial lines or fork the chain.

Rotation is ordered so that a crash after any step leaves a directory the next open
repairs: (1) checkpoint the old segment (skipped when the newest checkpoint already covers
it), (2) seal it read-only, (3) create the next segment, (4) fsync the directory. A sealed
newest segment is opened read-only and simply rotated again; no file is ever reopened
for writing once sealed, so a non-root writer never meets its own read-only file.

``_os_write`` is the test seam for the OS write (disk full, short writes);
``_rotation_step`` is called after each rotation step (tests crash the process there).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from maestro_audit_logger._checkpoint import (
    CHECKPOINTS_FILE,
    Checkpoint,
    Signer,
    checkpoint_line_hash,
)
from maestro_audit_logger._errors import AuditCorruptionError, AuditStorageError
from maestro_audit_logger._event import format_ts, parse_ts
from maestro_audit_logger._record import GENESIS_HASH, line_hash, system_body, with_chain

LOCK_FILE = ".audit.lock"
SEGMENT_RE = re.compile(r"audit-(\d{12})-(\d{8})\.jsonl")

#: The OS write used for every append; tests replace it to simulate a full disk.
_os_write: Callable[[int, bytes], int] = os.write


def _after_step(step: str) -> None:
    """Default rotation hook: nothing happens between the steps."""
    del step


#: Called with the name of each completed rotation step; tests replace it to crash there.
_rotation_step: Callable[[str], None] = _after_step


def fsync_directory(directory: Path | str) -> None:
    """Make created, renamed or removed entries of ``directory`` survive a power loss."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Turn a raw ``OSError`` raised inside the block into :class:`AuditStorageError`."""
    try:
        yield
    except AuditStorageError:
        raise
    except OSError as exc:
        raise _storage_error(exc, what, verb="use") from exc


_STORES: weakref.WeakSet[Store] = weakref.WeakSet()


def _reopen_after_fork() -> None:
    for store in list(_STORES):
        store._after_fork_in_child()


os.register_at_fork(after_in_child=_reopen_after_fork)


def segment_name(first_seq: int, day: date) -> str:
    """The file name of a segment starting at ``first_seq`` on ``day`` (UTC)."""
    return f"audit-{first_seq:012d}-{day:%Y%m%d}.jsonl"


def list_segments(directory: Path) -> list[tuple[int, str]]:
    """``(first_sequence, name)`` of every segment in the directory, oldest first."""
    out = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        m = SEGMENT_RE.fullmatch(name)
        if m:
            out.append((int(m.group(1)), name))
    out.sort()
    return out


def segment_day(name: str) -> date:
    """The UTC day encoded in a segment name."""
    m = SEGMENT_RE.fullmatch(name)
    if m is None:
        raise ValueError(name)
    d = m.group(2)
    return date(int(d[:4]), int(d[4:6]), int(d[6:]))


def write_all(fd: int, data: bytes, before: int, what: str) -> None:
    """Append ``data`` with one write; a short or failed write is rolled back to ``before``."""
    try:
        n = _os_write(fd, data)
    except OSError as exc:
        _rollback(fd, before)
        raise _storage_error(exc, what) from exc
    if n != len(data):
        _rollback(fd, before)
        raise AuditStorageError(
            errno.ENOSPC,
            f"short write to {what} ({n} of {len(data)} bytes), the disk is probably full; "
            "nothing of this write was kept, free space and log again",
        )


def _rollback(fd: int, size: int) -> None:
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
    except OSError:
        pass


def _storage_error(exc: OSError, what: str, verb: str = "write") -> AuditStorageError:
    code = exc.errno or errno.EIO
    if code in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk is full; free space and log again (nothing of this write was kept)"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = (
            "permission denied; make the directory and its files readable and writable "
            "by this process"
        )
    else:
        hint = "check the audit directory and the disk"
    return AuditStorageError(code, f"cannot {verb} {what}: {os.strerror(code)}; {hint}")


def _rfind_newline(fd: int, pos: int) -> int:
    """Offset of the last newline before ``pos``, or -1."""
    chunk = 65536
    while pos > 0:
        start = max(0, pos - chunk)
        i = os.pread(fd, pos - start, start).rfind(b"\n")
        if i >= 0:
            return start + i
        pos = start
    return -1


def read_last_line(fd: int, size: int) -> tuple[bytes, int]:
    """Return the last complete line (without newline) and the offset just past its newline.

    Bytes after the last newline (a torn line) are not part of it; ``(b"", 0)`` when the
    file holds no complete line.
    """
    last_nl = _rfind_newline(fd, size)
    if last_nl < 0:
        return b"", 0
    start = _rfind_newline(fd, last_nl) + 1
    return os.pread(fd, last_nl - start, start), last_nl + 1


@dataclass(slots=True)
class _Tail:
    name: str | None
    fd: int | None
    size: int
    first_seq: int
    last_seq: int
    last_hash: str
    day: date | None = None
    sealed: bool = False

    def __post_init__(self) -> None:
        if self.name is not None:
            self.day = segment_day(self.name)


class Store:
    """One directory of segments; every method that writes holds the directory lock."""

    def __init__(
        self,
        directory: Path,
        *,
        max_segment_bytes: int,
        rotate_daily: bool,
        signer: Signer | None,
        checkpoint_sink: Callable[[Checkpoint], None] | None,
        clock: Callable[[], datetime],
        dir_fsync: bool = True,
    ) -> None:
        self.directory = directory
        self.dir_fsync = dir_fsync
        self._dir_str = str(directory)
        self.max_segment_bytes = max_segment_bytes
        self.rotate_daily = rotate_daily
        self.signer = signer
        self.checkpoint_sink = checkpoint_sink
        self.clock = clock
        self.sink_errors = 0
        self.rotations = 0
        self._to_sink: list[Checkpoint] = []
        self.last_sink_error: str | None = None
        self._thread_lock = threading.Lock()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as exc:
            code = exc.errno or errno.EIO
            raise AuditStorageError(
                code,
                f"cannot use audit directory '{directory}': {os.strerror(code)}; "
                "choose an output_dir this process can create and write",
            ) from exc
        if not os.access(directory, os.W_OK):
            os.close(self._lock_fd)
            raise AuditStorageError(
                errno.EACCES,
                f"audit directory '{directory}' is not writable; fix its permissions",
            )
        self._tail = _Tail(None, None, 0, 1, 0, GENESIS_HASH)
        self.closed = False
        _STORES.add(self)

    # -- locking ---------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[list[dict[str, Any]]]:
        """Hold the thread and directory locks; yields recoveries found while syncing."""
        with self._thread_lock:
            if self.closed:
                raise AuditStorageError(errno.EBADF, "the audit store is closed")
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield self._sync()
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self.drain_sink()

    def write(
        self,
        bodies: list[bytes],
        *,
        fsync: bool,
        clock: Callable[[], datetime],
        now: datetime | None = None,
    ) -> int:
        """Lock, catch up with other writers, append ``bodies``; return recoveries logged."""
        with self._thread_lock:
            if self.closed:
                raise AuditStorageError(errno.EBADF, "the audit store is closed")
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                recoveries = self._sync()
                if bodies or recoveries:
                    self.append(bodies, fsync=fsync, now=now or clock(), recoveries=recoveries)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        if self._to_sink:
            self.drain_sink()
        return len(recoveries)

    def _after_fork_in_child(self) -> None:
        """flock belongs to the open file description, which a forked child shares with its
        parent: reopen the lock file (and drop the segment descriptor) so the two
        processes really exclude each other."""
        self._thread_lock = threading.Lock()
        if self.closed:
            return
        old = self._lock_fd
        self._lock_fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o640)
        os.close(old)
        if self._tail.fd is not None:
            os.close(self._tail.fd)
            self._tail.fd = None

    def close(self) -> None:
        """Release the descriptors; further writes raise."""
        with self._thread_lock:
            if self.closed:
                return
            self.closed = True
            if self._tail.fd is not None:
                os.close(self._tail.fd)
            os.close(self._lock_fd)

    # -- tail tracking ---------------------------------------------------------------

    def _sync(self) -> list[dict[str, Any]]:
        # One fstat tells whether another writer appended (size), rotated (the segment was
        # sealed read-only) or the file was removed (no links) since our last write.
        t = self._tail
        if t.fd is not None:
            st = os.fstat(t.fd)
            if st.st_size == t.size and st.st_mode & 0o200 and st.st_nlink:
                return []
        return self._resync()

    def _resync(self) -> list[dict[str, Any]]:
        with storage_errors(f"audit directory {self._dir_str}"):
            return self._resync_inner()

    def _open_tail(self, name: str) -> tuple[int, bool]:
        """Open the newest segment: for appending, or read-only when it is sealed."""
        path = self.directory / name
        try:
            return os.open(path, os.O_RDWR | os.O_APPEND), False
        except PermissionError:
            # A sealed segment (a crash between sealing and creating its successor, or a
            # non-root writer): read its tail, the next append rotates past it.
            if os.stat(path).st_mode & 0o200:
                raise
            return os.open(path, os.O_RDONLY), True
        except FileNotFoundError:
            return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640), False

    def _resync_inner(self) -> list[dict[str, Any]]:
        recoveries: list[dict[str, Any]] = []
        segments = list_segments(self.directory)
        name = segments[-1][1] if segments else ""
        if self._tail.fd is not None:
            os.close(self._tail.fd)
            self._tail.fd = None
        if not name:
            last = self._last_checkpoint()
            if last is not None:
                self._tail = _Tail(
                    None, None, 0, last.last_sequence + 1, last.last_sequence, last.last_hash
                )
            else:
                self._tail = _Tail(None, None, 0, 1, 0, GENESIS_HASH)
            return recoveries
        try:
            fd, read_only = self._open_tail(name)
        except OSError as exc:
            raise _storage_error(exc, f"audit segment {self._dir_str}/{name}", "open") from exc
        st = os.fstat(fd)
        size = st.st_size
        line, end = read_last_line(fd, size)
        if size > end and read_only:
            # A torn line in a sealed segment: unseal it for the trim (we own it).
            os.close(fd)
            os.chmod(self.directory / name, 0o640)
            fd, read_only = self._open_tail(name)
            st = os.fstat(fd)
        if size > end:
            torn = os.pread(fd, size - end, end)
            os.ftruncate(fd, end)
            recoveries.append(
                {
                    "segment": name,
                    "dropped_bytes": size - end,
                    "dropped_sha256": line_hash(torn),
                    "offset": end,
                }
            )
            size = end
        first_seq = int(SEGMENT_RE.fullmatch(name).group(1))  # type: ignore[union-attr]
        if line:
            last_seq, last_hash = self._parse_tail(name, line)
        else:
            last_seq, last_hash = self._before(segments, name, first_seq)
        for r in recoveries:
            r["last_good_sequence"] = last_seq
        self._tail = _Tail(name, fd, size, first_seq, last_seq, last_hash)
        self._tail.sealed = read_only or not st.st_mode & 0o200
        return recoveries

    def _parse_tail(self, name: str, line: bytes) -> tuple[int, str]:
        try:
            seq = orjson.loads(line)["sequence"]
            if not isinstance(seq, int):
                raise TypeError(seq)
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise AuditCorruptionError(
                f"the last complete line of {self.directory / name} is not an audit record; "
                "it is not repaired automatically: run `maestro-audit verify "
                f"{self.directory}` and restore the segment from a copy"
            ) from exc
        return seq, line_hash(line)

    def _before(self, segments: list[tuple[int, str]], name: str, first: int) -> tuple[int, str]:
        """Sequence and hash of the record before an empty segment."""
        older = [n for _, n in segments if n < name]
        for prev in reversed(older):
            fd = os.open(self.directory / prev, os.O_RDONLY)
            try:
                line, _ = read_last_line(fd, os.fstat(fd).st_size)
            finally:
                os.close(fd)
            if line:
                return self._parse_tail(prev, line)
        last = self._last_checkpoint()
        if last is not None and last.last_sequence == first - 1:
            return last.last_sequence, last.last_hash
        return first - 1, GENESIS_HASH

    def _last_checkpoint(self) -> Checkpoint | None:
        line, _ = self._checkpoint_tail()
        return Checkpoint.from_dict(orjson.loads(line)) if line else None

    def _checkpoint_tail(self) -> tuple[bytes, str]:
        path = self.directory / CHECKPOINTS_FILE
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return b"", GENESIS_HASH
        try:
            line, _ = read_last_line(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        return line, checkpoint_line_hash(line) if line else GENESIS_HASH

    # -- writing (call with the lock held) ---------------------------------------------

    @property
    def last_sequence(self) -> int:
        """The sequence of the newest record (as of the last locked operation)."""
        return self._tail.last_seq

    @property
    def active_segment(self) -> str | None:
        """The name of the segment being appended to."""
        return self._tail.name

    def append(
        self, bodies: list[bytes], *, fsync: bool, now: datetime, recoveries: list[dict[str, Any]]
    ) -> tuple[int, int]:
        """Chain and write ``bodies`` (recovery events first) in one write; return the range."""
        if recoveries:
            ts = format_ts(now)
            bodies = [system_body("audit.recovery", r, ts) for r in recoveries] + bodies
        self._maybe_rotate(now)
        t = self._tail
        if t.fd is None or t.name is None:  # pragma: no cover - _maybe_rotate opened one
            raise AuditStorageError(errno.EBADF, "no active segment; this is a bug")
        seq, prev = t.last_seq, t.last_hash
        lines = []
        for body in bodies:
            seq += 1
            line = with_chain(seq, prev, body)
            prev = line_hash(line)
            lines.append(line)
        lines.append(b"")
        data = b"\n".join(lines)
        write_all(t.fd, data, t.size, f"audit segment {self._dir_str}/{t.name}")
        if fsync:
            try:
                os.fdatasync(t.fd)
            except OSError as exc:
                _rollback(t.fd, t.size)
                raise _storage_error(exc, f"(fsync) {self.directory / t.name}") from exc
        first = t.last_seq + 1
        t.size += len(data)
        t.last_seq, t.last_hash = seq, prev
        return first, seq

    def _maybe_rotate(self, now: datetime) -> None:
        t = self._tail
        today = (now if now.tzinfo is UTC else now.astimezone(UTC)).date()
        if t.name is not None:
            full = t.size >= self.max_segment_bytes
            new_day = self.rotate_daily and t.day != today
            if not (t.sealed or (t.size > 0 and (full or new_day))):
                return
        with storage_errors(f"audit directory {self._dir_str} (rotation)"):
            self._rotate(today)

    def _rotate(self, today: date) -> None:
        t = self._tail
        if t.name is not None:
            # 1. Checkpoint the old segment, unless a crashed rotation already did.
            last = self._last_checkpoint()
            if last is None or (last.segment, last.last_sequence) != (t.name, t.last_seq):
                self.write_checkpoint("rotation")
            _rotation_step("checkpointed")
        if t.fd is not None:
            # 2. Seal: the read-only mode tells the other writers, via fstat, to move on.
            os.fchmod(t.fd, 0o440)
            os.close(t.fd)
            t.fd = None
            _rotation_step("sealed")
        # 3. Create the next segment. Explicit mode: the owner-write bit marks the active
        # segment, whatever the umask.
        name = segment_name(t.last_seq + 1, today)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        os.fchmod(fd, 0o640)
        self._tail = _Tail(name, fd, os.fstat(fd).st_size, t.last_seq + 1, t.last_seq, t.last_hash)
        _rotation_step("created")
        # 4. Make the new entry durable where the durability mode promises it.
        if self.dir_fsync:
            fsync_directory(self.directory)
        _rotation_step("dir-synced")
        self.rotations += 1

    def write_checkpoint(self, reason: str) -> Checkpoint | None:
        """Append a checkpoint for the active segment; None when it holds no record."""
        t = self._tail
        if t.name is None or t.last_seq < t.first_seq:
            return None
        return self._checkpoint_for(t.name, t.first_seq, t.last_seq, t.last_hash, reason)

    def _checkpoint_for(
        self, name: str, first: int, last: int, last_hash: str, reason: str
    ) -> Checkpoint:
        _, prev = self._checkpoint_tail()
        cp = Checkpoint(
            segment=name,
            first_sequence=first,
            last_sequence=last,
            count=last - first + 1,
            last_hash=last_hash,
            created_at=format_ts(self.clock()),
            reason=reason,
            prev_checkpoint_hash=prev,
        ).signed(self.signer)
        path = self.directory / CHECKPOINTS_FILE
        with storage_errors(str(path)):
            try:
                fd = os.open(path, os.O_RDWR | os.O_APPEND)
                created = False
            except FileNotFoundError:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
                created = True
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # A checkpoint line torn by a crash: never acknowledged, drop it.
                    size = _rfind_newline(fd, size) + 1
                    os.ftruncate(fd, size)
                write_all(fd, cp.to_line() + b"\n", size, f"{path}")
                os.fsync(fd)
            finally:
                os.close(fd)
            if created and self.dir_fsync:
                fsync_directory(self.directory)
        if self.checkpoint_sink is not None:
            self._to_sink.append(cp)
        return cp

    def drain_sink(self) -> None:
        """Hand queued checkpoints to the sink, outside the directory lock (a slow sink
        must not stall writers); a failing sink is counted, never fatal to logging."""
        if not self._to_sink or self.checkpoint_sink is None:
            return
        queued, self._to_sink = self._to_sink, []
        for cp in queued:
            try:
                self.checkpoint_sink(cp)
            except Exception as exc:
                self.sink_errors += 1
                self.last_sink_error = f"{type(exc).__name__}: {exc}"

    # -- retention (call with the lock held) -------------------------------------------

    def expired_segments(self, cutoff: datetime) -> list[tuple[str, int, int, str]]:
        """Closed segments whose newest record is older than ``cutoff``, oldest first.

        Returns ``(name, first_seq, last_seq, last_hash)`` for each.
        """
        out = []
        for first, name in list_segments(self.directory):
            if name == self._tail.name:
                break
            fd = os.open(self.directory / name, os.O_RDONLY)
            try:
                line, _ = read_last_line(fd, os.fstat(fd).st_size)
            finally:
                os.close(fd)
            if not line:
                continue
            rec = orjson.loads(line)
            if parse_ts(rec["timestamp"]) >= cutoff:
                break
            out.append((name, first, rec["sequence"], line_hash(line)))
        return out

    def ensure_checkpoints(self, segments: list[tuple[str, int, int, str]]) -> None:
        """Write a checkpoint for any segment that lacks one (e.g. after a crash)."""
        from maestro_audit_logger._checkpoint import read_checkpoints

        have = {(c.segment, c.last_sequence) for c in read_checkpoints(self.directory)}
        for name, first, last, h in segments:
            if (name, last) not in have:
                self._checkpoint_for(name, first, last, h, "rotation")

    def remove_segments(
        self, segments: list[tuple[str, int, int, str]], archive_dir: Path | None
    ) -> None:
        """Delete the segments (or move them into ``archive_dir``), each followed by a
        ``retention-deleted`` / ``retention-archived`` checkpoint that outlives it."""
        if archive_dir is not None:
            archive_dir.mkdir(parents=True, exist_ok=True)
        for name, first, last, h in segments:
            src = self.directory / name
            if archive_dir is None:
                src.unlink()
                reason = "retention-deleted"
            else:
                shutil.move(str(src), str(archive_dir / name))
                reason = "retention-archived"
            self._checkpoint_for(name, first, last, h, reason)
        if segments and self.dir_fsync:
            fsync_directory(self.directory)
            if archive_dir is not None:
                fsync_directory(archive_dir)
