"""Small shared helpers: seconds from float or timedelta, clocks, lazy optional imports."""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

from ._errors import AuthConfigError, MissingExtraError

Clock = Callable[[], datetime]


def seconds(value: float | timedelta, name: str, *, minimum: float = 0.0) -> float:
    """``value`` as float seconds (a timedelta is accepted); below ``minimum`` is an error."""
    if isinstance(value, timedelta):
        out = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out = float(value)
    else:
        raise AuthConfigError(f"{name} must be seconds (a number) or a timedelta")
    if not math.isfinite(out) or out < minimum:
        raise AuthConfigError(f"{name} must be a finite number of seconds >= {minimum:g}")
    return out


def timestamp_source(clock: Clock | None) -> Callable[[], float]:
    """A zero-argument callable returning POSIX seconds, from a ``clock=`` or the system."""
    if clock is None:
        return time.time
    if not callable(clock):
        raise AuthConfigError("clock must be a zero-argument callable returning an aware datetime")

    def now() -> float:
        value = clock()
        if value.tzinfo is None:
            raise AuthConfigError("clock returned a naive datetime; attach tzinfo=UTC")
        return value.timestamp()

    return now


def aware(value: datetime, name: str) -> datetime:
    """An aware datetime converted to UTC; a naive one is an error."""
    if not isinstance(value, datetime):
        raise AuthConfigError(f"{name} must be a datetime")
    if value.tzinfo is None:
        raise AuthConfigError(f"{name} is a naive datetime; attach a timezone (tzinfo=UTC)")
    return value.astimezone(UTC)


def from_timestamp(value: float) -> datetime:
    """An aware UTC datetime from POSIX seconds."""
    return datetime.fromtimestamp(value, UTC)


def optional_import(module: str, feature: str, extra: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError naming the extra (only when it is absent)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == module or module.startswith(exc.name + ".")):
            raise MissingExtraError(feature, extra, module) from None
        raise
