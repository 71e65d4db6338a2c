"""Metric wrappers and MetricsManager: checked names, const labels, pre-bound children, a
cardinality guard, and a switch that turns every metric into a no-op.

prometheus_client is imported when the first manager is built, never at package import.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from ._errors import CardinalityWarning, ConfigurationError, MetricNameError
from ._names import check_label_names, check_metric_name, check_namespace

if TYPE_CHECKING:
    from prometheus_client.registry import Collector, CollectorRegistry

__all__ = [
    "DEFAULT_BUCKETS",
    "OVERFLOW",
    "Counter",
    "CounterChild",
    "Gauge",
    "GaugeChild",
    "Histogram",
    "HistogramChild",
    "Info",
    "InfoChild",
    "MetricsManager",
    "Summary",
    "SummaryChild",
    "counter",
    "default_manager",
    "env_flag",
    "gauge",
    "histogram",
    "info",
    "set_default_manager",
    "summary",
]

logger = logging.getLogger("maestro.monitoring")

#: OpenTelemetry's advisory buckets for HTTP server durations, in seconds.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
#: The label value every label of a metric takes once it reached ``max_label_sets``.
OVERFLOW = "__overflow__"

_F = TypeVar("_F", bound=Callable[..., Any])


class Timer(Protocol):
    """What ``.time()`` returns: a context manager and a decorator."""

    def __enter__(self) -> object: ...
    def __exit__(self, *exc: object) -> None: ...
    def __call__(self, f: _F) -> _F: ...


class CounterChild(Protocol):
    """One series of a counter (a pre-bound child): hold it, call ``inc()`` per event."""

    def inc(self, amount: float = 1, exemplar: dict[str, str] | None = None) -> None: ...


class GaugeChild(Protocol):
    """One series of a gauge."""

    def inc(self, amount: float = 1) -> None: ...
    def dec(self, amount: float = 1) -> None: ...
    def set(self, value: float) -> None: ...
    def set_to_current_time(self) -> None: ...
    def track_inprogress(self) -> Timer: ...
    def time(self) -> Timer: ...


class HistogramChild(Protocol):
    """One series of a histogram."""

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None: ...
    def time(self) -> Timer: ...


class SummaryChild(Protocol):
    """One series of a summary (count and sum)."""

    def observe(self, amount: float) -> None: ...
    def time(self) -> Timer: ...


class InfoChild(Protocol):
    """One series of an info metric."""

    def info(self, val: dict[str, str]) -> None: ...


class _NoopTimer:
    __slots__ = ()

    def __enter__(self) -> object:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, f: _F) -> _F:
        return f


_NOOP_TIMER = _NoopTimer()


class _Noop:
    """A child that does nothing: every metric when metrics are disabled."""

    __slots__ = ()

    def inc(self, amount: float = 1, exemplar: dict[str, str] | None = None) -> None:
        return None

    def dec(self, amount: float = 1) -> None:
        return None

    def set(self, value: float) -> None:
        return None

    def set_to_current_time(self) -> None:
        return None

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        return None

    def info(self, val: dict[str, str]) -> None:
        return None

    def track_inprogress(self) -> Timer:
        return _NOOP_TIMER

    def time(self) -> Timer:
        return _NOOP_TIMER


_NOOP = _Noop()

_C = TypeVar("_C")


class _Metric(Generic[_C]):
    """Shared behaviour: label binding with a child cache and the cardinality guard."""

    kind: ClassVar[str] = ""

    def __init__(
        self,
        name: str,
        documentation: str,
        raw: Any,
        labelnames: tuple[str, ...],
        *,
        const_values: tuple[str, ...],
        max_label_sets: int,
        signature: tuple[Any, ...] = (),
    ) -> None:
        self.name = name
        self._sig = signature
        self.documentation = documentation
        self.labelnames = labelnames
        self.max_label_sets = max_label_sets
        self._raw = raw
        self._const = const_values
        self._cache: dict[Any, _C] = {}
        self._sets: dict[tuple[str, ...], _C] = {}
        self._lock = threading.Lock()
        self._overflow: _C | None = None
        self._warned = False
        self._default: _C | None = None
        if not labelnames:
            self._default = self._make(())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} labels={list(self.labelnames)}>"

    def _make(self, values: tuple[str, ...]) -> _C:
        if self._raw is None:
            return _NOOP  # type: ignore[return-value]
        if self._const or values:
            child: _C = self._raw.labels(*self._const, *values)
            return child
        raw: _C = self._raw
        return raw

    def labels(self, *values: object, **named: object) -> _C:
        """The pre-bound child for these label values (cached: hold it on hot paths)."""
        key: Any = tuple(named.items()) if named else values
        try:
            return self._cache[key]
        except KeyError:
            return self._bind(key, values, named)
        except TypeError:
            raise ConfigurationError(
                f"label values of {self.name!r} must be strings or numbers, got {values or named!r}"
            ) from None

    def _bind(self, key: Any, values: tuple[object, ...], named: dict[str, object]) -> _C:
        names = self.labelnames
        if named:
            if values:
                raise ConfigurationError(
                    f"{self.name!r}: pass label values by position or by name, not both"
                )
            if set(named) != set(names):
                raise ConfigurationError(
                    f"{self.name!r} has labels {list(names)}, got {sorted(named)}: "
                    f"pass exactly those names"
                )
            norm = tuple(str(named[n]) for n in names)
        else:
            if not names:
                raise ConfigurationError(
                    f"{self.name!r} has no labels: use it directly instead of .labels()"
                )
            if len(values) != len(names):
                raise ConfigurationError(
                    f"{self.name!r} has labels {list(names)}: pass {len(names)} values, "
                    f"got {len(values)}"
                )
            norm = tuple(str(v) for v in values)
        with self._lock:
            child = self._sets.get(norm)
            if child is None:
                if len(self._sets) >= self.max_label_sets:
                    return self._overflowed()
                child = self._make(norm)
                self._sets[norm] = child
            if len(self._cache) < 4 * self.max_label_sets + 16:
                self._cache[key] = child
            return child

    def _overflowed(self) -> _C:
        # called with the lock held
        if self._overflow is None:
            self._overflow = self._make(tuple(OVERFLOW for _ in self.labelnames))
        if not self._warned:
            self._warned = True
            message = (
                f"metric {self.name!r} reached max_label_sets={self.max_label_sets}: new label "
                f"sets are counted under {OVERFLOW!r}; a label takes unbounded values "
                f"(user ids, raw paths?) - drop it or raise max_label_sets"
            )
            logger.warning(message)
            warnings.warn(message, CardinalityWarning, stacklevel=4)
        return self._overflow

    @property
    def label_sets(self) -> int:
        """How many distinct label sets this metric holds (the overflow series not counted)."""
        return len(self._sets)

    def _unlabeled(self) -> _C:
        if self._default is None:
            raise ConfigurationError(
                f"{self.name!r} has labels {list(self.labelnames)}: call "
                f".labels(...) first and hold the child"
            )
        return self._default


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)  # 3.13+; a free-threaded build may say no
    return True if check is None else bool(check())


class FastValue:
    """A metric value that takes no lock to change.

    prometheus_client keeps each value as a float under a mutex (``MutexValue``) and takes
    it on every change. Here every change is one or two C-level calls, each of which runs
    under the GIL without releasing it, so concurrent threads never lose an update:

    - a step of +1 (a counter's ``inc()``, a histogram bucket, a gauge going up) is
      ``next()`` on an ``itertools.count``, a step of -1 ``next()`` on a second one;
    - any other amount (a histogram's sum, ``inc(2.5)``) is appended to a deque and then
      folded into a running total by ``next()`` on an ``itertools.accumulate`` that pops
      the deque: each thread appends before it pops, so the deque is never empty when
      popped, and every amount lands in the total exactly once, whichever thread pops it.

    The value read is the base plus the total plus the steps up minus the steps down (down
    read first, so a gauge of requests in progress never reads below its true value); a
    read misses at most the amounts of threads between their append and their pop. ``set()``
    (and exemplars) take the lock and move the base by what was counted so far instead of
    replacing the counts, so an update racing a reset is never lost and the
    ``step_up``/``step_down``/``add`` callables stay valid for good. The interface is
    ``MutexValue``'s: prometheus_client's metric methods, ``collect()`` and our exposition
    read it unchanged.
    """

    __slots__ = (
        "_down",
        "_exemplar",
        "_lock",
        "_pending",
        "_reads",
        "_total",
        "_up",
        "_value",
        "add",
        "fold",
        "step_down",
        "step_up",
    )

    def __init__(self, value: float = 0.0, exemplar: Any = None) -> None:
        self._lock = threading.Lock()
        self._value = value
        self._exemplar = exemplar
        self._up = itertools.count()
        self._down = itertools.count()
        self._reads = 0
        self._pending: collections.deque[float] = collections.deque()
        self._total = itertools.accumulate(iter(self._pending.popleft, None))
        #: zero-argument C callables: one step up, one step down (hot paths call these)
        self.step_up: Callable[[], int] = self._up.__next__
        self.step_down: Callable[[], int] = self._down.__next__
        #: add an amount: ``add(amount)`` then ``fold()`` (both C callables)
        self.add: Callable[[float], None] = self._pending.append
        self.fold: Callable[[], float] = self._total.__next__

    def _counted(self) -> float:
        # with the lock held. A read draws from each count too (one C call, where parsing
        # its repr would take ten times as long): the steps are what it returns minus the
        # earlier reads; the deque gets a 0.0 to pop.
        down = self.step_down() - self._reads
        up = self.step_up() - self._reads
        self._reads += 1
        self.add(0.0)
        return self.fold() + up - down

    def inc(self, amount: float) -> None:
        if amount == 1:
            self.step_up()
        elif amount == -1:
            self.step_down()
        else:
            self.add(amount)
            self.fold()

    def set(self, value: float, timestamp: float | None = None) -> None:
        with self._lock:
            self._value = value - self._counted()

    def set_exemplar(self, exemplar: Any) -> None:
        with self._lock:
            self._exemplar = exemplar

    def get(self) -> float:
        with self._lock:
            return self._value + self._counted()

    def get_exemplar(self) -> Any:
        with self._lock:
            return self._exemplar


def _fast(value: Any) -> FastValue | None:
    """A FastValue holding what a plain in-process ``MutexValue`` holds (None: leave it)."""
    from prometheus_client.values import MutexValue

    raw: Any = value  # not narrowed to the untyped MutexValue
    if type(raw) is not MutexValue or not _gil_enabled():
        return None  # multiprocess (mmap) values, other layouts, a free-threaded build
    plain: Any = value
    return FastValue(plain.get(), plain.get_exemplar())


def _counter_inc(value: FastValue, slow: Callable[..., None]) -> Callable[..., None]:
    """A counter child's ``inc()``: +1 lock-free, anything else (and exemplars) through
    prometheus_client's own ``Counter.inc``, whose checks stay."""
    step = value.step_up

    def inc(amount: float = 1, exemplar: dict[str, str] | None = None) -> None:
        if amount == 1 and exemplar is None:
            step()
        else:
            slow(amount, exemplar)

    return inc


def _with_fast_values(child: Any) -> Any:
    """Give a plain prometheus_client Counter, Gauge or Histogram child FastValues (and a
    counter its lock-free ``inc()``); any other child is returned as it is."""
    from prometheus_client import Counter as PCounter
    from prometheus_client import Gauge as PGauge
    from prometheus_client import Histogram as PHistogram

    target: Any = child  # typed Any: the private attributes below
    kind = type(target)
    try:
        if kind is PCounter or (kind is PGauge and not target._is_most_recent):
            value = _fast(target._value)
            if value is not None:
                target._value = value
                if kind is PCounter:  # an instance attribute: found before the class's inc()
                    target.inc = _counter_inc(value, PCounter.inc.__get__(target))
        elif kind is PHistogram:
            values = [_fast(v) for v in (target._sum, *target._buckets)]
            if all(v is not None for v in values):
                target._sum, *buckets = values
                target._buckets = buckets
    except AttributeError:  # another prometheus_client layout: keep its own values
        pass
    return child


class Counter(_Metric[CounterChild]):
    """A counter; ``.labels(...)`` gives pre-bound children, ``.inc()`` works without labels."""

    kind = "counter"

    def _make(self, values: tuple[str, ...]) -> CounterChild:
        child: CounterChild = _with_fast_values(super()._make(values))
        return child

    def inc(self, amount: float = 1, exemplar: dict[str, str] | None = None) -> None:
        """Add ``amount`` (>= 0) to the unlabelled counter."""
        self._unlabeled().inc(amount, exemplar)


class Gauge(_Metric[GaugeChild]):
    """A gauge; ``.labels(...)`` gives pre-bound children."""

    kind = "gauge"

    def _make(self, values: tuple[str, ...]) -> GaugeChild:
        child: GaugeChild = _with_fast_values(super()._make(values))
        return child

    def inc(self, amount: float = 1) -> None:
        """Add ``amount``."""
        self._unlabeled().inc(amount)

    def dec(self, amount: float = 1) -> None:
        """Subtract ``amount``."""
        self._unlabeled().dec(amount)

    def set(self, value: float) -> None:
        """Set the value."""
        self._unlabeled().set(value)

    def set_to_current_time(self) -> None:
        """Set the value to the current Unix time."""
        self._unlabeled().set_to_current_time()

    def track_inprogress(self) -> Timer:
        """Count the blocks or calls in progress (context manager or decorator)."""
        return self._unlabeled().track_inprogress()

    def time(self) -> Timer:
        """Set the gauge to the duration of the block or call."""
        return self._unlabeled().time()


class Histogram(_Metric[HistogramChild]):
    """A histogram; ``.labels(...)`` gives pre-bound children."""

    kind = "histogram"

    def _make(self, values: tuple[str, ...]) -> HistogramChild:
        child: HistogramChild = _with_fast_values(super()._make(values))
        return child

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        """Record one observation."""
        self._unlabeled().observe(amount, exemplar)

    def time(self) -> Timer:
        """Observe the duration of the block or call, in seconds."""
        return self._unlabeled().time()


class Summary(_Metric[SummaryChild]):
    """A summary (count and sum); ``.labels(...)`` gives pre-bound children."""

    kind = "summary"

    def observe(self, amount: float) -> None:
        """Record one observation."""
        self._unlabeled().observe(amount)

    def time(self) -> Timer:
        """Observe the duration of the block or call, in seconds."""
        return self._unlabeled().time()


class Info(_Metric[InfoChild]):
    """An info metric (``<name>_info`` with the value 1 and the given labels)."""

    kind = "info"

    def info(self, val: dict[str, str]) -> None:
        """Set the info labels."""
        self._unlabeled().info(val)


_M = TypeVar("_M", bound=_Metric[Any])


def env_flag(name: str, default: bool) -> bool:
    """Read a boolean environment variable the pydantic way (true/false/1/0/yes/no/on/off)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", "t", "y"):
        return True
    if value in ("0", "false", "no", "off", "f", "n"):
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean: use true or false")


class MetricsManager:
    """Creates checked metrics in one registry, with a namespace and constant labels.

    ``registry=None`` uses prometheus_client's default registry (with the process and
    platform collectors). ``enabled=None`` reads ``MAESTRO_MONITORING__METRICS_ENABLED``
    (default true); when false every metric is a no-op. When ``PROMETHEUS_MULTIPROC_DIR``
    is set (by the launcher, before Python starts) the metrics live in that directory and
    the scrape reads every worker's files.
    """

    def __init__(
        self,
        namespace: str = "",
        const_labels: Mapping[str, str] | None = None,
        registry: CollectorRegistry | None = None,
        *,
        enabled: bool | None = None,
        max_label_sets: int = 1000,
    ) -> None:
        self.namespace = check_namespace(namespace or "")
        labels = dict(const_labels or {})
        check_label_names(labels, "const_labels")
        for key, value in labels.items():
            if not isinstance(value, str):
                raise ConfigurationError(
                    f"const_labels[{key!r}] must be a string, got {type(value).__name__}"
                )
        self.const_labels: dict[str, str] = labels
        self.enabled = (
            env_flag("MAESTRO_MONITORING__METRICS_ENABLED", True) if enabled is None else enabled
        )
        if (
            isinstance(max_label_sets, bool)
            or not isinstance(max_label_sets, int)
            or max_label_sets < 1
        ):
            raise ConfigurationError(
                f"max_label_sets must be a positive integer, got {max_label_sets!r}"
            )
        self.max_label_sets = max_label_sets
        self._metrics: dict[str, _Metric[Any]] = {}
        self._lock = threading.Lock()
        self.multiprocess_dir: str | None = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        import prometheus_client

        if self.multiprocess_dir is not None:
            from prometheus_client import values

            if getattr(values.ValueClass, "__name__", "") != "MmapedValue":
                raise ConfigurationError(
                    "PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                    "set it in the launcher's environment, before Python starts"
                )
            if not os.path.isdir(self.multiprocess_dir):
                raise ConfigurationError(
                    f"PROMETHEUS_MULTIPROC_DIR={self.multiprocess_dir!r} is not a directory: "
                    f"create it (maestro-monitoring prepare-multiproc DIR) before starting"
                )
        self.registry: CollectorRegistry = (
            prometheus_client.REGISTRY if registry is None else registry
        )
        self._exposition: CollectorRegistry | None = None
        self._stats: Any = None

    def __repr__(self) -> str:
        return (
            f"MetricsManager(namespace={self.namespace!r}, const_labels={self.const_labels!r}, "
            f"enabled={self.enabled}, metrics={len(self._metrics)})"
        )

    @property
    def multiprocess(self) -> bool:
        """True when metrics are shared by worker processes through PROMETHEUS_MULTIPROC_DIR."""
        return self.multiprocess_dir is not None

    @property
    def exposition_registry(self) -> CollectorRegistry:
        """What a scrape reads: the registry, or in multiprocess mode every worker's files."""
        if self._exposition is None:
            if self.multiprocess_dir is None:
                self._exposition = self.registry
            else:
                from prometheus_client import CollectorRegistry

                from ._multiprocess import FilesCollector

                registry = CollectorRegistry(auto_describe=False)
                registry.register(FilesCollector(self.multiprocess_dir))
                self._exposition = registry
        return self._exposition

    def add_collector(self, collector: Collector) -> None:
        """Register a custom collector where scrapes see it (also in multiprocess mode)."""
        self.exposition_registry.register(collector)

    # -- creation -----------------------------------------------------------------------

    def full_name(self, name: str) -> str:
        """``name`` with the namespace prefix."""
        return f"{self.namespace}_{name}" if self.namespace else name

    def _create(
        self,
        cls: type[_M],
        name: str,
        documentation: str,
        labels: Iterable[str],
        *,
        max_label_sets: int | None,
        factory: Callable[[str, tuple[str, ...]], Any],
        signature: tuple[Any, ...],
        namespaced: bool = True,
    ) -> _M:
        if not isinstance(documentation, str) or not documentation.strip():
            raise MetricNameError(
                f"metric {name!r} needs a help text (the HELP line): describe what it counts"
            )
        full = self.full_name(name) if namespaced else name
        check_metric_name(full, cls.kind)
        labelnames = check_label_names(labels, full)
        clash = set(labelnames) & set(self.const_labels)
        if clash:
            raise MetricNameError(
                f"{full!r}: labels {sorted(clash)} are already constant labels of this manager"
            )
        limit = self.max_label_sets if max_label_sets is None else max_label_sets
        if not _positive_int(limit):
            raise ConfigurationError(f"max_label_sets must be a positive integer, got {limit!r}")
        key = (cls.kind, labelnames, *signature)
        with self._lock:
            existing = self._metrics.get(full)
            if existing is not None:
                if (existing.kind, existing.labelnames, *existing._sig) != key:
                    raise MetricNameError(
                        f"metric {full!r} already exists as a {existing.kind} with labels "
                        f"{list(existing.labelnames)}: one name, one type and one label set; "
                        f"choose another name"
                    )
                if not isinstance(existing, cls):
                    raise MetricNameError(f"metric {full!r} already exists as a {existing.kind}")
                return existing
            raw: Any = None
            if self.enabled:
                all_labels = (*self.const_labels, *labelnames)
                try:
                    raw = factory(full, all_labels)
                except ValueError as exc:
                    raise MetricNameError(
                        f"metric {full!r} cannot be registered: {exc}; another library or "
                        f"manager uses this name in the same registry, choose another name"
                    ) from None
            metric = cls(
                full,
                documentation,
                raw,
                labelnames,
                const_values=tuple(self.const_labels.values()),
                max_label_sets=limit,
                signature=signature,
            )
            self._metrics[full] = metric
            return metric

    def counter(
        self,
        name: str,
        documentation: str,
        labels: Iterable[str] = (),
        *,
        max_label_sets: int | None = None,
    ) -> Counter:
        """A counter; the name must end with ``_total``."""
        from prometheus_client import Counter as PCounter

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PCounter(full, documentation, labelnames, registry=self.registry)

        return self._create(
            Counter,
            name,
            documentation,
            labels,
            max_label_sets=max_label_sets,
            factory=make,
            signature=(),
        )

    def gauge(
        self,
        name: str,
        documentation: str,
        labels: Iterable[str] = (),
        *,
        max_label_sets: int | None = None,
        multiprocess_mode: str = "livesum",
    ) -> Gauge:
        """A gauge; ``multiprocess_mode`` says how worker values combine in multiprocess mode."""
        from prometheus_client import Gauge as PGauge

        if multiprocess_mode not in PGauge._MULTIPROC_MODES:
            raise ConfigurationError(
                f"multiprocess_mode {multiprocess_mode!r} is unknown: use one of "
                f"{sorted(PGauge._MULTIPROC_MODES)}"
            )

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PGauge(
                full,
                documentation,
                labelnames,
                registry=self.registry,
                multiprocess_mode=multiprocess_mode,  # type: ignore[arg-type]
            )

        return self._create(
            Gauge,
            name,
            documentation,
            labels,
            max_label_sets=max_label_sets,
            factory=make,
            signature=(multiprocess_mode,),
        )

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Iterable[str] = (),
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        max_label_sets: int | None = None,
    ) -> Histogram:
        """A histogram with ``buckets`` (upper bounds, increasing; +Inf is added)."""
        from prometheus_client import Histogram as PHistogram

        bounds = _check_buckets(name, buckets)

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PHistogram(
                full, documentation, labelnames, registry=self.registry, buckets=bounds
            )

        return self._create(
            Histogram,
            name,
            documentation,
            labels,
            max_label_sets=max_label_sets,
            factory=make,
            signature=(bounds,),
        )

    def summary(
        self,
        name: str,
        documentation: str,
        labels: Iterable[str] = (),
        *,
        max_label_sets: int | None = None,
    ) -> Summary:
        """A summary (count and sum of observations)."""
        from prometheus_client import Summary as PSummary

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PSummary(full, documentation, labelnames, registry=self.registry)

        return self._create(
            Summary,
            name,
            documentation,
            labels,
            max_label_sets=max_label_sets,
            factory=make,
            signature=(),
        )

    def info(
        self,
        name: str,
        documentation: str,
        labels: Iterable[str] = (),
        *,
        max_label_sets: int | None = None,
    ) -> Info:
        """An info metric, exposed as ``<name>_info``."""
        from prometheus_client import Info as PInfo

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PInfo(full, documentation, labelnames, registry=self.registry)

        return self._create(
            Info,
            name,
            documentation,
            labels,
            max_label_sets=max_label_sets,
            factory=make,
            signature=(),
        )

    def _create_unprefixed_histogram(
        self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> Histogram:
        """A histogram with a standard (semantic-convention) name: no namespace prefix."""
        from prometheus_client import Histogram as PHistogram

        bounds = _check_buckets(name, buckets)

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PHistogram(
                full, documentation, labelnames, registry=self.registry, buckets=bounds
            )

        return self._create(
            Histogram,
            name,
            documentation,
            labels,
            max_label_sets=100_000,
            factory=make,
            signature=(bounds,),
            namespaced=False,
        )

    def _create_unprefixed_gauge(
        self, name: str, documentation: str, labels: tuple[str, ...], mode: str = "livesum"
    ) -> Gauge:
        """A gauge with a standard name: no namespace prefix."""
        from prometheus_client import Gauge as PGauge

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PGauge(
                full,
                documentation,
                labelnames,
                registry=self.registry,
                multiprocess_mode=mode,  # type: ignore[arg-type]
            )

        return self._create(
            Gauge,
            name,
            documentation,
            labels,
            max_label_sets=1_000,
            factory=make,
            signature=(mode,),
            namespaced=False,
        )

    def _create_standard_counter(
        self, name: str, documentation: str, labels: tuple[str, ...]
    ) -> Counter:
        """A counter with a standard name: no namespace prefix."""
        from prometheus_client import Counter as PCounter

        def make(full: str, labelnames: tuple[str, ...]) -> Any:
            return PCounter(full, documentation, labelnames, registry=self.registry)

        return self._create(
            Counter,
            name,
            documentation,
            labels,
            max_label_sets=10_000,
            factory=make,
            signature=(),
            namespaced=False,
        )

    def get(self, name: str) -> _Metric[Any] | None:
        """The metric created under ``name`` (with the namespace), or None."""
        return self._metrics.get(name)

    # -- bridges ------------------------------------------------------------------------

    def register_stats(
        self,
        prefix: str,
        source: Callable[[], object],
        *,
        labels: Mapping[str, str] | None = None,
        timeout: float = 1.0,
    ) -> None:
        """Read ``source()`` at scrape time: ``*_total`` fields become counters, others gauges."""
        from ._stats import StatsBridge

        if self._stats is None:
            self._stats = StatsBridge()
            self.add_collector(self._stats)
        self._stats.add(prefix, source, labels, timeout, self.const_labels)


def _check_buckets(name: str, buckets: Sequence[float]) -> tuple[float, ...]:
    try:
        bounds = tuple(float(b) for b in buckets)
    except (TypeError, ValueError):
        raise ConfigurationError(f"buckets of {name!r} must be numbers, got {buckets!r}") from None
    if bounds and bounds[-1] == float("inf"):
        bounds = bounds[:-1]
    if not bounds or any(b >= c for b, c in itertools.pairwise(bounds)):
        raise ConfigurationError(
            f"buckets of {name!r} must be a non-empty, strictly increasing list of upper "
            f"bounds in base units (seconds, bytes), got {list(buckets)!r}"
        )
    return (*bounds, float("inf"))


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


_default: list[MetricsManager] = []
_default_lock = threading.Lock()


def default_manager() -> MetricsManager:
    """The process-wide manager behind ``counter()``, ``histogram()``, ... (built on first use)."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(MetricsManager())
    return _default[0]


def set_default_manager(manager: MetricsManager) -> None:
    """Make ``manager`` the one behind the module-level functions."""
    with _default_lock:
        _default[:] = [manager]


def counter(
    name: str,
    documentation: str,
    labels: Iterable[str] = (),
    *,
    max_label_sets: int | None = None,
) -> Counter:
    """A counter in the default manager (name ends with ``_total``)."""
    return default_manager().counter(name, documentation, labels, max_label_sets=max_label_sets)


def gauge(
    name: str,
    documentation: str,
    labels: Iterable[str] = (),
    *,
    max_label_sets: int | None = None,
    multiprocess_mode: str = "livesum",
) -> Gauge:
    """A gauge in the default manager."""
    return default_manager().gauge(
        name,
        documentation,
        labels,
        max_label_sets=max_label_sets,
        multiprocess_mode=multiprocess_mode,
    )


def histogram(
    name: str,
    documentation: str,
    labels: Iterable[str] = (),
    *,
    buckets: Sequence[float] = DEFAULT_BUCKETS,
    max_label_sets: int | None = None,
) -> Histogram:
    """A histogram in the default manager (``DEFAULT_BUCKETS``: OTel's HTTP buckets)."""
    return default_manager().histogram(
        name, documentation, labels, buckets=buckets, max_label_sets=max_label_sets
    )


def summary(
    name: str,
    documentation: str,
    labels: Iterable[str] = (),
    *,
    max_label_sets: int | None = None,
) -> Summary:
    """A summary in the default manager."""
    return default_manager().summary(name, documentation, labels, max_label_sets=max_label_sets)


def info(
    name: str,
    documentation: str,
    labels: Iterable[str] = (),
    *,
    max_label_sets: int | None = None,
) -> Info:
    """An info metric in the default manager."""
    return default_manager().info(name, documentation, labels, max_label_sets=max_label_sets)
