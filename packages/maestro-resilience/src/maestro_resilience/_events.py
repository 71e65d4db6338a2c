"""Events: what every policy reports to its listeners and to the ``maestro.resilience`` logger."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ._errors import ConfigurationError

__all__ = ["Event", "EventKind", "Listener", "emit", "logger"]

logger = logging.getLogger("maestro.resilience")
# A library's loggers stay silent unless the application configures logging.
logger.addHandler(logging.NullHandler())

EventKind = Literal[
    "attempt",
    "retry",
    "give_up",
    "failure",
    "state_change",
    "rejected",
    "timeout",
    "fallback",
]

# Routine events are DEBUG; the ones an operator acts on are WARNING.
_LEVELS: dict[str, int] = {
    "attempt": logging.DEBUG,
    "retry": logging.INFO,
    "give_up": logging.WARNING,
    "failure": logging.DEBUG,
    "state_change": logging.WARNING,
    "rejected": logging.INFO,
    "timeout": logging.WARNING,
    "fallback": logging.INFO,
}


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a policy did: ``kind`` says what, ``policy`` and ``name`` say which one.

    The optional fields are filled where they mean something: ``attempt`` and ``delay`` for
    retries, ``old_state``/``new_state`` for breaker transitions, ``exception`` for the error
    that caused the event, ``seconds`` for timeouts.
    """

    kind: EventKind
    policy: str
    name: str
    attempt: int | None = None
    delay: float | None = None
    exception: BaseException | None = None
    old_state: str | None = None
    new_state: str | None = None
    seconds: float | None = None

    def describe(self) -> str:
        """A one-line human description, as written to the log."""
        parts = [f"{self.policy} {self.name!r}: {self.kind}"]
        if self.old_state is not None:
            parts.append(f"{self.old_state} -> {self.new_state}")
        if self.attempt is not None:
            parts.append(f"attempt={self.attempt}")
        if self.delay is not None:
            parts.append(f"delay={self.delay:.3f}s")
        if self.seconds is not None:
            parts.append(f"seconds={self.seconds:g}")
        if self.exception is not None:
            parts.append(f"error={type(self.exception).__name__}: {self.exception}")
        return " ".join(parts)


Listener = Callable[[Event], object]


def check_listeners(listeners: Iterable[Listener], name: str = "listeners") -> tuple[Listener, ...]:
    """Validate listeners given to a policy's constructor."""
    if callable(listeners) or isinstance(listeners, (str, bytes)):  # type: ignore[unreachable]
        raise ConfigurationError(
            f"{name} must be an iterable of callables taking an Event, got {listeners!r}; "
            f"write {name}=[{getattr(listeners, '__name__', 'listener')}]"
        )
    try:
        result = tuple(listeners)
    except TypeError:
        raise ConfigurationError(
            f"{name} must be an iterable of callables taking an Event, got "
            f"{type(listeners).__name__} {listeners!r}"
        ) from None
    for listener in result:
        if not callable(listener):
            raise ConfigurationError(
                f"listeners must be callables taking an Event, got {listener!r}"
            )
    return result


def emit(listeners: tuple[Listener, ...], event: Event) -> None:
    """Deliver ``event`` to each listener and to the logger; a failing listener is logged."""
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            logger.exception("listener %r failed on %s", listener, event.describe())
    level = _LEVELS[event.kind]
    if logger.isEnabledFor(level):
        logger.log(level, event.describe(), extra={"resilience_event": event})
