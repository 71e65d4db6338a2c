"""NATS JetStream backend: one stream per topic, a durable pull consumer per group.

Topology: stream ``{topic with '.'->'_'}`` holding the subjects ``{topic}`` and
``{topic}.dlq``; each group is a durable pull consumer filtered on ``{topic}``, explicit
acks, ``ack_wait = reclaim_idle``. The delivery count is JetStream's ``num_delivered``;
retries are ``nak(delay)``; publishes carry ``Nats-Msg-Id`` = the event id, so JetStream
drops a duplicate publish within its duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as NatsAck
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig

from ._backend import Backend, Consumer, DeliverFn, Delivery, Spec
from ._errors import BrokerConnectionError, PublishError, PublishNotConfirmedError
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


_JS_API = "$JS.API"  # the JetStream API prefix of the context this backend uses
_STATUS = "Status"
_CONFIRM_TIMEOUT = 5.0  # seconds for the ack of one publish (the JetStream context's timeout)
_WINDOW_TIMEOUT = 30.0  # seconds for the acks of one publish_many window
_DESCRIPTION = "Description"


_SPACE = re.compile(r"\s")  # what str.isspace() accepts, one C call per header name


class _Client(Client):
    """nats-py's client with a cheaper parse of each message's header block.

    ``_parse_header_lines`` returns the same dict as nats-py's (same splitting, stripping,
    decoding and skipped lines); nats-py tests a header name for whitespace with a Python
    generator over its characters, about half of the parse for the eight ce_* headers.
    """

    @staticmethod
    def _parse_header_lines(raw: bytes) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in raw.split(b"\r\n"):
            if not line:
                continue
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            try:
                key = name.strip().decode("ascii")
            except UnicodeDecodeError:
                continue
            if _SPACE.search(key) is not None:
                continue
            out[key] = value.strip().decode("utf-8", "replace")
        return out


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


class _Pull:
    """One pull request in flight: how many messages it may still bring, and its deadline."""

    __slots__ = ("deadline", "remaining")

    def __init__(self, remaining: int, deadline: float) -> None:
        self.remaining = remaining
        self.deadline = deadline


class _NatsConsumer(Consumer):
    """A durable pull consumer fed by pull requests whose messages arrive on a callback.

    nats-py's ``fetch()`` spends a task, a uuid4 and a ``wait_for`` on every message it
    returns (and a no-wait probe per call); here the messages of a pull request are handed to
    the runtime by the inbox subscription's callback, and the next request (``prefetch``
    messages, expiring after ``expires``) goes out as soon as half of the credit is used, so
    the server always has a request to fill. Requests are filled in order, so the oldest one
    is charged for each message; a status reply (408 expired, 409, 503 no consumer) ends it.
    """

    def __init__(self, backend: NatsBackend, spec: Spec, deliver: DeliverFn) -> None:
        self.backend = backend
        self.spec = spec
        self.deliver = deliver
        self.task: asyncio.Task[None] | None = None
        self.stopped = False
        # stream sequence -> the highest delivery count this consumer has seen for it
        self.counts: OrderedDict[int, int] = OrderedDict()
        self.sub: Any = None
        self.inbox = ""
        self.pulls: deque[_Pull] = deque()
        self.credit = 0  # messages requested and not yet received
        self.wakeup = asyncio.Event()
        self.lost = False  # the server does not know the consumer (any more)
        self.expires = min(5.0, max(0.5, backend.reclaim_idle / 4))
        self.next_subject = ""

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

    async def ensure(self) -> None:
        """Create the stream and the consumer (idempotent)."""
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
        self.next_subject = f"{_JS_API}.CONSUMER.MSG.NEXT.{stream_name(spec.topic)}.{durable}"
        self.lost = False

    async def start(self) -> None:
        await self.ensure()
        nc = self.backend.nc
        self.inbox = nc.new_inbox()
        self.sub = await nc.subscribe(self.inbox, cb=self.on_msg)
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.sub is not None:  # messages not yet handed over come back after ack_wait
            with contextlib.suppress(*_LOST, nats.errors.Error):
                await self.sub.unsubscribe()

    def _forget_pulls(self) -> None:
        self.pulls.clear()
        self.credit = 0

    async def run(self) -> None:
        """Keep a pull request in flight; restore the consumer when the server lost it."""
        b, spec = self.backend, self.spec
        loop = asyncio.get_running_loop()
        batch = b.prefetch
        failures = 0
        reconnects = b.reconnects
        while not self.stopped:
            now = loop.time()
            if b.reconnects != reconnects:  # requests made before a reconnect may be gone
                reconnects = b.reconnects
                self._forget_pulls()
            while self.pulls and self.pulls[0].deadline < now:  # expired without a status
                self.credit -= self.pulls.popleft().remaining
            try:
                if self.lost:
                    await self.ensure()
                    self._forget_pulls()
                if self.credit <= batch // 2:
                    want = batch - self.credit
                    request = {"batch": want, "expires": int(self.expires * 1e9)}
                    self.pulls.append(_Pull(want, now + self.expires + 1.0))
                    self.credit += want
                    await b.nc.publish(self.next_subject, orjson.dumps(request), reply=self.inbox)
                failures = 0
            except (*_LOST, nats.errors.Error, nats.js.errors.APIError) as exc:
                failures += 1
                self._forget_pulls()
                log.warning("nats consumer %s: %s", spec.group, type(exc).__name__)
                await asyncio.sleep(min(2.0, 0.05 * 2**failures))
                continue
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.expires + 1.0):
                    await self.wakeup.wait()

    async def on_msg(self, msg: Msg) -> None:
        """A message (or a status reply) for one of this consumer's pull requests."""
        headers = msg.headers
        if not msg.data and headers and _STATUS in headers:
            status = headers[_STATUS]
            if status == "100":  # idle heartbeat
                return
            if self.pulls:  # 404/408: the request ended; 409/503: the consumer is gone
                self.credit -= self.pulls.popleft().remaining
            if status in ("503", "409") and "Exceeded" not in headers.get(_DESCRIPTION, ""):
                self.lost = True
            self.wakeup.set()
            return
        if self.pulls:
            head = self.pulls[0]
            head.remaining -= 1
            self.credit -= 1
            if head.remaining <= 0:
                self.pulls.popleft()
            if self.credit <= self.backend.prefetch // 2:
                self.wakeup.set()
        if self.stopped:
            return  # not handed over: JetStream redelivers it after ack_wait
        spec = self.spec
        try:
            event = _event(msg, spec.topic)
        except Exception:
            event = Event(
                source="unknown", type=spec.topic, datacontenttype="application/x-invalid"
            )
        await self.deliver(_NatsDelivery(self.backend, spec, msg, event, self.delivery_count(msg)))


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
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._ack_sub: Any = None
        self._ack_prefix = ""
        self._serial = itertools.count()

    async def connect(self) -> None:
        async def reconnected() -> None:
            self.reconnects += 1
            self._declared.clear()

        async def quiet(*_: Any) -> None:
            return None

        try:
            nc = _Client()
            options: dict[str, Any] = {
                "connect_timeout": 5,
                "reconnect_time_wait": 0.2,  # nats-py annotates an int, sleeps any number
                "max_reconnect_attempts": -1,
                "allow_reconnect": True,
                "reconnected_cb": reconnected,
                "error_cb": quiet,
                "disconnected_cb": quiet,
            }
            await nc.connect(self.url, **options)  # what nats.connect() does
            self.nc = nc
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

    async def _confirms(self) -> str:
        """The wildcard inbox JetStream's publish acks come back to (subscribed once)."""
        if self._ack_sub is None:
            prefix = self.nc.new_inbox()
            self._ack_sub = await self.nc.subscribe(prefix + ".*", cb=self._on_ack)
            self._ack_prefix = prefix + "."
        return self._ack_prefix

    async def _on_ack(self, msg: Msg) -> None:
        future = self._acks.pop(msg.subject, None)
        if future is None or future.done():
            return
        headers = msg.headers
        if not msg.data and headers and headers.get(_STATUS) == "503":
            future.set_exception(nats.errors.NoRespondersError())
            return
        try:
            reply = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            future.set_exception(PublishNotConfirmedError("JetStream sent an unreadable ack"))
            return
        error = reply.get("error") if isinstance(reply, dict) else None
        if error is not None or not isinstance(reply, dict) or "seq" not in reply:
            description = error.get("description", error) if isinstance(error, dict) else reply
            future.set_exception(PublishError(f"JetStream refused the publish: {description}"))
            return
        future.set_result(None)

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        """Publish with ``Nats-Msg-Id``; with ``confirm`` each JetStream ack is awaited.

        ``window`` publishes go out before their acks are awaited; each carries its own reply
        subject under one wildcard inbox (cheaper than nats-py's ``publish_async``, which
        spends a semaphore wait, a token and a dataclass per message).
        """
        tokens: list[str] = []
        try:
            await self.declare(topic)
            nc = self.nc
            if not confirm:
                for event in events:
                    await nc.publish(topic, event.data, headers=_headers(event, event.id))
                await nc.flush()
                return
            prefix = await self._confirms()
            loop = asyncio.get_running_loop()
            acks = self._acks
            limit = _CONFIRM_TIMEOUT if len(events) == 1 else _WINDOW_TIMEOUT
            for start in range(0, len(events), window):
                futures = []
                tokens = []
                for event in events[start : start + window]:
                    token = f"{prefix}{next(self._serial)}"
                    future: asyncio.Future[None] = loop.create_future()
                    acks[token] = future
                    tokens.append(token)
                    futures.append(future)
                    await nc.publish(
                        topic, event.data, reply=token, headers=_headers(event, event.id)
                    )
                async with asyncio.timeout(limit):
                    for future in futures:
                        await future
        except _LOST as exc:
            raise PublishNotConfirmedError(
                f"NATS did not confirm the publish to {topic!r} ({type(exc).__name__}); publish "
                "again (JetStream drops the duplicate by event id)"
            ) from None
        except PublishError as exc:
            raise type(exc)(f"{exc} (topic {topic!r})") from None
        finally:
            for token in tokens:  # a window that failed: forget its acks
                self._acks.pop(token, None)

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
