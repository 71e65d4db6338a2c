"""Typed usage of maestro-monitoring, as users write it; mypy --strict checks it, never run."""

from __future__ import annotations

from typing import Any, assert_type

from maestro_monitoring import (
    CheckResult,
    HealthCheck,
    HealthReport,
    HealthStatus,
    MetricsManager,
    MetricsMiddleware,
    MonitoringManager,
    TracingManager,
    counter,
    gauge,
    histogram,
    info,
    metrics_app,
    resilience_listener,
    start_metrics_server,
    summary,
    trace,
)
from maestro_monitoring.multiprocess import mark_process_dead, prepare_multiproc
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

orders = counter("orders_created_total", "Orders created", labels=["channel"])
web = orders.labels(channel="web")
web.inc()
web.inc(2, exemplar={"trace_id": "abc"})
pay = histogram("payment_duration_seconds", "Payment latency", buckets=[0.1, 0.5, 1.0])
with pay.time():
    pass
pay.observe(0.2)
depth = gauge("queue_depth", "Depth", labels=["queue"], max_label_sets=100)
depth.labels("emails").set(3)
summary("payload_size_bytes", "Sizes").observe(12)
info("build", "Build").info({"version": "1"})

metrics = MetricsManager(
    namespace="orders", const_labels={"service": "orders"}, registry=CollectorRegistry()
)
refunds = metrics.counter("refunds_total", "Refunds")
refunds.inc()
metrics.register_stats("maestro_cache", lambda: {"hits_total": 1}, labels={"cache": "a"})
listener = resilience_listener(metrics)
listener(object())
assert_type(metrics.multiprocess, bool)

app = Starlette()
app.add_middleware(MetricsMiddleware, metrics=metrics, exclude_paths=("/metrics",))
app.mount("/metrics", metrics_app(metrics))
server = start_metrics_server(0, "127.0.0.1", metrics=metrics)
assert_type(server.port, int)
server.close()

health = HealthCheck(cache_ttl=1.0)
health.register_check("db", lambda: True, timeout=1.0, critical=False)
report = health.sync.run_checks()
assert_type(report, HealthReport)
assert_type(report.status, HealthStatus)
for result in report.checks.values():
    assert_type(result, CheckResult)
    assert_type(result.reason, str | None)
assert_type(report.to_dict(), dict[str, Any])


@trace("charge_card")
async def charge(amount: int) -> int:
    return amount


@trace
def refund(amount: int) -> int:
    return amount


assert_type(refund(3), int)

tracing = TracingManager(service="orders", version="1.4.2", endpoint=None, sample_ratio=0.1)
tracing.start()
tracing.instrument_app(app)
assert_type(tracing.started, bool)

monitoring = MonitoringManager(
    service_name="orders", service_version="1.4.2", prometheus_port=9464, otlp_endpoint=None
)
monitoring.sync.start()
monitoring.sync.stop()
assert_type(monitoring.metrics, MetricsManager)
assert_type(prepare_multiproc("/tmp/metrics"), int)
assert_type(mark_process_dead(123), int)
