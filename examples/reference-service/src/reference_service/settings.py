"""One ``Settings`` class: the family's sections, plus the three this service adds.

Values come from ``config/base.yaml`` + ``config/{environment}.yaml``, the environment
(``MAESTRO_DB__URL``, ...) and the secrets directory (``/run/secrets/auth__hmac_secret``);
secrets are never read from a committed file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from maestro_core_config import (
    AuthSettings,
    BrokerSettings,
    CacheSettings,
    DatabaseSettings,
    HTTPSettings,
    LoggingSettings,
    MaestroSettings,
    MonitoringSettings,
    Section,
    ServiceSettings,
)
from pydantic import Field, SecretStr


class AuditSettings(Section):
    """Where the audit trail is written (maestro-audit-logger has no section of its own)."""

    directory: Path = Path("./var/audit")


class PricingSettings(Section):
    """The outbound pricing service and the resilience around every call to it."""

    url: str = "http://127.0.0.1:8001"
    timeout: Annotated[float, Field(gt=0)] = 2.0
    attempts: Annotated[int, Field(ge=1)] = 3
    retry_delay: Annotated[float, Field(ge=0)] = 0.1
    failure_threshold: Annotated[int, Field(ge=1)] = 5
    breaker_timeout: Annotated[float, Field(gt=0)] = 30.0


class UsersSettings(Section):
    """The demo users' passwords (environment or secrets directory only); unset: no such user.

    ``ann`` is a clerk (``orders:read``, ``orders:write``); ``ada`` is an admin.
    """

    clerk_password: SecretStr | None = None
    admin_password: SecretStr | None = None


class Settings(MaestroSettings):
    """Everything the orders service can be told."""

    service: ServiceSettings = ServiceSettings(name="orders")
    http: HTTPSettings = HTTPSettings()
    logging: LoggingSettings = LoggingSettings()
    db: DatabaseSettings = DatabaseSettings()
    cache: CacheSettings = CacheSettings()
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings = AuthSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    audit: AuditSettings = AuditSettings()
    pricing: PricingSettings = PricingSettings()
    users: UsersSettings = UsersSettings()
    topic: str = "orders.created"
    """Where new orders are announced (a per-environment name keeps test runs apart)."""
    rate_limit: str = "20/minute"
    """Orders one principal may create per window (``POST /orders``)."""
