"""The stats bridge: other packages' ``stats()`` read at scrape time, time-boxed, never imported."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ._errors import ConfigurationError, MetricNameError
from ._names import check_label_names, check_namespace

__all__ = ["StatsBridge"]

logger = logging.getLogger("maestro.monitoring")
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


class _Source:
    def __init__(
        self,
        prefix: str,
        source: Callable[[], object],
        labels: dict[str, str],
        timeout: float,
    ) -> None:
        self.prefix = prefix
        self.source = source
        self.labels = labels
        self.timeout = timeout
        self.pending: threading.Thread | None = None
        self.failing = False

    def read(self) -> Mapping[str, Any] | None:
        if self.pending is not None and self.pending.is_alive():
            self._fail("the previous call has not returned yet")
            return None
        box: dict[str, Any] = {}

        def call() -> None:
            try:
                box["value"] = self.source()
            except Exception as exc:
                box["error"] = exc

        # a daemon thread: a source that never returns cannot hold up interpreter exit
        thread = threading.Thread(target=call, name=f"maestro-stats-{self.prefix}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        self.pending = thread
        if thread.is_alive():
            self._fail(f"did not return within {self.timeout:g}s")
            return None
        if "error" in box:
            self._fail(f"raised {type(box['error']).__name__}")
            return None
        value = box.get("value")
        fields = _as_mapping(value)
        if fields is None:
            self._fail(f"returned a {type(value).__name__}, not a dataclass or mapping")
            return None
        if self.failing:
            logger.info("stats source %r recovered", self.prefix)
            self.failing = False
        return fields

    def _fail(self, why: str) -> None:
        if not self.failing:
            self.failing = True
            logger.warning(
                "stats source %r %s: its series are left out of this scrape "
                "(logged once until it recovers)",
                self.prefix,
                why,
            )


def _as_mapping(value: object) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    asdict = getattr(value, "_asdict", None)
    if callable(asdict):
        result = asdict()
        if isinstance(result, Mapping):
            return result
    return None


class StatsBridge(Collector):
    """One collector for every registered source, so equal prefixes merge into one family."""

    def __init__(self) -> None:
        self._sources: list[_Source] = []
        self._lock = threading.Lock()
        self._skipped: set[str] = set()

    def add(
        self,
        prefix: str,
        source: Callable[[], object],
        labels: Mapping[str, str] | None,
        timeout: float,
        const_labels: Mapping[str, str],
    ) -> None:
        try:
            check_namespace(prefix)
        except MetricNameError:
            raise MetricNameError(
                f"stats prefix {prefix!r} is not snake_case: use for example 'maestro_cache'"
            ) from None
        if not prefix:
            raise ConfigurationError("register_stats needs a prefix, for example 'maestro_cache'")
        if not callable(source):
            raise ConfigurationError(
                f"register_stats({prefix!r}, ...) needs a callable returning the stats "
                f"(for example cache.stats, not cache.stats()), got {type(source).__name__}"
            )
        timeout = getattr(timeout, "total_seconds", lambda: timeout)()
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise ConfigurationError(f"timeout must be positive seconds, got {timeout!r}")
        extra = dict(labels or {})
        check_label_names(extra, prefix)
        merged = {**const_labels, **{k: str(v) for k, v in extra.items()}}
        with self._lock:
            self._sources.append(_Source(prefix, source, merged, float(timeout)))

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        with self._lock:
            sources = list(self._sources)
        for src in sources:
            fields = src.read()
            if fields is None:
                continue
            labels = src.labels
            for field, value in fields.items():
                if isinstance(value, bool):
                    number = 1.0 if value else 0.0
                elif isinstance(value, int | float):
                    number = float(value)
                else:
                    continue
                if not isinstance(field, str) or not _FIELD.match(field):
                    self._skip(src.prefix, str(field))
                    continue
                counter = field.endswith("_total") and not isinstance(value, bool)
                if counter and (number < 0 or math.isnan(number)):
                    continue
                name = f"{src.prefix}_{field}"
                family_name = name[: -len("_total")] if counter else name
                family = families.get(family_name)
                if family is None:
                    doc = f"{field} from the {src.prefix} stats()"
                    family = Metric(family_name, doc, "counter" if counter else "gauge")
                    families[family_name] = family
                elif family.type != ("counter" if counter else "gauge"):
                    continue
                family.add_sample(name, labels, number)
        yield from families.values()

    def _skip(self, prefix: str, field: str) -> None:
        key = f"{prefix}.{field}"
        if key not in self._skipped:
            self._skipped.add(key)
            logger.warning(
                "stats field %r of %r is not a snake_case name: left out of the metrics",
                field,
                prefix,
            )
