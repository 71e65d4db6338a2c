"""Broker URLs: parse the scheme into a backend, mask passwords for repr, logs and errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ._errors import ConfigurationError, UnsupportedBackendError
from ._types import BrokerType

__all__ = ["backend_of", "mask", "url_from_settings"]

_SCHEMES = {
    "memory": BrokerType.MEMORY,
    "amqp": BrokerType.RABBITMQ,
    "amqps": BrokerType.RABBITMQ,
    "redis": BrokerType.REDIS,
    "rediss": BrokerType.REDIS,
    "unix": BrokerType.REDIS,
    "nats": BrokerType.NATS,
    "tls": BrokerType.NATS,
}
_UNSUPPORTED = {"kafka", "kafka+ssl", "mqtt", "sqs", "pulsar"}
_DEFAULT = {
    BrokerType.MEMORY: "memory://",
    BrokerType.RABBITMQ: "amqp://guest:guest@localhost:5672/",
    BrokerType.REDIS: "redis://localhost:6379/0",
    BrokerType.NATS: "nats://localhost:4222",
}


def mask(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def backend_of(url: str) -> BrokerType:
    """The backend a URL names; UnsupportedBackendError / ConfigurationError otherwise."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            "a broker URL looks like memory://, amqp://user:pw@host:5672/vhost, "
            f"redis://host:6379/0 or nats://host:4222; got {mask(str(url))!r}"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme in _UNSUPPORTED or scheme.startswith("kafka"):
        raise UnsupportedBackendError(scheme)
    if scheme not in _SCHEMES:
        raise ConfigurationError(
            f"unknown broker URL scheme {scheme!r}: use memory://, amqp://, amqps://, redis://, "
            "rediss:// or nats://"
        )
    return _SCHEMES[scheme]


def default_url(kind: BrokerType) -> str:
    """The URL used when only a broker type is given."""
    return _DEFAULT[kind]


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    get = getattr(value, "get_secret_value", None)
    return str(get() if get is not None else value)


def url_from_settings(section: Any) -> str:
    """A broker URL from a BrokerSettings-like section (duck typing; no import of core-config)."""
    backend = str(getattr(section, "backend", "memory"))
    kind = BrokerType(backend)
    if kind is BrokerType.MEMORY:
        return "memory://"
    scheme = {BrokerType.RABBITMQ: "amqp", BrokerType.REDIS: "redis", BrokerType.NATS: "nats"}[kind]
    port = getattr(section, "effective_port", None) or getattr(section, "port", None)
    port = port or {"amqp": 5672, "redis": 6379, "nats": 4222}[scheme]
    host = str(getattr(section, "host", "localhost"))
    user = getattr(section, "username", None)
    password = _secret(getattr(section, "password", None))
    auth = ""
    if user or password:
        auth = quote(str(user or ""), safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        auth += "@"
    path = ""
    if kind is BrokerType.RABBITMQ:
        vhost = str(getattr(section, "virtual_host", "/") or "/")
        path = "/" + ("%2F" if vhost == "/" else quote(vhost.lstrip("/"), safe=""))
    return f"{scheme}://{auth}{host}:{port}{path}"
