"""maestro-resilience events as metrics, without importing maestro-resilience (duck typing)."""

from __future__ import annotations

from collections.abc import Callable

from ._metrics import MetricsManager, default_manager

__all__ = ["BREAKER_STATES", "resilience_listener"]

#: ``maestro_circuit_breaker_state`` values.
BREAKER_STATES = {"closed": 0.0, "half_open": 1.0, "half-open": 1.0, "open": 2.0}


def resilience_listener(metrics: MetricsManager | None = None) -> Callable[[object], None]:
    """A listener for maestro-resilience policies (``listeners=[resilience_listener(m)]``).

    Counts every event in ``maestro_resilience_events_total{policy,name,kind}`` and keeps
    ``maestro_circuit_breaker_state{name}`` (0 closed, 1 half-open, 2 open). The names are
    not namespaced, so dashboards work across services.
    """
    manager = metrics or default_manager()
    events = manager._create_standard_counter(
        "maestro_resilience_events_total",
        "Events emitted by maestro-resilience policies",
        ("policy", "name", "kind"),
    )
    state = manager._create_unprefixed_gauge(
        "maestro_circuit_breaker_state",
        "Circuit breaker state: 0 closed, 1 half-open, 2 open",
        ("name",),
        mode="mostrecent",
    )
    seen: set[str] = set()

    def listener(event: object) -> None:
        kind = str(getattr(event, "kind", "unknown"))
        policy = str(getattr(event, "policy", "unknown"))
        name = str(getattr(event, "name", ""))
        events.labels(policy, name, kind).inc()
        if policy != "circuit_breaker":
            return
        if kind == "state_change":
            value = BREAKER_STATES.get(str(getattr(event, "new_state", "")))
            if value is not None:
                state.labels(name).set(value)
                seen.add(name)
        elif name not in seen and kind != "rejected":
            # a breaker reporting an ordinary event before any transition is closed
            state.labels(name).set(0.0)
            seen.add(name)

    return listener
