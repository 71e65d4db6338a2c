"""What one replica holds, built once in ``app.py`` and found on ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from maestro_audit_logger import AuditEvent, AuditLogger, Outcome, Resource
from maestro_cache import CacheService
from maestro_core_api import RateLimit, ServiceClient
from maestro_core_auth import Authenticator, AuthManager
from maestro_core_db import DatabaseManager, MigrationManager
from maestro_core_logging import get_context
from maestro_core_messaging import MessageBroker, Outbox, OutboxRelay

from .settings import Settings


@dataclass
class Services:
    settings: Settings
    db: DatabaseManager
    migrations: MigrationManager
    cache: CacheService
    broker: MessageBroker
    outbox: Outbox
    relay: OutboxRelay
    auth: AuthManager
    authenticator: Authenticator
    audit: AuditLogger
    pricing: ServiceClient
    create_limit: RateLimit

    async def record(
        self,
        event_type: str,
        *,
        outcome: Outcome,
        user_id: str | None,
        resource: Resource | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """One audit event, stamped with the request's id and the service's name."""
        await self.audit.alog(
            AuditEvent(
                event_type,
                user_id=user_id,
                outcome=outcome,
                resource=resource,
                details=details,
                correlation_id=get_context().get("request_id"),
                service=self.settings.service.name,
            )
        )


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


Svc = Annotated[Services, Depends(services)]
