"""The in-process broker: asyncio queues per group with real broker semantics.

Each (topic, group) has its own queue: every group gets every message (fan-out), the
consumers of one group compete for it. A delivery counts; a retry is redelivered after
its delay; dead letters are kept per group. Not durable: it lives in this process and
this event loop. ``memory://name`` shares one broker between MessageBroker objects of the
same process; plain ``memory://`` is private to its MessageBroker.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

from ._backend import Backend, Consumer, DeliverFn, Delivery, Spec
from ._event import Event

__all__ = ["MemoryBackend"]


class _Record:
    __slots__ = ("count", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.count = 0


class _Group:
    __slots__ = ("dead", "delayed", "durable", "inflight", "ready", "waiter")

    def __init__(self, durable: bool) -> None:
        self.ready: deque[_Record] = deque()
        self.waiter: asyncio.Event = asyncio.Event()
        self.inflight = 0
        self.delayed = 0
        self.dead: list[Event] = []
        self.durable = durable

    def put(self, record: _Record) -> None:
        self.ready.append(record)
        self.waiter.set()

    async def get(self) -> _Record:
        while not self.ready:
            self.waiter.clear()
            await self.waiter.wait()
        record = self.ready.popleft()
        if self.ready:
            self.waiter.set()
        return record


class _Hub:
    """The broker state: topics -> groups."""

    def __init__(self) -> None:
        self.topics: dict[str, dict[str, _Group]] = {}

    def group(self, topic: str, name: str, durable: bool = True) -> _Group:
        groups = self.topics.setdefault(topic, {})
        group = groups.get(name)
        if group is None:
            group = groups[name] = _Group(durable)
        return group


_HUBS: weakref.WeakValueDictionary[str, _Hub] = weakref.WeakValueDictionary()


class _MemoryDelivery(Delivery):
    __slots__ = ("_group", "_record")

    def __init__(self, group: _Group, record: _Record) -> None:
        super().__init__(record.event, record.count)
        self._group = group
        self._record = record

    def _settle(self) -> bool:
        if self.settled:
            return False
        self.settled = True
        self._group.inflight -= 1
        return True

    async def ack(self) -> None:
        self._settle()

    async def retry(self, delay: float) -> None:
        if not self._settle():
            return
        group, record = self._group, self._record
        if delay <= 0:
            group.put(record)
            return
        group.delayed += 1

        def due() -> None:
            group.delayed -= 1
            group.put(record)

        asyncio.get_running_loop().call_later(delay, due)

    async def dead_letter(self, event: Event) -> None:
        if self._settle():
            self._group.dead.append(event)

    async def in_progress(self) -> None:
        """Nothing to extend: the in-process broker never redelivers a held message."""


class _MemoryConsumer(Consumer):
    def __init__(self, task: asyncio.Task[None]) -> None:
        self._task = task

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class MemoryBackend(Backend):
    """The in-process backend (``memory://``)."""

    name = "memory"

    def __init__(self, name: str = "") -> None:
        if name:
            hub = _HUBS.get(name)
            if hub is None:
                hub = _HUBS[name] = _Hub()
        else:
            hub = _Hub()
        self._hub = hub
        self._connected = False

    async def connect(self) -> None:
        self._connected = True

    async def close(self) -> None:
        self._connected = False

    async def publish(
        self, topic: str, events: Sequence[Event], confirm: bool, window: int
    ) -> None:
        groups = self._hub.topics.get(topic)
        if not groups:
            return
        for event in events:
            for group in groups.values():
                group.put(_Record(event))

    async def declare(self, topic: str) -> None:
        self._hub.topics.setdefault(topic, {})

    async def consume(self, spec: Spec, deliver: DeliverFn) -> Consumer:
        group = self._hub.group(spec.topic, spec.group, spec.durable)

        async def loop() -> None:
            while True:
                record = await group.get()
                record.count += 1
                group.inflight += 1
                try:
                    await deliver(_MemoryDelivery(group, record))
                except asyncio.CancelledError:
                    group.inflight -= 1
                    group.ready.appendleft(record)
                    group.waiter.set()
                    raise

        return _MemoryConsumer(asyncio.get_running_loop().create_task(loop()))

    async def dead_letters(self, topic: str, group: str) -> list[Event]:
        found = self._hub.topics.get(topic, {}).get(group)
        return list(found.dead) if found else []

    async def requeue_dead_letters(self, topic: str, group: str) -> int:
        found = self._hub.topics.get(topic, {}).get(group)
        if found is None:
            return 0
        dead, found.dead = found.dead, []
        for event in dead:
            found.put(_Record(_strip(event)))
        return len(dead)

    async def pending(self, topic: str, group: str) -> int:
        found = self._hub.topics.get(topic, {}).get(group)
        if found is None:
            return 0
        return len(found.ready) + found.inflight + found.delayed

    async def ping(self) -> bool:
        return self._connected

    async def remove_group(self, topic: str, group: str) -> None:
        self._hub.topics.get(topic, {}).pop(group, None)

    async def delete_topic(self, topic: str) -> None:
        self._hub.topics.pop(topic, None)

    def groups(self) -> list[tuple[str, str]]:
        """Every (topic, group) known to this broker (for join)."""
        return [(t, g) for t, groups in self._hub.topics.items() for g in groups]


DEAD_LETTER_EXTENSIONS = ("deadletterreason", "deliverycount", "lasterror", "deadlettergroup")


def _strip(event: Event) -> Event:
    return replace(
        event,
        extensions={k: v for k, v in event.extensions.items() if k not in DEAD_LETTER_EXTENSIONS},
    )


strip_dead_letter = _strip
