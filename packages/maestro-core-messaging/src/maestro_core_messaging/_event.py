"""The CloudEvents 1.0 envelope every message travels in, and its binary / structured codecs."""

from __future__ import annotations

import base64
import os
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from ._errors import ConfigurationError, SerializationError

__all__ = ["Event", "uuid7"]

_REQUIRED = ("id", "source", "type")
_ATTRIBUTES = ("id", "source", "type", "specversion", "time", "datacontenttype", "subject")
PREFIX = "ce_"
_ATTRIBUTE_SET = frozenset(_ATTRIBUTES)
JSON = "application/json"
OCTETS = "application/octet-stream"


def uuid7() -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sortable by time."""
    raw = bytearray(((_time.time_ns() // 1_000_000) & 0xFFFF_FFFF_FFFF).to_bytes(6, "big"))
    raw += os.urandom(10)
    raw[6] = 0x70 | (raw[6] & 0x0F)  # version 7
    raw[8] = 0x80 | (raw[8] & 0x3F)  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _now() -> datetime:
    return datetime.now(UTC)


def _format_time(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # a UTC isoformat() ends with "+00:00"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)  # 3.11+ reads a trailing "Z" as UTC
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# binary-mode header names (str and bytes spellings) -> the attribute they carry
_HEADER_ATTRIBUTE: dict[str | bytes, str] = {}
for _name in ("id", "source", "type", "specversion", "time", "subject"):
    _HEADER_ATTRIBUTE[PREFIX + _name] = _name
    _HEADER_ATTRIBUTE[(PREFIX + _name).encode()] = _name
_HEADER_ATTRIBUTE["content-type"] = _HEADER_ATTRIBUTE[b"content-type"] = "datacontenttype"
_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class Event:
    """A CloudEvents 1.0 event: the envelope of every message.

    ``data`` holds the encoded payload (bytes); ``extensions`` holds the extension attributes
    (``traceparent``, ``requestid``, and on dead letters ``deadletterreason``,
    ``deliverycount`` and ``lasterror``). The ``id`` is a UUIDv7 that stays the same across
    retries, dead-lettering and outbox relays, so consumers can deduplicate by it.
    """

    source: str
    type: str
    data: bytes = b""
    id: str = field(default_factory=uuid7)
    time: datetime = field(default_factory=_now)
    datacontenttype: str = JSON
    subject: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)
    specversion: str = "1.0"

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ConfigurationError(
                "Event.time is a naive datetime: attach a timezone, e.g. tzinfo=timezone.utc"
            )
        for name in _REQUIRED:
            if not getattr(self, name):
                raise ConfigurationError(f"Event.{name} must be a non-empty string")
        for key in self.extensions:
            if not key.isalnum() or not key.islower():
                raise ConfigurationError(
                    f"CloudEvents extension name {key!r} must be lower-case letters and digits"
                )

    def with_extensions(self, **values: str) -> Event:
        """A copy with extension attributes added or replaced (the id is kept)."""
        return replace(self, extensions={**self.extensions, **values})

    # -- binary mode: attributes in headers / fields, data as the body ------------------------
    def to_headers(self) -> dict[str, str]:
        """The attributes as ``ce_*`` headers (binary content mode)."""
        headers = {
            "ce_specversion": self.specversion,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": _format_time(self.time),
            "content-type": self.datacontenttype,
        }
        if self.subject is not None:
            headers["ce_subject"] = self.subject
        for key, value in self.extensions.items():
            headers[PREFIX + key] = value
        return headers

    @classmethod
    def from_headers(
        cls, headers: Mapping[Any, Any], data: bytes, *, default_type: str = "message"
    ) -> Event:
        """Rebuild an event from ``ce_*`` headers and a body (foreign messages get defaults)."""
        attrs: dict[str, str] = {}
        extensions: dict[str, str] = {}
        for raw_key, raw_value in headers.items():
            value = raw_value.decode() if type(raw_value) is bytes else str(raw_value)
            known = _HEADER_ATTRIBUTE.get(raw_key)
            if known is not None:
                attrs[known] = value
                continue
            key = raw_key.decode() if type(raw_key) is bytes else str(raw_key)
            if key[:3] == PREFIX:
                name = key[3:]
                if name not in _ATTRIBUTE_SET and name.isalnum() and name.islower():
                    extensions[name] = value
        try:
            time = _parse_time(attrs["time"]) if "time" in attrs else _now()
        except ValueError as exc:
            raise SerializationError(
                f"the message's CloudEvents headers are invalid: {exc}"
            ) from None
        # every invariant __post_init__ checks holds here: the attributes are non-empty (or
        # defaulted), the time is aware and the extension names were filtered above
        event = object.__new__(cls)
        _set(event, "source", attrs.get("source") or "unknown")
        _set(event, "type", attrs.get("type") or default_type)
        _set(event, "data", data)
        _set(event, "id", attrs.get("id") or uuid7())
        _set(event, "time", time)
        _set(event, "datacontenttype", attrs.get("datacontenttype") or JSON)
        _set(event, "subject", attrs.get("subject"))
        _set(event, "extensions", extensions)
        _set(event, "specversion", attrs.get("specversion") or "1.0")
        return event

    # -- structured mode: one JSON document -----------------------------------------------
    def to_json(self) -> bytes:
        """The event as one structured-mode JSON document (``application/cloudevents+json``)."""
        doc: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": _format_time(self.time),
            "datacontenttype": self.datacontenttype,
        }
        if self.subject is not None:
            doc["subject"] = self.subject
        doc.update(self.extensions)
        if self.datacontenttype.endswith("json"):
            doc["data"] = orjson.Fragment(self.data) if self.data else None
        else:
            doc["data_base64"] = base64.b64encode(self.data).decode()
        return orjson.dumps(doc)

    @classmethod
    def from_json(cls, document: bytes | str) -> Event:
        """Parse a structured-mode JSON document; SerializationError when it is not one."""
        try:
            doc = orjson.loads(document)
        except orjson.JSONDecodeError as exc:
            raise SerializationError(f"not a CloudEvents JSON document: {exc}") from None
        if not isinstance(doc, dict) or any(k not in doc for k in _REQUIRED):
            raise SerializationError("not a CloudEvents JSON document: id, source, type missing")
        if "data_base64" in doc:
            data = base64.b64decode(doc.pop("data_base64"))
        elif doc.get("data") is not None:
            data = orjson.dumps(doc.pop("data"))
        else:
            doc.pop("data", None)
            data = b""
        attrs = {k: doc.pop(k) for k in _ATTRIBUTES if k in doc}
        try:
            return cls(
                id=str(attrs["id"]),
                source=str(attrs["source"]),
                type=str(attrs["type"]),
                data=data,
                time=_parse_time(attrs["time"]) if "time" in attrs else _now(),
                datacontenttype=str(attrs.get("datacontenttype", JSON)),
                subject=attrs.get("subject"),
                extensions={str(k): str(v) for k, v in doc.items()},
                specversion=str(attrs.get("specversion", "1.0")),
            )
        except (ValueError, ConfigurationError) as exc:
            raise SerializationError(f"invalid CloudEvents document: {exc}") from None

    # -- the cloudevents SDK (optional, duck-typed) -----------------------------------------
    def to_cloudevent(self) -> Any:
        """This event as a ``cloudevents.http.CloudEvent`` (needs the ``cloudevents`` SDK)."""
        import importlib

        try:
            CloudEvent = importlib.import_module("cloudevents.http").CloudEvent
        except ModuleNotFoundError:
            raise SerializationError(
                "Event.to_cloudevent() needs the cloudevents SDK: pip install cloudevents"
            ) from None
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": _format_time(self.time),
            "datacontenttype": self.datacontenttype,
            **self.extensions,
        }
        if self.subject is not None:
            attributes["subject"] = self.subject
        data: Any = self.data
        if self.datacontenttype.endswith("json") and self.data:
            data = orjson.loads(self.data)
        return CloudEvent(attributes, data)

    @classmethod
    def from_cloudevent(cls, event: Any) -> Event:
        """An Event from any object with ``get_attributes()``/``get_data()`` (the SDK's)."""
        attributes = dict(event.get_attributes())
        data = event.get_data()
        content_type = str(attributes.pop("datacontenttype", None) or JSON)
        if isinstance(data, bytes | bytearray):
            body = bytes(data)
        elif data is None:
            body = b""
        else:
            body = orjson.dumps(data)
        time = attributes.pop("time", None)
        return cls(
            id=str(attributes.pop("id")),
            source=str(attributes.pop("source")),
            type=str(attributes.pop("type")),
            data=body,
            time=_parse_time(str(time)) if time else _now(),
            datacontenttype=content_type,
            subject=attributes.pop("subject", None),
            specversion=str(attributes.pop("specversion", "1.0")),
            extensions={str(k): str(v) for k, v in attributes.items()},
        )
