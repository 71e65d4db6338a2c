"""Metric and label naming rules, checked when a metric is created (promtool's rules and more)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._errors import MetricNameError

__all__ = ["check_label_names", "check_metric_name", "check_namespace"]

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# Non-base units (last word of the name) and the base unit to use instead.
_UNITS = {
    "ms": "seconds",
    "msec": "seconds",
    "millis": "seconds",
    "milliseconds": "seconds",
    "us": "seconds",
    "micros": "seconds",
    "microseconds": "seconds",
    "ns": "seconds",
    "nanos": "seconds",
    "nanoseconds": "seconds",
    "secs": "seconds",
    "minutes": "seconds",
    "hours": "seconds",
    "days": "seconds",
    "kb": "bytes",
    "kib": "bytes",
    "kilobytes": "bytes",
    "mb": "bytes",
    "mib": "bytes",
    "megabytes": "bytes",
    "gb": "bytes",
    "gigabytes": "bytes",
    "bits": "bytes",
    "percent": "ratio",
    "pct": "ratio",
}
# Suffixes Prometheus writes itself for other series of a metric.
_GENERATED = ("_bucket", "_count", "_sum", "_gcount", "_gsum")


def check_namespace(namespace: str) -> str:
    """Validate a namespace (metric name prefix); '' means none."""
    if namespace and not _SNAKE.match(namespace):
        raise MetricNameError(
            f"namespace {namespace!r} is not snake_case: use lower-case letters, digits and "
            f"underscores, starting with a letter (for example {_suggest(namespace)!r})"
        )
    return namespace


def check_metric_name(name: str, kind: str) -> None:
    """Raise MetricNameError when ``name`` is not a good name for a metric of type ``kind``."""
    if not isinstance(name, str) or not _SNAKE.match(name) or "__" in name:
        raise MetricNameError(
            f"metric name {name!r} is not snake_case: use lower-case letters, digits and single "
            f"underscores, starting with a letter (for example {_suggest(str(name))!r})"
        )
    if kind == "counter":
        if not name.endswith("_total") or name == "_total":
            raise MetricNameError(
                f"counter {name!r} must end with '_total': name it {name + '_total'!r}"
            )
        stem = name[: -len("_total")]
    else:
        if name.endswith("_total"):
            raise MetricNameError(
                f"{kind} {name!r} must not end with '_total' (only counters do): "
                f"name it {name[: -len('_total')]!r}, or make it a counter"
            )
        stem = name
    if kind == "info" and stem.endswith("_info"):
        raise MetricNameError(
            f"info {name!r} must not end with '_info' (Prometheus adds it): "
            f"name it {stem[: -len('_info')]!r}"
        )
    for suffix in _GENERATED:
        if kind != "counter" and stem.endswith(suffix):
            raise MetricNameError(
                f"{kind} {name!r} ends with {suffix!r}, which Prometheus reserves for the series "
                f"it generates: choose another last word"
            )
    last = stem.rsplit("_", 1)[-1]
    base = _UNITS.get(last)
    if base is not None:
        fixed = stem[: -len(last)] + base + name[len(stem) :]
        raise MetricNameError(
            f"metric {name!r} uses the non-base unit {last!r}: Prometheus metrics use base units; "
            f"name it {fixed!r} and record {base}"
        )


def check_label_names(labels: Iterable[str], metric: str) -> tuple[str, ...]:
    """Validate label names; returns them as a tuple."""
    if isinstance(labels, str):
        raise MetricNameError(
            f"labels of {metric!r} must be a list of names, not the string {labels!r}: "
            f"write labels=[{labels!r}]"
        )
    result = tuple(labels)
    seen: set[str] = set()
    for label in result:
        if not isinstance(label, str) or not _LABEL.match(label):
            raise MetricNameError(
                f"label name {label!r} of {metric!r} is invalid: use letters, digits and "
                f"underscores, not starting with a digit"
            )
        if label.startswith("__"):
            raise MetricNameError(
                f"label name {label!r} of {metric!r} is reserved: names starting with '__' "
                f"belong to Prometheus; drop the leading underscores"
            )
        if label in ("le", "quantile"):
            raise MetricNameError(
                f"label name {label!r} of {metric!r} is reserved for histogram buckets and "
                f"summary quantiles: rename it (for example {label + '_value'!r})"
            )
        if label in seen:
            raise MetricNameError(f"label name {label!r} appears twice in {metric!r}")
        seen.add(label)
    return result


def _suggest(name: str) -> str:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    snake = re.sub(r"[^a-zA-Z0-9]+", "_", snake).strip("_").lower()
    snake = re.sub(r"_+", "_", snake)
    if not snake or not snake[0].isalpha():
        snake = "m_" + snake
    return snake
