"""Crash safety: torn tails are trimmed and recorded; killed writers lose nothing acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from maestro_audit_logger import AuditCorruptionError, AuditEvent, AuditLogger, verify


def _segment(audit_dir: Path) -> Path:
    return sorted(audit_dir.glob("audit-*.jsonl"))[-1]


def test_torn_last_line_is_trimmed_and_recorded(audit_dir: Path, records) -> None:
    """Reopening after a half-written line trims it and logs audit.recovery saying what went."""
    with AuditLogger(audit_dir, checkpoint_on_close=False) as log:
        log.log(AuditEvent("ok.first"))
        log.log(AuditEvent("ok.second"))
    with open(_segment(audit_dir), "ab") as f:
        f.write(b'{"sequence":3,"prev_hash":"abc","event_t')
    assert verify(audit_dir)  # a torn tail is a warning, not damage
    assert "torn line" in verify(audit_dir).warnings[0]
    with AuditLogger(audit_dir) as log:
        assert log.stats.recoveries == 1
        log.log(AuditEvent("ok.third"))
    recs = records(audit_dir)
    assert [r["event_type"] for r in recs] == [
        "ok.first",
        "ok.second",
        "audit.recovery",
        "ok.third",
    ]
    details = recs[2]["details"]
    assert details["dropped_bytes"] == 40
    assert details["last_good_sequence"] == 2
    assert details["segment"] == _segment(audit_dir).name
    result = verify(audit_dir)
    assert result, result.summary()
    assert not result.warnings


def test_damage_before_the_tail_is_reported_not_repaired(audit_dir: Path) -> None:
    """A last complete line that is not a record makes open fail instead of rewriting history."""
    with AuditLogger(audit_dir, checkpoint_on_close=False) as log:
        log.log(AuditEvent("ok.first"))
    seg = _segment(audit_dir)
    seg.chmod(0o640)
    with open(seg, "ab") as f:
        f.write(b"garbage that ends with a newline\n")
    before = seg.read_bytes()
    with pytest.raises(AuditCorruptionError, match="not repaired automatically"):
        AuditLogger(audit_dir)
    assert seg.read_bytes() == before
    assert not verify(audit_dir)


WRITER = r"""
import os, sys, time
from maestro_audit_logger import AuditEvent, AuditLogger, _storage
if sys.argv[3] == "split":
    # Make a kill inside one record's write likely: write it in two halves, 20 ms apart.
    def split_write(fd, data):
        half = len(data) // 2
        n = os.write(fd, data[:half])
        time.sleep(0.02)
        return n + os.write(fd, data[half:])
    _storage._os_write = split_write
log = AuditLogger(sys.argv[1], durability="sync", checkpoint_on_close=False)
pad = "x" * int(sys.argv[2])
i = 0
while True:
    event_id = log.log(AuditEvent("crash.tick", details={"i": i, "pad": pad}))
    print(event_id, log.last_sequence, flush=True)
    i += 1
"""


def test_sigkilled_sync_writer_loses_no_acknowledged_event(tmp_path: Path, records) -> None:
    """Killing a sync writer at random points keeps every acknowledged event and a valid chain.

    Half the rounds write each record in two halves 20 ms apart, so some kills land inside
    a record and the reopen must trim a torn line and log audit.recovery.
    """
    audit_dir = tmp_path / "audit"
    rng = random.Random()
    acknowledged: list[str] = []
    recoveries = 0
    for round_ in range(10):
        mode = "split" if round_ % 2 else "whole"
        pad = rng.choice([10, 1000, 100_000])
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(audit_dir), str(pad), mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        target = rng.randint(1, 8)
        for seen, line in enumerate(proc.stdout, 1):
            acknowledged.append(line.split()[0])
            if seen >= target:
                break
        # Split rounds aim inside the 20 ms pause of the next record; others anywhere.
        time.sleep(rng.uniform(0.002, 0.015) if mode == "split" else rng.uniform(0, 0.03))
        os.kill(proc.pid, signal.SIGKILL)
        # Lines printed before the kill were acknowledged too.
        acknowledged += [line.split()[0] for line in proc.stdout.read().splitlines() if line]
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, round_
        with AuditLogger(audit_dir, checkpoint_on_close=False) as log:
            recoveries += log.stats.recoveries
        result = verify(audit_dir)
        assert result, result.summary()
    stored = records(audit_dir)
    ids = {r["event_id"] for r in stored}
    assert set(acknowledged) <= ids
    recovery_events = [r for r in stored if r["event_type"] == "audit.recovery"]
    assert len(recovery_events) == recoveries
    assert recoveries >= 1, "no kill landed inside a record; the torn-line path went untested"
    assert [r["sequence"] for r in stored] == list(range(1, len(stored) + 1))
