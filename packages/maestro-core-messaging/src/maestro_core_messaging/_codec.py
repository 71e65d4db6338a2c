"""Payload encoding, and decoding/validation driven by the handler's annotation.

pydantic is imported only when an annotation is a pydantic model (or a value to publish
is one); dataclasses, TypedDicts and plain types are checked here without it.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import orjson

from ._errors import SerializationError
from ._event import JSON, OCTETS

__all__ = ["Decoder", "decoder_for", "encode", "is_pydantic_model", "json_schema"]

Decoder = Callable[[bytes, str], Any]


def is_pydantic_model(tp: object) -> bool:
    """True for a pydantic BaseModel subclass (decided without importing pydantic)."""
    if not isinstance(tp, type) or "pydantic" not in sys.modules:
        return False
    return any(
        c.__name__ == "BaseModel" and c.__module__.startswith("pydantic") for c in tp.__mro__
    )


def encode(value: Any) -> tuple[bytes, str]:
    """The body and content type for a payload: bytes pass through, the rest is JSON."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value), OCTETS
    dump = getattr(value, "model_dump_json", None)
    if dump is not None and is_pydantic_model(type(value)):
        return dump().encode(), JSON
    try:
        return orjson.dumps(value), JSON
    except TypeError as exc:
        raise SerializationError(
            f"cannot encode a {type(value).__name__} payload as JSON ({exc}); publish bytes, "
            "a dict, a dataclass or a pydantic model"
        ) from None


class _Invalid(SerializationError):
    pass


def _load(data: bytes, content_type: str) -> Any:
    if not content_type.split(";", maxsplit=1)[0].strip().endswith("json"):
        raise _Invalid(f"datacontenttype {content_type!r} is not JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _Invalid(f"invalid JSON: {exc}") from None


def _check(value: Any, tp: Any, where: str) -> Any:
    """Validate ``value`` against a plain type annotation; returns the (converted) value."""
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _check(value, arg, where)
            except _Invalid:
                continue
        raise _Invalid(f"{where}: {value!r} matches none of {tp}")
    if tp is type(None):
        if value is None:
            return None
        raise _Invalid(f"{where}: expected null, got {type(value).__name__}")
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
        raise _Invalid(f"{where}: {value!r} is not one of {typing.get_args(tp)}")
    if origin in (list, tuple, set, frozenset):
        if not isinstance(value, list):
            raise _Invalid(f"{where}: expected an array, got {type(value).__name__}")
        args = typing.get_args(tp)
        item = args[0] if args else Any
        if item is Any or item is object:
            return value if origin is list else origin(value)
        return origin(_check(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(f"{where}: expected an object, got {type(value).__name__}")
        args = typing.get_args(tp)
        vt = args[1] if len(args) == 2 else Any
        if vt is Any or vt is object:
            return value
        return {k: _check(v, vt, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return _dataclass(value, tp, where)
        if typing.is_typeddict(tp):
            return _typeddict(value, tp, where)
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if tp is bool or tp is int:
            if isinstance(value, bool) is (tp is bool) and isinstance(value, int):
                return value
            raise _Invalid(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
        if tp in (str, float, list, dict):
            if isinstance(value, tp):
                return value
            raise _Invalid(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
    return value


def _hints(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp)
    except (NameError, TypeError):
        return {}


def _dataclass(value: Any, tp: type, where: str) -> Any:
    if not isinstance(value, dict):
        raise _Invalid(f"{where}: expected an object for {tp.__name__}")
    hints = _hints(tp)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(tp):
        if f.name in value:
            kwargs[f.name] = _check(value[f.name], hints.get(f.name, Any), f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _Invalid(f"{where}: field {f.name!r} of {tp.__name__} is missing")
    return tp(**kwargs)


def _typeddict(value: Any, tp: type, where: str) -> Any:
    if not isinstance(value, dict):
        raise _Invalid(f"{where}: expected an object for {tp.__name__}")
    hints = _hints(tp)
    required: frozenset[str] = getattr(tp, "__required_keys__", frozenset())
    for key in required:
        if key not in value:
            raise _Invalid(f"{where}: key {key!r} of {tp.__name__} is missing")
    return {k: _check(v, hints[k], f"{where}.{k}") if k in hints else v for k, v in value.items()}


def decoder_for(annotation: Any) -> Decoder:
    """A function (data, content type) -> payload validated against ``annotation``.

    It raises SerializationError (the broker dead-letters with reason ``validation``).
    """
    if annotation is bytes:
        return lambda data, _ct: data
    if is_pydantic_model(annotation):
        validate = annotation.model_validate_json

        def pydantic_decode(data: bytes, content_type: str) -> Any:
            if not content_type.split(";", maxsplit=1)[0].strip().endswith("json"):
                raise _Invalid(f"datacontenttype {content_type!r} is not JSON")
            try:
                return validate(data)
            except ValueError as exc:  # pydantic.ValidationError is a ValueError
                first = str(exc).splitlines()
                raise _Invalid(" ".join(first[:3])[:300]) from None

        return pydantic_decode

    if annotation is dict or (
        typing.get_origin(annotation) is dict
        and len(typing.get_args(annotation)) == 2
        and typing.get_args(annotation)[1] in (Any, object)
    ):

        def object_decode(data: bytes, content_type: str) -> Any:
            value = _load(data, content_type)
            if not isinstance(value, dict):
                raise _Invalid(f"payload: expected an object, got {type(value).__name__}")
            return value

        return object_decode

    def plain_decode(data: bytes, content_type: str) -> Any:
        if annotation is None or annotation is Any or annotation is object:
            if not content_type.split(";", maxsplit=1)[0].strip().endswith("json"):
                return data
            return _load(data, content_type)
        return _check(_load(data, content_type), annotation, "payload")

    return plain_decode


def json_schema(annotation: Any) -> dict[str, Any]:
    """A JSON Schema for AsyncAPI: pydantic's when available, a small one otherwise."""
    if is_pydantic_model(annotation):
        schema: dict[str, Any] = annotation.model_json_schema()
        return schema
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", bytes: "string"}
    if annotation in simple:
        return {"type": simple[annotation]}
    if isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or typing.is_typeddict(annotation)
    ):
        props = {k: json_schema(v) for k, v in _hints(annotation).items()}
        return {"type": "object", "title": annotation.__name__, "properties": props}
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        return {"type": "array", "items": json_schema(args[0]) if args else {}}
    if annotation is dict or typing.get_origin(annotation) is dict:
        return {"type": "object"}
    return {}
