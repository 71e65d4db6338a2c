"""audit_context binds the actor across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

from maestro_audit_logger import AuditEvent, AuditLogger, audit_context


def test_context_fills_actor_fields_and_event_fields_win(audit_dir: Path, records) -> None:
    """Events inside the block get the bound fields unless they set their own."""
    with AuditLogger(audit_dir) as log:
        with audit_context(user_id="alice", source_ip="10.0.0.1", correlation_id="req-1"):
            log.log(AuditEvent("doc.read"))
            with audit_context(on_behalf_of="bob"):
                log.log(AuditEvent("doc.write", user_id="svc"))
        log.log(AuditEvent("doc.read"))
    first, second, third = records(audit_dir)
    assert first["user_id"] == "alice"
    assert first["source_ip"] == "10.0.0.1"
    assert first["correlation_id"] == "req-1"
    assert second["user_id"] == "svc"
    assert second["on_behalf_of"] == "bob"
    assert "user_id" not in third


def test_context_follows_copied_context_into_threads(audit_dir: Path, records) -> None:
    """A thread run in a copied context logs with the binding of its creator."""
    with AuditLogger(audit_dir) as log:
        with audit_context(user_id="alice"):
            ctx = contextvars.copy_context()
        t = threading.Thread(target=ctx.run, args=(log.log, AuditEvent("job.run")))
        t.start()
        t.join()
    assert records(audit_dir)[0]["user_id"] == "alice"


async def test_context_is_isolated_between_asyncio_tasks(audit_dir: Path, records) -> None:
    """Two concurrent tasks with different actors each log their own actor."""
    with AuditLogger(audit_dir, durability="os") as log:

        async def work(user: str) -> None:
            with audit_context(user_id=user):
                for _ in range(5):
                    await log.alog(AuditEvent("task.step"))
                    await asyncio.sleep(0)

        await asyncio.gather(work("alice"), work("bob"))
    users = [r["user_id"] for r in records(audit_dir)]
    assert sorted(users) == ["alice"] * 5 + ["bob"] * 5
