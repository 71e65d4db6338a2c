"""Sentinels, TTL and key rules shared by every backend."""

from __future__ import annotations

import enum
import math
import struct
from datetime import timedelta
from typing import Final, Literal

from ._errors import CacheConfigError

__all__ = [
    "ENVELOPE",
    "FOREVER",
    "MISSING",
    "Forever",
    "Missing",
    "check_amount",
    "check_key",
    "namespace",
    "ttl_ms",
]

# A stored value that carries XFetch timing: ENVELOPE, then (fresh_until, delta), then data.
ENVELOPE = b"\xc1"
_HEADER = struct.Struct("<dd")
_HEADER_END = 1 + _HEADER.size


class Missing(enum.Enum):
    """The type of :data:`MISSING`: ``get(key, MISSING)`` tells a miss from a cached ``None``."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> Literal[False]:
        return False


class Forever(enum.Enum):
    """The type of :data:`FOREVER`: ``ttl=FOREVER`` stores without an expiry."""

    FOREVER = "FOREVER"

    def __repr__(self) -> str:
        return "FOREVER"


MISSING: Final = Missing.MISSING
FOREVER: Final = Forever.FOREVER

TTL = float | int | timedelta | Forever | None


def seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A positive number of seconds from a float, int or timedelta, or CacheConfigError."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CacheConfigError(
            f"{name} must be a number of seconds (float) or a timedelta, got {value!r}"
        )
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise CacheConfigError(f"{name} must be a finite number of seconds, got {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        raise CacheConfigError(
            f"{name} must be greater than 0 seconds, got {value!r}; "
            "use FOREVER for no expiry or delete() to remove a key"
        )
    return number


def default_ttl_ms(value: object) -> int | None:
    """``default_ttl`` as milliseconds (None = FOREVER); 0, negative and NaN are errors."""
    if value is FOREVER or value is None:
        return None
    return max(1, round(seconds("default_ttl", value) * 1000))


def ttl_ms(ttl: object, default: int | None) -> int | None:
    """Milliseconds to live for one write: None -> ``default``; FOREVER -> None (no expiry)."""
    if ttl is None:
        return default
    if ttl is FOREVER:
        return None
    if type(ttl) is int and ttl > 0:
        return ttl * 1000
    return max(1, round(seconds("ttl", ttl) * 1000))


def check_key(key: object, max_length: int) -> str:
    """``key`` if it is a usable cache key, else CacheConfigError saying what is wrong."""
    if type(key) is str and 0 < len(key) <= max_length and key.isprintable() and " " not in key:
        return key
    if not isinstance(key, str):
        raise CacheConfigError(f"a cache key must be a str, got {type(key).__name__}")
    if not key:
        raise CacheConfigError("a cache key must not be empty")
    if len(key) > max_length:
        raise CacheConfigError(
            f"cache key is {len(key)} characters long, more than max_key_length={max_length}; "
            "shorten it (hash the variable part yourself) or raise max_key_length"
        )
    raise CacheConfigError(
        f"cache key {key[:80]!r} contains whitespace or control characters; "
        "use printable characters without spaces (for example ':' or '_' as separators)"
    )


def namespace(key_prefix: str, version: int | str | None) -> str:
    """The string put before every key: ``"orders:"``, ``"orders:v2:"`` or ``""``."""
    parts = []
    if key_prefix:
        parts.append(key_prefix)
    if version is not None:
        parts.append(f"v{version}")
    return "".join(f"{part}:" for part in parts)


def check_prefix(key_prefix: object) -> str:
    """``key_prefix`` if it is usable (may be empty), else CacheConfigError."""
    if not isinstance(key_prefix, str):
        raise CacheConfigError(f"key_prefix must be a str, got {type(key_prefix).__name__}")
    if key_prefix and (not key_prefix.isprintable() or " " in key_prefix):
        raise CacheConfigError(
            f"key_prefix {key_prefix!r} contains whitespace or control characters"
        )
    if any(c in key_prefix for c in "*?[]"):
        raise CacheConfigError(
            f"key_prefix {key_prefix!r} contains a glob character (* ? [ ]); clear() could not "
            "tell this cache's keys from others'"
        )
    return key_prefix.rstrip(":")


def check_amount(amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise CacheConfigError(f"amount must be an int, got {amount!r}")
