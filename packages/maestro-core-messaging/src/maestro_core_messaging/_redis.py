"""Redis Streams backend: XADD pipelined, XREADGROUP, XACK batched, XPENDING + XCLAIM.

Topology: the stream ``{topic}`` (trimmed to ``stream_maxlen``), one consumer group per
group, dead letters in the stream ``{topic}:dlq``. The delivery count is the PEL's
``times_delivered``: a message left unacknowledged (consumer SIGKILLed) is claimed by another
consumer after ``reclaim_idle`` seconds with its count increased. A retry keeps the message
pending and sets its idle time so that it becomes claimable after the delay.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ._backend import Backend, Consumer, DeliverFn, Delivery, Spec
from ._errors import BrokerConnectionError, PublishError, PublishNotConfirmedError
from ._event import Event
from ._memory import strip_dead_letter
from ._urls import mask

if TYPE_CHECKING:
    from ._broker import MessageBroker

__all__ = ["RedisBackend"]
log = logging.getLogger("maestro.messaging")
_LOST = (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError)
_REPLY_TIMEOUT = 30.0


def _fields(event: Event) -> dict[str, str | bytes]:
    fields: dict[str, str | bytes] = dict(event.to_headers())
    fields["data"] = event.data
    return fields


def _resp(args: tuple[str | bytes, ...]) -> bytes:
    """One command in the Redis protocol (RESP2 array of bulk strings)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


def _packer() -> Callable[[tuple[str | bytes, ...]], bytes]:
    """hiredis' C packer (redis-py's optional parser; ~2x faster than _resp) when installed."""
    try:
        import hiredis
    except ImportError:  # pragma: no cover - hiredis is optional
        return _resp
    pack: Any = hiredis.pack_command
    return cast(Callable[[tuple[str | bytes, ...]], bytes], pack)


_pack = _packer()


async def _pool_connection(pool: Any) -> Any:
    try:
        return await pool.get_connection()
    except TypeError:  # redis-py < 5.3 wants a command name
        return await pool.get_connection("XADD")


def _event(fields: dict[bytes, bytes], topic: str) -> Event:
    data = fields.pop(b"data", b"")
    return Event.from_headers(fields, data, default_type=topic)


class _RedisDelivery(Delivery):
    __slots__ = ("_consumer", "msg_id")

    def __init__(self, consumer: _RedisConsumer, msg_id: bytes, event: Event, count: int) -> None:
        super().__init__(event, count)
        self._consumer = consumer
        self.msg_id = msg_id

    async def ack(self) -> None:
        if not self.settled:
            self.settled = True
            await self._consumer.ack(self.msg_id)

    async def retry(self, delay: float) -> None:
        if self.settled:
            return
        self.settled = True
        await self._consumer.schedule(self.msg_id, self.delivery_count, delay)

    async def release(self) -> None:
        if not self.settled:
            self.settled = True  # given back unprocessed: the next delivery keeps this count
            await self._consumer.schedule(self.msg_id, self.delivery_count - 1, 0.0)

    async def dead_letter(self, event: Event) -> None:
        if self.settled:
            return
        self.settled = True
        await self._consumer.dead_letter(self.msg_id, event)

    async def in_progress(self) -> None:
        if not self.settled:
            await self._consumer.touch([self.msg_id])


class _RedisConsumer(Consumer):
    def __init__(self, backend: RedisBackend, spec: Spec, deliver: DeliverFn) -> None:
        self.backend = backend
        self.spec = spec
        self.deliver = deliver
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.reader: Any = aioredis.Redis.from_url(backend.url)
        self.inflight: set[bytes] = set()
        self._acks: list[bytes] = []
        self._flusher: asyncio.Task[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopped = False
        self.next_reclaim = 0.0
        self.heartbeat: asyncio.Task[None] | None = None

    @property
    def reclaim_ms(self) -> int:
        return max(1, int(self.backend.reclaim_idle * 1000))

    async def ensure_group(self) -> None:
        try:
            await self.backend.client.xgroup_create(
                self.spec.topic, self.spec.group, id="$", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def start(self) -> None:
        await self.ensure_group()
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self.run())
        self.heartbeat = loop.create_task(self.beat())

    async def stop(self) -> None:
        self.stopped = True
        for task in (self.task, self.heartbeat):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        """Flush queued acks (called after the broker drained its handlers)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._acks:
            await self.flush()
        await self.reader.aclose(close_connection_pool=True)

    async def run(self) -> None:
        topic, group = self.spec.topic, self.spec.group
        loop = asyncio.get_running_loop()
        every = min(1.0, self.backend.reclaim_idle / 4)
        prefetch = self.backend.prefetch
        failures = 0
        while not self.stopped:
            try:
                claimed = 0
                if loop.time() >= self.next_reclaim:
                    self.next_reclaim = loop.time() + every
                    claimed = await self.reclaim(prefetch)
                wait = max(0.005, min(0.5, self.next_reclaim - loop.time()))
                reply = await self.reader.xreadgroup(
                    group,
                    self.name,
                    {topic: ">"},
                    count=prefetch,
                    block=None if claimed else int(wait * 1000),
                )
                failures = 0
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # the server lost the group (restart without data)
                    await self.ensure_group()
                    continue
                raise
            except _LOST as exc:
                failures += 1
                if failures == 1:
                    self.backend.reconnects += 1
                    log.warning("redis consumer of %s lost its connection: %s", group, exc)
                await asyncio.sleep(min(2.0, 0.05 * 2**failures))
                continue
            batch = [(m, f) for _s, entries in reply or () for m, f in entries if f is not None]
            for i, (msg_id, fields) in enumerate(batch):
                try:
                    await self.dispatch(msg_id, fields, 1)
                except asyncio.CancelledError:  # stopping: the rest go back at once
                    for rest, _f in batch[i + 1 :]:
                        await self.schedule(rest, 0, 0.0)
                    raise

    async def dispatch(self, msg_id: bytes, fields: dict[bytes, bytes], count: int) -> None:
        try:
            event = _event(dict(fields), self.spec.topic)
        except Exception as exc:
            event = Event(
                source="unknown",
                type=self.spec.topic,
                data=b"",
                datacontenttype="application/x-invalid",
            )
            log.warning("undecodable message %r on %s: %s", msg_id, self.spec.topic, exc)
        self.inflight.add(msg_id)
        await self.deliver(_RedisDelivery(self, msg_id, event, count))

    async def reclaim(self, count: int) -> int:
        """Claim messages idle longer than reclaim_idle (crashed consumers, due retries)."""
        client, topic, group = self.backend.client, self.spec.topic, self.spec.group
        pending = await client.xpending_range(
            topic, group, min="-", max="+", count=count, idle=self.reclaim_ms
        )
        if not pending:
            return 0
        counts = {p["message_id"]: int(p["times_delivered"]) for p in pending}
        claimed = await client.xclaim(topic, group, self.name, self.reclaim_ms, list(counts))
        n = 0
        present = set()
        for msg_id, fields in claimed:
            present.add(msg_id)
            if fields is None:
                continue
            n += 1
            await self.dispatch(msg_id, fields, counts.get(msg_id, 0) + 1)
        gone = [m for m in counts if m not in present]
        if gone:  # trimmed or deleted entries: nothing to deliver
            await client.xack(topic, group, *gone)
        return n

    async def beat(self) -> None:
        """Keep in-flight messages from being reclaimed while their handlers run."""
        while not self.stopped:
            await asyncio.sleep(self.backend.reclaim_idle / 3)
            if self.inflight:
                try:
                    await self.touch(list(self.inflight))
                except (*_LOST, RedisError) as exc:
                    log.warning("redis lease extension failed: %s", exc)

    async def touch(self, ids: list[bytes]) -> None:
        await self.backend.client.xclaim(
            self.spec.topic, self.spec.group, self.name, 0, ids, justid=True
        )

    async def ack(self, msg_id: bytes) -> None:
        """Queue the XACK; one XACK per loop iteration carries every ack queued meanwhile.

        A lost XACK only means a redelivery (at-least-once); stop() flushes what is queued.
        """
        self.inflight.discard(msg_id)
        self._acks.append(msg_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> None:
        while self._acks:
            await asyncio.sleep(0)
            batch, self._acks = self._acks, []
            try:
                await self.backend.client.xack(self.spec.topic, self.spec.group, *batch)
            except (*_LOST, RedisError) as exc:
                log.warning(
                    "XACK of %d messages failed (they will be redelivered): %s", len(batch), exc
                )

    async def schedule(self, msg_id: bytes, count: int, delay: float) -> None:
        self.inflight.discard(msg_id)
        due = asyncio.get_running_loop().time() + min(delay, self.backend.reclaim_idle)
        self.next_reclaim = min(self.next_reclaim, due)
        idle = max(0, self.reclaim_ms - int(delay * 1000))
        await self.backend.client.xclaim(
            self.spec.topic,
            self.spec.group,
            self.name,
            0,
            [msg_id],
            idle=idle,
            retrycount=count,
            justid=True,
        )

    async def dead_letter(self, msg_id: bytes, event: Event) -> None:
        self.inflight.discard(msg_id)
        pipe = self.backend.client.pipeline(transaction=True)
        pipe.xadd(f"{self.spec.topic}:dlq", _fields(event))
        pipe.xack(self.spec.topic, self.spec.group, msg_id)
        await pipe.execute()


class RedisBackend(Backend):
    """Redis Streams (``redis://``)."""

    name = "redis"

    def __init__(self, url: str, broker: MessageBroker) -> None:
        self.url = url
        self.reclaim_idle = broker.reclaim_idle
        self.prefetch = broker.prefetch
        self.maxlen = broker.stream_maxlen
        self._maxlen = str(self.maxlen)
        self.reconnects = 0
        self._consumers: list[_RedisConsumer] = []
        self.client: Any = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                url, max_connections=64, timeout=30
            )
        )

    async def connect(self) -> None:
        try:
            await self.client.ping()
        except (*_LOST, RedisError) as exc:
            await self.client.aclose(close_connection_pool=True)
            raise BrokerConnectionError(
                f"cannot reach Redis at {mask(self.url)}: {type(exc).__name__}"
            ) from None

    async def close(self) -> None:
        for consumer in self._consumers:
            await consumer.close()
        self._consumers.clear()
        await self.client.aclose(close_connection_pool=True)

    def _xadd(self, topic: str, event: Event) -> bytes:
        """The packed ``XADD topic MAXLEN ~ n * field value ...`` of one event.

        Packed here rather than by redis-py, whose per-argument encoding cost more than
        everything else in publish_many (a CloudEvent is 8 fields, 22 arguments).
        """
        args: list[str | bytes] = ["XADD", topic, "MAXLEN", "~", self._maxlen, "*"]
        for name, value in event.to_headers().items():
            args.append(name)
            args.append(value)
        args.append("data")
        args.append(event.data)
        return _pack(tuple(args))

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        """XADD each event, ``window`` commands per round trip; every reply is awaited.

        The commands go down one pooled connection as one write and each reply (the entry
        id) is read before the next window: a reply is Redis' confirmation. Any failure
        closes that connection, so no half-read replies reach the next user.
        """
        pool = self.client.connection_pool
        try:
            for start in range(0, len(events), window):
                commands = [self._xadd(topic, e) for e in events[start : start + window]]
                conn = await _pool_connection(pool)
                try:
                    await conn.send_packed_command(commands)
                    # one deadline for the window instead of one timer per reply
                    async with asyncio.timeout(conn.socket_timeout or _REPLY_TIMEOUT):
                        for _ in commands:
                            await conn.read_response(timeout=math.inf)
                except BaseException:
                    await conn.disconnect()
                    raise
                finally:
                    await pool.release(conn)
        except _LOST as exc:
            raise PublishNotConfirmedError(
                f"Redis did not confirm the publish to {topic!r} ({type(exc).__name__}); "
                "publish again (consumers deduplicate by event id)"
            ) from None
        except ResponseError as exc:
            raise PublishError(f"Redis refused the publish to {topic!r}: {exc}") from None

    async def declare(self, topic: str) -> None:
        """Streams are created by the first XADD or consumer group; nothing to declare."""

    async def consume(self, spec: Spec, deliver: DeliverFn) -> Consumer:
        consumer = _RedisConsumer(self, spec, deliver)
        await consumer.start()
        self._consumers.append(consumer)
        return consumer

    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        entries = await self.client.xrange(f"{topic}:dlq")
        events = [_event(dict(fields), topic) for _id, fields in entries]
        return [e for e in events if e.extensions.get("deadlettergroup") == group]

    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        entries = await self.client.xrange(f"{topic}:dlq")
        moved = 0
        for msg_id, fields in entries:
            event = _event(dict(fields), topic)
            if event.extensions.get("deadlettergroup") != group:
                continue
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(
                topic, _fields(strip_dead_letter(event)), maxlen=self.maxlen, approximate=True
            )
            pipe.xdel(f"{topic}:dlq", msg_id)
            await pipe.execute()
            moved += 1
        return moved

    async def pending(self, topic: str, group: str) -> int:
        try:
            groups = await self.client.xinfo_groups(topic)
        except ResponseError:
            return 0
        for info in groups:
            name = info["name"]
            if (name.decode() if isinstance(name, bytes) else name) == group:
                lag = info.get("lag")
                return int(info["pending"]) + int(lag or 0)
        return 0

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def remove_group(self, topic: str, group: str) -> None:
        try:
            await self.client.xgroup_destroy(topic, group)
        except ResponseError:
            return

    async def delete_topic(self, topic: str) -> None:
        await self.client.delete(topic, f"{topic}:dlq")
