"""Broker construction, validation, secrets, envelope and the sync facade (no service needed)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypedDict

import pytest
from maestro_core_messaging import (
    BrokerConnectionError,
    BrokerType,
    ConfigurationError,
    Event,
    MessageBroker,
    PublishError,
    SerializationError,
    UnsupportedBackendError,
)
from maestro_core_messaging._codec import decoder_for
from maestro_testkit import free_port, unique_name


def test_kafka_is_refused_naming_the_supported_backends() -> None:
    """Kafka raises UnsupportedBackendError listing memory, rabbitmq, redis and nats."""
    with pytest.raises(UnsupportedBackendError, match="memory, rabbitmq, redis or nats"):
        MessageBroker("kafka", "kafka://localhost:9092")
    with pytest.raises(UnsupportedBackendError):
        MessageBroker.from_url("kafka://localhost:9092")
    with pytest.raises(UnsupportedBackendError):
        BrokerType("kafka")


def test_original_constructor_maps_retry_options() -> None:
    """max_retry_attempts=3 means 4 deliveries; retry_backoff_seconds becomes the backoff."""
    broker = MessageBroker(
        "rabbitmq",
        "amqp://guest:guest@127.0.0.1:5672/",
        max_retry_attempts=3,
        retry_backoff_seconds=1,
    )
    assert broker.max_deliveries == 4
    assert broker.backoff == (1.0,)
    assert broker.broker_type is BrokerType.RABBITMQ


def test_passwords_never_show_in_repr() -> None:
    """repr(broker) and broker.url mask the password."""
    password = secrets.token_urlsafe(12)
    broker = MessageBroker.from_url(f"amqp://app:{password}@mq:5672/orders")
    assert password not in repr(broker)
    assert password not in broker.url
    assert "***" in repr(broker)


async def test_unreachable_broker_error_masks_the_password() -> None:
    """Connecting to a closed port raises BrokerConnectionError without the password."""
    password = secrets.token_urlsafe(12)
    broker = MessageBroker.from_url(f"redis://:{password}@127.0.0.1:{free_port()}/0")
    with pytest.raises(BrokerConnectionError) as info:
        await broker.connect()
    assert password not in str(info.value)
    assert await broker.ping() is False
    assert (await broker.health_check())["status"] == "unhealthy"


def test_from_settings_takes_a_broker_section_by_duck_typing() -> None:
    """from_settings builds the URL and options from a BrokerSettings-like object."""
    password = secrets.token_urlsafe(8)
    section = SimpleNamespace(
        backend="rabbitmq",
        host="mq",
        port=None,
        effective_port=5672,
        username="app",
        password=SimpleNamespace(get_secret_value=lambda: password),
        virtual_host="orders",
        prefetch=20,
        max_deliveries=3,
        backoff=(0.5, 2.0),
        confirm=True,
        drain_timeout=5.0,
        queue_type="classic",
        stream_maxlen=1000,
        reclaim_idle=10.0,
        publish_window=50,
        max_message_bytes=2048,
    )
    broker = MessageBroker.from_settings(section, source="orders")
    assert broker.broker_type is BrokerType.RABBITMQ
    assert broker.url == "amqp://app:***@mq:5672/orders"
    assert (broker.prefetch, broker.max_deliveries, broker.backoff) == (20, 3, (0.5, 2.0))
    assert (broker.queue_type, broker.reclaim_idle, broker.source) == ("classic", 10.0, "orders")


def test_from_settings_with_the_real_core_config_section() -> None:
    """maestro-core-config's BrokerSettings is accepted as it is."""
    config = pytest.importorskip("maestro_core_config")
    section = config.BrokerSettings.model_validate(
        {"url": "redis://cache:6380/0", "max_deliveries": 2}
    )
    broker = MessageBroker.from_settings(section)
    assert broker.broker_type is BrokerType.REDIS
    assert broker.url == "redis://cache:6380"
    assert broker.max_deliveries == 2


@pytest.mark.parametrize(
    "options",
    [
        {"max_deliveries": 0},
        {"backoff": -1},
        {"backoff": ()},
        {"queue_type": "stream"},
        {"prefetch": 0},
        {"reclaim_idle": 0},
        {"drain_timeout": "soon"},
    ],
)
def test_bad_options_raise_configuration_error(options: dict[str, Any]) -> None:
    """A bad keyword raises ConfigurationError (a ValueError) naming it."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        MessageBroker.from_url("memory://", **options)


def test_timedelta_is_accepted_for_durations() -> None:
    """Durations take seconds or a timedelta."""
    broker = MessageBroker.from_url("memory://", drain_timeout=timedelta(seconds=3))
    assert broker.drain_timeout == 3.0


def test_subscriber_needs_an_async_handler() -> None:
    """A plain def handler is refused with a clear message."""
    broker = MessageBroker.from_url("memory://")

    def handler(n: int) -> None:
        return None

    with pytest.raises(ConfigurationError, match="async def"):
        broker.subscriber("orders.created")(handler)  # type: ignore[type-var]


async def test_too_large_payload_names_the_limit() -> None:
    """A payload over max_message_bytes raises PublishError naming max_message_bytes."""
    broker = MessageBroker.from_url("memory://", max_message_bytes=1024)
    with pytest.raises(PublishError, match="max_message_bytes=1024"):
        await broker.publish("orders.created", b"x" * 2048)


async def test_unencodable_payload_is_a_serialization_error() -> None:
    """An object JSON cannot encode raises SerializationError naming its type."""
    broker = MessageBroker.from_url("memory://")
    with pytest.raises(SerializationError, match="object"):
        await broker.publish("orders.created", object())


def test_event_json_round_trip_keeps_every_attribute() -> None:
    """to_json/from_json keep id, time, subject, extensions and JSON data."""
    event = Event(
        source="orders",
        type="orders.created",
        data=b'{"a":1}',
        subject="o-1",
        extensions={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )
    again = Event.from_json(event.to_json())
    assert again == event
    binary = Event(
        source="s", type="t", data=b"\x00\x01", datacontenttype="application/octet-stream"
    )
    assert Event.from_json(binary.to_json()).data == b"\x00\x01"


def test_event_refuses_naive_times_and_bad_extension_names() -> None:
    """A naive datetime or an extension name with a dash is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="timezone"):
        Event(source="s", type="t", time=datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="extension"):
        Event(source="s", type="t", extensions={"x-y": "1"})


def test_event_from_a_cloudevents_sdk_like_object() -> None:
    """from_cloudevent reads any object with get_attributes() and get_data()."""

    class Sdk:
        def get_attributes(self) -> dict[str, str]:
            return {
                "id": "e-1",
                "source": "/orders",
                "type": "orders.created",
                "specversion": "1.0",
                "traceparent": "00-x",
                "time": "2026-03-01T12:00:00Z",
            }

        def get_data(self) -> dict[str, int]:
            return {"n": 1}

    event = Event.from_cloudevent(Sdk())
    assert (event.id, event.source, event.data) == ("e-1", "/orders", b'{"n":1}')
    assert event.extensions == {"traceparent": "00-x"}
    assert event.time.tzinfo is not None


class _Audit(TypedDict):
    actor: str
    count: int


@pytest.mark.parametrize(
    ("annotation", "body", "ok"),
    [
        (_Audit, b'{"actor":"a","count":1}', True),
        (_Audit, b'{"actor":"a"}', False),
        (_Audit, b'{"actor":"a","count":"1"}', False),
        (list[int], b"[1,2]", True),
        (list[int], b'[1,"2"]', False),
        (int | None, b"null", True),
        (bool, b"1", False),
        (float, b"1", True),
        (str, b"not json", False),
        (dict, b'{"a":1}', True),
        (dict, b"[1]", False),
        (dict[str, Any], b'{"a":[1]}', True),
        (dict[str, Any], b'"a"', False),
        (dict[str, object], b"1", False),
        (dict[str, int], b'{"a":"1"}', False),
        (list[Any], b'[1,"a"]', True),
        (list[Any], b'{"a":1}', False),
        (tuple[Any, ...], b"[1]", True),
    ],
)
def test_plain_annotations_validate_without_pydantic(
    annotation: Any, body: bytes, ok: bool
) -> None:
    """TypedDicts, generics, unions and builtins are checked; mismatches raise an error."""
    decode = decoder_for(annotation)
    if ok:
        decode(body, "application/json")
    else:
        with pytest.raises(SerializationError):
            decode(body, "application/json")


def test_asyncapi_uses_pydantic_schemas() -> None:
    """asyncapi() embeds the pydantic model's JSON schema for its channel."""
    pydantic = pytest.importorskip("pydantic")

    class Paid(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        order_id: str

    broker = MessageBroker.from_url("memory://", source="billing")

    @broker.subscriber("orders.paid", group="ledger")
    async def book(event: Paid) -> None:
        return None

    doc = broker.asyncapi()
    message = doc["channels"]["orders_paid"]["messages"]["Paid"]
    assert message["payload"]["properties"]["order_id"]["type"] == "string"
    assert doc["info"]["title"] == "billing"


def test_sync_facade_publishes_and_consumes_from_plain_code() -> None:
    """broker.sync connects on a background loop; its subscribers handle what sync publishes."""
    broker = MessageBroker.from_url(f"memory://{unique_name('hub')}")
    got: list[int] = []

    @broker.subscriber("jobs.run", group="workers")
    async def work(n: int) -> None:
        got.append(n)

    broker.sync.connect()
    try:
        broker.sync.publish("jobs.run", 1)
        broker.sync.publish_many("jobs.run", [2, 3])
        broker.sync.join(timeout=5)
        assert broker.sync.health_check()["status"] == "healthy"
        assert broker.sync.stats().consumed_total == 3
    finally:
        broker.sync.close()
    assert got == [1, 2, 3]


def test_event_ids_are_time_ordered_uuid7() -> None:
    """Event ids are RFC 9562 version-7 UUIDs whose first 48 bits are the Unix milliseconds."""
    import time
    import uuid

    from maestro_core_messaging import Event

    before = time.time_ns() // 1_000_000
    ids = [Event(source="s", type="t").id for _ in range(200)]
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert all(before <= u.int >> 80 <= after for u in parsed)
    assert len(set(ids)) == 200
