"""maestro-monitoring: cheap, promtool-clean Prometheus metrics, RED metrics by route template,
pre-fork-safe OpenTelemetry tracing and health checks for Maestro services.

Importing the package loads neither prometheus_client nor OpenTelemetry: the first metric
created loads prometheus_client, ``TracingManager.start()`` loads OpenTelemetry.
"""

from ._errors import (
    CardinalityWarning,
    ConfigurationError,
    MaestroMonitoringError,
    MetricNameError,
    MissingExtraError,
    UnsupportedOptionError,
)
from ._exposition import metrics_app, start_metrics_server
from ._health import CheckResult, HealthCheck, HealthReport, HealthStatus
from ._manager import MonitoringManager
from ._metrics import (
    DEFAULT_BUCKETS,
    MetricsManager,
    counter,
    gauge,
    histogram,
    info,
    summary,
)
from ._middleware import MetricsMiddleware
from ._resilience import resilience_listener
from ._tracing import (
    TracingManager,
    add_span_attribute,
    get_current_span,
    get_tracer,
    record_exception,
    trace,
)
from ._version import __version__

__all__ = [  # noqa: RUF022 - plain sorted(), as the family contract checks
    "CardinalityWarning",
    "CheckResult",
    "ConfigurationError",
    "DEFAULT_BUCKETS",
    "HealthCheck",
    "HealthReport",
    "HealthStatus",
    "MaestroMonitoringError",
    "MetricNameError",
    "MetricsManager",
    "MetricsMiddleware",
    "MissingExtraError",
    "MonitoringManager",
    "TracingManager",
    "UnsupportedOptionError",
    "__version__",
    "add_span_attribute",
    "counter",
    "gauge",
    "get_current_span",
    "get_tracer",
    "histogram",
    "info",
    "metrics_app",
    "record_exception",
    "resilience_listener",
    "start_metrics_server",
    "summary",
    "trace",
]
