"""What checkpoints vouch for: missing, emptied or stale checkpoint files; trusted checkpoints."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson
import pytest
from maestro_audit_logger import (
    AuditEvent,
    AuditLogger,
    Checkpoint,
    HmacSigner,
    read_checkpoints,
    verify,
)
from maestro_audit_logger._cli import main


@pytest.fixture
def signer() -> HmacSigner:
    """An HMAC signer with a key generated for this test."""
    return HmacSigner(os.urandom(32), "test-key")


def _segments(d: Path) -> list[Path]:
    return sorted(d.glob("audit-*.jsonl"))


def _forge_and_rechain(d: Path, sequence: int) -> None:
    """Change one record's details and re-chain every later record, as a careful forger would."""
    prev = "0" * 64
    for seg in _segments(d):
        seg.chmod(0o640)
        out = []
        for raw in seg.read_bytes().splitlines():
            rec = orjson.loads(raw)
            if rec["sequence"] == sequence:
                rec["details"] = {"forged": True}
            rec["prev_hash"] = prev
            line = orjson.dumps(rec)
            prev = hashlib.sha256(line).hexdigest()
            out.append(line)
        seg.write_bytes(b"\n".join(out) + b"\n")


def _log(d: Path, signer: HmacSigner, n: int, **kwargs: object) -> None:
    with AuditLogger(d, signer=signer, **kwargs) as log:  # type: ignore[arg-type]
        for i in range(n):
            log.log(AuditEvent("a.tick", details={"i": i, "pad": "x" * 300}))


def test_deleted_checkpoints_fail_when_signatures_are_required(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """A forged, re-chained log whose checkpoints.jsonl was deleted does not verify as signed."""
    _log(audit_dir, signer, 5)
    assert verify(audit_dir, keys=signer, require_signatures=True)
    _forge_and_rechain(audit_dir, 3)
    (audit_dir / "checkpoints.jsonl").unlink()
    result = verify(audit_dir, keys=signer, require_signatures=True)
    assert not result
    assert "missing_checkpoint" in result.kinds()
    assert "checkpoints.jsonl" in result.summary()
    # Without require_signatures it is a warning, not a failure.
    relaxed = verify(audit_dir, keys=signer)
    assert relaxed
    assert any("no checkpoint" in w for w in relaxed.warnings), relaxed.warnings


def test_emptied_checkpoints_file_fails_when_signatures_are_required(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """An emptied checkpoints.jsonl is the same failure as a deleted one."""
    _log(audit_dir, signer, 3)
    (audit_dir / "checkpoints.jsonl").write_bytes(b"")
    result = verify(audit_dir, keys=signer, require_signatures=True)
    assert "missing_checkpoint" in result.kinds()


def test_older_checkpoints_file_fails_when_signatures_are_required(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """A checkpoints file cut back to an older prefix leaves closed segments unvouched: failure."""
    _log(audit_dir, signer, 40, max_segment_bytes=4096)
    assert len(_segments(audit_dir)) > 3
    path = audit_dir / "checkpoints.jsonl"
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    result = verify(audit_dir, keys=signer, require_signatures=True)
    assert not result
    issue = next(i for i in result.issues if i.kind == "missing_checkpoint")
    assert "older than" in issue.message
    assert verify(audit_dir, keys=signer).warnings


def test_records_after_the_last_checkpoint_are_not_yet_vouched_for(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """Records newer than the last checkpoint are reported as not yet vouched for."""
    with AuditLogger(audit_dir, signer=signer, checkpoint_on_close=False) as log:
        for _ in range(3):
            log.log(AuditEvent("a.tick"))
        log.checkpoint()
        for _ in range(2):
            log.log(AuditEvent("a.tick"))
    result = verify(audit_dir, keys=signer, require_signatures=True)
    assert result, result.summary()
    assert result.unvouched == (4, 5)
    assert "4..5 are not yet vouched for" in result.summary()


def test_trusted_checkpoint_detects_a_cut_tail(audit_dir: Path, signer: HmacSigner) -> None:
    """A checkpoint kept elsewhere catches records cut from the end with their checkpoints."""
    with AuditLogger(audit_dir, signer=signer, checkpoint_on_close=False) as log:
        for _ in range(3):
            log.log(AuditEvent("a.tick"))
        early = log.checkpoint()
        for _ in range(3):
            log.log(AuditEvent("a.tick"))
        trusted = log.checkpoint()
    assert early is not None
    assert trusted is not None
    seg = _segments(audit_dir)[-1]
    seg.write_bytes(b"".join(seg.read_bytes().splitlines(keepends=True)[:4]))
    path = audit_dir / "checkpoints.jsonl"
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    assert verify(audit_dir, keys=signer, require_signatures=True)  # looks fine locally
    result = verify(audit_dir, keys=signer, trusted_checkpoint=trusted)
    assert "truncated" in result.kinds()


def test_trusted_checkpoint_detects_a_rechained_forgery(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """A re-chained forgery with the checkpoints deleted fails against a trusted checkpoint."""
    with AuditLogger(audit_dir, signer=signer, checkpoint_on_close=False) as log:
        for _ in range(4):
            log.log(AuditEvent("a.tick"))
        trusted = log.checkpoint()
        log.log(AuditEvent("a.appended"))
    assert trusted is not None
    _forge_and_rechain(audit_dir, 2)
    (audit_dir / "checkpoints.jsonl").unlink()
    result = verify(audit_dir, trusted_checkpoint=trusted)
    assert "modified" in result.kinds()
    assert result.unvouched == (5, 5)


def test_trusted_checkpoint_with_a_bad_signature_is_an_issue(
    audit_dir: Path, signer: HmacSigner
) -> None:
    """A trusted checkpoint is checked with the keys too."""
    _log(audit_dir, signer, 2)
    (cp,) = read_checkpoints(audit_dir)
    forged = Checkpoint.from_dict({**cp.to_dict(), "count": 99})
    result = verify(audit_dir, keys=signer, trusted_checkpoint=forged)
    assert "bad_signature" in result.kinds()


def test_cli_require_signatures_fails_without_checkpoints(
    audit_dir: Path, signer: HmacSigner, monkeypatch, capsys
) -> None:
    """`maestro-audit verify --require-signatures` exits 1 when checkpoints.jsonl is gone."""
    key = os.urandom(24).hex()
    monkeypatch.setenv("TEST_AUDIT_KEY", key)
    env_signer = HmacSigner(key.encode(), "k")
    _log(audit_dir, env_signer, 3)
    args = [
        "verify",
        str(audit_dir),
        "--hmac-key-env",
        "TEST_AUDIT_KEY",
        "--key-id",
        "k",
        "--require-signatures",
    ]
    assert main(args) == 0
    _forge_and_rechain(audit_dir, 2)
    (audit_dir / "checkpoints.jsonl").unlink()
    assert main(args) == 1
    assert "missing_checkpoint" in capsys.readouterr().out


def test_cli_trusted_checkpoint_file(audit_dir: Path, signer: HmacSigner, tmp_path: Path) -> None:
    """`--trusted-checkpoint FILE` reads the newest checkpoint of a file kept elsewhere."""
    _log(audit_dir, signer, 3)
    kept = tmp_path / "kept.jsonl"
    kept.write_bytes((audit_dir / "checkpoints.jsonl").read_bytes())
    assert main(["verify", str(audit_dir), "--trusted-checkpoint", str(kept)]) == 0
    seg = _segments(audit_dir)[-1]
    seg.chmod(0o640)
    seg.write_bytes(b"".join(seg.read_bytes().splitlines(keepends=True)[:1]))
    (audit_dir / "checkpoints.jsonl").unlink()
    assert main(["verify", str(audit_dir), "--trusted-checkpoint", str(kept)]) == 1
