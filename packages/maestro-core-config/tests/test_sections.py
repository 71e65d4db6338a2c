"""The reusable sections: defaults, validation, URLs that hide passwords."""

from __future__ import annotations

import pytest
from maestro_core_config import (
    BrokerSettings,
    DatabaseSettings,
    HTTPSettings,
    LoggingSettings,
    RedisSettings,
    SecretURL,
    ServiceSettings,
)
from pydantic import SecretStr, ValidationError


def test_database_url_hides_the_password() -> None:
    """DatabaseSettings.url shows *** in repr/str and the real password only on request."""
    db = DatabaseSettings(host="db", user="app", password=SecretStr("p@ss/word"), name="orders")
    assert str(db.url) == "postgresql://app:***@db:5432/orders"
    assert "p@ss" not in repr(db.url)
    assert "p@ss" not in f"{db.url}"
    assert "p@ss" not in repr(db)
    assert db.url.get_secret_value() == "postgresql://app:p%40ss%2Fword@db:5432/orders"


def test_sqlite_url() -> None:
    """A sqlite driver gives a file URL with the name as path."""
    assert DatabaseSettings(driver="sqlite", name="app.db").url.get_secret_value() == (
        "sqlite:///app.db"
    )


def test_redis_url_with_ssl_and_no_password() -> None:
    """RedisSettings.url uses rediss:// with ssl and omits empty credentials."""
    assert RedisSettings(ssl=True, db=2).url.get_secret_value() == "rediss://localhost:6379/2"
    assert str(RedisSettings(password=SecretStr("x")).url) == "redis://:***@localhost:6379/0"


@pytest.mark.parametrize(
    ("backend", "url"),
    [
        ("memory", "memory://"),
        ("rabbitmq", "amqp://guest:***@localhost:5672/%2F"),
        ("redis", "redis://guest:***@localhost:6379"),
        ("nats", "nats://guest:***@localhost:4222"),
    ],
)
def test_broker_urls(backend: str, url: str) -> None:
    """Each broker backend gets its scheme and usual port; the password is hidden."""
    broker = BrokerSettings.model_validate(
        {"backend": backend, "username": "guest", "password": "secret"}
    )
    assert str(broker.url) == url


def test_broker_defaults_to_in_process() -> None:
    """The default broker is the embedded one that needs no server."""
    assert BrokerSettings().backend == "memory"
    assert BrokerSettings().effective_port is None


def test_logging_level_is_normalised_and_checked() -> None:
    """Levels are case-insensitive (warn = WARNING, ints allowed); unknown ones raise."""
    assert LoggingSettings(level="debug").level == "DEBUG"  # type: ignore[arg-type]
    assert LoggingSettings(level="warn").level == "WARNING"  # type: ignore[arg-type]
    assert LoggingSettings.model_validate({"level": 40}).level == "ERROR"
    with pytest.raises(ValidationError, match="level"):
        LoggingSettings(level="verbose")  # type: ignore[arg-type]


def test_service_name_is_required_and_checked() -> None:
    """ServiceSettings needs a name without spaces."""
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({})
    with pytest.raises(ValidationError):
        ServiceSettings(name="has space")


def test_sections_are_frozen_and_reject_unknown_keys() -> None:
    """Sections reject assignment and typos."""
    http = HTTPSettings()
    with pytest.raises(ValidationError):
        http.port = 1
    with pytest.raises(ValidationError, match="Extra inputs"):
        HTTPSettings.model_validate({"prot": 80})


def test_ports_are_range_checked() -> None:
    """A port outside 1..65535 is an error."""
    with pytest.raises(ValidationError):
        HTTPSettings(port=0)


def test_secret_url_equality() -> None:
    """Two SecretURLs are equal when their full URLs are, and hash alike."""
    a = SecretURL("redis", host="h", password="p")
    b = SecretURL("redis", host="h", password="p")
    assert a == b
    assert hash(a) == hash(b)
    assert a != SecretURL("redis", host="h", password="q")


def test_database_from_url() -> None:
    """A whole URL fills every part, percent-decoded, with the query kept."""
    db = DatabaseSettings.model_validate(
        {"url": "postgresql+asyncpg://app:p%40ss@db.internal:6543/orders?sslmode=require"}
    )
    assert (db.driver, db.host, db.port, db.name, db.user) == (
        "postgresql+asyncpg",
        "db.internal",
        6543,
        "orders",
        "app",
    )
    assert db.password == SecretStr("p@ss")
    assert db.query == "sslmode=require"
    assert db.url.get_secret_value() == (
        "postgresql+asyncpg://app:p%40ss@db.internal:6543/orders?sslmode=require"
    )


def test_explicit_parts_beat_the_url() -> None:
    """Parts given beside the url override the url's parts."""
    db = DatabaseSettings.model_validate({"url": "postgresql://a:b@h:1/n", "host": "other"})
    assert (db.host, db.port) == ("other", 1)


@pytest.mark.parametrize("path", ["app.db", "/srv/data/app.db"])
def test_sqlite_url_round_trip(path: str) -> None:
    """sqlite URLs with relative and absolute files parse back to the same URL."""
    url = f"sqlite:///{path}"
    db = DatabaseSettings.model_validate({"url": url})
    assert db.name == path
    assert db.url.get_secret_value() == url


def test_redis_from_url() -> None:
    """rediss://user:pw@host:port/db sets ssl, credentials and the database number."""
    redis = RedisSettings.model_validate({"url": "rediss://cache:pw@redis.internal:6380/3"})
    assert (redis.ssl, redis.host, redis.port, redis.db, redis.username) == (
        True,
        "redis.internal",
        6380,
        3,
        "cache",
    )
    assert redis.password == SecretStr("pw")


@pytest.mark.parametrize(
    "url", ["postgresql://u:topsecret@h:port/n", "no-scheme-topsecret", "http://u:topsecret@h/"]
)
def test_bad_url_errors_do_not_show_it(url: str) -> None:
    """An unparsable url is rejected without echoing it (it may hold a password)."""
    model = RedisSettings if url.startswith("http") else DatabaseSettings
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"url": url})
    assert "topsecret" not in str(caught.value.errors(include_input=False))


@pytest.mark.parametrize(
    ("url", "backend", "host", "port", "vhost"),
    [
        ("amqp://app:pw@mq.internal:5673/orders", "rabbitmq", "mq.internal", 5673, "orders"),
        ("amqp://app:pw@mq.internal/%2F", "rabbitmq", "mq.internal", None, "/"),
        ("nats://app:pw@nats.internal:4223", "nats", "nats.internal", 4223, "/"),
        ("redis://app:pw@cache:6380", "redis", "cache", 6380, "/"),
    ],
)
def test_broker_from_url(url: str, backend: str, host: str, port: int | None, vhost: str) -> None:
    """A broker URL sets the backend, address, credentials and (RabbitMQ) virtual host."""
    broker = BrokerSettings.model_validate({"url": url})
    assert (broker.backend, broker.host, broker.port, broker.virtual_host) == (
        backend,
        host,
        port,
        vhost,
    )
    assert broker.username == "app"
    assert broker.password == SecretStr("pw")
    assert "pw" not in repr(broker.url)


def test_broker_memory_url_and_bad_scheme() -> None:
    """memory:// selects the in-process broker; an unknown scheme is refused without echoing."""
    assert BrokerSettings.model_validate({"url": "memory://"}).backend == "memory"
    with pytest.raises(ValidationError) as caught:
        BrokerSettings.model_validate({"url": "kafka://u:topsecret@k:9092"})
    assert "topsecret" not in str(caught.value)
    assert "amqp://" in str(caught.value)
