"""MonitoringManager: the façade over metrics, tracing and health (the original entry point)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError, UnsupportedOptionError
from ._health import HealthCheck, HealthReport
from ._metrics import MetricsManager, set_default_manager
from ._tracing import TracingManager

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from ._exposition import MetricsApp, MetricsServer

__all__ = ["MonitoringManager"]

# Keywords of the original package that no longer mean anything, and what replaces them.
_REMOVED = {
    "jaeger_endpoint": "Jaeger takes OTLP: pass otlp_endpoint='http://jaeger:4318'",
    "jaeger_agent_host": "Jaeger takes OTLP: pass otlp_endpoint='http://jaeger:4318'",
    "jaeger_agent_port": "Jaeger takes OTLP: pass otlp_endpoint='http://jaeger:4318'",
    "zipkin_endpoint": "send OTLP to a collector: pass otlp_endpoint=",
    "enable_business_metrics": "create your own metrics with counter()/histogram()",
    "enable_system_metrics": "process metrics come from prometheus_client's default registry",
    "enable_alerts": "alerting belongs to Alertmanager rules",
    "alert_rules": "alerting belongs to Alertmanager rules",
    "alertmanager_url": "alerting belongs to Alertmanager rules",
    "enable_dashboards": "dashboards belong to Grafana",
    "grafana_url": "dashboards belong to Grafana",
    "grafana_api_key": "dashboards belong to Grafana",
    "enable_tracing": "tracing is on when otlp_endpoint is set",
    "enable_metrics": "pass metrics_enabled=",
}


class _Sync:
    def __init__(self, owner: MonitoringManager) -> None:
        self._owner = owner

    def start(self) -> None:
        """Start the metrics server (when a port is given) and tracing, from sync code."""
        self._owner._start()

    def stop(self) -> None:
        """Stop them again."""
        self._owner._stop()

    def get_health_status(self) -> HealthReport:
        """Run the health checks from sync code (outside an event loop)."""
        return asyncio.run(self._owner.get_health_status())


class MonitoringManager:
    """Metrics, tracing and health for one service, configured in one place.

    The original keywords work (``service_name``, ``service_version``, ``environment``,
    ``prometheus_port``, ``prometheus_path``, ``otlp_endpoint``); keywords whose features
    were dropped raise ``UnsupportedOptionError`` (a ``TypeError``) naming the replacement.
    """

    def __init__(
        self,
        service_name: str,
        service_version: str | None = None,
        environment: str | None = None,
        *,
        prometheus_port: int | None = None,
        prometheus_path: str = "/metrics",
        otlp_endpoint: str | None = None,
        namespace: str = "",
        const_labels: Mapping[str, str] | None = None,
        metrics_enabled: bool | None = None,
        created_series: bool = False,
        max_label_sets: int = 1000,
        sample_ratio: float = 1.0,
        exclude_paths: Iterable[str] = ("/metrics", "/livez", "/readyz"),
        prometheus_addr: str = "0.0.0.0",
        metrics: MetricsManager | None = None,
        registry: CollectorRegistry | None = None,
        tracing: TracingManager | None = None,
        health: HealthCheck | None = None,
        **removed: Any,
    ) -> None:
        if removed:
            name = sorted(removed)[0]
            hint = _REMOVED.get(name)
            if hint is None:
                raise UnsupportedOptionError(
                    f"MonitoringManager() got an unexpected keyword argument {name!r}"
                )
            raise UnsupportedOptionError(
                f"MonitoringManager({name}=...) is no longer supported: {hint}"
            )
        if not isinstance(service_name, str) or not service_name.strip():
            raise ConfigurationError(f"service_name must be a non-empty name, got {service_name!r}")
        if prometheus_port is not None and (
            isinstance(prometheus_port, bool)
            or not isinstance(prometheus_port, int)
            or not 0 <= prometheus_port <= 65535
        ):
            raise ConfigurationError(
                f"prometheus_port must be a port number or None, got {prometheus_port!r}"
            )
        if not isinstance(prometheus_path, str) or not prometheus_path.startswith("/"):
            raise ConfigurationError(
                f"prometheus_path must start with '/', got {prometheus_path!r}"
            )
        self.service_name = service_name
        self.service_version = service_version
        self.environment = environment
        self.prometheus_port = prometheus_port
        self.prometheus_path = prometheus_path
        self.prometheus_addr = prometheus_addr
        self.created_series = created_series
        self.exclude_paths = tuple(exclude_paths)
        if metrics is not None and registry is not None:
            raise ConfigurationError(
                "pass metrics= (a MetricsManager, which has its registry) or registry= (the "
                "registry of the manager built here), not both"
            )
        self.metrics = metrics or MetricsManager(
            namespace,
            const_labels,
            registry,
            enabled=metrics_enabled,
            max_label_sets=max_label_sets,
        )
        self.tracing = tracing or TracingManager(
            service_name,
            service_version,
            environment,
            endpoint=otlp_endpoint,
            sample_ratio=sample_ratio,
            exclude_paths=self.exclude_paths,
            metrics=self.metrics,
        )
        self.health = health or HealthCheck(service=service_name, version=service_version)
        self.server: MetricsServer | None = None
        self.sync = _Sync(self)

    def __repr__(self) -> str:
        return (
            f"MonitoringManager(service_name={self.service_name!r}, "
            f"prometheus_port={self.prometheus_port!r}, tracing={self.tracing.enabled})"
        )

    @classmethod
    def from_settings(
        cls, section: Any, *, service: Any = None, **overrides: Any
    ) -> MonitoringManager:
        """Build from maestro-core-config's ``MonitoringSettings`` (duck typed) and optionally
        its ``ServiceSettings`` (``name``, ``version``); keywords override the settings.

        The metrics go to prometheus_client's default registry unless ``registry=`` says
        which (a service's tests give each app its own ``CollectorRegistry()``)."""
        kwargs: dict[str, Any] = {
            "metrics_enabled": section.metrics_enabled,
            "prometheus_port": section.metrics_port,
            "namespace": section.namespace,
            "created_series": section.created_series,
            "max_label_sets": section.max_label_sets,
            "otlp_endpoint": section.otlp_endpoint,
            "sample_ratio": section.traces_sample_ratio,
            "exclude_paths": tuple(section.exclude_paths),
        }
        if service is not None:
            kwargs["service_name"] = service.name
            kwargs["service_version"] = getattr(service, "version", None)
        kwargs.update(overrides)
        if "service_name" not in kwargs:
            raise ConfigurationError(
                "from_settings needs the service name: pass service=settings.service or "
                "service_name='orders'"
            )
        return cls(**kwargs)

    # -- lifecycle -------------------------------------------------------------------------

    def use_as_default(self) -> MonitoringManager:
        """Make this manager's metrics the ones behind ``counter()``, ``histogram()``, ..."""
        set_default_manager(self.metrics)
        return self

    def _start(self) -> None:
        if self.prometheus_port is not None and self.server is None:
            from ._exposition import start_metrics_server

            self.server = start_metrics_server(
                self.prometheus_port,
                self.prometheus_addr,
                metrics=self.metrics,
                created_series=self.created_series,
                path=self.prometheus_path,
            )
        self.tracing.start()

    def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.tracing.shutdown()

    async def start(self) -> None:
        """Start the metrics server (when a port is given) and tracing."""
        self._start()

    async def stop(self) -> None:
        """Stop the metrics server and flush the traces."""
        await asyncio.to_thread(self._stop)

    async def __aenter__(self) -> MonitoringManager:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def get_health_status(self) -> HealthReport:
        """Run the health checks (the original verb)."""
        return await self.health.run_checks()

    def metrics_app(self) -> MetricsApp:
        """The ASGI scrape endpoint for this manager's metrics (mount at ``prometheus_path``)."""
        from ._exposition import metrics_app

        return metrics_app(self.metrics, created_series=self.created_series)

    def add_middleware(self, app: Any) -> None:
        """Add the RED metrics middleware (and tracing, when configured) to a Starlette app."""
        from ._middleware import MetricsMiddleware

        app.add_middleware(
            MetricsMiddleware, metrics=self.metrics, exclude_paths=self.exclude_paths
        )
        if self.tracing.enabled:
            self.tracing.instrument_app(app)
