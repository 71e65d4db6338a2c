"""maestro-resilience events as metrics, without importing maestro-resilience (duck typing)."""

from __future__ import annotations

import threading
from typing import TypeVar

from ._errors import ConfigurationError
from ._metrics import MetricsManager, default_manager

__all__ = ["BREAKER_STATES", "ResilienceListener", "resilience_listener"]

#: ``maestro_circuit_breaker_state`` values.
BREAKER_STATES = {"closed": 0.0, "half_open": 1.0, "half-open": 1.0, "open": 2.0}

_B = TypeVar("_B")


class ResilienceListener:
    """Counts maestro-resilience events and keeps each circuit breaker's state as a gauge.

    Give it to policies as a listener (``listeners=[listener]``); ``watch(breaker)`` also
    exports a breaker's state from then on, before its first event.
    """

    def __init__(self, metrics: MetricsManager | None = None) -> None:
        manager = metrics or default_manager()
        self._events = manager._create_standard_counter(
            "maestro_resilience_events_total",
            "Events emitted by maestro-resilience policies",
            ("policy", "name", "kind"),
        )
        self._state = manager._create_unprefixed_gauge(
            "maestro_circuit_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            ("name",),
            mode="mostrecent",
        )
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ResilienceListener breakers={sorted(self._seen)}>"

    def __call__(self, event: object) -> None:
        kind = str(getattr(event, "kind", "unknown"))
        policy = str(getattr(event, "policy", "unknown"))
        name = str(getattr(event, "name", ""))
        self._events.labels(policy, name, kind).inc()
        if policy != "circuit_breaker":
            return
        if kind == "state_change":
            value = BREAKER_STATES.get(str(getattr(event, "new_state", "")))
            if value is not None:
                self._state.labels(name).set(value)
                self._seen.add(name)
        elif name not in self._seen and kind != "rejected":
            # a breaker reporting an ordinary event before any transition is closed
            self._state.labels(name).set(0.0)
            self._seen.add(name)

    def watch(self, breaker: _B) -> _B:
        """Export ``breaker``'s state now and follow its events (this listener is added to
        the breaker unless it has it already). Returns the breaker::

            listener = resilience_listener(metrics)
            pricing = listener.watch(CircuitBreaker(name="pricing", failure_threshold=5))
        """
        name = getattr(breaker, "name", None)
        listeners = getattr(breaker, "listeners", None)
        add = getattr(breaker, "add_listener", None)
        if not isinstance(name, str) or listeners is None or not callable(add):
            raise ConfigurationError(
                f"watch() takes a maestro-resilience CircuitBreaker (name, state, "
                f"add_listener), got {type(breaker).__name__}"
            )
        with self._lock:
            if self not in listeners:
                add(self)
        # read after subscribing: a transition from here on reaches the gauge as an event
        value = BREAKER_STATES.get(str(getattr(breaker, "state", "")))
        if value is None:
            raise ConfigurationError(
                f"watch() takes a maestro-resilience CircuitBreaker: {name!r} reports the "
                f"state {getattr(breaker, 'state', None)!r}, not one of {sorted(BREAKER_STATES)}"
            )
        self._state.labels(name).set(value)
        self._seen.add(name)
        return breaker


def resilience_listener(metrics: MetricsManager | None = None) -> ResilienceListener:
    """A listener for maestro-resilience policies (``listeners=[resilience_listener(m)]``).

    Counts every event in ``maestro_resilience_events_total{policy,name,kind}`` and keeps
    ``maestro_circuit_breaker_state{name}`` (0 closed, 1 half-open, 2 open). The names are
    not namespaced, so dashboards work across services. A breaker's state is exported from
    its first event, or from ``listener.watch(breaker)`` on.
    """
    return ResilienceListener(metrics)
