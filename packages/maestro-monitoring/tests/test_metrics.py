"""Metrics: pre-bound children, const labels, the cardinality guard and the off switch."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import tracemalloc
import warnings

import pytest
from maestro_monitoring import (
    DEFAULT_BUCKETS,
    CardinalityWarning,
    ConfigurationError,
    MetricsManager,
)
from prometheus_client import CollectorRegistry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One sample's value from the registry."""
    return registry.get_sample_value(name, labels)


def test_children_are_pre_bound_and_cached(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """labels() returns the same child for the same values, by name or position."""
    orders = metrics.counter("orders_created_total", "Orders", labels=["channel"])
    web = orders.labels(channel="web")
    assert orders.labels(channel="web") is web
    assert orders.labels("web") is web
    web.inc()
    web.inc(2)
    assert value(registry, "orders_created_total", channel="web") == 3.0


def test_namespace_and_const_labels(registry: CollectorRegistry) -> None:
    """The namespace prefixes names and const labels appear on every series."""
    metrics = MetricsManager("orders", {"service": "orders"}, registry=registry, enabled=True)
    refunds = metrics.counter("refunds_total", "Refunds issued")
    refunds.inc()
    depth = metrics.gauge("queue_depth", "Depth", labels=["queue"])
    depth.labels(queue="a").set(4)
    assert refunds.name == "orders_refunds_total"
    assert value(registry, "orders_refunds_total", service="orders") == 1.0
    assert value(registry, "orders_queue_depth", service="orders", queue="a") == 4.0


def test_every_type_records(metrics: MetricsManager, registry: CollectorRegistry) -> None:
    """Counter, gauge, histogram, summary and info record through the wrappers."""
    metrics.gauge("temperature_celsius", "Temp").set(21.5)
    hist = metrics.histogram("payment_duration_seconds", "Latency")
    with hist.time():
        pass
    hist.observe(0.3)
    metrics.summary("payload_size_bytes", "Sizes").observe(512)
    metrics.info("build", "Build").info({"version": "1.4.2"})
    assert value(registry, "temperature_celsius") == 21.5
    assert value(registry, "payment_duration_seconds_count") == 2.0
    assert value(registry, "payment_duration_seconds_bucket", le="0.5") == 2.0
    assert value(registry, "payload_size_bytes_sum") == 512.0
    assert value(registry, "build_info", version="1.4.2") == 1.0
    assert DEFAULT_BUCKETS[0] == 0.005
    assert DEFAULT_BUCKETS[-1] == 10.0


def test_labelled_metric_needs_labels(metrics: MetricsManager) -> None:
    """Calling inc() on a labelled counter says to call labels() first."""
    orders = metrics.counter("orders_total", "Orders", labels=["channel"])
    with pytest.raises(ConfigurationError, match=r"call \.labels"):
        orders.inc()
    with pytest.raises(ConfigurationError, match="pass exactly those names"):
        orders.labels(kind="x")
    with pytest.raises(ConfigurationError, match="pass 1 values"):
        orders.labels("a", "b")


def test_bad_buckets_are_refused(metrics: MetricsManager) -> None:
    """Buckets must increase strictly."""
    with pytest.raises(ConfigurationError, match="strictly increasing"):
        metrics.histogram("x_seconds", "X", buckets=[1.0, 0.5])


def test_cardinality_guard_overflows_into_one_series(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """10,000 user ids give max_label_sets series plus one __overflow__, with one warning."""
    metrics = MetricsManager(registry=registry, enabled=True, max_label_sets=100)
    logins = metrics.counter("logins_total", "Logins", labels=["user"])
    caplog.set_level(logging.WARNING, "maestro.monitoring")
    tracemalloc.start()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        for user in range(10_000):
            logins.labels(user=f"user-{user}").inc()
        before = tracemalloc.get_traced_memory()[0]
        for user in range(10_000, 20_000):
            logins.labels(user=f"user-{user}").inc()
        after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert [w.category for w in warned] == [CardinalityWarning]
    assert len(warned) == 1
    assert len([r for r in caplog.records if "max_label_sets" in r.getMessage()]) == 1
    samples = [s for m in registry.collect() for s in m.samples if s.name == "logins_total"]
    assert len(samples) == 101
    assert value(registry, "logins_total", user="__overflow__") == 19_900.0
    assert logins.label_sets == 100
    assert after - before < 200_000  # bounded: the overflow path keeps nothing per value


def test_disabled_metrics_are_no_ops(registry: CollectorRegistry) -> None:
    """enabled=False: names are still checked but nothing is registered or recorded."""
    metrics = MetricsManager(registry=registry, enabled=False)
    counter = metrics.counter("orders_total", "Orders", labels=["channel"])
    counter.labels(channel="web").inc()
    hist = metrics.histogram("work_seconds", "Work")
    with hist.time():
        pass
    metrics.gauge("depth", "Depth").inc()
    assert list(registry.collect()) == []
    with pytest.raises(ConfigurationError):
        metrics.counter("bad", "Bad")


def test_environment_switch_turns_metrics_off() -> None:
    """MAESTRO_MONITORING__METRICS_ENABLED=false makes the default manager a no-op."""
    code = (
        "from maestro_monitoring import counter, metrics_app\n"
        "from maestro_monitoring._exposition import render\n"
        "from maestro_monitoring._metrics import default_manager\n"
        "c = counter('env_switch_total', 'X')\n"
        "c.inc()\n"
        "m = default_manager()\n"
        "body, _ = render(m.exposition_registry)\n"
        "print(m.enabled, b'env_switch_total' in body)\n"
    )
    env = {"MAESTRO_MONITORING__METRICS_ENABLED": "false", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_bad_environment_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that is not a boolean names the variable."""
    monkeypatch.setenv("MAESTRO_MONITORING__METRICS_ENABLED", "maybe")
    with pytest.raises(ConfigurationError, match="MAESTRO_MONITORING__METRICS_ENABLED"):
        MetricsManager(registry=CollectorRegistry())


def test_module_level_functions_use_the_default_manager() -> None:
    """counter() and friends create metrics in prometheus_client's default registry."""
    from maestro_monitoring import counter
    from prometheus_client import REGISTRY

    c = counter("maestro_monitoring_test_default_total", "Default manager test")
    c.inc()
    assert REGISTRY.get_sample_value("maestro_monitoring_test_default_total") == 1.0


def test_counter_inc_by_one_takes_no_lock(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """A counter's inc() by one never waits on the value's lock (a scrape holding it, a
    thread adding a float): the hot path is one lock-free step; other amounts still lock."""
    orders = metrics.counter("orders_locked_total", "Orders", labels=["channel"])
    web = orders.labels(channel="web")
    plain = metrics.counter("refunds_locked_total", "Refunds")
    lock = web._value._lock  # type: ignore[attr-defined]
    done = threading.Event()

    def hot_path() -> None:
        web.inc()
        plain.inc()
        done.set()

    plain_lock = plain._default._value._lock  # type: ignore[union-attr]
    with lock, plain_lock:
        thread = threading.Thread(target=hot_path, daemon=True)
        thread.start()
        finished = done.wait(timeout=5)
    assert finished, "inc() waited for the value's lock"
    thread.join(timeout=5)
    web.inc(2.5)
    assert value(registry, "orders_locked_total", channel="web") == 3.5
    assert value(registry, "refunds_locked_total") == 1.0


def test_counter_counts_exactly_under_threads(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Eight threads mixing inc() by one, by a float, and scrapes lose no increment; every
    scrape sees the counter only grow."""
    jobs = metrics.counter("jobs_threads_total", "Jobs", labels=["queue"])
    child = jobs.labels(queue="a")
    seen: list[float] = []

    def work(index: int) -> None:
        for n in range(20_000):
            if index % 2 and n % 100 == 0:
                child.inc(0.5)
            else:
                child.inc()
            if n % 5_000 == 0:
                seen.append(value(registry, "jobs_threads_total", queue="a") or 0.0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 4 threads add 200 x 0.5 instead of 200 ones
    assert value(registry, "jobs_threads_total", queue="a") == 8 * 20_000 - 4 * 200 * 0.5
    assert len(seen) == 32


def test_counter_keeps_prometheus_client_semantics(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Negative amounts are refused, exemplars are kept, reset() starts from zero, and
    count_exceptions() counts through the same path."""
    errors = metrics.counter("errors_semantics_total", "Errors", labels=["kind"])
    child = errors.labels(kind="db")
    child.inc()
    with pytest.raises(ValueError, match="non-negative"):
        child.inc(-1)
    child.inc(1, {"trace_id": "abc"})
    exemplar = child._value.get_exemplar()  # type: ignore[attr-defined]
    assert exemplar.labels == {"trace_id": "abc"}
    assert value(registry, "errors_semantics_total", kind="db") == 2.0
    child.reset()  # type: ignore[attr-defined]
    assert value(registry, "errors_semantics_total", kind="db") == 0.0
    with pytest.raises(KeyError), child.count_exceptions():  # type: ignore[attr-defined]
        raise KeyError("x")
    child.inc(True)
    assert value(registry, "errors_semantics_total", kind="db") == 2.0


def test_free_threaded_interpreter_keeps_the_locked_counter(
    monkeypatch: pytest.MonkeyPatch, metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Without a GIL, next() on a shared count is not a single atomic step: children keep
    prometheus_client's locked value there."""
    from prometheus_client.values import MutexValue

    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    child = metrics.counter("free_threaded_total", "x", labels=["a"]).labels(a="1")
    assert type(child._value) is MutexValue  # type: ignore[attr-defined]
    child.inc()
    assert value(registry, "free_threaded_total", a="1") == 1.0


def test_gauges_and_histograms_change_without_the_lock(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Gauge steps and amounts and histogram observations never wait on a value's lock;
    set() and the reads still take it."""
    depth = metrics.gauge("depth_nolock", "Depth", labels=["queue"]).labels(queue="a")
    latency = metrics.histogram("latency_nolock_seconds", "Latency", labels=["route"])
    child = latency.labels(route="/x")
    locks = [depth._value._lock, child._sum._lock, *(b._lock for b in child._buckets)]  # type: ignore[attr-defined]
    done = threading.Event()

    def hot_path() -> None:
        depth.inc()
        depth.inc(2.5)
        depth.dec()
        depth.dec(0.5)
        child.observe(0.3)
        child.observe(1.0)
        done.set()

    for lock in locks:
        lock.acquire()
    try:
        thread = threading.Thread(target=hot_path, daemon=True)
        thread.start()
        finished = done.wait(timeout=5)
    finally:
        for lock in locks:
            lock.release()
    assert finished, "a gauge or histogram update waited for a value's lock"
    thread.join(timeout=5)
    assert value(registry, "depth_nolock", queue="a") == 2.0
    assert value(registry, "latency_nolock_seconds_sum", route="/x") == 1.3
    assert value(registry, "latency_nolock_seconds_count", route="/x") == 2.0
    assert value(registry, "latency_nolock_seconds_bucket", route="/x", le="0.5") == 1.0
    depth.set(7)
    depth.inc()
    assert value(registry, "depth_nolock", queue="a") == 8.0


def test_gauges_and_histograms_are_exact_under_threads(
    metrics: MetricsManager, registry: CollectorRegistry
) -> None:
    """Eight threads stepping a gauge up and down, adding amounts and observing: nothing is
    lost, the gauge ends where it started, sums and counts are exact."""
    active = metrics.gauge("active_threads", "Active", labels=["m"]).labels(m="GET")
    sizes = metrics.histogram(
        "size_threads_bytes", "Sizes", labels=["k"], buckets=(1, 10, 100)
    ).labels(k="a")
    active.set(3)

    def work() -> None:
        for n in range(10_000):
            active.inc()
            sizes.observe(n % 3 * 5.0)  # 0, 5, 10: exact in binary
            if n % 10 == 0:
                active.inc(0.25)
                active.dec(0.25)
            active.dec()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert value(registry, "active_threads", m="GET") == 3.0
    assert value(registry, "size_threads_bytes_count", k="a") == 80_000
    expected_sum = 8 * sum(n % 3 * 5.0 for n in range(10_000))
    assert value(registry, "size_threads_bytes_sum", k="a") == expected_sum
    assert value(registry, "size_threads_bytes_bucket", k="a", le="1.0") == 8 * 3_334
