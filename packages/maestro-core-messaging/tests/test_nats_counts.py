"""The NATS backend's delivery count never goes back, whatever the server reports."""

from __future__ import annotations

from maestro_core_messaging import MessageBroker
from maestro_core_messaging._backend import Spec
from maestro_core_messaging._nats import NatsBackend, _NatsConsumer
from nats.aio.msg import Msg


def _msg(stream_seq: int, delivered: int) -> Msg:
    reply = f"$JS.ACK.orders.g.{delivered}.{stream_seq}.{delivered}.1796456318267032863.0"
    return Msg(_client=None, subject="orders", reply=reply, data=b"{}")  # type: ignore[arg-type]


def _consumer() -> _NatsConsumer:
    broker = MessageBroker.from_url("nats://127.0.0.1:4222", source="tests")
    backend = NatsBackend("nats://127.0.0.1:4222", broker)
    spec = Spec(topic="orders", group="g", durable=True, concurrency=1, max_deliveries=3)

    async def deliver(delivery: object) -> None:  # never called: no message is fetched
        raise AssertionError(delivery)

    return _NatsConsumer(backend, spec, deliver)


def test_a_count_reported_lower_than_one_already_seen_is_corrected() -> None:
    """Seen on nats-server 2.9 after nak(delay): 1, 2, 1, 4 for one message becomes 1..4."""
    consumer = _consumer()
    reported = [1, 2, 1, 4]
    assert [consumer.delivery_count(_msg(7, n)) for n in reported] == [1, 2, 3, 4]
    # Other messages keep their own counts.
    assert consumer.delivery_count(_msg(8, 1)) == 1
    assert consumer.delivery_count(_msg(7, 9)) == 9  # a higher server count always wins


def test_the_memory_of_counts_is_bounded() -> None:
    """Only the last 10 000 messages are remembered."""
    consumer = _consumer()
    for seq in range(1, 10_002):
        consumer.delivery_count(_msg(seq, 1))
    assert len(consumer.counts) == 10_000
    assert 1 not in consumer.counts
