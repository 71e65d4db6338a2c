"""MonitoringSettings: what maestro-monitoring takes, read from MAESTRO_MONITORING__*."""

from __future__ import annotations

import pytest
from maestro_core_config import MaestroSettings, MaestroSettingsConfigDict, MonitoringSettings
from pydantic import ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    monitoring: MonitoringSettings = MonitoringSettings()


def test_monitoring_defaults_are_the_embedded_ones() -> None:
    """With nothing configured: metrics on and mounted on the app, no tracing, _created off."""
    section = MonitoringSettings()
    assert section.metrics_enabled is True
    assert section.metrics_port is None
    assert section.namespace == ""
    assert section.created_series is False
    assert section.max_label_sets == 1000
    assert section.otlp_endpoint is None
    assert section.traces_sample_ratio == 0.0
    assert "/metrics" in section.exclude_paths


def test_monitoring_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_MONITORING__* variables fill the section."""
    monkeypatch.setenv("MAESTRO_MONITORING__METRICS_ENABLED", "false")
    monkeypatch.setenv("MAESTRO_MONITORING__METRICS_PORT", "9464")
    monkeypatch.setenv("MAESTRO_MONITORING__NAMESPACE", "orders")
    monkeypatch.setenv("MAESTRO_MONITORING__OTLP_ENDPOINT", "http://otel-collector:4318")
    monkeypatch.setenv("MAESTRO_MONITORING__TRACES_SAMPLE_RATIO", "0.25")
    monkeypatch.setenv("MAESTRO_MONITORING__EXCLUDE_PATHS", '["/metrics", "/healthz"]')
    section = _Settings().monitoring
    assert section.metrics_enabled is False
    assert section.metrics_port == 9464
    assert section.namespace == "orders"
    assert section.otlp_endpoint == "http://otel-collector:4318"
    assert section.traces_sample_ratio == 0.25
    assert section.exclude_paths == ("/metrics", "/healthz")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("traces_sample_ratio", 1.5),
        ("max_label_sets", 0),
        ("metrics_port", 70000),
        ("namespace", "Bad-Name"),
    ],
)
def test_monitoring_rejects_bad_values(field: str, value: object) -> None:
    """Out-of-range ratios, ports, limits and non-snake_case namespaces are refused."""
    with pytest.raises(ValidationError):
        MonitoringSettings.model_validate({field: value})
