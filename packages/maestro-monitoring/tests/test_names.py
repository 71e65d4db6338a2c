"""Metric names are checked when created: snake_case, base units, _total, reserved labels."""

from __future__ import annotations

import pytest
from maestro_monitoring import MetricNameError, MetricsManager


@pytest.mark.parametrize(
    ("kind", "name", "fix"),
    [
        ("counter", "latency_ms_total", "latency_seconds_total"),
        ("histogram", "latency_ms", "latency_seconds"),
        ("gauge", "payload_kb", "payload_bytes"),
        ("histogram", "request_millis", "request_seconds"),
        ("counter", "bytes_sent", "bytes_sent_total"),
        ("gauge", "jobs_total", "'jobs'"),
        ("counter", "Bad-Name_total", "bad_name_total"),
        ("gauge", "queueDepth", "queue_depth"),
        ("summary", "latency_count", "reserves"),
        ("info", "build_info", "'build'"),
    ],
)
def test_bad_names_name_the_rule_and_the_fix(
    metrics: MetricsManager, kind: str, name: str, fix: str
) -> None:
    """Each naming mistake raises MetricNameError whose message contains the fix."""
    make = getattr(metrics, kind)
    with pytest.raises(MetricNameError, match=fix):
        make(name, "help text")


@pytest.mark.parametrize(
    ("kind", "label"),
    [("histogram", "le"), ("summary", "quantile"), ("counter", "__name__"), ("gauge", "1abc")],
)
def test_reserved_and_invalid_labels_are_refused(
    metrics: MetricsManager, kind: str, label: str
) -> None:
    """Reserved label names (le, quantile, __*) and invalid ones are refused."""
    name = "things_total" if kind == "counter" else "things"
    with pytest.raises(MetricNameError, match=repr(label)):
        getattr(metrics, kind)(name, "help", labels=[label])


def test_a_label_string_is_not_a_list(metrics: MetricsManager) -> None:
    """labels='channel' is caught (it would be seven one-letter labels)."""
    with pytest.raises(MetricNameError, match=r"labels=\['channel'\]"):
        metrics.counter("orders_total", "Orders", labels="channel")


def test_one_name_one_type(metrics: MetricsManager) -> None:
    """A name already used by another type or label set is refused; the same one is reused."""
    first = metrics.gauge("queue_depth", "Depth", labels=["queue"])
    assert metrics.gauge("queue_depth", "Depth", labels=["queue"]) is first
    with pytest.raises(MetricNameError, match="already exists as a gauge"):
        metrics.histogram("queue_depth", "Depth")
    with pytest.raises(MetricNameError, match="already exists"):
        metrics.gauge("queue_depth", "Depth", labels=["other"])


def test_help_text_is_required(metrics: MetricsManager) -> None:
    """A metric without HELP text is refused (promtool requires it)."""
    with pytest.raises(MetricNameError, match="help text"):
        metrics.counter("orders_total", "  ")


def test_namespace_is_checked() -> None:
    """A namespace that is not snake_case is refused with a suggestion."""
    with pytest.raises(MetricNameError, match="my_app"):
        MetricsManager(namespace="My-App")


def test_a_name_taken_in_the_registry_by_someone_else(metrics: MetricsManager) -> None:
    """A clash with a metric registered outside the manager is a MetricNameError."""
    from prometheus_client import Counter

    Counter("taken_total", "Taken elsewhere", registry=metrics.registry)
    with pytest.raises(MetricNameError, match="taken_total"):
        metrics.counter("taken_total", "Taken here")
