"""Checkpoints: on demand, signed by HMAC or Ed25519, keys from the caller or the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from maestro_audit_logger import (
    AuditEvent,
    AuditLogger,
    Checkpoint,
    CheckpointSinkError,
    ConfigurationError,
    Ed25519Signer,
    HmacSigner,
    MissingExtraError,
    read_checkpoints,
    verify,
)


def test_checkpoint_on_demand_covers_the_active_segment(audit_dir: Path) -> None:
    """checkpoint() states the range, count and last hash of what is written so far."""
    sunk: list[Checkpoint] = []
    with AuditLogger(audit_dir, checkpoint_sink=sunk.append, checkpoint_on_close=False) as log:
        assert log.checkpoint() is None
        for _ in range(3):
            log.log(AuditEvent("a.tick"))
        cp = log.checkpoint()
    assert cp is not None
    assert (cp.first_sequence, cp.last_sequence, cp.count, cp.reason) == (1, 3, 3, "manual")
    assert sunk == [cp]
    assert read_checkpoints(audit_dir) == [cp]


def test_failing_sink_raises_on_demand_and_is_counted_on_rotation(audit_dir: Path) -> None:
    """A sink error raises CheckpointSinkError from checkpoint(); on rotation it loses nothing."""

    def sink(cp: Checkpoint) -> None:
        raise ConnectionError("sink down")

    with AuditLogger(audit_dir, checkpoint_sink=sink, max_segment_bytes=4096) as log:
        for i in range(40):
            log.log(AuditEvent("a.tick", details={"pad": "x" * 200, "i": i}))
        assert log.stats.sink_errors >= 1
        with pytest.raises(CheckpointSinkError, match="sink down"):
            log.checkpoint()
    assert verify(audit_dir).records == 40


def test_checkpoint_file_is_separate_from_segments(audit_dir: Path) -> None:
    """Checkpoints live in checkpoints.jsonl, never inside a segment."""
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    assert (audit_dir / "checkpoints.jsonl").exists()
    seg = next(audit_dir.glob("audit-*.jsonl")).read_text()
    assert "last_hash" not in seg


def test_hmac_key_from_the_environment_signs_checkpoints(audit_dir: Path, monkeypatch) -> None:
    """MAESTRO_AUDIT__HMAC_KEY / MAESTRO_AUDIT__KEY_ID sign checkpoints without code changes."""
    monkeypatch.setenv("MAESTRO_AUDIT__HMAC_KEY", "s" * 32)
    monkeypatch.setenv("MAESTRO_AUDIT__KEY_ID", "env-key")
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    (cp,) = read_checkpoints(audit_dir)
    assert (cp.algorithm, cp.key_id) == ("hmac-sha256", "env-key")
    assert verify(audit_dir, keys=HmacSigner.from_env(), require_signatures=True)
    assert "s" * 32 not in (audit_dir / "checkpoints.jsonl").read_text()


def test_ed25519_key_from_the_environment(monkeypatch) -> None:
    """MAESTRO_AUDIT__ED25519_KEY holds a hex seed; the signer round-trips it."""
    seed = Ed25519Signer.generate("x").private_bytes()
    monkeypatch.setenv("MAESTRO_AUDIT__ED25519_KEY", seed.hex())
    signer = Ed25519Signer.from_env(key_id="k1")
    assert signer.private_bytes() == seed
    assert signer.verify(b"payload", signer.sign(b"payload"))
    assert "key=<hidden>" in repr(signer)


def test_short_hmac_key_and_missing_env_are_config_errors(monkeypatch) -> None:
    """A short HMAC key or an unset environment variable raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="16 bytes"):
        HmacSigner(b"short", "k")
    monkeypatch.delenv("MAESTRO_AUDIT__HMAC_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="MAESTRO_AUDIT__HMAC_KEY"):
        HmacSigner.from_env()
    assert "hidden" in repr(HmacSigner(b"k" * 16, "k"))


def test_missing_signing_extra_names_the_pip_install(monkeypatch) -> None:
    """Without cryptography, Ed25519 raises MissingExtraError naming the [signing] extra."""
    for name in list(sys.modules):
        if name.startswith("cryptography"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(MissingExtraError) as info:
        Ed25519Signer.generate("k")
    assert str(info.value) == (
        "Ed25519 checkpoint signatures needs the signing extra: "
        "pip install 'maestro-audit-logger[signing]'"
    )
    assert (info.value.feature, info.value.extra, info.value.module) == (
        "Ed25519 checkpoint signatures",
        "signing",
        "cryptography",
    )
    with pytest.raises(ImportError):
        Ed25519Signer.generate("k")


def test_sink_runs_outside_the_directory_lock(audit_dir: Path) -> None:
    """The sink is called after the directory lock is released, so a slow sink stalls no writer."""
    import fcntl
    import os

    seen: list[bool] = []

    def sink(cp: Checkpoint) -> None:
        fd = os.open(audit_dir / ".audit.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a writer holds it
            fcntl.flock(fd, fcntl.LOCK_UN)
            seen.append(True)
        finally:
            os.close(fd)

    with AuditLogger(audit_dir, checkpoint_sink=sink, max_segment_bytes=4096) as log:
        for i in range(30):
            log.log(AuditEvent("a.tick", details={"pad": "x" * 300, "i": i}))
        log.checkpoint()
        assert log.stats.sink_errors == 0
    assert len(seen) >= 3
