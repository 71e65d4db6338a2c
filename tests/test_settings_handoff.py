"""Every maestro-core-config section, built from the environment, goes to its consumer as is.

This is the family's promise that one `Settings(MaestroSettings)` configures every package:
the section a service declares is exactly what its consumer takes (CONVENTIONS.md).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

SECTIONS = (
    "service",
    "logging",
    "http",
    "auth",
    "db",
    "cache",
    "redis",
    "broker",
    "monitoring",
)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """A service's settings with every section, values from MAESTRO_* variables."""
    import maestro_core_config as config

    class Settings(config.MaestroSettings):
        service: config.ServiceSettings
        logging: config.LoggingSettings = config.LoggingSettings()
        http: config.HTTPSettings = config.HTTPSettings()
        auth: config.AuthSettings = config.AuthSettings()
        db: config.DatabaseSettings = config.DatabaseSettings()
        cache: config.CacheSettings = config.CacheSettings()
        redis: config.RedisSettings = config.RedisSettings()
        broker: config.BrokerSettings = config.BrokerSettings()
        monitoring: config.MonitoringSettings = config.MonitoringSettings()

    environment = {
        "MAESTRO_SERVICE__NAME": "orders",
        "MAESTRO_SERVICE__VERSION": "2.1.0",
        "MAESTRO_LOGGING__LEVEL": "DEBUG",
        "MAESTRO_LOGGING__FORMAT": "json",
        "MAESTRO_HTTP__REQUEST_TIMEOUT": "7.5",
        "MAESTRO_AUTH__ISSUER": "https://auth.example",
        "MAESTRO_AUTH__AUDIENCES": '["orders"]',
        "MAESTRO_AUTH__HMAC_SECRET": secrets.token_urlsafe(48),
        "MAESTRO_DB__URL": f"sqlite:///{tmp_path / 'orders.db'}",
        "MAESTRO_CACHE__URL": "memory://",
        "MAESTRO_CACHE__KEY_PREFIX": "orders",
        "MAESTRO_CACHE__DEFAULT_TTL": "30",
        "MAESTRO_BROKER__URL": "memory://",
        "MAESTRO_MONITORING__METRICS_ENABLED": "true",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return Settings()


def test_every_section_has_a_consumer_here() -> None:
    """The sections tested here are every section maestro-core-config exports."""
    import maestro_core_config as config

    exported = {
        name
        for name in config.__all__
        if name.endswith("Settings") and name not in ("MaestroSettings",)
    }
    assert exported == {
        "ServiceSettings",
        "LoggingSettings",
        "HTTPSettings",
        "AuthSettings",
        "DatabaseSettings",
        "CacheSettings",
        "RedisSettings",
        "BrokerSettings",
        "MonitoringSettings",
    }
    assert len(SECTIONS) == len(exported)


def test_logging_takes_its_section_and_the_model_dump(settings: Any) -> None:
    """configure_logging(settings=s.logging) and (**LoggingSettings().model_dump()) both work."""
    from maestro_core_logging import capture_logs, configure_logging, get_logger

    configure_logging(settings=settings.logging, service=settings.service.name)
    with capture_logs() as logs:
        get_logger("handoff").debug("configured")
    assert logs[-1]["service"] == "orders"
    assert logs[-1]["level"] == "debug"
    configure_logging(**settings.logging.model_dump())


async def test_cache_takes_its_section(settings: Any) -> None:
    """CacheService.from_settings(s.cache) builds the cache the section describes."""
    from maestro_cache import CacheService

    cache = CacheService.from_settings(settings.cache)
    await cache.set("k", {"v": 1})
    assert await cache.get("k") == {"v": 1}
    await cache.aclose() if hasattr(cache, "aclose") else await cache.close()


async def test_db_takes_its_section(settings: Any) -> None:
    """DatabaseManager.from_settings(s.db) opens the database the section names."""
    from maestro_core_db import DatabaseManager

    db = DatabaseManager.from_settings(settings.db)
    await db.initialize()
    try:
        health = await db.get_health_status()
        assert health["status"] in ("healthy", "pass", "ok"), health
    finally:
        await db.shutdown()


async def test_broker_takes_its_section(settings: Any) -> None:
    """MessageBroker.from_settings(s.broker) is the in-process broker the section names."""
    from maestro_core_messaging import MessageBroker

    broker = MessageBroker.from_settings(settings.broker)
    assert broker is not None


def test_auth_takes_its_section(settings: Any) -> None:
    """TokenVerifier.from_settings(s.auth) verifies tokens issued with the same section."""
    from maestro_core_auth import TokenVerifier

    verifier = TokenVerifier.from_settings(settings.auth)
    assert verifier is not None
    assert settings.auth.hmac_secret.get_secret_value() not in repr(verifier)


def test_monitoring_takes_its_section(settings: Any) -> None:
    """MonitoringManager.from_settings(s.monitoring, service=s.service) builds the manager."""
    from maestro_monitoring import MonitoringManager

    manager = MonitoringManager.from_settings(settings.monitoring, service=settings.service)
    assert manager is not None


async def test_api_takes_the_settings(settings: Any) -> None:
    """create_app(settings=s) reads service, http and logging by duck typing."""
    import httpx
    from maestro_core_api import create_app

    app = create_app(settings=settings, configure_logging=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://orders") as client,
    ):
        assert (await client.get("/livez")).status_code == 200
        missing = await client.get("/nope")
    assert missing.headers["content-type"] == "application/problem+json"
