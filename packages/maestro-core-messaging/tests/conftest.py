"""Shared fixtures: one broker factory per backend, with unique topics removed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from maestro_core_messaging import MessageBroker
from maestro_testkit import unique_name

BACKENDS = ["memory", "redis", "rabbitmq", "nats"]


def url_for(request: pytest.FixtureRequest, backend: str) -> str:
    """The URL of a shared service (skips locally / fails in CI when it is down)."""
    if backend == "memory":
        return f"memory://{unique_name('hub')}"
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: memory, redis, rabbitmq, nats."""
    return str(request.param)


@pytest.fixture
def broker_url(request: pytest.FixtureRequest, backend: str) -> str:
    """The URL of the backend under test."""
    return url_for(request, backend)


@pytest.fixture
def topic() -> str:
    """A topic name no other test uses."""
    return unique_name("mt").replace("-", "_").replace(".", "_") + ".events"


@pytest.fixture
async def make_broker(broker_url: str, topic: str) -> AsyncIterator[Callable[..., MessageBroker]]:
    """A factory of brokers on the backend under test; topics and groups deleted afterwards."""
    made: list[MessageBroker] = []

    def factory(**options: Any) -> MessageBroker:
        options.setdefault("source", "tests")
        options.setdefault("backoff", 0.01)
        options.setdefault("reclaim_idle", 0.5)
        options.setdefault("drain_timeout", 2.0)
        broker = MessageBroker.from_url(broker_url, **options)
        made.append(broker)
        return broker

    yield factory
    groups = {s.group for b in made for s in b._subscribers if s.group}
    for broker in made:
        await broker.disconnect()
    cleaner = MessageBroker.from_url(broker_url)
    try:
        topics = {topic} | {s.topic for b in made for s in b._subscribers}
        for name in topics:
            await cleaner.delete_topic(name, groups)
    finally:
        await cleaner.disconnect()
