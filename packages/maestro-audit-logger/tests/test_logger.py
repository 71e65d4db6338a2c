"""AuditLogger: records, chain, durability modes, bulk path, overflow policies, bad input."""

from __future__ import annotations

import errno
import itertools
import os
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from maestro_audit_logger import (
    AuditBufferFullError,
    AuditEvent,
    AuditLogger,
    AuditLoggerClosedError,
    AuditStorageError,
    ConfigurationError,
    InvalidEventError,
    Resource,
    _storage,
    verify,
)
from maestro_audit_logger._record import GENESIS_HASH, line_hash


def test_record_answers_who_what_when_where_outcome(audit_dir: Path, records, clock) -> None:
    """A stored record carries every schema field, a sequence, a UTC timestamp and a uuid7 id."""
    with AuditLogger(audit_dir, clock=clock) as log:
        event_id = log.log(
            AuditEvent(
                "invoice.update",
                user_id="alice",
                on_behalf_of="bob",
                outcome="success",
                resource=Resource("invoice", "INV-42"),
                source_ip="192.0.2.7",
                user_agent="curl/8",
                correlation_id="req-9",
                service="billing",
                reason="customer request",
                changes={"amount": (10, 12)},
                details={"note": "ok"},
            )
        )
    (rec,) = records(audit_dir)
    assert rec == {
        "sequence": 1,
        "prev_hash": GENESIS_HASH,
        "event_id": event_id,
        "timestamp": "2026-03-01T12:00:00.000000Z",
        "event_type": "invoice.update",
        "outcome": "success",
        "user_id": "alice",
        "on_behalf_of": "bob",
        "resource": {"type": "invoice", "id": "INV-42"},
        "source_ip": "192.0.2.7",
        "user_agent": "curl/8",
        "correlation_id": "req-9",
        "service": "billing",
        "reason": "customer request",
        "changes": {"amount": [10, 12]},
        "details": {"note": "ok"},
    }


def test_each_record_chains_the_hash_of_the_previous_line(audit_dir: Path) -> None:
    """prev_hash of record N+1 is the SHA-256 of record N's exact bytes."""
    with AuditLogger(audit_dir) as log:
        for i in range(5):
            log.log(AuditEvent("tick.tock", details={"i": i}))
    (seg,) = audit_dir.glob("audit-*.jsonl")
    lines = seg.read_bytes().splitlines()
    assert len(lines) == 5
    import orjson

    for a, b in itertools.pairwise(lines):
        assert orjson.loads(b)["prev_hash"] == line_hash(a)
    assert [orjson.loads(x)["sequence"] for x in lines] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("durability", ["sync", "os", "batch"])
def test_every_durability_mode_stores_everything_after_close(
    audit_dir: Path, durability: str, records
) -> None:
    """sync, os and batch all keep every event once the logger is closed."""
    with AuditLogger(audit_dir, durability=durability) as log:  # type: ignore[arg-type]
        for i in range(50):
            log.log(AuditEvent("tick.tock", details={"i": i}))
    assert [r["details"]["i"] for r in records(audit_dir)] == list(range(50))
    assert verify(audit_dir)


def test_sync_mode_fsyncs_every_event(audit_dir: Path, monkeypatch) -> None:
    """In sync mode log() calls fdatasync once per event before returning."""
    calls: list[int] = []
    real = os.fdatasync

    def counting_sync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting_sync)
    with AuditLogger(audit_dir, durability="sync", checkpoint_on_close=False) as log:
        calls.clear()
        for _ in range(3):
            log.log(AuditEvent("tick.tock"))
        assert len(calls) == 3


def test_os_mode_never_fsyncs_a_single_event(audit_dir: Path, monkeypatch) -> None:
    """In os mode log() writes without fdatasync."""
    calls: list[int] = []
    monkeypatch.setattr(os, "fdatasync", calls.append)
    with AuditLogger(audit_dir, durability="os", checkpoint_on_close=False) as log:
        log.log(AuditEvent("tick.tock"))
        assert calls == []


def test_log_many_is_one_write_and_one_fsync(audit_dir: Path, monkeypatch, records) -> None:
    """log_many() of 100 events issues a single write() and a single fdatasync()."""
    writes: list[int] = []
    syncs: list[int] = []
    real_sync = os.fdatasync
    with AuditLogger(audit_dir, durability="sync", checkpoint_on_close=False) as log:
        log.log(AuditEvent("warm.up"))

        def counting_write(fd: int, data: bytes) -> int:
            writes.append(len(data))
            return os.write(fd, data)

        def counting_sync(fd: int) -> None:
            syncs.append(fd)
            real_sync(fd)

        monkeypatch.setattr(_storage, "_os_write", counting_write)
        monkeypatch.setattr(os, "fdatasync", counting_sync)
        ids = log.log_many(AuditEvent("bulk.item", details={"i": i}) for i in range(100))
    assert len(writes) == 1
    assert len(syncs) == 1
    assert [r["event_id"] for r in records(audit_dir)[1:]] == ids


def test_batch_mode_commits_a_full_batch_in_one_write(audit_dir: Path, monkeypatch) -> None:
    """batch mode buffers events and group-commits batch_size of them with one write."""
    writes: list[bytes] = []

    def recording_write(fd: int, data: bytes) -> int:
        writes.append(data)
        return os.write(fd, data)

    monkeypatch.setattr(_storage, "_os_write", recording_write)
    log = AuditLogger(
        audit_dir,
        durability="batch",
        batch_size=10,
        batch_interval=60.0,
        checkpoint_on_close=False,
    )
    try:
        for i in range(10):
            log.log(AuditEvent("tick.tock", details={"i": i}))
        deadline = threading.Event()
        for _ in range(200):
            if writes:
                break
            deadline.wait(0.005)
        assert len(writes) == 1
        assert writes[0].count(b"\n") == 10
    finally:
        log.close()


def test_batch_mode_flushes_after_the_interval(audit_dir: Path, records) -> None:
    """A partial batch is written once batch_interval seconds have passed."""
    log = AuditLogger(audit_dir, durability="batch", batch_size=1000, batch_interval=0.02)
    try:
        log.log(AuditEvent("tick.tock"))
        waiter = threading.Event()
        for _ in range(100):
            if records(audit_dir):
                break
            waiter.wait(0.01)
        assert len(records(audit_dir)) == 1
        assert log.stats.buffered == 0
    finally:
        log.close()


def _stalled_batch_logger(audit_dir: Path, overflow: str) -> AuditLogger:
    return AuditLogger(
        audit_dir,
        durability="batch",
        batch_size=2,
        max_buffer=2,
        batch_interval=60.0,
        overflow=overflow,  # type: ignore[arg-type]
    )


def test_overflow_raise_refuses_events_when_the_buffer_is_full(audit_dir: Path) -> None:
    """With overflow='raise' a full buffer raises AuditBufferFullError and keeps earlier events."""
    log = _stalled_batch_logger(audit_dir, "raise")
    with log._write_lock:  # hold the flusher so the buffer cannot drain
        log.log(AuditEvent("a.one"))
        log.log(AuditEvent("a.two"))
        with pytest.raises(AuditBufferFullError, match="max_buffer=2"):
            log.log(AuditEvent("a.three"))
    log.close()
    assert verify(audit_dir).records == 2


def test_overflow_drop_counts_and_records_the_drops(audit_dir: Path, records) -> None:
    """With overflow='drop' excess events are counted and an audit.dropped event records them."""
    log = _stalled_batch_logger(audit_dir, "drop")
    with log._write_lock:
        for i in range(5):
            log.log(AuditEvent("a.tick", details={"i": i}))
        assert log.stats.dropped == 3
    log.close()
    recs = records(audit_dir)
    kept = [r for r in recs if r["event_type"] == "a.tick"]
    dropped = [r for r in recs if r["event_type"] == "audit.dropped"]
    assert [r["details"]["i"] for r in kept] == [0, 1]
    assert dropped[0]["details"]["count"] == 3
    assert dropped[0]["details"]["total_dropped"] == 3


def test_overflow_block_waits_for_the_flusher(audit_dir: Path, records) -> None:
    """With overflow='block' a producer waits for room instead of losing or refusing events."""
    log = AuditLogger(
        audit_dir, durability="batch", batch_size=2, max_buffer=2, batch_interval=0.005
    )
    with log:
        for i in range(20):
            log.log(AuditEvent("a.tick", details={"i": i}))
    assert [r["details"]["i"] for r in records(audit_dir)] == list(range(20))


def test_reserved_event_types_are_refused(audit_dir: Path) -> None:
    """Callers cannot forge the logger's own audit.recovery events."""
    with AuditLogger(audit_dir) as log, pytest.raises(InvalidEventError, match="reserved"):
        log.log(AuditEvent("audit.recovery"))


def test_non_serialisable_details_name_the_value_and_keep_earlier_events(
    audit_dir: Path, records
) -> None:
    """A Decimal in details raises InvalidEventError naming its path; earlier events stay."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("ok.first"))
        with pytest.raises(InvalidEventError, match=r"details\['order'\]\['total'\] is a Decimal"):
            log.log(AuditEvent("bad.one", details={"order": {"total": Decimal("1.5")}}))
        with pytest.raises(InvalidEventError, match="non-string key"):
            log.log(AuditEvent("bad.two", details={1: "x"}))  # type: ignore[dict-item]
        log.log(AuditEvent("ok.second"))
    assert [r["event_type"] for r in records(audit_dir)] == ["ok.first", "ok.second"]


def test_unwritable_directory_is_a_clear_storage_error(tmp_path: Path) -> None:
    """An output_dir below a regular file fails with AuditStorageError naming the directory."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(AuditStorageError, match="cannot use audit directory") as info:
        AuditLogger(blocker / "audit")
    assert isinstance(info.value, OSError)
    assert info.value.errno == errno.ENOTDIR


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_a_clear_storage_error(tmp_path: Path) -> None:
    """A directory without write permission fails with AuditStorageError."""
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(AuditStorageError):
            AuditLogger(d)
    finally:
        d.chmod(0o700)


def test_full_disk_raises_and_keeps_every_earlier_event(
    audit_dir: Path, monkeypatch, records
) -> None:
    """ENOSPC from write() raises AuditStorageError; accepted events are intact and it recovers."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("ok.first"))

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(_storage, "_os_write", full)
        with pytest.raises(AuditStorageError, match="disk is full") as info:
            log.log(AuditEvent("lost.one"))
        assert info.value.errno == errno.ENOSPC
        monkeypatch.setattr(_storage, "_os_write", os.write)
        log.log(AuditEvent("ok.second"))
    assert [r["event_type"] for r in records(audit_dir)] == ["ok.first", "ok.second"]
    assert verify(audit_dir)


def test_short_write_on_a_full_disk_is_rolled_back(audit_dir: Path, monkeypatch, records) -> None:
    """A partial write (disk filled mid-record) is truncated away, so no torn line remains."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("ok.first"))
        monkeypatch.setattr(_storage, "_os_write", lambda fd, data: os.write(fd, data[:7]))
        with pytest.raises(AuditStorageError, match="short write"):
            log.log(AuditEvent("lost.one"))
        monkeypatch.setattr(_storage, "_os_write", os.write)
        log.log(AuditEvent("ok.second"))
    assert [r["event_type"] for r in records(audit_dir)] == ["ok.first", "ok.second"]
    assert verify(audit_dir)


def test_dev_full_write_reports_a_full_disk() -> None:
    """The real /dev/full device makes write_all raise AuditStorageError with ENOSPC."""
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is not available on this system")
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(AuditStorageError, match="disk is full") as info:
            _storage.write_all(fd, b'{"x":1}\n', 0, "/dev/full")
        assert info.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_batch_flush_failure_keeps_buffered_events(audit_dir: Path, monkeypatch, records) -> None:
    """When a group commit fails the buffered events stay buffered and are written later."""
    log = AuditLogger(audit_dir, durability="batch", batch_size=1000, batch_interval=60.0)
    try:
        log.log(AuditEvent("a.one"))
        log.log(AuditEvent("a.two"))
        monkeypatch.setattr(
            _storage,
            "_os_write",
            lambda fd, d: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")),
        )
        with pytest.raises(AuditStorageError):
            log.flush()
        assert log.stats.buffered == 2
        monkeypatch.setattr(_storage, "_os_write", os.write)
        log.flush()
    finally:
        log.close()
    assert [r["event_type"] for r in records(audit_dir)] == ["a.one", "a.two"]


def test_close_that_cannot_flush_keeps_the_buffer(audit_dir: Path, monkeypatch, records) -> None:
    """If close() cannot write the batch buffer it raises and stays open, so a retry saves it."""
    log = AuditLogger(audit_dir, durability="batch", batch_interval=60.0)
    log.log(AuditEvent("a.one"))

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_storage, "_os_write", full)
    with pytest.raises(AuditStorageError):
        log.close()
    assert log.stats.buffered == 1
    monkeypatch.setattr(_storage, "_os_write", os.write)
    log.close()
    assert [r["event_type"] for r in records(audit_dir)] == ["a.one"]


def test_log_after_close_raises(audit_dir: Path) -> None:
    """A closed logger refuses new events with AuditLoggerClosedError."""
    log = AuditLogger(audit_dir)
    log.close()
    log.close()
    with pytest.raises(AuditLoggerClosedError, match="closed"):
        log.log(AuditEvent("late.event"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"durability": "fast"}, "durability"),
        ({"overflow": "ignore"}, "overflow"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_segment_bytes": 10}, "max_segment_bytes"),
        ({"mask_keys": "password"}, "mask_keys"),
    ],
)
def test_bad_settings_raise_config_errors(audit_dir: Path, kwargs, match: str) -> None:
    """Unknown durability/overflow names and impossible sizes raise ConfigurationError."""
    with pytest.raises(ConfigurationError, match=match):
        AuditLogger(audit_dir, **kwargs)


def test_size_rotation_writes_checkpoints_and_seals_segments(audit_dir: Path) -> None:
    """Small segments rotate; each closed one is read-only and has a checkpoint."""
    from maestro_audit_logger import read_checkpoints

    with AuditLogger(audit_dir, max_segment_bytes=4096, checkpoint_on_close=False) as log:
        for i in range(100):
            log.log(AuditEvent("tick.tock", details={"i": i, "pad": "x" * 100}))
    segs = sorted(audit_dir.glob("audit-*.jsonl"))
    assert len(segs) > 3
    cps = read_checkpoints(audit_dir)
    assert [c.segment for c in cps] == [s.name for s in segs[:-1]]
    assert all(s.stat().st_mode & 0o777 == 0o440 for s in segs[:-1])
    assert cps[0].first_sequence == 1
    assert all(b.first_sequence == a.last_sequence + 1 for a, b in itertools.pairwise(cps))
    result = verify(audit_dir)
    assert result, result.summary()
    assert result.records == 100


def test_day_rotation_starts_a_new_segment_at_utc_midnight(audit_dir: Path, clock) -> None:
    """An event on a new UTC day goes to a new segment named with that day."""
    clock.now = datetime.fromisoformat("2026-03-01T23:59:59+00:00")
    with AuditLogger(audit_dir, clock=clock) as log:
        log.log(AuditEvent("tick.tock"))
        clock.advance(seconds=2)
        log.log(AuditEvent("tick.tock"))
    names = sorted(p.name for p in audit_dir.glob("audit-*.jsonl"))
    assert names == ["audit-000000000001-20260301.jsonl", "audit-000000000002-20260302.jsonl"]
    assert verify(audit_dir)


def test_threads_sharing_a_logger_never_interleave_or_fork(audit_dir: Path, records) -> None:
    """Eight threads logging at once produce one gap-free chain of whole lines."""
    with AuditLogger(audit_dir, durability="os", max_segment_bytes=8192) as log:

        def work(t: int) -> None:
            for i in range(50):
                log.log(AuditEvent("tick.tock", details={"t": t, "i": i}))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    recs = records(audit_dir)
    assert [r["sequence"] for r in recs] == list(range(1, 401))
    assert verify(audit_dir)


def test_two_loggers_on_one_directory_share_one_chain(audit_dir: Path, records) -> None:
    """Two loggers on the same directory alternate without forking the chain."""
    a = AuditLogger(audit_dir, durability="os")
    b = AuditLogger(audit_dir, durability="os")
    try:
        for i in range(10):
            (a if i % 2 else b).log(AuditEvent("tick.tock", details={"i": i}))
    finally:
        a.close()
        b.close()
    assert [r["details"]["i"] for r in records(audit_dir)] == list(range(10))
    assert verify(audit_dir)


WRITER = """
import sys
from maestro_audit_logger import AuditEvent, AuditLogger
log = AuditLogger(sys.argv[1], durability="os", max_segment_bytes=4096)
for i in range(int(sys.argv[3])):
    log.log(AuditEvent("proc.tick", details={"p": sys.argv[2], "i": i}))
log.close()
"""


def test_processes_sharing_a_directory_never_interleave_or_fork(audit_dir: Path, records) -> None:
    """Three processes appending and rotating at once leave one verifiable gap-free chain."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(audit_dir), str(p), "150"])
        for p in range(3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    recs = [r for r in records(audit_dir) if r["event_type"] == "proc.tick"]
    assert len(recs) == 450
    for p in "012":
        assert [r["details"]["i"] for r in recs if r["details"]["p"] == p] == list(range(150))
    seqs = [r["sequence"] for r in records(audit_dir)]
    assert seqs == list(range(1, len(seqs) + 1))
    result = verify(audit_dir)
    assert result, result.summary()


async def test_alog_many_writes_from_asyncio(audit_dir: Path, records) -> None:
    """alog_many() records a batch from async code."""
    with AuditLogger(audit_dir) as log:
        await log.alog_many([AuditEvent("a.one"), AuditEvent("a.two")])
    assert [r["event_type"] for r in records(audit_dir)] == ["a.one", "a.two"]


def test_stats_and_last_sequence_count_what_was_written(audit_dir: Path) -> None:
    """stats reports events logged and the last sequence number."""
    with AuditLogger(audit_dir, durability="os") as log:
        log.log_many([AuditEvent("a.one"), AuditEvent("a.two")])
        log.log(AuditEvent("a.three"))
        assert log.stats.logged == 3
        assert log.last_sequence == 3
        assert log.stats.dropped == 0
        assert "audit" in repr(log)


def _forked_writer(directory: str, tag: str) -> None:
    log = next(iter(_inherited))
    for i in range(100):
        log.log(AuditEvent("fork.tick", details={"p": tag, "i": i}))
    os._exit(0)


_inherited: list[AuditLogger] = []


def test_forked_children_of_a_logger_do_not_share_its_lock(audit_dir: Path, records) -> None:
    """Children forked from a process with an open logger (pre-fork servers) keep one chain."""
    import multiprocessing
    import warnings

    log = AuditLogger(audit_dir, durability="os", max_segment_bytes=8192)
    _inherited[:] = [log]
    log.log(AuditEvent("parent.start"))
    ctx = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
        kids = [ctx.Process(target=_forked_writer, args=(str(audit_dir), t)) for t in "ab"]
        for k in kids:
            k.start()
    for i in range(100):
        log.log(AuditEvent("fork.tick", details={"p": "parent", "i": i}))
    for k in kids:
        k.join(30)
    log.close()
    _inherited.clear()
    assert [k.exitcode for k in kids] == [0, 0]
    recs = records(audit_dir)
    assert [r["sequence"] for r in recs] == list(range(1, len(recs) + 1))
    for tag in ("a", "b", "parent"):
        got = [r["details"]["i"] for r in recs if (r.get("details") or {}).get("p") == tag]
        assert got == list(range(100)), tag
    result = verify(audit_dir)
    assert result, result.summary()
