"""The scrape endpoint: content negotiation, _created off, promtool-clean, a server of its own."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
from maestro_monitoring import (
    ConfigurationError,
    MetricsManager,
    metrics_app,
    start_metrics_server,
)
from maestro_monitoring._exposition import _text, render
from prometheus_client import CollectorRegistry, Enum, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Mount

OPENMETRICS = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"


def promtool() -> str:
    """The promtool binary (Debian package prometheus, installed by tools/system-deps.sh)."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run tools/system-deps.sh (Debian package prometheus)")
    return path


def test_text_exposition_parses_like_generate_latest(
    realistic: tuple[CollectorRegistry, MetricsManager],
) -> None:
    """Our text writer yields the same samples as prometheus_client's, minus _created."""
    registry, _ = realistic
    ours, content_type = render(registry)
    assert content_type.startswith("text/plain; version=0.0.4")
    theirs = generate_latest(registry).decode()

    def samples(text: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        return {
            (s.name, tuple(sorted(s.labels.items())))
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if not s.name.startswith(("process_", "python_gc"))
        }

    expected = {s for s in samples(theirs) if not s[0].endswith("_created")}
    assert samples(ours.decode()) == expected
    assert re.search(rb"^\w+_created[{ ]", ours, re.M) is None


def test_metrics_read_directly_give_the_lines_collect_would(
    realistic: tuple[CollectorRegistry, MetricsManager],
) -> None:
    """The scrape reads prometheus_client's metric objects directly (no collect()); its text
    is byte for byte what the same writer makes from collect(), for every metric type, odd
    values and labels, a callback gauge, a histogram with negative bounds, an empty family,
    and collectors that are not metric objects (process, stats, Enum)."""
    registry, metrics = realistic
    odd = metrics.gauge("odd_values", "Odd\\ values\nhere", labels=["which"])
    odd.labels("nan").set(float("nan"))
    odd.labels("-inf").set(float("-inf"))
    odd.labels("int").set(5)
    metrics.counter("big_total", "Big").inc(1e22)
    metrics.counter("unused_total", "Never incremented", labels=["kind"])
    Gauge("from_callback", "A callback", registry=registry).set_function(lambda: 7)
    Gauge("child_callback", "A callback", ["k"], registry=registry).labels("a").set_function(
        lambda: 8
    )
    metrics.histogram("offset", "Offsets", buckets=[-1, 0, 1]).observe(-5)
    Enum("phase", "Phase", states=["a", "b"], registry=registry)
    Gauge("bare_gauge", "Bare", registry=registry).inc()

    def steady(body: bytes) -> list[bytes]:
        # process and GC values move between two reads; their lines still must be there
        volatile = (b"process_", b"python_gc_")
        return [line for line in body.splitlines() if not line.startswith(volatile)]

    direct, _ = render(registry)
    assert steady(direct) == steady(_text(iter(registry.collect()), False))
    assert len(direct.splitlines()) == len(_text(iter(registry.collect()), False).splitlines())
    assert b'orders_odd_values{service="orders",which="nan"} NaN' in direct
    assert b"from_callback 7.0" in direct
    assert b'child_callback{k="a"} 8.0' in direct
    assert b"# TYPE orders_unused_total counter" in direct
    assert b"phase{phase=" in direct
    assert b"process_cpu_seconds_total" in direct


def test_a_registry_with_target_info_is_read_through_collect() -> None:
    """target_info (and anything else the direct reader does not know) goes through collect()."""
    registry = CollectorRegistry(target_info={"env": "prod"})
    MetricsManager(registry=registry, enabled=True).counter("jobs_total", "Jobs").inc()
    body, _ = render(registry)
    assert b'target_info{env="prod"} 1.0' in body
    assert b"jobs_total 1.0" in body


def test_created_series_can_be_kept(registry: CollectorRegistry, metrics: MetricsManager) -> None:
    """created_series=True keeps the _created series."""
    metrics.counter("jobs_total", "Jobs").inc()
    body, _ = render(registry, created_series=True)
    assert b"jobs_created" in body
    body, _ = render(registry)
    assert b"jobs_created" not in body


def test_promtool_accepts_the_realistic_exposition(
    realistic: tuple[CollectorRegistry, MetricsManager],
) -> None:
    """`promtool check metrics` finds no problem in the exposition of a realistic registry."""
    registry, _ = realistic
    body, _ = render(registry)
    out = subprocess.run(
        [promtool(), "check", "metrics"], input=body, capture_output=True, timeout=30
    )
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert out.stdout.decode().strip() == ""
    assert out.stderr.decode().strip() == ""


def test_promtool_would_catch_a_bad_exposition() -> None:
    """The promtool check is real: prometheus_client's own output with a bad name fails it."""
    from prometheus_client import Gauge

    registry = CollectorRegistry()
    Gauge("request_latency_ms", "Latency in ms", registry=registry).set(3)
    out = subprocess.run(
        [promtool(), "check", "metrics"],
        input=generate_latest(registry),
        capture_output=True,
        timeout=30,
    )
    assert out.returncode != 0


async def test_asgi_app_negotiates_the_format(
    registry: CollectorRegistry, metrics: MetricsManager
) -> None:
    """Prometheus text by default; OpenMetrics (with exemplars, # EOF) when asked."""
    hist = metrics.histogram("work_seconds", "Work")
    hist.observe(0.2, {"trace_id": "0af7651916cd43dd8448eb211c80319c"})
    app = Starlette(routes=[Mount("/metrics", app=metrics_app(metrics))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", follow_redirects=True
    ) as client:
        plain = await client.get("/metrics")
        om = await client.get("/metrics", headers={"accept": OPENMETRICS})
        head = await client.head("/metrics/")
        post = await client.post("/metrics/")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "work_seconds_count 1.0" in plain.text
    assert "trace_id" not in plain.text
    assert om.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert om.text.endswith("# EOF\n")
    assert '# {trace_id="0af7651916cd43dd8448eb211c80319c"} 0.2' in om.text
    assert "_created" not in om.text
    assert head.status_code == 200
    assert head.content == b""
    assert post.status_code == 405


def test_start_metrics_server_serves_on_its_own_port(
    registry: CollectorRegistry, metrics: MetricsManager
) -> None:
    """start_metrics_server(port) serves /metrics from a thread; close() frees the port."""
    metrics.counter("served_total", "Served").inc()
    server = start_metrics_server(0, "127.0.0.1", metrics=metrics)
    try:
        base = f"http://127.0.0.1:{server.port}"
        response = httpx.get(f"{base}/metrics", timeout=5)
        om = httpx.get(f"{base}/metrics", headers={"accept": OPENMETRICS}, timeout=5)
        missing = httpx.get(f"{base}/other", timeout=5)
    finally:
        server.close()
    assert response.status_code == 200
    assert "served_total 1.0" in response.text
    assert om.text.endswith("# EOF\n")
    assert missing.status_code == 404


def test_start_metrics_server_refuses_a_bad_port() -> None:
    """A port out of range or already taken is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="port"):
        start_metrics_server(70000)
    server = start_metrics_server(0, "127.0.0.1", registry=CollectorRegistry())
    try:
        with pytest.raises(ConfigurationError, match="choose a free port"):
            start_metrics_server(server.port, "127.0.0.1", registry=CollectorRegistry())
    finally:
        server.close()
