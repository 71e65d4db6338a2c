"""The public namespace is exactly __all__, and importing the package stays light."""

from __future__ import annotations

import maestro_monitoring
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert_public_namespace(maestro_monitoring)


def test_spec_names_are_exported() -> None:
    """Every name the specification lists is exported."""
    spec = [
        "DEFAULT_BUCKETS",
        "CardinalityWarning",
        "CheckResult",
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
        "__version__",
    ]
    assert set(spec) <= set(maestro_monitoring.__all__)


def test_import_loads_neither_prometheus_client_nor_opentelemetry() -> None:
    """A fresh `import maestro_monitoring` loads no prometheus_client, OpenTelemetry or protobuf."""
    assert_light_import(
        "maestro_monitoring",
        ["prometheus_client", "opentelemetry", "google.protobuf", "requests", "starlette"],
    )


def test_version_comes_from_the_metadata() -> None:
    """__version__ is the installed distribution's version."""
    assert maestro_monitoring.__version__ == package_version("maestro-monitoring")


def test_errors_form_one_family() -> None:
    """Every error subclasses MaestroMonitoringError and the builtin it stands for."""
    m = maestro_monitoring
    assert issubclass(m.MetricNameError, m.ConfigurationError)
    assert issubclass(m.ConfigurationError, (m.MaestroMonitoringError, ValueError))
    assert issubclass(m.UnsupportedOptionError, TypeError)
    assert issubclass(m.MissingExtraError, (m.MaestroMonitoringError, ImportError))
    err = m.MissingExtraError("tracing", "otel", "opentelemetry")
    assert str(err) == "tracing needs the otel extra: pip install 'maestro-monitoring[otel]'"
    assert err.name == "opentelemetry"
