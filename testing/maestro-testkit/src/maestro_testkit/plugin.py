"""pytest fixtures every Maestro package's tests may use (registered through ``pytest11``)."""

from __future__ import annotations

import contextlib

import pytest

from ._clock import FakeClock
from ._services import IN_CI, require_service, unique_name


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock at 2026-03-01 12:00 UTC / monotonic 1000.0 that moves only by hand."""
    return FakeClock()


@pytest.fixture
def unique_prefix() -> str:
    """A fresh prefix for keys, queues, streams or tables touched on a shared service."""
    return unique_name("maestro_test")


@pytest.fixture
def redis_url() -> str:
    """The shared Redis at 127.0.0.1:6379 (skip locally / fail under CI when it is down)."""
    return require_service("redis").url


@pytest.fixture
def postgres_url() -> str:
    """The shared PostgreSQL at 127.0.0.1:5432, database ``postgres`` (trust auth)."""
    return require_service("postgres").url


@pytest.fixture
def mariadb_url() -> str:
    """The shared MariaDB at 127.0.0.1:3306, database ``test``, user root."""
    return require_service("mariadb").url


@pytest.fixture
def rabbitmq_url() -> str:
    """The shared RabbitMQ at 127.0.0.1:5672 (guest/guest)."""
    return require_service("rabbitmq").url


@pytest.fixture
def nats_url() -> str:
    """The shared NATS server with JetStream at 127.0.0.1:4222."""
    return require_service("nats").url


@pytest.fixture
def mqtt_url() -> str:
    """The shared Mosquitto at 127.0.0.1:1883."""
    return require_service("mqtt").url


def _hypothesis_profiles() -> None:
    """A CI profile: no per-example deadline, no too_slow health check (loaded machines, -n)."""
    import os

    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    settings.register_profile("dev", deadline=None)
    chosen = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev")
    settings.load_profile(chosen)


# At import, before any test module is collected: @given binds its settings when a test
# module is imported, so a profile loaded later would not reach those tests.
with contextlib.suppress(ImportError):  # a package whose tests do not use hypothesis
    _hypothesis_profiles()
