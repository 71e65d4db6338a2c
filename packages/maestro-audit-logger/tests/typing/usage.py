"""Typed usage examples of maestro-audit-logger; mypy --strict checks them (never executed)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import assert_type

from maestro_audit_logger import (
    DEFAULT_MASK_KEYS,
    AuditEvent,
    AuditLogger,
    Checkpoint,
    ConfigurationError,
    Durability,
    Ed25519Signer,
    ExportResult,
    HmacSigner,
    Issue,
    LoggerStats,
    MissingExtraError,
    Outcome,
    Resource,
    Verifier,
    VerifyResult,
    audit_context,
    export,
    read_checkpoints,
    read_events,
    verify,
)


def guide_example() -> None:
    logger = AuditLogger(output_dir="./audit_logs")
    event = AuditEvent(event_type="user.login", user_id="user123", details={"ip": "192.168.1.1"})
    event_id: str = logger.log(event)
    assert event_id
    json_result: ExportResult = logger.export_to_json("audit_2025.json")
    csv_result: ExportResult = logger.export_to_csv("audit_2025.csv")
    first: int | None = json_result.first_sequence
    assert first is None or first >= 1
    assert csv_result.count >= 0


def full_event(mode: Durability) -> list[str]:
    outcome: Outcome = "failure"
    sunk: list[Checkpoint] = []
    with (
        AuditLogger(
            "./logs",
            durability=mode,
            overflow="drop",
            mask_keys=DEFAULT_MASK_KEYS | {"ssn"},
            signer=HmacSigner(b"0123456789abcdef0123456789abcdef", key_id="k1"),
            checkpoint_sink=sunk.append,
        ) as log,
        audit_context(user_id="alice", source_ip="10.0.0.1"),
    ):
        ids = log.log_many(
            [
                AuditEvent(
                    "invoice.update",
                    outcome=outcome,
                    resource=Resource("invoice", "INV-1"),
                    changes={"amount": (1, 2)},
                    timestamp=datetime.now(UTC),
                )
            ]
        )
        stats: LoggerStats = log.stats
        assert stats.dropped >= 0
        cp: Checkpoint | None = log.checkpoint()
        assert cp is None or cp.last_sequence >= 1
        removed: list[str] = log.apply_retention(older_than=timedelta(days=30))
        assert isinstance(removed, list)
    return ids


def reading() -> Iterator[str]:
    since = datetime.now(UTC) - timedelta(days=1)
    for ev in read_events("./logs", event_type="user.*", since=since, outcome="success"):
        seq: int | None = ev.sequence
        yield f"{seq} {ev.event_type} {ev.user_id}"
    result = export("./logs", "out.jsonl", "jsonl", user_id="alice")
    assert result.sha256


def verifying() -> bool:
    keys: list[Verifier] = [HmacSigner(b"0123456789abcdef0123456789abcdef", "k1")]
    signer = Ed25519Signer.generate("ed1")
    keys.append(signer.verifier())
    result: VerifyResult = verify(
        "./logs", keys=keys, checkpoints=read_checkpoints("./elsewhere"), require_signatures=True
    )
    issues: list[Issue] = result.issues
    for issue in issues:
        print(issue.kind, issue.first_sequence, issue.segment)
    return bool(result) and result.ok


async def in_async_code(log: AuditLogger) -> str:
    with audit_context(correlation_id="req-1"):
        return await log.alog(AuditEvent("task.run"))


def run_async() -> str:
    return asyncio.run(in_async_code(AuditLogger("./logs", durability="batch")))


async def conventions(log: AuditLogger, cp: Checkpoint) -> None:
    assert_type(await log.alog(AuditEvent("a.b")), str)
    assert_type(await log.alog_many([AuditEvent("a.b")]), list[str])
    assert_type(await log.aflush(), None)
    assert_type(await log.acheckpoint(), Checkpoint | None)
    assert_type(await log.averify(trusted_checkpoint=cp), VerifyResult)
    assert_type(await log.aclose(), None)
    async with AuditLogger(
        "./logs", batch_interval=timedelta(seconds=1), max_event_bytes=64_000
    ) as other:
        assert_type(other, AuditLogger)
    result = verify("./logs", trusted_checkpoint="./kept/checkpoints.jsonl")
    assert_type(result.unvouched, tuple[int, int] | None)
    assert_type(log.export_to_csv("x.csv", bom=True), ExportResult)
    err = MissingExtraError("Ed25519 checkpoint signatures", "signing", "cryptography")
    assert_type(err.extra, str)
    assert_type(ConfigurationError("bad"), ConfigurationError)
