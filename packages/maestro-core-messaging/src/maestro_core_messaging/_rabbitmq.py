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
import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage, ConsumerTag
from aiormq.abc import ChannelFrame, DeliveredMessage
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

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


_Properties = aiormq.spec.Basic.Properties
_LONG = struct.Struct(">I").pack
_FLAGS = struct.Struct(">H").pack
_P = _Properties.flags
# content type, headers, delivery mode, priority and message id: what every message carries
_BASE_FLAGS = (
    _P["content_type"] | _P["headers"] | _P["delivery_mode"] | _P["priority"] | _P["message_id"]
)
_PERSISTENT_AND_PRIORITY_0 = b"\x02\x00"


def _short(value: str) -> bytes | None:
    raw = value.encode()
    return bytes((len(raw),)) + raw if len(raw) <= 255 else None


def _wire(
    content_type: str, headers: Mapping[str, Any], message_id: str, expiration: str | None
) -> bytes | None:
    """The properties exactly as pamqp marshals them, or None when pamqp must do it.

    Only str header values, keys of at most 128 bytes and short strings of at most 255
    bytes are encoded here (the ce_* headers); anything else goes through pamqp, which
    also raises what it raises today.
    """
    parts: list[bytes] = []
    for key, value in sorted(headers.items()):
        if type(value) is not str:
            return None
        k = key.encode()
        if len(k) > 128:
            return None
        v = value.encode()
        parts += (bytes((len(k),)), k, b"S", _LONG(len(v)), v)
    table = b"".join(parts)
    ct = _short(content_type)
    mid = _short(message_id)
    if not content_type or ct is None or mid is None:  # pamqp leaves out an empty string
        return None
    if expiration is None:
        flags = _BASE_FLAGS
        exp = b""
    else:
        flags = _BASE_FLAGS | _P["expiration"]
        raw_exp = _short(expiration)
        if raw_exp is None:
            return None
        exp = raw_exp
    return b"".join(
        (_FLAGS(flags), ct, _LONG(len(table)), table, _PERSISTENT_AND_PRIORITY_0, exp, mid)
    )


class _EncodedProperties(_Properties):
    """Basic.Properties whose wire form was encoded once by ``_wire`` (pamqp's bytes)."""

    def __init__(self, wire: bytes, **values: Any) -> None:
        super().__init__(**values)
        self._wire = wire

    def marshal(self) -> bytes:
        return self._wire


def _properties(
    event: Event, extra: dict[str, Any] | None = None, expiration: float | None = None
) -> aiormq.spec.Basic.Properties:
    """The AMQP properties of an event: what ``aio_pika.Message(...).properties`` holds.

    Content type, the ce_* headers (and ``extra``), the event id as message id, persistent,
    priority 0 and the expiration in milliseconds; the same bytes on the wire.
    """
    headers: dict[str, Any] = event.to_headers()
    content_type = headers.pop("content-type")
    if extra:
        headers.update(extra)
    exp = None if expiration is None else str(int(expiration * 1000))
    wire = _wire(content_type, headers, event.id, exp)
    values: dict[str, Any] = {
        "content_type": content_type,
        "headers": headers,
        "delivery_mode": 2,
        "priority": 0,
        "expiration": exp,
        "message_id": event.id,
    }
    return _Properties(**values) if wire is None else _EncodedProperties(wire, **values)


class _Batch:
    """Confirmed publishes on one aiormq channel asked for in one event-loop iteration, written
    to the socket together.

    ``basic_publish`` writes every publish on its own and holds the channel lock until the
    writer has sent it, so a window of publishes reaches RabbitMQ one TCP segment at a time:
    per message a send, a read and a confirm on each side. Here the publishes of one
    iteration (a window's start, or the senders one confirm released) take consecutive
    delivery tags under the channel lock and go out as one write; each keeps its own
    confirmation future, registered where ``basic_publish`` registers it, so aiormq settles
    it (ack, nack as DeliveryError, the close reason when the channel closes) the same way.
    """

    __slots__ = ("channel", "pending", "writer")

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.pending: list[tuple[list[Any], asyncio.Future[Any]]] | None = None
        self.writer: asyncio.Task[None] | None = None

    def publish(
        self, exchange: str, routing_key: str, properties: Any, body: bytes
    ) -> asyncio.Future[Any]:
        """Queue one publish for this iteration's write; its confirmation future."""
        if len(routing_key) > 255:  # what basic_publish checks
            raise ValueError("Routing key too long (max 255 bytes)")
        channel = self.channel
        frames: list[Any] = [
            aiormq.spec.Basic.Publish(exchange=exchange, routing_key=routing_key),
            ContentHeader(properties=properties, body_size=len(body)),
        ]
        size = channel.max_content_size
        frames += [ContentBody(body[i : i + size]) for i in range(0, len(body), size)]
        confirmation: asyncio.Future[Any] = channel.create_future()  # rejected on close
        if self.pending is None:
            self.pending = []
            self.writer = asyncio.get_running_loop().create_task(self._write())
        self.pending.append((frames, confirmation))
        return confirmation

    async def _write(self) -> None:
        try:
            async with self.channel.lock:
                batch, self.pending = self.pending or [], None
                await self._send(batch)
        except aiormq.exceptions.ChannelInvalidStateError as exc:  # closed before the write
            batch, self.pending = self.pending or [], None
            _fail(batch, exc)

    async def _send(self, batch: list[tuple[list[Any], asyncio.Future[Any]]]) -> None:
        channel = self.channel
        frames: list[Any] = []
        tags: list[int] = []
        for publish, confirmation in batch:
            if confirmation.done():  # the caller gave up (or the channel closed): not sent
                continue
            channel.delivery_tag += 1
            channel.confirmations[channel.delivery_tag] = confirmation
            tags.append(channel.delivery_tag)
            frames += publish
        if not frames:
            return
        try:
            await channel.write_queue.put(
                ChannelFrame.marshall(channel_number=channel.number, frames=frames)
            )
        except BaseException as exc:  # not sent (the loop is closing): give the tags back
            channel.delivery_tag -= len(tags)
            for tag in tags:
                channel.confirmations.pop(tag, None)
            _fail(batch, aiormq.exceptions.ChannelInvalidStateError(f"not sent: {exc!r}"))


def _fail(batch: list[tuple[list[Any], asyncio.Future[Any]]], exc: BaseException) -> None:
    for _frames, confirmation in batch:
        if not confirmation.done():
            confirmation.set_exception(exc)


def _event_of(
    headers: Mapping[str, Any] | None, content_type: str | None, body: bytes, topic: str
) -> Event:
    fields = dict(headers or {})
    if content_type:
        fields["content-type"] = content_type
    return Event.from_headers(fields, body, default_type=topic)


def _event(msg: AbstractIncomingMessage, topic: str) -> Event:
    return _event_of(msg.headers, msg.content_type, msg.body, topic)


def _count(headers: Mapping[str, Any] | None) -> int:
    headers = headers or {}
    retries = headers.get(_RETRIES)
    returned = headers.get("x-delivery-count")
    return _int(retries) + _int(returned) + 1


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else 0


class _RabbitDelivery(Delivery):
    """A delivery settled on the aiormq channel it arrived on (what IncomingMessage does)."""

    __slots__ = ("_channel", "_consumer", "_tag")

    def __init__(
        self, consumer: _RabbitConsumer, channel: Any, tag: int | None, event: Event, count: int
    ) -> None:
        super().__init__(event, count)
        self._consumer = consumer
        self._channel = channel
        self._tag = tag

    def _settle(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self._consumer.outstanding -= 1
        return True

    def _open(self) -> Any:
        if self._channel.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError
        return self._channel

    async def _ack(self) -> None:
        channel = self._open()
        if self._tag is not None:
            await channel.basic_ack(delivery_tag=self._tag)

    async def _nack(self) -> None:
        channel = self._open()
        if not channel.connection.basic_nack:
            raise RuntimeError("Method not supported on server")
        if self._tag is not None:
            await channel.basic_nack(delivery_tag=self._tag, requeue=True)

    async def ack(self) -> None:
        if self._settle():
            await self._ack()

    async def retry(self, delay: float) -> None:
        if not self._settle():
            return
        c = self._consumer
        await c.backend.send(
            c.retry_queue,
            _properties(self.event, {_RETRIES: self.delivery_count}, expiration=max(delay, 0.001)),
            self.event.data,
        )
        await self._ack()

    async def release(self) -> None:
        if self._settle():
            await self._nack()

    async def dead_letter(self, event: Event) -> None:
        if not self._settle():
            return
        await self._consumer.backend.send(self._consumer.dlq, _properties(event), event.data)
        await self._ack()

    async def in_progress(self) -> None:
        """RabbitMQ holds an unacked message as long as the consumer's channel lives."""


class _IncomingDelivery(_RabbitDelivery):
    """A delivery that came through aio-pika's consumer wrapper (an IncomingMessage)."""

    __slots__ = ("_msg",)

    def __init__(
        self, consumer: _RabbitConsumer, msg: AbstractIncomingMessage, event: Event, count: int
    ) -> None:
        super().__init__(consumer, None, 0, event, count)
        self._msg = msg

    async def _ack(self) -> None:
        await self._msg.ack()

    async def _nack(self) -> None:
        await self._msg.nack(requeue=True)


class _OnMessage:
    """A consumer's callback: ``delivered`` takes aiormq's message, ``__call__`` aio-pika's.

    ``_Queue.consume`` registers ``delivered`` directly on the aiormq channel (no
    IncomingMessage and no extra task per message); the robust channel keeps this object
    to consume again after a reconnect, and its recovery of a consumer the broker cancelled
    goes through aio-pika's wrapper, which calls ``__call__``.
    """

    __slots__ = ("consumer",)

    def __init__(self, consumer: _RabbitConsumer) -> None:
        self.consumer = consumer

    async def delivered(self, msg: DeliveredMessage) -> None:
        c = self.consumer
        props = msg.header.properties
        headers = props.headers
        try:
            event = _event_of(headers, props.content_type, msg.body, c.spec.topic)
        except Exception:
            event = _invalid(c.spec.topic)
        c.outstanding += 1
        await c.deliver(_RabbitDelivery(c, msg.channel, msg.delivery_tag, event, _count(headers)))

    async def __call__(self, msg: AbstractIncomingMessage) -> None:
        c = self.consumer
        try:
            event = _event(msg, c.spec.topic)
        except Exception:
            event = _invalid(c.spec.topic)
        c.outstanding += 1
        await c.deliver(_IncomingDelivery(c, msg, event, _count(msg.headers)))


def _invalid(topic: str) -> Event:
    return Event(source="unknown", type=topic, datacontenttype="application/x-invalid")


class _Queue(aio_pika.RobustQueue):
    """A robust queue that hands an ``_OnMessage`` consumer aiormq's messages directly."""

    async def consume(  # noqa: PLR0917  # RobustQueue.consume's signature
        self,
        callback: Callable[[AbstractIncomingMessage], Any],
        no_ack: bool = False,
        exclusive: bool = False,
        arguments: Any = None,
        consumer_tag: ConsumerTag | None = None,
        timeout: Any = None,
        robust: bool = True,
    ) -> ConsumerTag:
        if not isinstance(callback, _OnMessage):
            return await super().consume(
                callback, no_ack, exclusive, arguments, consumer_tag, timeout, robust
            )
        channel = await self.channel.get_underlay_channel()
        result = await channel.basic_consume(
            queue=self.name,
            consumer_callback=callback.delivered,
            exclusive=exclusive,
            no_ack=no_ack,
            arguments=arguments,
            consumer_tag=consumer_tag,
            timeout=timeout,
        )
        tag = result.consumer_tag
        if tag is None:
            raise RuntimeError("Consumer tag is None")
        if robust:  # what RobustQueue keeps to consume again after a reconnect
            self._consumers[tag] = {
                "callback": callback,
                "no_ack": no_ack,
                "exclusive": exclusive,
                "arguments": arguments,
            }
        return tag


class _Channel(aio_pika.RobustChannel):
    QUEUE_CLASS = _Queue


class _Connection(aio_pika.RobustConnection):
    CHANNEL_CLASS = _Channel


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
        self.tag = await self.queue.consume(_OnMessage(self))

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
        self._busy: list[int] = []  # publish calls in flight per pooled channel
        self._exchanges: dict[str, Any] = {}
        self._consumers: list[_RabbitConsumer] = []
        self._batches: dict[int, _Batch] = {}  # by id() of the aiormq channel

    async def connect(self) -> None:
        try:
            self.connection = await aio_pika.connect_robust(
                self.url,
                reconnect_interval=0.2,
                fail_fast=True,
                timeout=10,
                connection_class=_Connection,
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
            self._busy.append(0)
        self._unconfirmed = await self.connection.channel(publisher_confirms=False)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    def _pick(self) -> int:
        """The first idle pooled channel, else the least busy one.

        A sequential publisher keeps using one channel (rotating costs RabbitMQ and the
        client a channel switch per confirm); concurrent publish calls spread over the pool.
        """
        busy = self._busy
        for i, n in enumerate(busy):
            if not n:
                return i
        return busy.index(min(busy))

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

    async def send(self, queue: str, properties: aiormq.spec.Basic.Properties, body: bytes) -> None:
        """Publish to one queue through the default exchange, confirmed."""
        i = self._pick()
        self._busy[i] += 1
        try:
            await self._basic_publish(self._pool[i], "", queue, properties, body)
        finally:
            self._busy[i] -= 1

    async def _basic_publish(  # noqa: PLR0917  # the test spies pass these positionally
        self,
        channel: Any,
        exchange: str,
        routing_key: str,
        properties: Any,
        body: bytes,
        alone: bool = False,
    ) -> Any:
        """What aio-pika's Exchange.publish does, without building an aio_pika.Message.

        On a confirming channel the publish joins this iteration's ``_Batch`` (one write
        for the publishes asked for together); a publish ``alone`` on its channel (a
        sequential publisher) and any unconfirmed one are aiormq's basic_publish, written
        at once without a writer task.
        """
        if channel.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError(f"{channel!r} closed")
        underlay = await channel.get_underlay_channel()
        if alone or not underlay.publisher_confirms:
            return await underlay.basic_publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                properties=properties,
                mandatory=False,
            )
        batch = self._batches.get(id(underlay))
        if batch is None or batch.channel is not underlay:
            self._batches = {k: b for k, b in self._batches.items() if not b.channel.is_closed}
            batch = self._batches[id(underlay)] = _Batch(underlay)
        return await batch.publish(exchange, routing_key, properties, body)

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        i = -1
        try:
            await self.declare(topic)
            # one channel per call keeps the order
            if confirm:
                i = self._pick()
                self._busy[i] += 1
                channel = self._pool[i]
            else:
                channel = self._unconfirmed
            if len(events) == 1:
                alone = i >= 0 and self._busy[i] == 1
                await self._publish_one(topic, events[0], channel, alone)
                return
            await self._slide(topic, events, channel, window)
        except (*_LOST, aio_pika.exceptions.DeliveryError) as exc:
            raise PublishNotConfirmedError(
                f"RabbitMQ did not confirm the publish to {topic!r} ({type(exc).__name__}); "
                "publish again (consumers deduplicate by event id)"
            ) from None
        finally:
            if i >= 0:
                self._busy[i] -= 1

    async def _slide(self, topic: str, events: Sequence[Event], channel: Any, window: int) -> None:
        """Publish in order with up to ``window`` unconfirmed: each confirm lets the next go.

        ``window`` senders take the next event from one shared iterator as soon as their
        previous publish is confirmed (the channel's lock keeps the order in which they took
        them). After a failure no sender takes another event; the senders' publishes still
        in flight finish, every failure is kept, and the first one is raised.
        """
        pending = iter(events)
        failed: list[BaseException] = []

        async def sender() -> None:
            for event in pending:
                if failed:
                    return
                try:
                    await self._publish_one(topic, event, channel)
                except Exception as exc:
                    failed.append(exc)
                    return

        loop = asyncio.get_running_loop()
        await asyncio.gather(*[loop.create_task(sender()) for _ in range(min(window, len(events)))])
        if failed:
            raise failed[0]

    async def _publish_one(
        self, topic: str, event: Event, channel: Any, alone: bool = False
    ) -> None:
        result = await self._basic_publish(
            channel, topic, topic, _properties(event), event.data, alone
        )
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
                event = strip_dead_letter(_event(msg, topic))
                await self.send(f"{group}.{topic}", _properties(event), event.data)
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
        channel = await self.connection.channel()
        try:
            await channel.exchange_delete(topic)
        finally:
            if not channel.is_closed:
                await channel.close()
