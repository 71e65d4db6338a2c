"""Secret masking at log time."""

from __future__ import annotations

from pathlib import Path

from maestro_audit_logger import DEFAULT_MASK_KEYS, AuditEvent, AuditLogger
from maestro_audit_logger._masking import Masker


def test_secret_keys_are_masked_and_lookalikes_are_not() -> None:
    """password, db_password, X-Api-Key, accessToken are masked; author, token_count are not."""
    m = Masker(DEFAULT_MASK_KEYS)
    out = m.mask(
        {
            "password": "hunter2",
            "db_password": "p",
            "X-Api-Key": "k",
            "accessToken": "t",
            "Authorization": "Bearer x",
            "author": "ada",
            "token_count": 3,
            "password_hint": "pet",
        }
    )
    assert out == {
        "password": "***",
        "db_password": "***",
        "X-Api-Key": "***",
        "accessToken": "***",
        "Authorization": "***",
        "author": "ada",
        "token_count": 3,
        "password_hint": "pet",
    }


def test_masking_reaches_nested_dicts_and_lists() -> None:
    """Secrets inside nested mappings and lists are masked; the input is not mutated."""
    data = {"req": {"headers": [{"cookie": "c=1"}, {"accept": "*/*"}]}}
    out = Masker(DEFAULT_MASK_KEYS).mask(data)
    assert out == {"req": {"headers": [{"cookie": "***"}, {"accept": "*/*"}]}}
    assert data["req"]["headers"][0]["cookie"] == "c=1"


def test_logged_details_and_changes_are_masked_on_disk(audit_dir: Path, records) -> None:
    """The stored record holds *** for secrets in details and both sides of a changes pair."""
    with AuditLogger(audit_dir) as log:
        log.log(
            AuditEvent(
                "user.update",
                details={"password": "hunter2", "author": "ada"},
                changes={"api_key": ("old-key", "new-key"), "email": ("a@x", "b@x")},
            )
        )
    raw = b"".join(p.read_bytes() for p in audit_dir.glob("audit-*.jsonl"))
    assert b"hunter2" not in raw
    assert b"old-key" not in raw
    assert b"new-key" not in raw
    rec = records(audit_dir)[0]
    assert rec["details"] == {"password": "***", "author": "ada"}
    assert rec["changes"] == {"api_key": ["***", "***"], "email": ["a@x", "b@x"]}


def test_mask_keys_are_configurable(audit_dir: Path, records) -> None:
    """A custom key list masks its own keys; an empty list disables masking."""
    with AuditLogger(audit_dir / "a", mask_keys=DEFAULT_MASK_KEYS | {"ssn"}) as log:
        log.log(AuditEvent("user.update", details={"ssn": "123", "password": "p"}))
    assert records(audit_dir / "a")[0]["details"] == {"ssn": "***", "password": "***"}
    with AuditLogger(audit_dir / "b", mask_keys=()) as log:
        log.log(AuditEvent("user.update", details={"password": "p"}))
    assert records(audit_dir / "b")[0]["details"] == {"password": "p"}
