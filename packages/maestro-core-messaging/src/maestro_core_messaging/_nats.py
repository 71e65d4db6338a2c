"""NATS JetStream backend: one stream per topic, a durable pull consumer per group.

Topology: stream ``{topic with '.'->'_'}`` holding the subjects ``{topic}`` and
``{topic}.dlq``; each group is a durable pull consumer filtered on ``{topic}``, explicit
acks, ``ack_wait = reclaim_idle``. The delivery count is JetStream's ``num_delivered``;
retries are ``nak(delay)``; publishes carry ``Nats-Msg-Id`` = the event id, so JetStream
drops a duplicate publish within its duplicate window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as NatsAck
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig

from ._backend import Backend, Consumer, DeliverFn, Delivery, Spec
from ._errors import BrokerConnectionError, PublishNotConfirmedError
from ._event import Event
from ._memory import strip_dead_letter
from ._urls import mask

if TYPE_CHECKING:
    from ._broker import MessageBroker

__all__ = ["NatsBackend"]
log = logging.getLogger("maestro.messaging")
_LOST = (
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
    nats.errors.NoRespondersError,
    nats.js.errors.NoStreamResponseError,
    asyncio.TimeoutError,
    OSError,
)


def stream_name(topic: str) -> str:
    return topic.replace(".", "_")


def durable_name(group: str) -> str:
    return group.replace(".", "_")


def _headers(event: Event, msg_id: str) -> dict[str, str]:
    headers = event.to_headers()
    headers["Nats-Msg-Id"] = msg_id
    return headers


def _event(msg: Any, topic: str) -> Event:
    return Event.from_headers(msg.headers or {}, msg.data or b"", default_type=topic)


class _NatsDelivery(Delivery):
    __slots__ = ("_backend", "_msg", "_spec")

    def __init__(
        self, backend: NatsBackend, spec: Spec, msg: Msg, event: Event, count: int
    ) -> None:
        super().__init__(event, count)
        self._backend = backend
        self._spec = spec
        self._msg = msg

    async def ack(self) -> None:
        if not self.settled:
            self.settled = True
            await self._msg.ack()

    async def retry(self, delay: float) -> None:
        if not self.settled:
            self.settled = True
            await self._msg.nak(delay=delay if delay > 0 else None)

    async def dead_letter(self, event: Event) -> None:
        if self.settled:
            return
        self.settled = True
        topic = self._spec.topic
        await self._backend.js.publish(
            f"{topic}.dlq",
            event.data,
            headers=_headers(event, f"{event.id}:dlq:{self._spec.group}:{self.delivery_count}"),
        )
        await self._msg.term()

    async def in_progress(self) -> None:
        if not self.settled:
            await self._msg.in_progress()


class _NatsConsumer(Consumer):
    def __init__(self, backend: NatsBackend, spec: Spec, deliver: DeliverFn) -> None:
        self.backend = backend
        self.spec = spec
        self.deliver = deliver
        self.task: asyncio.Task[None] | None = None
        self.stopped = False
        # stream sequence -> the highest delivery count this consumer has seen for it
        self.counts: OrderedDict[int, int] = OrderedDict()

    def delivery_count(self, msg: Msg) -> int:
        """JetStream's ``num_delivered``, never lower than a count already seen here.

        nats-server 2.9 sometimes reports ``num_delivered = 1`` for a message redelivered
        after ``nak(delay)`` (seen: 1, 2, 1, 4 for one message), which would restart
        ``max_deliveries``; the last 10 000 messages' counts are remembered to correct it.
        """
        meta = msg.metadata
        count = int(meta.num_delivered)
        seq = int(meta.sequence.stream)
        seen = self.counts.pop(seq, 0)
        if count <= seen:
            count = seen + 1
        self.counts[seq] = count
        if len(self.counts) > 10_000:
            self.counts.popitem(last=False)
        return count

    async def ensure(self) -> Any:
        b, spec = self.backend, self.spec
        await b.declare(spec.topic)
        durable = durable_name(spec.group)
        config = ConsumerConfig(
            durable_name=durable if spec.durable else None,
            name=None if spec.durable else durable,
            filter_subject=spec.topic,
            ack_policy=NatsAck.EXPLICIT,
            ack_wait=b.reclaim_idle,
            max_deliver=-1,
            deliver_policy=DeliverPolicy.NEW,
            max_ack_pending=max(1000, b.prefetch * 10),
            inactive_threshold=None if spec.durable else 3600.0,
        )
        try:
            await b.js.add_consumer(stream_name(spec.topic), config)
        except nats.js.errors.BadRequestError as exc:  # exists with another config: keep it
            log.info("consumer %s exists: %s", durable, exc)
        return await b.js.pull_subscribe_bind(
            durable if spec.durable else None,
            stream=stream_name(spec.topic),
            name=None if spec.durable else durable,
        )

    async def start(self) -> None:
        sub = await self.ensure()
        self.task = asyncio.get_running_loop().create_task(self.run(sub))

    async def stop(self) -> None:
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def run(self, sub: Any) -> None:
        b, spec = self.backend, self.spec
        block = max(0.05, min(0.2, b.reclaim_idle / 10))
        failures = 0
        while not self.stopped:
            try:
                msgs = await sub.fetch(b.prefetch, timeout=block)
                failures = 0
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except nats.js.errors.NotFoundError:
                sub = await self.ensure()  # the server lost the consumer: restore it
                continue
            except (*_LOST, nats.js.errors.APIError) as exc:
                failures += 1
                log.warning("nats consumer %s: %s", spec.group, type(exc).__name__)
                await asyncio.sleep(min(2.0, 0.05 * 2**failures))
                try:
                    sub = await self.ensure()
                except Exception as again:
                    log.warning(
                        "nats consumer %s not restored yet: %s", spec.group, type(again).__name__
                    )
                continue
            for msg in msgs:
                try:
                    event = _event(msg, spec.topic)
                except Exception:
                    event = Event(
                        source="unknown", type=spec.topic, datacontenttype="application/x-invalid"
                    )
                await self.deliver(_NatsDelivery(b, spec, msg, event, self.delivery_count(msg)))


class NatsBackend(Backend):
    """NATS JetStream (``nats://``)."""

    name = "nats"

    def __init__(self, url: str, broker: MessageBroker) -> None:
        self.url = url
        self.reclaim_idle = broker.reclaim_idle
        self.prefetch = broker.prefetch
        self.maxlen = broker.stream_maxlen
        self.max_bytes = broker.max_message_bytes
        self.reconnects = 0
        self.nc: Any = None
        self.js: Any = None
        self._declared: set[str] = set()

    async def connect(self) -> None:
        async def reconnected() -> None:
            self.reconnects += 1
            self._declared.clear()

        async def quiet(*_: Any) -> None:
            return None

        try:
            self.nc = await nats.connect(
                self.url,
                connect_timeout=5,
                reconnect_time_wait=0.2,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                reconnected_cb=reconnected,
                error_cb=quiet,
                disconnected_cb=quiet,
            )
        except (*_LOST, nats.errors.Error) as exc:
            raise BrokerConnectionError(
                f"cannot reach NATS at {mask(self.url)}: {type(exc).__name__}"
            ) from None
        self.js = self.nc.jetstream(timeout=5)

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()

    async def declare(self, topic: str) -> None:
        if topic in self._declared:
            return
        config = StreamConfig(
            name=stream_name(topic),
            subjects=[topic, f"{topic}.dlq"],
            max_msgs=self.maxlen,
            duplicate_window=120.0,
        )
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self.js.update_stream(config)
        self._declared.add(topic)

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        try:
            await self.declare(topic)
            if not confirm:
                for event in events:
                    await self.nc.publish(topic, event.data, headers=_headers(event, event.id))
                await self.nc.flush()
                return
            if len(events) == 1:
                await self.js.publish(
                    topic, events[0].data, headers=_headers(events[0], events[0].id)
                )
                return
            for start in range(0, len(events), window):
                futures = [
                    await self.js.publish_async(topic, e.data, headers=_headers(e, e.id))
                    for e in events[start : start + window]
                ]
                for ack in await asyncio.wait_for(asyncio.gather(*futures), 30):
                    if ack is None:
                        raise PublishNotConfirmedError(
                            f"JetStream did not confirm a publish to {topic!r}"
                        )
        except _LOST as exc:
            raise PublishNotConfirmedError(
                f"NATS did not confirm the publish to {topic!r} ({type(exc).__name__}); publish "
                "again (JetStream drops the duplicate by event id)"
            ) from None

    async def consume(self, spec: Spec, deliver: DeliverFn) -> Consumer:
        consumer = _NatsConsumer(self, spec, deliver)
        await consumer.start()
        return consumer

    async def _dlq(self, topic: str, group: str) -> list[tuple[int, Event]]:
        found: list[tuple[int, Event]] = []
        seq = 1
        while True:
            try:
                raw = await self.js.get_msg(
                    stream_name(topic), seq=seq, subject=f"{topic}.dlq", next=True
                )
            except (nats.js.errors.NotFoundError, nats.js.errors.APIError):
                return found
            event = Event.from_headers(raw.headers or {}, raw.data or b"", default_type=topic)
            if event.extensions.get("deadlettergroup") == group:
                found.append((raw.seq, event))
            seq = raw.seq + 1

    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        return [e for _s, e in await self._dlq(topic, group)]

    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        found = await self._dlq(topic, group)
        for seq, event in found:
            await self.js.publish(
                topic,
                event.data,
                headers=_headers(strip_dead_letter(event), f"{event.id}:requeue:{seq}"),
            )
            await self.js.delete_msg(stream_name(topic), seq)
        return len(found)

    async def pending(self, topic: str, group: str) -> int:
        try:
            info = await self.js.consumer_info(stream_name(topic), durable_name(group))
        except nats.js.errors.NotFoundError:
            return 0
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def ping(self) -> bool:
        if self.nc is None or not self.nc.is_connected:
            return False
        await self.nc.flush(timeout=2)
        return True

    async def remove_group(self, topic: str, group: str) -> None:
        try:
            await self.js.delete_consumer(stream_name(topic), durable_name(group))
        except nats.js.errors.NotFoundError:
            return

    async def delete_topic(self, topic: str) -> None:
        try:
            await self.js.delete_stream(stream_name(topic))
        except nats.js.errors.NotFoundError:
            return
        self._declared.discard(topic)
