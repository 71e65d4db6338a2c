"""Reusable configuration sections that the other Maestro packages accept.

Each section is a frozen pydantic model; put it in your settings class as a field
(``db: DatabaseSettings = DatabaseSettings()``) and set its values with
``MAESTRO_DB__HOST``, a ``db:`` block in ``config/base.yaml``, and so on. The defaults are
the embedded, single-machine ones (in-process broker, a local database), so a service
starts with nothing configured and moves to real engines by configuration alone.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ._introspect import models_in
from ._secret_url import SecretURL

__all__ = [
    "AuthSettings",
    "BrokerSettings",
    "CacheSettings",
    "DatabaseSettings",
    "HTTPSettings",
    "LoggingSettings",
    "MonitoringSettings",
    "RedisSettings",
    "Section",
    "ServiceSettings",
]

Port = Annotated[int, Field(ge=1, le=65535)]
LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]


class Section(BaseModel):
    """Base of configuration sections: immutable, and unknown keys are errors (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _split_url(value: object) -> SplitResult:
    """Parse a connection URL; messages never include it (it may hold a password)."""
    if isinstance(value, SecretStr | SecretURL):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise ValueError("url must be a string such as scheme://user:password@host:port/name")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("url is not a valid URL: its host or port cannot be parsed") from None
    if not parts.scheme:
        raise ValueError("url has no scheme; write it as scheme://user:password@host:port/name")
    return parts


def _credentials(parts: SplitResult, user_key: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if parts.hostname:
        found["host"] = parts.hostname
    if parts.port is not None:
        found["port"] = parts.port
    if parts.username:
        found[user_key] = unquote(parts.username)
    if parts.password is not None:
        found["password"] = SecretStr(unquote(parts.password))
    return found


class ServiceSettings(Section):
    """Who this service is; the logging and monitoring packages stamp it on everything."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    version: str = "0.0.0"
    instance_id: str | None = None
    """Distinguishes replicas (a pod name); None lets the consumer pick one."""


_WARNED_REDACT_KEYS: list[bool] = []


class LoggingSettings(Section):
    """How the service logs (what `maestro_core_logging.configure_logging` takes)."""

    level: LogLevel = "INFO"
    format: Literal["auto", "json", "console", "ecs", "logfmt"] = "auto"
    """``auto``: colourful console output on a terminal, JSON lines otherwise."""
    extra_redact_keys: tuple[str, ...] = ()
    """Extra secret-looking keys to mask, on top of the logging package's own list
    (``redact_keys`` before 1.1: still read, with a DeprecationWarning)."""
    debug_sample_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Fraction of requests that log at DEBUG whatever `level` says."""

    @model_validator(mode="before")
    @classmethod
    def _renamed_redact_keys(cls, data: object) -> object:
        if isinstance(data, Mapping) and "redact_keys" in data:
            if not _WARNED_REDACT_KEYS:
                _WARNED_REDACT_KEYS.append(True)
                warnings.warn(
                    "LoggingSettings.redact_keys is deprecated and will be removed in 2.0; "
                    "use extra_redact_keys (MAESTRO_LOGGING__EXTRA_REDACT_KEYS)",
                    DeprecationWarning,
                    stacklevel=2,
                )
            data = dict(data)
            data.setdefault("extra_redact_keys", data.pop("redact_keys"))
        return data

    @field_validator("level", mode="before")
    @classmethod
    def _normalise_level(cls, value: object) -> object:
        if isinstance(value, str):
            upper = value.strip().upper()
            return "WARNING" if upper == "WARN" else upper
        if isinstance(value, int) and not isinstance(value, bool):
            return logging.getLevelName(value)
        return value


class _URLSection(Section):
    """A section that also takes its connection parts as one `url` input."""

    # A url may carry a password: pydantic's own error text must not echo the input.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    if TYPE_CHECKING:
        # Every concrete section defines this: the parts one `url` input names.
        @classmethod
        def _parse_url(cls, url: object) -> dict[str, Any]: ...

    @classmethod
    def expand_url(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """`data` with its `url` key replaced by the parts it names; other keys win."""
        given = dict(data)
        return {**cls._parse_url(given.pop("url")), **given}

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "url" in data:
            return cls.expand_url(data)
        return data


def expand_urls(model: type[BaseModel], state: Mapping[str, Any]) -> Mapping[str, Any]:
    """Expand `url` keys of URL-taking sections anywhere in one source's output.

    Done per source, before sources are merged, so that a URL from the environment beats
    the parts of a lower source (the defaults included) while parts given beside it in the
    same source still win. A URL that does not parse is left for validation to report.
    """
    result: dict[str, Any] | None = None
    for key, value in state.items():
        if not isinstance(value, Mapping):
            continue
        info = model.model_fields.get(key)
        if info is None:
            continue
        for sub_model in models_in(info.annotation):
            if issubclass(sub_model, _URLSection) and "url" in value:
                try:
                    new: Mapping[str, Any] = sub_model.expand_url(value)
                except ValueError:
                    new = value
            else:
                new = expand_urls(sub_model, value)
            if new is not value:
                result = dict(state) if result is None else result
                result[key] = new
            break
    return state if result is None else result


class DatabaseSettings(_URLSection):
    """A SQL database: the parts, and `url` built from them with the password hidden.

    A whole URL is accepted as input too, 12-factor style (``MAESTRO_DB__URL=
    postgresql://app:pw@db:5432/orders?sslmode=require``); parts given beside it win.
    """

    driver: str = "postgresql"
    """SQLAlchemy-style scheme: ``postgresql``, ``postgresql+asyncpg``, ``mysql``, ``sqlite``."""
    host: str = "localhost"
    port: Port = 5432
    name: str = "maestro"
    """The database name; for ``sqlite`` the file path (``:memory:`` for none)."""
    user: str | None = "maestro"
    password: SecretStr | None = None
    pool_size: Annotated[int, Field(ge=1)] = 5
    pool_timeout: Annotated[float, Field(gt=0)] = 30.0
    connect_timeout: Annotated[float, Field(gt=0)] = 10.0
    echo: bool = False
    query: str = ""
    """Driver options carried in `url` (``sslmode=require``)."""
    max_overflow: Annotated[int, Field(ge=0)] = 5
    """Connections opened beyond ``pool_size`` under load (closed when returned)."""
    pool_recycle: Annotated[float, Field(gt=0)] = 1800.0
    """Seconds after which a pooled connection is replaced (before server/proxy idle limits)."""
    statement_timeout: Annotated[float, Field(ge=0)] = 30.0
    """Seconds a statement may run before the server cancels it (0: no limit)."""
    read_replica_urls: tuple[SecretStr, ...] = ()
    """Read-only replicas for ``get_read_session()`` (JSON list in the environment; hidden)."""
    pgbouncer: bool = False
    """PgBouncer transaction mode: no prepared statements, no server-side session state."""

    @classmethod
    def _parse_url(cls, url: object) -> dict[str, Any]:
        parts = _split_url(url)
        parsed: dict[str, Any] = {"driver": parts.scheme}
        if parts.scheme.split("+", 1)[0] == "sqlite":
            # sqlite:///app.db is the relative file app.db, sqlite:////srv/app.db absolute
            parsed["name"] = unquote(parts.path[1:]) or ":memory:"
        else:
            parsed.update(_credentials(parts, "user"))
            if parts.path.strip("/"):
                parsed["name"] = unquote(parts.path.lstrip("/"))
        if parts.query:
            parsed["query"] = parts.query
        return parsed

    @property
    def url(self) -> SecretURL:
        """The connection URL; `repr`/`str` hide the password, `get_secret_value()` has it."""
        if self.driver.split("+", 1)[0] == "sqlite":
            return SecretURL(self.driver, path=f"/{self.name}", query=self.query)
        return SecretURL(
            self.driver,
            host=self.host,
            port=self.port,
            path=f"/{self.name}",
            username=self.user,
            password=self.password.get_secret_value() if self.password else None,
            query=self.query,
        )


class RedisSettings(_URLSection):
    """A Redis server (cache, streams); `url` hides the password.

    Also accepts a whole ``redis://`` or ``rediss://`` URL as input (``MAESTRO_REDIS__URL``);
    parts given beside it win.
    """

    host: str = "localhost"
    port: Port = 6379
    db: Annotated[int, Field(ge=0)] = 0
    username: str | None = None
    password: SecretStr | None = None
    ssl: bool = False
    socket_timeout: Annotated[float, Field(gt=0)] = 5.0

    @classmethod
    def _parse_url(cls, url: object) -> dict[str, Any]:
        parts = _split_url(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError("url must start with redis:// or rediss://")
        parsed: dict[str, Any] = {
            "ssl": parts.scheme == "rediss",
            **_credentials(parts, "username"),
        }
        if parts.path.strip("/"):
            parsed["db"] = parts.path.strip("/")
        return parsed

    @property
    def url(self) -> SecretURL:
        """``redis://`` (or ``rediss://`` with `ssl`) URL; `repr`/`str` hide the password."""
        return SecretURL(
            "rediss" if self.ssl else "redis",
            host=self.host,
            port=self.port,
            path=f"/{self.db}",
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
        )


_BROKER_PORTS = {"rabbitmq": 5672, "redis": 6379, "nats": 4222}
_BROKER_SCHEMES = {"rabbitmq": "amqp", "redis": "redis", "nats": "nats"}


class BrokerSettings(_URLSection):
    """A message broker; ``memory`` is the in-process default that needs no server.

    Also accepts a whole URL as input (``MAESTRO_BROKER__URL=amqp://app:pw@mq:5672/orders``,
    ``redis://``, ``nats://`` or ``memory://``); parts given beside it win.
    """

    backend: Literal["memory", "rabbitmq", "redis", "nats"] = "memory"
    host: str = "localhost"
    port: Port | None = None
    """None: the backend's usual port (5672, 6379, 4222)."""
    username: str | None = None
    password: SecretStr | None = None
    virtual_host: str = "/"
    """RabbitMQ only."""
    prefetch: Annotated[int, Field(ge=1)] = 10
    max_deliveries: Annotated[int, Field(ge=1)] = 5
    """Deliveries (counted by the broker) before a failing message is dead-lettered."""
    backoff: tuple[Annotated[float, Field(ge=0)], ...] = (1.0, 5.0, 30.0)
    """Seconds before each redelivery; the last value repeats."""
    confirm: bool = True
    """publish() returns after the broker confirmed; False is fire-and-forget."""
    publish_window: Annotated[int, Field(ge=1)] = 100
    """Unconfirmed publishes in flight in publish_many."""
    drain_timeout: Annotated[float, Field(ge=0)] = 30.0
    """Seconds in-flight handlers get to finish on shutdown before they are requeued."""
    queue_type: Literal["quorum", "classic"] = "quorum"
    """RabbitMQ only."""
    stream_maxlen: Annotated[int, Field(ge=1)] = 1_000_000
    """Redis Streams only: approximate length each stream is trimmed to."""
    reclaim_idle: Annotated[float, Field(gt=0)] = 60.0
    """Seconds an unacknowledged message waits before another consumer takes it over
    (Redis idle time, JetStream ack_wait)."""
    max_message_bytes: Annotated[int, Field(ge=1)] = 1_048_576

    @classmethod
    def _parse_url(cls, url: object) -> dict[str, Any]:
        parts = _split_url(url)
        backends = {scheme: backend for backend, scheme in _BROKER_SCHEMES.items()}
        backends |= {"amqps": "rabbitmq", "memory": "memory"}
        if parts.scheme not in backends:
            raise ValueError(
                "url must start with amqp://, amqps://, redis://, nats:// or memory://"
            )
        parsed: dict[str, Any] = {"backend": backends[parts.scheme]}
        if parsed["backend"] == "memory":
            return parsed
        parsed.update(_credentials(parts, "username"))
        if parsed["backend"] == "rabbitmq" and parts.path not in ("", "/"):
            parsed["virtual_host"] = unquote(parts.path[1:])
        return parsed

    @property
    def effective_port(self) -> int | None:
        """`port`, or the backend's usual port when it is None (None for ``memory``)."""
        return self.port if self.port is not None else _BROKER_PORTS.get(self.backend)

    @property
    def url(self) -> SecretURL:
        """The broker URL (``amqp://``, ``nats://``, ``memory://``, ...), password hidden."""
        if self.backend == "memory":
            return SecretURL("memory")
        path = ""
        if self.backend == "rabbitmq":
            path = "/" + ("%2F" if self.virtual_host == "/" else self.virtual_host.lstrip("/"))
        return SecretURL(
            _BROKER_SCHEMES[self.backend],
            host=self.host,
            port=self.effective_port,
            path=path,
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
        )


class HTTPSettings(Section):
    """An HTTP server's listening address and limits (what maestro-core-api serves on).

    ``cursor_secret`` belongs in the environment (``MAESTRO_HTTP__CURSOR_SECRET``) or the
    secrets directory, never in a committed YAML file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: Port = 8000
    root_path: str = ""
    """Prefix when served behind a proxy under a sub-path (``/api``)."""
    cors_origins: tuple[str, ...] = ()
    request_timeout: Annotated[float, Field(gt=0)] = 30.0
    max_body_bytes: Annotated[int, Field(ge=0)] = 10 * 2**20
    trusted_proxies: tuple[str, ...] = ()
    """Proxies (IPs or CIDR networks) whose ``X-Forwarded-For`` names the client."""
    cursor_secret: SecretStr | None = None
    """Key that signs pagination cursors (16 bytes or more); shared by every replica."""
    docs: bool | None = None
    """Serve ``/docs`` and ``/openapi.json``; None: everywhere but in production."""

    @field_validator("cursor_secret")
    @classmethod
    def _cursor_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("cursor_secret must hold at least 16 bytes")
        return value


class AuthSettings(Section):
    """How a service verifies and issues tokens (what maestro-core-auth's ``from_settings`` takes).

    ``hmac_secret`` belongs in the environment (``MAESTRO_AUTH__HMAC_SECRET``) or the
    secrets directory, never in a committed YAML file; it is at least 32 bytes when set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    issuer: str | None = None
    """The exact ``iss`` this service issues and accepts (None: ``oidc_issuer`` or unchecked)."""
    audiences: tuple[str, ...] = ()
    """Accepted ``aud`` values; a token must carry at least one of them."""
    algorithms: tuple[str, ...] = ()
    """Algorithms accepted from a JWKS / OIDC provider (empty: each key's own)."""
    jwks_url: str | None = None
    """Where the verifying keys are published (a JWKS document)."""
    oidc_issuer: str | None = None
    """An OIDC issuer URL; its ``.well-known/openid-configuration`` names the JWKS."""
    hmac_secret: SecretStr | None = None
    """Shared HS256 secret of a small single-service issuer (32 bytes or more)."""
    access_ttl: Annotated[float, Field(gt=0)] = 300.0
    """Lifetime of issued access tokens, seconds."""
    leeway: Annotated[float, Field(ge=0, le=300)] = 30.0
    """Clock skew allowed on ``exp`` / ``nbf``, seconds."""
    password_profile: Literal["owasp", "rfc9106"] = "owasp"
    """Argon2id cost profile of the password hasher."""
    api_key_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,15}$")] = "mst"
    """Prefix of generated API keys (``mst_...``)."""

    @field_validator("hmac_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError(
                "hmac_secret must be at least 32 bytes (RFC 7518 section 3.2); generate one "
                "with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value


class MonitoringSettings(Section):
    """Metrics, tracing and probes (what maestro-monitoring's ``from_settings`` takes)."""

    metrics_enabled: bool = True
    """False turns every metric into a no-op (for tests)."""
    metrics_port: Port | None = None
    """Serve ``/metrics`` on its own port; None: mount it on the app."""
    namespace: Annotated[str, Field(pattern=r"^([a-z][a-z0-9_]*)?$")] = ""
    """Prefix of the service's own metric names (snake_case; empty: none)."""
    created_series: bool = False
    """Expose the ``_created`` series of counters, histograms and summaries."""
    max_label_sets: Annotated[int, Field(ge=1)] = 1000
    """Label sets a metric may hold before new ones go to the ``__overflow__`` series."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP collector (``http://otel-collector:4318``), ``console``, or None: no tracing."""
    traces_sample_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Share of new traces that are recorded and exported."""
    exclude_paths: tuple[str, ...] = ("/metrics", "/livez", "/readyz")
    """Paths that are neither measured nor traced."""


class CacheSettings(Section):
    """A cache (what maestro-cache's ``CacheService.from_settings`` takes).

    ``url`` picks the backend: ``memory://`` (in-process, the default), ``redis://``,
    ``rediss://``, ``redis+sentinel://`` or ``redis+cluster://``; it may hold a password
    and is kept secret. ``pickle`` needs ``signing_key`` (at least 16 bytes).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    url: SecretStr = SecretStr("memory://")
    """Backend URL (``MAESTRO_CACHE__URL``); shown masked."""
    default_ttl: Annotated[float, Field(gt=0)] | None = 3600.0
    """Seconds a value lives when no ttl is given; None: no expiry."""
    key_prefix: str = ""
    """Namespace of this service's keys (``orders`` -> ``orders:<key>``)."""
    version: int | str | None = None
    """Bump to invalidate every key at once (``orders:v2:<key>``)."""
    max_size: Annotated[int, Field(ge=1)] = 10000
    """Most keys of the in-process store (and of the L1 of a tiered cache)."""
    serializer: Literal["json", "msgpack", "pickle"] = "json"
    signing_key: SecretStr | None = None
    """HMAC key that signs pickled values (required by ``serializer="pickle"``)."""
    fail_open: bool = True
    """While Redis is down, reads miss and writes return False instead of raising."""
    local_ttl: Annotated[float, Field(gt=0)] | None = None
    """Set: an in-process L1 in front of Redis, entries kept this many seconds."""
    max_connections: Annotated[int, Field(ge=1)] = 64
    socket_timeout: Annotated[float, Field(gt=0)] = 0.5

    @model_validator(mode="after")
    def _pickle_is_signed(self) -> CacheSettings:
        if self.serializer == "pickle":
            key = self.signing_key.get_secret_value() if self.signing_key else ""
            if len(key.encode()) < 16:
                raise ValueError(
                    "serializer 'pickle' needs a signing_key of at least 16 bytes "
                    "(MAESTRO_CACHE__SIGNING_KEY); unsigned pickle lets whoever can write to "
                    "the cache run code in the service"
                )
        return self
