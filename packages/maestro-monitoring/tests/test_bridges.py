"""register_stats and resilience_listener: other packages' counters as metrics at scrape time."""

from __future__ import annotations

import logging
import threading
import time
from collections import namedtuple
from dataclasses import dataclass

import pytest
from maestro_monitoring import (
    ConfigurationError,
    MetricNameError,
    MetricsManager,
    resilience_listener,
)
from maestro_monitoring._exposition import render
from maestro_resilience import CircuitBreaker, Retry
from prometheus_client import CollectorRegistry


@dataclass
class PoolStats:
    acquired_total: int
    size: int
    waiting: float
    healthy: bool
    backend: str = "postgres"


def test_stats_become_counters_and_gauges_at_scrape_time(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Fields ending _total are counters, other numbers gauges; read at each scrape only."""
    calls = 0
    state = {"hits_total": 1, "size": 3}

    def stats() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return dict(state)

    metrics.register_stats("maestro_cache", stats, labels={"cache": "default"})
    assert calls == 0  # nothing happens until a scrape
    body, _ = render(registry)
    text = body.decode()
    assert "# TYPE maestro_cache_hits_total counter" in text
    assert 'maestro_cache_hits_total{cache="default"} 1.0' in text
    assert "# TYPE maestro_cache_size gauge" in text
    state["hits_total"] = 5
    assert registry.get_sample_value("maestro_cache_hits_total", {"cache": "default"}) == 5.0
    assert calls == 2


def test_dataclass_and_namedtuple_sources(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Dataclasses and namedtuples work; booleans are 0/1, strings are left out."""
    metrics.register_stats("maestro_db_pool", lambda: PoolStats(10, 5, 0.5, True))
    Queue = namedtuple("Queue", ["depth", "published_total"])
    metrics.register_stats("maestro_queue", lambda: Queue(4, 9))
    assert registry.get_sample_value("maestro_db_pool_acquired_total") == 10.0
    assert registry.get_sample_value("maestro_db_pool_healthy") == 1.0
    assert registry.get_sample_value("maestro_db_pool_backend") is None
    assert registry.get_sample_value("maestro_queue_published_total") == 9.0


def test_two_sources_with_one_prefix_share_families(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Two caches under one prefix give one family with two label sets (promtool-clean)."""
    metrics.register_stats("maestro_cache", lambda: {"hits_total": 1}, labels={"cache": "a"})
    metrics.register_stats("maestro_cache", lambda: {"hits_total": 2}, labels={"cache": "b"})
    body, _ = render(registry)
    assert body.decode().count("# TYPE maestro_cache_hits_total counter") == 1
    assert registry.get_sample_value("maestro_cache_hits_total", {"cache": "b"}) == 2.0


def test_a_failing_source_is_left_out_and_logged_once(
    metrics: MetricsManager, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """A source that raises: the scrape succeeds without its series, one warning."""

    def broken() -> dict[str, int]:
        raise ConnectionError("redis://user:hunter2@cache:6379 unreachable")

    metrics.register_stats("maestro_cache", broken)
    metrics.register_stats("maestro_ok", lambda: {"up": 1})
    caplog.set_level(logging.INFO, "maestro.monitoring")
    for _ in range(3):
        body, _ = render(registry)
        assert b"maestro_ok_up 1.0" in body
        assert b"maestro_cache" not in body
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "hunter2" not in caplog.text


def test_a_slow_source_is_time_boxed(
    metrics: MetricsManager, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """A source slower than its timeout is skipped; the next scrape does not pile up calls."""
    release = threading.Event()
    calls = 0

    def slow() -> dict[str, int]:
        nonlocal calls
        calls += 1
        release.wait(5)
        return {"up": 1}

    metrics.register_stats("maestro_slow", slow, timeout=0.05)
    try:
        started = time.monotonic()
        body, _ = render(registry)
        body2, _ = render(registry)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert b"maestro_slow" not in body
    assert b"maestro_slow" not in body2
    assert calls == 1
    assert elapsed < 4  # not blocked by the 5 s source
    assert "did not return within" in caplog.text


def test_bad_registrations_are_refused(metrics: MetricsManager) -> None:
    """A non-callable source, a bad prefix or timeout is refused with the fix."""
    with pytest.raises(ConfigurationError, match=r"not cache\.stats\(\)"):
        metrics.register_stats("maestro_cache", {"hits_total": 1})  # type: ignore[arg-type]
    with pytest.raises(MetricNameError, match="snake_case"):
        metrics.register_stats("Maestro-Cache", dict)
    with pytest.raises(ConfigurationError, match="timeout"):
        metrics.register_stats("maestro_cache", dict, timeout=0)


def _nap(seconds: float) -> None:
    """A sleep that does not sleep (the retry's delays are not the point here)."""


def test_resilience_events_and_breaker_state(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A real maestro-resilience breaker and retry feed events_total and the state gauge."""
    listener = resilience_listener(metrics)
    now = [0.0]
    breaker = CircuitBreaker(
        failure_threshold=2,
        timeout=30,
        name="pricing",
        listeners=[listener],
        monotonic=lambda: now[0],
    )

    def fail() -> None:
        raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(fail)
    assert registry.get_sample_value("maestro_circuit_breaker_state", {"name": "pricing"}) == 2.0
    with pytest.raises(Exception, match="open"):
        breaker.call(fail)
    now[0] = 31.0
    breaker.call(lambda: None)
    assert registry.get_sample_value("maestro_circuit_breaker_state", {"name": "pricing"}) == 0.0

    def events(kind: str, policy: str = "circuit_breaker", name: str = "pricing") -> float | None:
        labels = {"policy": policy, "name": name, "kind": kind}
        return registry.get_sample_value("maestro_resilience_events_total", labels)

    assert events("failure") == 2.0
    assert events("rejected") == 1.0
    assert events("state_change") == 3.0  # closed->open, open->half_open, half_open->closed

    retry = Retry(max_attempts=3, delay=0.001, name="fetch", listeners=[listener], sleep=_nap)
    flaky = iter([ConnectionError("x"), ConnectionError("y"), None])

    @retry
    def sometimes() -> None:
        error = next(flaky)
        if error is not None:
            raise error

    sometimes()
    assert events("retry", policy="retry", name="fetch") == 2.0


def test_a_watched_breaker_is_exported_from_registration(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """listener.watch(breaker): the state gauge exists before the breaker's first event, the
    breaker sends its events to the listener, and watching twice subscribes once."""
    listener = resilience_listener(metrics)
    now = [0.0]
    breaker = listener.watch(
        CircuitBreaker(failure_threshold=1, timeout=30, name="pricing", monotonic=lambda: now[0])
    )
    assert isinstance(breaker, CircuitBreaker)
    assert registry.get_sample_value("maestro_circuit_breaker_state", {"name": "pricing"}) == 0.0
    assert breaker.listeners.count(listener) == 1
    listener.watch(breaker)
    assert breaker.listeners.count(listener) == 1

    def fail() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        breaker.call(fail)
    assert registry.get_sample_value("maestro_circuit_breaker_state", {"name": "pricing"}) == 2.0
    labels = {"policy": "circuit_breaker", "name": "pricing", "kind": "failure"}
    assert registry.get_sample_value("maestro_resilience_events_total", labels) == 1.0

    # a breaker already open when watched (given the listener at construction) reads as open
    other = CircuitBreaker(
        failure_threshold=1, timeout=30, name="stock", listeners=[listener], monotonic=lambda: 0.0
    )
    other.force_open()
    assert listener.watch(other) is other
    assert other.listeners.count(listener) == 1
    assert registry.get_sample_value("maestro_circuit_breaker_state", {"name": "stock"}) == 2.0


def test_watch_refuses_what_is_not_a_breaker(metrics: MetricsManager) -> None:
    """watch() names what it takes when given something else."""
    listener = resilience_listener(metrics)
    with pytest.raises(ConfigurationError, match="CircuitBreaker"):
        listener.watch(object())
    with pytest.raises(ConfigurationError, match="CircuitBreaker"):
        listener.watch(Retry(max_attempts=2, name="fetch"))
