"""Rotation under crashes, as a non-root user: any crash point recovers on the next open."""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from maestro_audit_logger import AuditEvent, AuditLogger, AuditStorageError, verify

#: Every step of a rotation, in order; the writer kills itself right after the named one.
ROTATION_STEPS = ("checkpointed", "sealed", "created", "dir-synced")


def _as_user() -> list[str]:
    """The command prefix that runs a child as an unprivileged user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:  # pragma: no cover - util-linux is in system-deps
        pytest.skip("setpriv (util-linux) is needed to drop root for this test")
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    problem = _unprivileged_import_problem(tuple(prefix))
    if problem:
        # e.g. a pyenv interpreter under /root (mode 0700): nobody cannot even start it.
        pytest.skip(f"the unprivileged user cannot run this interpreter: {problem}")
    return prefix


@functools.cache
def _unprivileged_import_problem(prefix: tuple[str, ...]) -> str:
    """Why ``prefix`` + this interpreter cannot import the package ('' when it can)."""
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", "import maestro_audit_logger"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory outside root's private pytest tree that the unprivileged user can write."""
    base = Path(tempfile.mkdtemp(prefix="maestro-audit-rot-"))
    base.chmod(0o777)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*_as_user(), sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


CRASH_IN_ROTATION = r"""
import os, signal, sys
from maestro_audit_logger import AuditEvent, AuditLogger, _storage
directory, step = sys.argv[1], sys.argv[2]
def crash(name):
    # Only a real rotation (records exist), not the creation of the first segment.
    if name == step and "log" in globals() and log.last_sequence > 0:
        os.kill(os.getpid(), signal.SIGKILL)
_storage._rotation_step = crash
log = AuditLogger(directory, max_segment_bytes=4096, checkpoint_on_close=False)
for i in range(200):
    log.log(AuditEvent("rot.tick", details={"i": i, "pad": "x" * 300}))
    print(log.last_sequence, flush=True)
"""

REOPEN = r"""
import sys
from maestro_audit_logger import AuditEvent, AuditLogger, verify
with AuditLogger(sys.argv[1], max_segment_bytes=4096) as log:
    for i in range(int(sys.argv[2])):
        log.log(AuditEvent("after.crash", details={"i": i, "pad": "y" * 300}))
    print(log.last_sequence)
result = verify(sys.argv[1])
print(result.summary())
sys.exit(0 if result else 1)
"""


@pytest.mark.parametrize("step", ROTATION_STEPS)
def test_crash_at_each_rotation_step_recovers_on_open_as_non_root(
    shared_dir: Path, step: str
) -> None:
    """A writer killed right after any rotation step leaves a directory the next open repairs."""
    audit = shared_dir / "audit"
    proc = _run(CRASH_IN_ROTATION, str(audit), step, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    acknowledged = [int(line) for line in proc.stdout.split()]
    assert acknowledged, "the writer was killed before its first rotation"
    # Reopen as the same unprivileged user, log through further rotations, verify.
    after = _run(REOPEN, str(audit), "30")
    assert "OK" in after.stdout, after.stdout
    seqs = [
        orjson.loads(line)["sequence"]
        for seg in sorted(audit.glob("audit-*.jsonl"))
        for line in seg.read_bytes().splitlines()
    ]
    assert seqs == list(range(1, len(seqs) + 1))
    assert set(acknowledged) <= set(seqs)
    # Only the active segment is writable; every closed one is sealed read-only.
    segments = sorted(audit.glob("audit-*.jsonl"))
    assert [s.stat().st_mode & 0o222 != 0 for s in segments] == [False] * (len(segments) - 1) + [
        True
    ]


def test_sealed_last_segment_without_a_successor_reopens_as_non_root(shared_dir: Path) -> None:
    """The state a crash between sealing and creating leaves (sealed tail, no successor) opens."""
    audit = shared_dir / "audit"
    _run(REOPEN, str(audit), "3")
    for seg in audit.glob("audit-*.jsonl"):
        seg.chmod(0o440)
    after = _run(REOPEN, str(audit), "2")
    assert "OK" in after.stdout, after.stderr
    assert len(list(audit.glob("audit-*.jsonl"))) == 2


def test_unreadable_segment_is_an_audit_storage_error(shared_dir: Path) -> None:
    """A segment the user cannot open is reported as AuditStorageError, never a raw OSError."""
    audit = shared_dir / "audit"
    _run(REOPEN, str(audit), "1")
    for seg in audit.glob("audit-*.jsonl"):
        seg.chmod(0o000)
    code = (
        "import sys\n"
        "from maestro_audit_logger import AuditLogger, AuditStorageError\n"
        "try:\n"
        "    AuditLogger(sys.argv[1])\n"
        "except AuditStorageError as exc:\n"
        "    print('storage-error', exc)\n"
    )
    out = _run(code, str(audit))
    assert out.stdout.startswith("storage-error"), out.stdout + out.stderr
    assert "permission" in out.stdout.lower()
    assert issubclass(AuditStorageError, OSError)


ROTATING_WRITER = r"""
import sys
from maestro_audit_logger import AuditEvent, AuditLogger
log = AuditLogger(sys.argv[1], durability="sync", max_segment_bytes=4096,
                  checkpoint_on_close=False)
i = 0
while True:
    event_id = log.log(AuditEvent("crash.tick", details={"i": i, "pad": "x" * 700}))
    print(event_id, flush=True)
    i += 1
"""


@pytest.mark.slow
def test_sigkill_loop_through_rotations_as_non_root(shared_dir: Path) -> None:
    """Writers killed at random points while rotating every few records lose nothing acked."""
    audit = shared_dir / "audit"
    rng = random.Random()
    acknowledged: list[str] = []
    for round_ in range(8):
        proc = subprocess.Popen(
            [*_as_user(), sys.executable, "-c", ROTATING_WRITER, str(audit)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        target = rng.randint(1, 12)
        for seen, line in enumerate(proc.stdout, 1):
            acknowledged.append(line.split()[0])
            if seen >= target:
                break
        time.sleep(rng.uniform(0, 0.02))
        os.kill(proc.pid, signal.SIGKILL)
        acknowledged += [line.split()[0] for line in proc.stdout.read().splitlines() if line]
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, round_
        after = _run(REOPEN, str(audit), "0", check=False)
        if after.returncode != 0:
            pytest.fail(f"round {round_}: {after.stdout}\n{after.stderr}")
    ids = {
        orjson.loads(line)["event_id"]
        for seg in audit.glob("audit-*.jsonl")
        for line in seg.read_bytes().splitlines()
    }
    assert set(acknowledged) <= ids
    assert len(list(audit.glob("audit-*.jsonl"))) > 3, "the loop never rotated"


def _dir_fsyncs(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def spy(fd: int) -> None:
        st = os.fstat(fd)
        if directory.exists() and os.path.samestat(st, directory.stat()):
            calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return calls


def test_sync_mode_fsyncs_the_directory_on_rotation(audit_dir: Path, monkeypatch) -> None:
    """A new segment and a new checkpoints file are made durable by fsyncing the directory."""
    audit_dir.mkdir()
    calls = _dir_fsyncs(monkeypatch, audit_dir)
    with AuditLogger(audit_dir, max_segment_bytes=4096) as log:
        log.log(AuditEvent("a.first"))
        first = len(calls)
        assert first >= 1  # the first segment
        for i in range(20):
            log.log(AuditEvent("a.tick", details={"i": i, "pad": "x" * 400}))
        assert len(list(audit_dir.glob("audit-*.jsonl"))) > 1
        assert len(calls) > first + 1


def test_os_mode_does_not_promise_directory_durability(audit_dir: Path, monkeypatch) -> None:
    """durability='os' never fsyncs the directory (it promises nothing on power loss)."""
    audit_dir.mkdir()
    calls = _dir_fsyncs(monkeypatch, audit_dir)
    with AuditLogger(audit_dir, durability="os", max_segment_bytes=4096) as log:
        for i in range(20):
            log.log(AuditEvent("a.tick", details={"i": i, "pad": "x" * 400}))
    assert len(list(audit_dir.glob("audit-*.jsonl"))) > 1
    assert calls == []


def test_export_rename_is_made_durable(audit_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """An export's rename is followed by an fsync of the target directory."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    out = tmp_path / "out"
    out.mkdir()
    calls = _dir_fsyncs(monkeypatch, out)
    with AuditLogger(audit_dir) as log:
        log.export_to_jsonl(out / "x.jsonl")
    assert len(calls) >= 2  # the export and its manifest


def test_storage_error_is_raised_for_an_unopenable_tail(audit_dir: Path) -> None:
    """A directory entry that cannot be opened as a segment raises AuditStorageError."""
    audit_dir.mkdir()
    (audit_dir / "audit-000000000001-20260301.jsonl").mkdir()
    with pytest.raises(AuditStorageError, match="audit-000000000001"):
        AuditLogger(audit_dir)


def test_torn_checkpoint_line_is_a_warning_and_dropped_by_the_next_checkpoint(
    audit_dir: Path,
) -> None:
    """A checkpoint line cut by a crash is a warning; the next checkpoint replaces it cleanly."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    path = audit_dir / "checkpoints.jsonl"
    with open(path, "ab") as f:
        f.write(b'{"count":1,"created_at":"2026-')
    result = verify(audit_dir)
    assert result, result.summary()
    assert any("torn line" in w for w in result.warnings)
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    assert path.read_bytes().endswith(b"\n")
    result = verify(audit_dir)
    assert result, result.summary()
    assert not any("torn" in w for w in result.warnings)
