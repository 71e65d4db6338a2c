"""Typed decode: a declared return type turns cached JSON back into models, dates, decimals."""

from __future__ import annotations

import functools
from typing import Any

from ._errors import CacheSerializationError, MissingExtraError

__all__ = ["Codec", "codec_for"]

_NATIVE: frozenset[Any] = frozenset({str, int, float, bool, type(None), dict, list, Any, object})


class Codec:
    """``to_plain`` before serializing, ``from_plain`` after deserializing (a TypeAdapter)."""

    __slots__ = ("_adapter", "name")

    def __init__(self, tp: Any) -> None:
        try:
            from pydantic import TypeAdapter
        except ModuleNotFoundError as exc:
            if exc.name != "pydantic":
                raise
            raise MissingExtraError(f"typed decode of {tp!r}", "pydantic", "pydantic") from None
        self._adapter: Any = TypeAdapter(tp)
        self.name = getattr(tp, "__name__", repr(tp))

    def to_plain(self, value: Any) -> Any:
        try:
            return self._adapter.dump_python(value, mode="json")
        except Exception as exc:
            raise CacheSerializationError(
                f"cannot convert the value to {self.name} for caching: {exc}"
            ) from None

    def from_plain(self, plain: Any) -> Any:
        return self._adapter.validate_python(plain)


@functools.lru_cache(maxsize=512)
def _codec(tp: Any) -> Codec:
    return Codec(tp)


def codec_for(tp: Any) -> Codec | None:
    """None when values of ``tp`` are JSON-native already; else a cached Codec."""
    if tp is None:
        return None
    try:
        if tp in _NATIVE:
            return None
    except TypeError:  # unhashable annotation objects
        return Codec(tp)
    try:
        return _codec(tp)
    except TypeError:
        return Codec(tp)
