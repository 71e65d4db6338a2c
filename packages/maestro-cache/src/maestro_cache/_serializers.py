"""Serializers: JSON (orjson, the default), msgpack (extra) and HMAC-signed pickle.

Every backend, the in-process one included, stores bytes made here, so a value behaves the
same in development and in production: ``"123"`` stays a string and every read returns a
copy. Pickle is only ever loaded after its HMAC-SHA-256 signature has been checked.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Protocol

import orjson

from ._errors import CacheConfigError, CacheSerializationError, MissingExtraError

__all__ = ["DecodeError", "Serializer", "make_serializer"]

_JSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


class DecodeError(Exception):
    """Internal: a stored payload is not valid for this serializer (read as a miss)."""


class Serializer(Protocol):
    """Turns values into bytes and back; ``loads`` raises :class:`DecodeError` on junk."""

    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


def _unserializable(name: str, value: object, exc: Exception) -> CacheSerializationError:
    return CacheSerializationError(
        f"cannot store a {type(value).__name__} with the {name} serializer ({exc}); store "
        "JSON types (dict, list, str, int, float, bool, None), or give @cached / get_or_set "
        "a return type (a pydantic model, dataclass, datetime, Decimal ...) to convert it"
    )


class JsonSerializer:
    """orjson: only JSON types; datetimes, dataclasses and subclasses need a declared type."""

    name = "json"
    fast_loads = staticmethod(orjson.loads)
    decode_errors: tuple[type[Exception], ...] = (orjson.JSONDecodeError, DecodeError)

    def dumps(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value, option=_JSON_OPTIONS)
        except TypeError as exc:
            raise _unserializable(self.name, value, exc) from None

    def loads(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(str(exc)) from None


class MsgpackSerializer:
    """msgpack (the ``msgpack`` extra): compact, binary-safe."""

    name = "msgpack"

    def __init__(self) -> None:
        try:
            import msgpack  # type: ignore[import-untyped]
        except ModuleNotFoundError as exc:
            if exc.name != "msgpack":
                raise
            raise MissingExtraError("serializer='msgpack'", "msgpack", "msgpack") from None
        self._packb = msgpack.packb
        self._unpackb = msgpack.unpackb

    def dumps(self, value: Any) -> bytes:
        try:
            data: bytes = self._packb(value, use_bin_type=True, datetime=False)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _unserializable(self.name, value, exc) from None
        return data

    def loads(self, data: bytes) -> Any:
        try:
            return self._unpackb(data, raw=False, strict_map_key=False)
        except Exception as exc:  # msgpack raises several unrelated types for junk
            raise DecodeError(str(exc)) from None


_PICKLE_TAG = b"MCP1"


class SignedPickleSerializer:
    """pickle, signed with HMAC-SHA-256; the signature is checked before anything is unpickled."""

    name = "pickle"

    def __init__(self, signing_key: bytes) -> None:
        self._key = signing_key

    def __repr__(self) -> str:
        return "SignedPickleSerializer(signing_key=***)"

    def dumps(self, value: Any) -> bytes:
        import pickle

        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise _unserializable(self.name, value, exc) from None
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return _PICKLE_TAG + digest + body

    def loads(self, data: bytes) -> Any:
        tag, digest, body = data[:4], data[4:36], data[36:]
        expected = hmac.new(self._key, body, hashlib.sha256).digest()
        if tag != _PICKLE_TAG or not hmac.compare_digest(digest, expected):
            raise CacheSerializationError(
                "a stored pickle payload failed its HMAC check and was not unpickled: it was "
                "written with another signing_key, or by someone who can write to the cache"
            )
        import pickle

        return pickle.loads(body)


def _key_bytes(signing_key: object) -> bytes:
    getter = getattr(signing_key, "get_secret_value", None)
    if callable(getter):
        signing_key = getter()
    if isinstance(signing_key, str):
        signing_key = signing_key.encode()
    if not isinstance(signing_key, bytes):
        raise CacheConfigError("signing_key must be str, bytes or a SecretStr")
    if len(signing_key) < 16:
        raise CacheConfigError(
            "signing_key is too short: use at least 16 random bytes "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return signing_key


def make_serializer(serializer: object, signing_key: object = None) -> Serializer:
    """The serializer named ``json``, ``msgpack`` or ``pickle`` (which needs ``signing_key``)."""
    if not isinstance(serializer, str):
        if hasattr(serializer, "dumps") and hasattr(serializer, "loads"):
            return serializer  # type: ignore[return-value]
        raise CacheConfigError(
            f"serializer must be 'json', 'msgpack' or 'pickle', got {serializer!r}"
        )
    if serializer == "json":
        return JsonSerializer()
    if serializer == "msgpack":
        return MsgpackSerializer()
    if serializer == "pickle":
        if signing_key is None:
            raise CacheConfigError(
                "serializer='pickle' needs signing_key=: unsigned pickle lets anyone who can "
                "write to the cache run code in your process; set a secret signing_key "
                "(MAESTRO_CACHE__SIGNING_KEY) or use 'json' / 'msgpack'"
            )
        return SignedPickleSerializer(_key_bytes(signing_key))
    raise CacheConfigError(f"serializer must be 'json', 'msgpack' or 'pickle', got {serializer!r}")
