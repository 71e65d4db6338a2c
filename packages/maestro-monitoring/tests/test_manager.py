"""MonitoringManager: the original keywords, dead keywords, from_settings, start/stop."""

from __future__ import annotations

import httpx
import pytest
from maestro_core_config import MonitoringSettings, ServiceSettings
from maestro_monitoring import (
    ConfigurationError,
    HealthStatus,
    MetricsManager,
    MonitoringManager,
)
from maestro_testkit import free_port
from prometheus_client import CollectorRegistry


def manager(**options: object) -> MonitoringManager:
    """A manager whose metrics use a private registry."""
    metrics = MetricsManager(registry=CollectorRegistry(), enabled=True)
    return MonitoringManager("orders", metrics=metrics, **options)  # type: ignore[arg-type]


async def test_original_keywords_work() -> None:
    """service_name, service_version, environment, prometheus_port/path, otlp_endpoint."""
    port = free_port()
    monitoring = MonitoringManager(
        service_name="orders",
        service_version="1.4.2",
        environment="production",
        prometheus_port=port,
        prometheus_path="/metrics",
        otlp_endpoint=None,
        metrics=MetricsManager(registry=CollectorRegistry(), enabled=True),
    )
    monitoring.metrics.counter("orders_created_total", "Orders").inc()
    monitoring.prometheus_addr = "127.0.0.1"
    async with monitoring:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert "orders_created_total 1.0" in response.text
        report = await monitoring.get_health_status()
        assert report.status is HealthStatus.PASS
    assert monitoring.server is None
    assert monitoring.tracing.enabled is False


@pytest.mark.parametrize(
    ("keyword", "hint"),
    [
        ("jaeger_endpoint", "otlp_endpoint"),
        ("enable_business_metrics", "counter"),
        ("grafana_url", "Grafana"),
        ("no_such_thing", "unexpected keyword"),
    ],
)
def test_dead_keywords_raise_type_error(keyword: str, hint: str) -> None:
    """Keywords whose features were dropped raise a TypeError naming the replacement."""
    with pytest.raises(TypeError, match=hint):
        MonitoringManager("orders", **{keyword: "x"})  # type: ignore[arg-type]


def test_bad_arguments_are_configuration_errors() -> None:
    """An empty service name, a bad port or path is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="service_name"):
        MonitoringManager("")
    with pytest.raises(ConfigurationError, match="prometheus_port"):
        manager(prometheus_port=-1)
    with pytest.raises(ConfigurationError, match="prometheus_path"):
        manager(prometheus_path="metrics")


def test_sync_start_and_stop() -> None:
    """monitoring.sync.start()/stop() work from sync code."""
    monitoring = manager(prometheus_port=0, prometheus_addr="127.0.0.1")
    monitoring.sync.start()
    assert monitoring.server is not None
    port = monitoring.server.port
    assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    assert monitoring.sync.get_health_status().status is HealthStatus.PASS
    monitoring.sync.stop()
    assert monitoring.server is None


def test_from_settings_takes_the_sections() -> None:
    """from_settings(settings.monitoring, service=settings.service) maps every field."""
    section = MonitoringSettings(
        metrics_enabled=False,
        metrics_port=9464,
        namespace="orders",
        created_series=True,
        max_label_sets=50,
        otlp_endpoint="http://otel-collector:4318",
        traces_sample_ratio=0.1,
        exclude_paths=("/metrics", "/healthz"),
    )
    service = ServiceSettings(name="orders", version="1.4.2")
    monitoring = MonitoringManager.from_settings(section, service=service)
    assert monitoring.service_name == "orders"
    assert monitoring.service_version == "1.4.2"
    assert monitoring.prometheus_port == 9464
    assert monitoring.metrics.enabled is False
    assert monitoring.metrics.namespace == "orders"
    assert monitoring.metrics.max_label_sets == 50
    assert monitoring.created_series is True
    assert monitoring.tracing.endpoint == "http://otel-collector:4318"
    assert monitoring.tracing.sample_ratio == 0.1
    assert monitoring.exclude_paths == ("/metrics", "/healthz")


def test_from_settings_with_a_registry_of_its_own() -> None:
    """registry= keeps an app's metrics apart: two managers from the same settings, each
    with its own registry, create the same metric names without a clash, and the global
    registry sees neither."""
    from prometheus_client import REGISTRY

    section = MonitoringSettings(namespace="isolated")
    registries = [CollectorRegistry(), CollectorRegistry()]
    for n, registry in enumerate(registries, start=1):
        monitoring = MonitoringManager.from_settings(
            section, service_name="orders", registry=registry
        )
        assert monitoring.metrics.registry is registry
        monitoring.metrics.counter("jobs_total", "Jobs").inc(n)
    assert [r.get_sample_value("isolated_jobs_total") for r in registries] == [1.0, 2.0]
    assert REGISTRY.get_sample_value("isolated_jobs_total") is None
    with pytest.raises(ConfigurationError, match="not both"):
        MonitoringManager(
            "orders", metrics=MetricsManager(registry=CollectorRegistry()), registry=registries[0]
        )


def test_from_settings_needs_a_service_name() -> None:
    """Without service= or service_name= the error says what to pass."""
    with pytest.raises(ConfigurationError, match=r"service=settings\.service"):
        MonitoringManager.from_settings(MonitoringSettings())
    built = MonitoringManager.from_settings(
        MonitoringSettings(metrics_enabled=False), service_name="billing"
    )
    assert built.service_name == "billing"


async def test_disabled_settings_make_every_metric_a_no_op() -> None:
    """metrics_enabled=False from the settings: metrics record nothing, the app still works."""
    from prometheus_client import REGISTRY

    monitoring = MonitoringManager.from_settings(
        MonitoringSettings(metrics_enabled=False), service_name="orders"
    )
    counter = monitoring.metrics.counter("maestro_monitoring_disabled_total", "Orders")
    counter.inc()
    assert monitoring.metrics.enabled is False
    assert REGISTRY.get_sample_value("maestro_monitoring_disabled_total") is None


async def test_add_middleware_and_metrics_app() -> None:
    """monitoring.add_middleware(app) records RED metrics; metrics_app() serves them."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    async def ping(request: object) -> PlainTextResponse:
        return PlainTextResponse("pong")

    monitoring = manager()
    app = Starlette(routes=[Route("/ping", ping)])
    app.router.routes.append(Mount("/metrics", app=monitoring.metrics_app()))
    monitoring.add_middleware(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", follow_redirects=True
    ) as client:
        await client.get("/ping")
        text = (await client.get("/metrics")).text
    assert 'http_route="/ping"' in text
    assert "/metrics" not in text.split("http_route=")[-1]
