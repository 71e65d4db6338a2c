"""RabbitMQ backend (aio-pika): confirmed publishes over a channel pool, quorum queues.

Topology per topic: a durable fanout exchange ``{topic}``; per group a queue
``{group}.{topic}`` (quorum by default) bound to it, a retry queue ``{group}.{topic}.retry``
whose per-message TTL dead-letters back into the group's queue (delayed redelivery), and a
dead-letter queue ``{group}.{topic}.dlq``. The delivery count is the quorum queue's
``x-delivery-count`` (a consumer lost mid-handler counts) plus the retries recorded on the
message when it passed through the retry queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage

from ._backend import Backend, Consumer, DeliverFn, Delivery, Spec
from ._errors import BrokerConnectionError, PublishNotConfirmedError
from ._event import Event
from ._memory import strip_dead_letter
from ._urls import mask

if TYPE_CHECKING:
    from ._broker import MessageBroker

__all__ = ["RabbitBackend"]
log = logging.getLogger("maestro.messaging")
_RETRIES = "x-maestro-retries"
_LOST = (
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
    aio_pika.exceptions.ChannelClosed,
    ConnectionError,
    asyncio.TimeoutError,
    RuntimeError,
)
_POOL = 4


def _message(
    event: Event, extra: dict[str, Any] | None = None, expiration: float | None = None
) -> aio_pika.Message:
    headers: dict[str, Any] = dict(event.to_headers())
    content_type = headers.pop("content-type")
    if extra:
        headers.update(extra)
    return aio_pika.Message(
        event.data,
        headers=headers,
        content_type=content_type,
        message_id=event.id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        expiration=expiration,
    )


def _event(msg: AbstractIncomingMessage, topic: str) -> Event:
    headers = dict(msg.headers or {})
    if msg.content_type:
        headers["content-type"] = msg.content_type
    return Event.from_headers(headers, msg.body, default_type=topic)


def _count(msg: AbstractIncomingMessage) -> int:
    headers = msg.headers or {}
    retries = headers.get(_RETRIES)
    returned = headers.get("x-delivery-count")
    return _int(retries) + _int(returned) + 1


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else 0


class _RabbitDelivery(Delivery):
    __slots__ = ("_consumer", "_msg")

    def __init__(
        self, consumer: _RabbitConsumer, msg: AbstractIncomingMessage, event: Event, count: int
    ) -> None:
        super().__init__(event, count)
        self._consumer = consumer
        self._msg = msg

    def _settle(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self._consumer.outstanding -= 1
        return True

    async def ack(self) -> None:
        if self._settle():
            await self._msg.ack()

    async def retry(self, delay: float) -> None:
        if not self._settle():
            return
        c = self._consumer
        await c.backend.send(
            c.retry_queue,
            _message(self.event, {_RETRIES: self.delivery_count}, expiration=max(delay, 0.001)),
        )
        await self._msg.ack()

    async def release(self) -> None:
        if self._settle():
            await self._msg.nack(requeue=True)

    async def dead_letter(self, event: Event) -> None:
        if not self._settle():
            return
        await self._consumer.backend.send(self._consumer.dlq, _message(event))
        await self._msg.ack()

    async def in_progress(self) -> None:
        """RabbitMQ holds an unacked message as long as the consumer's channel lives."""


class _RabbitConsumer(Consumer):
    def __init__(self, backend: RabbitBackend, spec: Spec, deliver: DeliverFn) -> None:
        self.backend = backend
        self.spec = spec
        self.deliver = deliver
        self.queue_name = f"{spec.group}.{spec.topic}"
        self.retry_queue = f"{self.queue_name}.retry"
        self.dlq = f"{self.queue_name}.dlq"
        self.outstanding = 0
        self.channel: Any = None
        self.queue: Any = None
        self.tag: str | None = None

    async def start(self) -> None:
        b, spec = self.backend, self.spec
        await b.declare(spec.topic)
        self.channel = await b.connection.channel()
        await self.channel.set_qos(prefetch_count=max(b.prefetch, spec.concurrency))
        self.queue = await b.declare_group(self.channel, spec)

        async def on_message(msg: AbstractIncomingMessage) -> None:
            try:
                event = _event(msg, spec.topic)
            except Exception:
                event = Event(
                    source="unknown", type=spec.topic, datacontenttype="application/x-invalid"
                )
            self.outstanding += 1
            await self.deliver(_RabbitDelivery(self, msg, event, _count(msg)))

        self.tag = await self.queue.consume(on_message)

    async def stop(self) -> None:
        if self.queue is not None and self.tag is not None:
            with contextlib.suppress(*_LOST):
                await self.queue.cancel(self.tag)


class RabbitBackend(Backend):
    """RabbitMQ (``amqp://``)."""

    name = "rabbitmq"

    def __init__(self, url: str, broker: MessageBroker) -> None:
        self.url = url
        self.prefetch = broker.prefetch
        self.queue_type = broker.queue_type
        self.reconnects = 0
        self.connection: Any = None
        self._pool: list[Any] = []
        self._unconfirmed: Any = None
        self._next = itertools.count()
        self._exchanges: dict[str, Any] = {}
        self._bound: dict[tuple[int, str], Any] = {}  # (id(channel), topic) -> exchange handle
        self._consumers: list[_RabbitConsumer] = []

    async def connect(self) -> None:
        try:
            self.connection = await aio_pika.connect_robust(
                self.url, reconnect_interval=0.2, fail_fast=True, timeout=10
            )
        except (*_LOST, OSError, aiormq.exceptions.AMQPError) as exc:
            raise BrokerConnectionError(
                f"cannot reach RabbitMQ at {mask(self.url)}: {type(exc).__name__}"
            ) from None

        def reconnected(*_: Any) -> None:
            self.reconnects += 1

        self.connection.reconnect_callbacks.add(reconnected)
        for _ in range(_POOL):
            self._pool.append(await self.connection.channel(publisher_confirms=True))
        self._unconfirmed = await self.connection.channel(publisher_confirms=False)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    def _channel(self) -> Any:
        return self._pool[next(self._next) % len(self._pool)]

    async def declare(self, topic: str) -> Any:
        exchange = self._exchanges.get(topic)
        if exchange is None:
            exchange = await self._pool[0].declare_exchange(
                topic, aio_pika.ExchangeType.FANOUT, durable=True
            )
            self._exchanges[topic] = exchange
        return exchange

    async def declare_group(self, channel: Any, spec: Spec) -> Any:
        name = f"{spec.group}.{spec.topic}"
        if spec.durable:
            args = {"x-queue-type": self.queue_type}
            queue = await channel.declare_queue(name, durable=True, arguments=args)
        else:
            queue = await channel.declare_queue(name, exclusive=True, auto_delete=True)
        await channel.declare_queue(
            f"{name}.retry",
            durable=spec.durable,
            auto_delete=not spec.durable,
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name},
        )
        await channel.declare_queue(f"{name}.dlq", durable=True, auto_delete=not spec.durable)
        await queue.bind(spec.topic)
        return queue

    async def send(self, queue: str, message: aio_pika.Message) -> None:
        """Publish to one queue through the default exchange, confirmed."""
        await self._channel().default_exchange.publish(message, routing_key=queue, mandatory=False)

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        try:
            await self.declare(topic)
            # one channel per call keeps the order
            channel = self._channel() if confirm else self._unconfirmed
            if len(events) == 1:
                await self._publish_one(topic, events[0], channel)
                return
            for start in range(0, len(events), window):
                chunk = events[start : start + window]
                await asyncio.gather(*(self._publish_one(topic, e, channel) for e in chunk))
        except (*_LOST, aio_pika.exceptions.DeliveryError) as exc:
            raise PublishNotConfirmedError(
                f"RabbitMQ did not confirm the publish to {topic!r} ({type(exc).__name__}); "
                "publish again (consumers deduplicate by event id)"
            ) from None

    async def _publish_one(self, topic: str, event: Event, channel: Any) -> None:
        exchange = self._bound.get((id(channel), topic))
        if exchange is None:  # an exchange handle per pooled channel, made once
            exchange = await channel.get_exchange(topic, ensure=False)
            self._bound[(id(channel), topic)] = exchange
        result = await exchange.publish(_message(event), routing_key=topic, mandatory=False)
        if isinstance(result, aiormq.spec.Basic.Nack):
            raise PublishNotConfirmedError(f"RabbitMQ refused (nack) the publish to {topic!r}")

    async def consume(self, spec: Spec, deliver: DeliverFn) -> Consumer:
        consumer = _RabbitConsumer(self, spec, deliver)
        await consumer.start()
        self._consumers.append(consumer)
        return consumer

    async def _get_all(self, channel: Any, name: str) -> list[AbstractIncomingMessage]:
        queue = await channel.get_queue(name, ensure=True)
        found: list[AbstractIncomingMessage] = []
        while True:
            msg = await queue.get(no_ack=False, fail=False)
            if msg is None:
                return found
            found.append(msg)

    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        channel = await self.connection.channel()
        try:
            msgs = await self._get_all(channel, f"{group}.{topic}.dlq")
            return [_event(m, topic) for m in msgs]
        except aio_pika.exceptions.ChannelClosed:
            return []
        finally:
            if not channel.is_closed:
                await channel.close()  # unacked messages go back, in order

    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        channel = await self.connection.channel()
        try:
            msgs = await self._get_all(channel, f"{group}.{topic}.dlq")
            for msg in msgs:
                await self.send(f"{group}.{topic}", _message(strip_dead_letter(_event(msg, topic))))
                await msg.ack()
            return len(msgs)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        finally:
            if not channel.is_closed:
                await channel.close()

    async def pending(self, topic: str, group: str) -> int:
        name = f"{group}.{topic}"
        channel = await self.connection.channel()
        total = 0
        try:
            for qname in (name, f"{name}.retry"):
                q = await channel.declare_queue(qname, passive=True)
                total += int(q.declaration_result.message_count or 0)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        finally:
            if not channel.is_closed:
                await channel.close()
        return total + sum(c.outstanding for c in self._consumers if c.queue_name == name)

    async def ping(self) -> bool:
        return bool(
            self.connection is not None
            and not self.connection.is_closed
            and self.connection.connected.is_set()
        )

    async def remove_group(self, topic: str, group: str) -> None:
        channel = await self.connection.channel()
        try:
            for suffix in ("", ".retry", ".dlq"):
                await channel.queue_delete(f"{group}.{topic}{suffix}")
        finally:
            if not channel.is_closed:
                await channel.close()

    async def delete_topic(self, topic: str) -> None:
        self._exchanges.pop(topic, None)
        for key in [k for k in self._bound if k[1] == topic]:
            del self._bound[key]
        channel = await self.connection.channel()
        try:
            await channel.exchange_delete(topic)
        finally:
            if not channel.is_closed:
                await channel.close()
