"""MessageBroker: subscribers, publishing, the backend-neutral consumer runtime and drain."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import signal
import sys
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from ._backend import Backend, Consumer, Delivery, Spec, check_group, check_topic
from ._codec import Decoder, decoder_for, encode, json_schema
from ._errors import (
    ConfigurationError,
    MaestroMessagingError,
    PublishError,
    SerializationError,
)
from ._event import Event
from ._message import Message
from ._types import AckPolicy, BrokerType, MessagingStats, Reject, Retry, seconds
from ._urls import backend_of, default_url, mask, url_from_settings
from ._version import __version__

__all__ = ["MessageBroker"]

log = logging.getLogger("maestro.messaging")
H = TypeVar("H", bound=Callable[..., Awaitable[Any]])
_current: contextvars.ContextVar[Event | None] = contextvars.ContextVar(
    "maestro_messaging_event", default=None
)
_LAST_ERROR_MAX = 500


def _traceparent() -> str:
    parent = _current.get()
    if parent is not None and "traceparent" in parent.extensions:
        trace = parent.extensions["traceparent"].split("-")
        if len(trace) == 4:
            return f"00-{trace[1]}-{os.urandom(8).hex()}-{trace[3]}"
    if "opentelemetry.propagate" in sys.modules:
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if "traceparent" in carrier:
            return carrier["traceparent"]
    ids = os.urandom(24).hex()
    return f"00-{ids[:32]}-{ids[32:]}-01"


def _extension_name(name: str) -> str:
    cleaned = "".join(c for c in name.lower() if c.isalnum())
    if not cleaned:
        raise ConfigurationError(f"header name {name!r} has no letters or digits")
    return cleaned


def _backoff(value: float | timedelta | Sequence[float | timedelta]) -> tuple[float, ...]:
    if isinstance(value, int | float | timedelta):
        return (seconds(value, "backoff"),)
    delays = tuple(seconds(v, "backoff") for v in value)
    if not delays:
        raise ConfigurationError("backoff must hold at least one delay (seconds)")
    return delays


def _error_text(exc: BaseException | str | None) -> str:
    if exc is None:
        return ""
    if isinstance(exc, str):
        return exc[:_LAST_ERROR_MAX]
    return f"{type(exc).__name__}: {exc}"[:_LAST_ERROR_MAX]


@dataclass(slots=True)
class _Subscriber:
    topic: str
    group: str | None
    handler: Callable[..., Awaitable[Any]]
    decode: Decoder
    payload_param: str | None
    message_param: str | None
    annotation: Any
    ack_policy: AckPolicy
    max_deliveries: int
    backoff: tuple[float, ...]
    concurrency: int
    name: str

    def delay_after(self, count: int) -> float:
        return self.backoff[min(max(count, 1), len(self.backoff)) - 1]


def _inspect_handler(
    handler: Callable[..., Any], localns: Mapping[str, Any] | None = None
) -> tuple[str | None, str | None, Any]:
    """(payload parameter, message parameter, payload annotation) of a handler."""
    try:
        hints = typing.get_type_hints(handler, localns=dict(localns or {}))
    except (NameError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot resolve the annotations of {handler!r}: {exc}; define the payload type "
            "where the handler can see it"
        ) from None
    payload: str | None = None
    message: str | None = None
    annotation: Any = Any
    for param in inspect.signature(handler).parameters.values():
        tp = hints.get(param.name, Any)
        if tp is Message or (param.name == "message" and tp is Any):
            message = param.name
        elif payload is None:
            payload, annotation = param.name, tp
        else:
            raise ConfigurationError(
                f"handler {getattr(handler, '__name__', handler)!r} takes too many parameters: "
                "use (payload) or (payload, message: Message)"
            )
    return payload, message, annotation


class _Runtime:
    """Counters and the settlement rules shared by every subscriber."""

    def __init__(self) -> None:
        self.counters = dict.fromkeys(
            (
                "published_total",
                "consumed_total",
                "acked_total",
                "retried_total",
                "dead_lettered_total",
            ),
            0,
        )
        self.in_flight = 0
        self.retry_until = 0.0  # loop time when the last scheduled redelivery is due

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    async def dead_letter(
        self, delivery: Delivery, reason: str, error: BaseException | str | None, group: str
    ) -> None:
        if delivery.settled:
            return
        dead = delivery.event.with_extensions(
            deadletterreason=reason,
            deliverycount=str(delivery.delivery_count),
            lasterror=_error_text(error),
            deadlettergroup=group,
        )
        await delivery.dead_letter(dead)
        self.count("dead_lettered_total")
        log.warning(
            "dead-lettered event %s of group %s: %s after %d deliveries",
            delivery.event.id,
            group,
            reason,
            delivery.delivery_count,
        )

    async def retry_or_dead_letter(
        self,
        sub: _Subscriber,
        delivery: Delivery,
        delay: float | None,
        error: BaseException | None,
        group: str,
    ) -> None:
        if delivery.settled:
            return
        if delivery.delivery_count >= sub.max_deliveries:
            await self.dead_letter(delivery, "max_deliveries", error, group)
            return
        if delay is None:
            delay = sub.delay_after(delivery.delivery_count)
        await delivery.retry(delay)
        self.count("retried_total")
        due = asyncio.get_running_loop().time() + delay
        self.retry_until = max(self.retry_until, due)


class _Running:
    """One started subscriber: its backend consumer, its tasks and its concurrency limit."""

    def __init__(self, sub: _Subscriber, group: str, durable: bool) -> None:
        self.sub = sub
        self.group = group
        self.durable = durable
        self.consumer: Consumer | None = None
        self.semaphore = asyncio.Semaphore(sub.concurrency)
        self.tasks: dict[asyncio.Task[None], Delivery] = {}


class MessageBroker:
    """One publish/subscribe API over memory://, amqp://, redis:// and nats://.

    ``MessageBroker("rabbitmq", "amqp://...")`` is the original constructor;
    ``from_url`` and ``from_settings`` are the usual ways. ``async with broker`` connects,
    declares topology and starts the subscribers; leaving it drains in-flight handlers.
    """

    def __init__(
        self,
        broker_type: BrokerType | str = BrokerType.MEMORY,
        connection_url: str | None = None,
        *,
        source: str | None = None,
        max_retry_attempts: int | None = None,
        retry_backoff_seconds: float | None = None,
        max_deliveries: int = 5,
        backoff: float | timedelta | Sequence[float | timedelta] = (1.0, 5.0, 30.0),
        ack_policy: AckPolicy = AckPolicy.ACK,
        confirm: bool = True,
        publish_window: int = 100,
        drain_timeout: float | timedelta = 30.0,
        queue_type: str = "quorum",
        stream_maxlen: int = 1_000_000,
        reclaim_idle: float | timedelta = 60.0,
        prefetch: int = 10,
        max_message_bytes: int = 1_048_576,
        dedupe: Any = None,
        dedupe_ttl: float | timedelta = 86_400.0,
    ) -> None:
        kind = broker_type if isinstance(broker_type, BrokerType) else BrokerType(broker_type)
        url = connection_url or default_url(kind)
        if backend_of(url) is not kind:
            raise ConfigurationError(
                f"broker type {kind.value!r} does not match the URL {mask(url)!r}"
            )
        if max_retry_attempts is not None:
            if max_retry_attempts < 0:
                raise ConfigurationError("max_retry_attempts must be >= 0")
            max_deliveries = max_retry_attempts + 1
        if retry_backoff_seconds is not None:
            backoff = retry_backoff_seconds
        if not isinstance(max_deliveries, int) or max_deliveries < 1:
            raise ConfigurationError(f"max_deliveries must be an int >= 1, got {max_deliveries!r}")
        if queue_type not in ("quorum", "classic"):
            raise ConfigurationError("queue_type must be 'quorum' or 'classic'")
        for name, value in (
            ("publish_window", publish_window),
            ("prefetch", prefetch),
            ("stream_maxlen", stream_maxlen),
            ("max_message_bytes", max_message_bytes),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigurationError(f"{name} must be an int >= 1, got {value!r}")
        self.broker_type = kind
        self._url = url
        self.source = source or "maestro"
        self.max_deliveries = max_deliveries
        self.backoff = _backoff(backoff)
        self.ack_policy = AckPolicy(ack_policy)
        self.confirm = confirm
        self.publish_window = publish_window
        self.drain_timeout = seconds(drain_timeout, "drain_timeout")
        self.queue_type = queue_type
        self.stream_maxlen = stream_maxlen
        self.reclaim_idle = seconds(reclaim_idle, "reclaim_idle", allow_zero=False)
        self.prefetch = prefetch
        self.max_message_bytes = max_message_bytes
        self.dedupe = dedupe
        self.dedupe_ttl = seconds(dedupe_ttl, "dedupe_ttl")
        self._instance = uuid.uuid4().hex[:8]
        self._subscribers: list[_Subscriber] = []
        self._running: list[_Running] = []
        self._backend: Backend | None = None
        self._started = False
        self._stopping = False
        self._runtime = _Runtime()
        self._services: list[Any] = []
        self._sync: Any = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, **options: Any) -> MessageBroker:
        """A broker for ``memory://``, ``amqp://``, ``redis://`` or ``nats://`` URLs."""
        return cls(backend_of(url), url, **options)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> MessageBroker:
        """A broker from maestro-core-config's ``BrokerSettings`` (duck typing), plus overrides."""
        options: dict[str, Any] = {}
        for name in (
            "prefetch",
            "max_deliveries",
            "backoff",
            "confirm",
            "drain_timeout",
            "queue_type",
            "stream_maxlen",
            "reclaim_idle",
            "publish_window",
            "max_message_bytes",
            "source",
        ):
            value = getattr(settings, name, None)
            if value is not None:
                options[name] = value
        options.update(overrides)
        return cls.from_url(url_from_settings(settings), **options)

    def __repr__(self) -> str:
        return f"MessageBroker({self.broker_type.value!r}, {mask(self._url)!r})"

    @property
    def url(self) -> str:
        """The broker URL with its password masked."""
        return mask(self._url)

    # -- subscribers ----------------------------------------------------------------------
    def subscriber(
        self,
        topic: str,
        *,
        group: str | None = None,
        max_deliveries: int | None = None,
        backoff: float | timedelta | Sequence[float | timedelta] | None = None,
        concurrency: int = 1,
        ack_policy: AckPolicy | None = None,
    ) -> Callable[[H], H]:
        """Decorator: run the handler for every message of ``topic`` in ``group``.

        The handler's first parameter's annotation validates the payload (pydantic model,
        dataclass, TypedDict, plain type or ``bytes``); a parameter annotated ``Message``
        receives the delivery. Returning acks; raising retries (``AckPolicy.ACK``).
        """
        check_topic(topic)
        if group is not None:
            check_group(group)
        if max_deliveries is not None and (
            not isinstance(max_deliveries, int) or max_deliveries < 1
        ):
            raise ConfigurationError(f"max_deliveries must be an int >= 1, got {max_deliveries!r}")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigurationError(f"concurrency must be an int >= 1, got {concurrency!r}")
        delays = _backoff(backoff) if backoff is not None else self.backoff

        def register(handler: H) -> H:
            probe: Any = handler
            if not inspect.iscoroutinefunction(probe):
                raise ConfigurationError(
                    f"subscriber {getattr(handler, '__name__', handler)!r} must be an async def"
                )
            # string annotations may name classes local to the decorating function
            caller = sys._getframe(1).f_locals
            payload, message, annotation = _inspect_handler(handler, caller)
            sub = _Subscriber(
                topic=topic,
                group=group,
                handler=handler,
                decode=decoder_for(annotation),
                payload_param=payload,
                message_param=message,
                annotation=annotation,
                ack_policy=AckPolicy(ack_policy or self.ack_policy),
                max_deliveries=max_deliveries or self.max_deliveries,
                backoff=delays,
                concurrency=concurrency,
                name=getattr(handler, "__qualname__", "handler"),
            )
            self._subscribers.append(sub)
            return handler

        return register

    async def subscribe(
        self,
        topic: str,
        handler: Callable[..., Awaitable[Any]],
        group_id: str | None = None,
        **options: Any,
    ) -> None:
        """The original form: register ``handler`` and start it at once if the broker runs."""
        self.subscriber(topic, group=group_id, **options)(handler)
        if self._started:
            await self._start_subscriber(self._subscribers[-1])

    # -- lifecycle -----------------------------------------------------------------------
    def _make_backend(self) -> Backend:
        from urllib.parse import urlsplit

        kind = self.broker_type
        if kind is BrokerType.MEMORY:
            from ._memory import MemoryBackend

            return MemoryBackend(urlsplit(self._url).netloc)
        if kind is BrokerType.REDIS:
            from ._errors import require

            require("redis.asyncio", "the Redis Streams backend", "redis")
            from ._redis import RedisBackend

            return RedisBackend(self._url, self)
        if kind is BrokerType.RABBITMQ:
            from ._errors import require

            require("aio_pika", "the RabbitMQ backend", "rabbitmq")
            from ._rabbitmq import RabbitBackend

            return RabbitBackend(self._url, self)
        from ._errors import require

        require("nats", "the NATS JetStream backend", "nats")
        from ._nats import NatsBackend

        return NatsBackend(self._url, self)

    async def _ensure_backend(self) -> Backend:
        if self._backend is None:
            backend = self._make_backend()
            await backend.connect()
            self._backend = backend
        return self._backend

    async def connect(self) -> None:
        """Connect, declare topology and start every subscriber (also ``async with broker``)."""
        if self._started:
            return
        await self._ensure_backend()
        self._started = True
        self._stopping = False
        try:
            for sub in list(self._subscribers):
                await self._start_subscriber(sub)
            for service in self._services:
                await service.start()
        except BaseException:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        """Stop consuming, drain in-flight handlers (``drain_timeout``), then close."""
        self._stopping = True
        for service in reversed(self._services):
            await service.stop()
        running, self._running = self._running, []
        for run in running:
            if run.consumer is not None:
                await run.consumer.stop()
        tasks = [t for run in running for t in run.tasks]
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=self.drain_timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
            for run in running:
                for delivery in run.tasks.values():
                    if not delivery.settled:
                        await self._quietly(delivery.release())
        backend, self._backend = self._backend, None
        if backend is not None:
            for run in running:
                if not run.durable:
                    await self._quietly(backend.remove_group(run.sub.topic, run.group))
            await backend.close()
        self._started = False

    @staticmethod
    async def _quietly(coro: Awaitable[Any]) -> None:
        try:
            await coro
        except Exception as exc:  # the broker is going away: the message is redelivered anyway
            log.warning("while closing: %s", _error_text(exc))

    start = connect
    stop = disconnect
    close = disconnect

    async def __aenter__(self) -> MessageBroker:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    def attach(self, service: Any) -> None:
        """Start ``service`` (an OutboxRelay) with the broker and stop it before draining."""
        self._services.append(service)

    async def _start_subscriber(self, sub: _Subscriber) -> None:
        backend = await self._ensure_backend()
        durable = sub.group is not None
        group = sub.group or f"{sub.topic}.{self.source}.{self._instance}"
        run = _Running(sub, group, durable)
        spec = Spec(sub.topic, group, durable, sub.concurrency, sub.max_deliveries)

        loop = asyncio.get_running_loop()
        semaphore, tasks, process = run.semaphore, run.tasks, self._process

        def done(t: asyncio.Task[None]) -> None:
            tasks.pop(t, None)
            semaphore.release()

        async def deliver(delivery: Delivery) -> None:
            try:
                await semaphore.acquire()
            except asyncio.CancelledError:  # stopping: give the waiting message back
                await self._quietly(delivery.release())
                raise
            if self._stopping:
                semaphore.release()
                await delivery.release()
                return
            task = loop.create_task(process(sub, delivery, group))
            tasks[task] = delivery
            task.add_done_callback(done)

        run.consumer = await backend.consume(spec, deliver)
        self._running.append(run)

    async def _process(self, sub: _Subscriber, delivery: Delivery, group: str) -> None:
        rt = self._runtime
        rt.in_flight += 1
        rt.count("consumed_total")
        token = _current.set(delivery.event)
        try:
            await self._handle(sub, delivery, group)
        except Exception as exc:  # settlement failed (connection lost): the broker redelivers
            log.warning("could not settle event %s: %s", delivery.event.id, _error_text(exc))
        finally:
            _current.reset(token)
            rt.in_flight -= 1

    async def _handle(self, sub: _Subscriber, delivery: Delivery, group: str) -> None:
        rt = self._runtime
        if delivery.delivery_count > sub.max_deliveries:
            await rt.dead_letter(
                delivery, "max_deliveries", "the consumer was lost during the last delivery", group
            )
            return
        try:
            payload = sub.decode(delivery.event.data, delivery.event.datacontenttype)
        except SerializationError as exc:
            await rt.dead_letter(delivery, "validation", str(exc), group)
            return
        if self.dedupe is not None:
            fresh = await self.dedupe.add(
                f"maestro:dedupe:{group}:{delivery.event.id}", "1", self.dedupe_ttl
            )
            if fresh is False:
                await delivery.ack()
                rt.count("acked_total")
                return
        policy = sub.ack_policy
        if policy is AckPolicy.ACK_FIRST:
            await delivery.ack()
            rt.count("acked_total")
        kwargs: dict[str, Any] = {}
        if sub.payload_param is not None:
            kwargs[sub.payload_param] = payload
        if sub.message_param is not None:
            kwargs[sub.message_param] = Message(delivery, sub, rt, group)
        try:
            await sub.handler(**kwargs)
        except Reject as exc:
            await rt.dead_letter(delivery, "rejected", exc.reason, group)
        except Retry as exc:
            await rt.retry_or_dead_letter(sub, delivery, exc.delay, exc, group)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "handler %s failed on event %s (delivery %d): %s",
                sub.name,
                delivery.event.id,
                delivery.delivery_count,
                _error_text(exc),
            )
            if delivery.settled:
                return
            if policy is AckPolicy.REJECT_ON_ERROR:
                await rt.dead_letter(delivery, "error", exc, group)
            elif policy is AckPolicy.NACK_ON_ERROR:
                await rt.retry_or_dead_letter(sub, delivery, 0.0, exc, group)
            else:
                await rt.retry_or_dead_letter(sub, delivery, None, exc, group)
        else:
            if policy is not AckPolicy.MANUAL and not delivery.settled:
                await delivery.ack()
                rt.count("acked_total")

    # -- publishing ------------------------------------------------------------------------
    def _event(
        self,
        topic: str,
        message: Any,
        headers: Mapping[str, str] | None,
        key: str | None,
        type: str | None,
    ) -> Event:
        if isinstance(message, Event):
            event = message
        else:
            data, content_type = encode(message)
            extensions = {"traceparent": _traceparent()}
            if headers:
                extensions.update({_extension_name(k): str(v) for k, v in headers.items()})
            event = Event(
                source=self.source,
                type=type or topic,
                data=data,
                datacontenttype=content_type,
                subject=key,
                extensions=extensions,
            )
        if len(event.data) > self.max_message_bytes:
            raise PublishError(
                f"the payload is {len(event.data)} bytes, more than max_message_bytes="
                f"{self.max_message_bytes}; store large data elsewhere and publish a reference"
            )
        return event

    async def publish(
        self,
        topic: str,
        message: Any,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        *,
        type: str | None = None,
        confirm: bool | None = None,
    ) -> str:
        """Publish one message (payload, bytes or an Event); returns the event id.

        Returns after the broker confirmed it unless ``confirm=False``; raises
        PublishNotConfirmedError when the confirm did not arrive (publish again: the id
        lets consumers deduplicate).
        """
        check_topic(topic)
        event = self._event(topic, message, headers, key, type)
        backend = await self._ensure_backend()
        await backend.publish(
            topic, (event,), self.confirm if confirm is None else confirm, self.publish_window
        )
        self._runtime.count("published_total")
        return event.id

    async def publish_many(
        self,
        topic: str,
        messages: Iterable[Any],
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        *,
        type: str | None = None,
        confirm: bool | None = None,
        window: int | None = None,
    ) -> list[str]:
        """Publish many messages with windowed confirms (pipelined on Redis); their ids."""
        check_topic(topic)
        events = [self._event(topic, m, headers, key, type) for m in messages]
        if window is not None and (not isinstance(window, int) or window < 1):
            raise ConfigurationError(f"window must be an int >= 1, got {window!r}")
        backend = await self._ensure_backend()
        if events:
            await backend.publish(
                topic,
                events,
                self.confirm if confirm is None else confirm,
                window or self.publish_window,
            )
        self._runtime.count("published_total", len(events))
        return [e.id for e in events]

    async def create_topic(self, topic: str) -> None:
        """Declare a topic's topology now (publishing and subscribing also do it)."""
        await (await self._ensure_backend()).declare(check_topic(topic))

    async def delete_topic(self, topic: str, groups: Iterable[str] = ()) -> None:
        """Delete a topic and the named groups' queues and dead letters (tests, tooling)."""
        backend = await self._ensure_backend()
        check_topic(topic)
        for group in groups:
            await backend.remove_group(topic, check_group(group))
        await backend.delete_topic(topic)

    # -- dead letters, join, health ----------------------------------------------------------
    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        """The dead letters of ``group`` on ``topic`` (with reason, count and last error)."""
        backend = await self._ensure_backend()
        return await backend.dead_letters(check_topic(topic), check_group(group))

    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        """Deliver a group's dead letters again (same ids, delivery count restarted)."""
        backend = await self._ensure_backend()
        return await backend.requeue_dead_letters(check_topic(topic), check_group(group))

    async def join(self, timeout: float | timedelta | None = None) -> None:
        """Wait until every subscribed group has nothing pending and no handler runs.

        Raises TimeoutError (the builtin) when that does not happen within ``timeout``.
        """
        limit = None if timeout is None else seconds(timeout, "timeout")

        async def idle() -> None:
            quiet = 0
            loop = asyncio.get_running_loop()
            while True:
                busy = self._runtime.in_flight > 0 or loop.time() < self._runtime.retry_until
                if not busy and self._backend is not None:
                    for run in self._running:
                        if await self._backend.pending(run.sub.topic, run.group):
                            busy = True
                            break
                quiet = 0 if busy else quiet + 1
                if quiet >= 2:
                    return
                await asyncio.sleep(0.002 if self.broker_type is BrokerType.MEMORY else 0.02)

        await asyncio.wait_for(idle(), limit)

    async def ping(self) -> bool:
        """True when the broker answers."""
        try:
            return await (await self._ensure_backend()).ping()
        except (MaestroMessagingError, OSError):
            return False

    async def health_check(self) -> dict[str, Any]:
        """The original health dict: status, broker_type, connected, subscribers, stats."""
        ok = await self.ping()
        return {
            "status": "healthy" if ok else "unhealthy",
            "broker_type": self.broker_type.value,
            "connected": ok,
            "url": self.url,
            "subscribers": len(self._subscribers),
            "stats": _stats_dict(self.stats()),
        }

    def stats(self) -> MessagingStats:
        """Counters since this broker was created."""
        c = self._runtime.counters
        return MessagingStats(
            published_total=c["published_total"],
            consumed_total=c["consumed_total"],
            acked_total=c["acked_total"],
            retried_total=c["retried_total"],
            dead_lettered_total=c["dead_lettered_total"],
            in_flight=self._runtime.in_flight,
            reconnects_total=self._backend.reconnects if self._backend else 0,
        )

    def asyncapi(self) -> dict[str, Any]:
        """An AsyncAPI 3.0 document of the subscribers (channels, operations, payload schemas)."""
        channels: dict[str, Any] = {}
        operations: dict[str, Any] = {}
        for sub in self._subscribers:
            channel = channels.setdefault(
                sub.topic.replace(".", "_"),
                {"address": sub.topic, "messages": {}},
            )
            name = getattr(sub.annotation, "__name__", "Payload")
            channel["messages"][name] = {
                "name": name,
                "contentType": "application/json",
                "payload": json_schema(sub.annotation),
                "traits": [
                    {
                        "headers": {
                            "type": "object",
                            "description": "CloudEvents 1.0 ce_* attributes",
                        }
                    }
                ],
            }
            op = (
                f"{sub.name}_{sub.group or 'instance'}".replace(".", "_")
                .replace("<", "")
                .replace(">", "")
            )
            operations[op] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{sub.topic.replace('.', '_')}"},
                "x-group": sub.group,
                "x-max-deliveries": sub.max_deliveries,
            }
        return {
            "asyncapi": "3.0.0",
            "info": {"title": self.source, "version": __version__},
            "defaultContentType": "application/json",
            "channels": channels,
            "operations": operations,
        }

    # -- sync use ----------------------------------------------------------------------------
    @property
    def sync(self) -> Any:
        """The same verbs, synchronous, for WSGI code and scripts (a background loop thread)."""
        if self._sync is None:
            from ._sync import SyncBroker

            self._sync = SyncBroker(self)
        return self._sync

    def run(self, *, on_ready: Callable[[], None] | None = None) -> None:
        """Serve the subscribers in the foreground until SIGTERM or SIGINT, then drain.

        ``on_ready`` is called once the signal handlers are installed and the subscribers run.
        """
        asyncio.run(self._serve(on_ready))

    async def _serve(self, on_ready: Callable[[], None] | None) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with self:
                log.info("serving %d subscribers on %s", len(self._subscribers), self.url)
                if on_ready is not None:
                    on_ready()
                await stop.wait()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, lambda: None)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


def _stats_dict(stats: MessagingStats) -> dict[str, int]:
    return {name: getattr(stats, name) for name in MessagingStats.__dataclass_fields__}
