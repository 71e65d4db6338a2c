"""The orders service: every Maestro package wired together, once, from ``Settings``.

``uvicorn reference_service.app:app --no-access-log`` serves it; ``create_app(settings)``
builds one for tests. The same code runs on SQLite + memory cache + in-process broker or on
PostgreSQL + Redis + RabbitMQ/NATS: only the settings differ.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from maestro_audit_logger import AuditLogger
from maestro_cache import CacheService, set_default_cache
from maestro_core_api import HealthCheck, RateLimit
from maestro_core_api import create_app as create_maestro_app
from maestro_core_auth import (
    Authenticator,
    AuthManager,
    MemoryStore,
    RedisStore,
    RevocationList,
    Store,
)
from maestro_core_config import get_settings
from maestro_core_db import Base, DatabaseManager, MigrationManager
from maestro_core_logging import configure_logging
from maestro_core_messaging import MessageBroker, Outbox, OutboxRelay
from maestro_monitoring import MetricsManager, MonitoringManager, resilience_listener
from prometheus_client import CollectorRegistry

from . import auth, consumers, orders
from .pricing_client import pricing_client
from .services import Services
from .settings import Settings

MIGRATIONS = Path(str(files("reference_service") / "migrations"))


def create_app(settings: Settings | None = None) -> FastAPI:
    """One replica of the service, configured by ``settings`` (default: files + environment)."""
    s = settings or get_settings(Settings)
    env = s.environment.value
    configure_logging(
        settings=s.logging,
        service=s.service.name,
        version=s.service.version,
        environment=env,
        logger_levels={"alembic.runtime.plugins": "WARNING", "httpx": "WARNING"},
    )
    # A registry per app: several apps in one process (tests) never share series.
    metrics = MetricsManager(s.monitoring.namespace, registry=CollectorRegistry())
    monitoring = MonitoringManager.from_settings(
        s.monitoring, service=s.service, environment=env, metrics=metrics
    )
    db = DatabaseManager.from_settings(s.db)
    cache = CacheService.from_settings(s.cache)
    broker = MessageBroker.from_settings(s.broker, source=s.service.name)
    # Revocations and refresh families live beside the cache (Redis at scale) so every
    # replica shares them, in core-auth's own store: it fails closed (503) when Redis is
    # down, where the cache fails open, and a revoked token must never pass.
    redis_url = s.cache.url.get_secret_value()
    store: Store = (
        RedisStore(redis_url, prefix=f"{s.cache.key_prefix or s.service.name}:auth:")
        if redis_url.startswith("redis")
        else MemoryStore()
    )
    manager = AuthManager.from_settings(
        s.auth, revocation=RevocationList(store=store), refresh_store=store
    )
    manager.user_loader = auth.demo_users(s.users, manager.hash_password)
    svc = Services(
        settings=s,
        db=db,
        migrations=MigrationManager(db, MIGRATIONS, metadata=Base.metadata),
        cache=cache,
        broker=broker,
        outbox=Outbox(source=s.service.name),
        relay=OutboxRelay(db.engine, broker),  # starts and stops with the broker
        auth=manager,
        authenticator=Authenticator(verifier=manager.verifier, realm=s.service.name),
        audit=AuditLogger(s.audit.directory),
        pricing=pricing_client(s.pricing, listeners=[resilience_listener(metrics)]),
        create_limit=RateLimit(
            s.rate_limit,
            scope="route",
            storage=redis_url if redis_url.startswith("redis") else None,
            on_backend_error="deny",
            name=f"{s.cache.key_prefix or s.service.name}-create-order",
        ),
    )
    consumers.subscribe(broker, db, topic=s.topic)
    metrics.register_stats("maestro_cache", cache.stats)
    metrics.register_stats("maestro_db_pool", db.pool_stats)
    metrics.register_stats("maestro_messaging", broker.stats)

    health = HealthCheck()
    health.register_check("broker", broker.ping, timeout=2.0)
    health.register_check("migrations", lambda: _at_head(svc.migrations), timeout=2.0)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.migrations.upgrade("head")  # one runner under the lock; the others wait
        set_default_cache(cache)  # @cached(...) in orders.py reads it at call time
        async with monitoring, broker:  # tracing; broker: consumers + outbox relay
            yield
        await svc.pricing.close()
        await svc.audit.aclose()
        if isinstance(store, RedisStore):
            await store.aclose()

    app = create_maestro_app(
        settings=s,
        resources=[db, cache],  # entered first, closed last; their ping() is in /readyz
        health=health,
        auth=svc.authenticator,
        metrics=metrics,
        tracing=monitoring.tracing,
        lifespan=lifespan,
        configure_logging=False,
    )
    app.state.services = svc
    app.include_router(auth.router)
    app.include_router(orders.router)
    auth.audit_refusals(app)
    page = (files("reference_service") / "static" / "index.html").read_text()
    app.get("/", include_in_schema=False)(lambda: HTMLResponse(page))
    return app


async def _at_head(migrations: MigrationManager) -> bool:
    return (await migrations.status()).at_head


def __getattr__(name: str) -> Any:
    """``reference_service.app:app`` for uvicorn, built on first access (not at import)."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
