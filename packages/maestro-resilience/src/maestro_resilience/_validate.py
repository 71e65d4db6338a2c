"""Parameter checks shared by the policies: fail at construction with a message that helps."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from ._compat import warn_deprecated
from ._errors import ConfigurationError

__all__ = [
    "MAX_WAIT",
    "ExceptionMatcher",
    "callable_or_none",
    "exception_matcher",
    "name_of",
    "number",
    "optional_number",
    "positive_int",
    "resolve_monotonic",
]

ExceptionMatcher = Callable[[BaseException], bool]

# The longest wait the platform's locks and sleeps accept (about 49 days on Linux).
MAX_WAIT = threading.TIMEOUT_MAX


def optional_number(
    name: str,
    value: object,
    *,
    minimum: float,
    inclusive: bool = True,
    maximum: float = math.inf,
) -> float | None:
    """Like :func:`number`, but None passes through."""
    if value is None:
        return None
    return number(name, value, minimum=minimum, inclusive=inclusive, maximum=maximum)


def number(
    name: str,
    value: object,
    *,
    minimum: float,
    inclusive: bool = True,
    maximum: float = math.inf,
) -> float:
    """Return ``value`` as a float after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    fvalue = float(value)
    low_ok = fvalue >= minimum if inclusive else fvalue > minimum
    high_ok = fvalue <= maximum
    if math.isnan(fvalue) or not low_ok or not high_ok:
        bound = ">=" if inclusive else ">"
        # The platform limit on waits is huge: mention it only to whoever went past it.
        show_upper = maximum != math.inf and (maximum < MAX_WAIT or not high_ok)
        upper = f" and <= {maximum:.6g}" if show_upper else ""
        raise ConfigurationError(f"{name} must be {bound} {minimum:g}{upper}, got {value!r}")
    return fvalue


def positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` after checking it is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def exception_matcher(
    name: str, spec: Any
) -> tuple[tuple[type[BaseException], ...], ExceptionMatcher | None]:
    """Turn an exception type, a tuple of types or a predicate into (types, predicate).

    Exactly one of the two is meaningful: a predicate is returned as the second item with
    an empty tuple; types are returned as the first item with ``None``.
    """
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return (spec,), None
    if isinstance(spec, tuple):
        if not spec:
            raise ConfigurationError(
                f"{name} must not be an empty tuple; give at least one exception type"
            )
        for item in spec:
            if not (isinstance(item, type) and issubclass(item, BaseException)):
                raise ConfigurationError(
                    f"{name} must hold exception classes, got {item!r} in {spec!r}"
                )
        return spec, None
    if callable(spec) and not isinstance(spec, type):
        return (), spec
    raise ConfigurationError(
        f"{name} must be an exception class, a tuple of exception classes or a predicate "
        f"taking the exception and returning bool, got {type(spec).__name__} {spec!r}"
    )


def callable_or_none(name: str, value: object) -> None:
    """Raise TypeError unless ``value`` is None or callable."""
    if value is not None and not callable(value):
        raise ConfigurationError(
            f"{name} must be a callable or None, got {type(value).__name__} {value!r}"
        )


def name_of(name: object, default: str) -> str:
    """Check an optional ``name`` parameter."""
    if name is None:
        return default
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"name must be a non-empty str, got {name!r}")
    return name


def resolve_monotonic(
    owner: str, monotonic: Callable[[], float] | None, clock: Callable[[], float] | None
) -> Callable[[], float]:
    """The ``monotonic=`` callable, or the deprecated ``clock=`` one (warning once)."""
    if clock is not None:
        if monotonic is not None:
            raise ConfigurationError(
                f"{owner} takes monotonic= (clock= is its deprecated name), not both"
            )
        warn_deprecated(f"{owner}(clock=...)", f"{owner}(monotonic=...)")
        monotonic = clock
    if monotonic is None:
        return time.monotonic
    if not callable(monotonic):
        raise ConfigurationError(
            f"monotonic must be a callable returning seconds, got {monotonic!r}"
        )
    return monotonic
