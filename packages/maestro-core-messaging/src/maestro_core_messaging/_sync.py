"""broker.sync: the broker's verbs for synchronous code, on a background event-loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable, Mapping
from concurrent.futures import Future
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ._event import Event
from ._types import MessagingStats

if TYPE_CHECKING:
    from ._broker import MessageBroker

__all__ = ["SyncBroker"]
T = TypeVar("T")


class SyncBroker:
    """Blocking twins of the broker's async verbs (for Flask, Django and scripts).

    The first call starts one daemon thread running an event loop; the broker connects
    there (and starts its subscribers there, if any). ``close()`` drains and stops it.
    Do not mix it with ``async with broker`` on another loop.
    """

    def __init__(self, broker: MessageBroker) -> None:
        self._broker = broker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=main, name="maestro-messaging-sync", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            loop = self._loop
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
        return future.result(timeout)

    def connect(self) -> None:
        """Connect and start the subscribers on the background loop."""
        self._run(self._broker.connect())

    def publish(
        self,
        topic: str,
        message: Any,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        *,
        type: str | None = None,
        confirm: bool | None = None,
    ) -> str:
        """Publish one message; returns after the broker confirmed it. The event id."""
        return self._run(
            self._broker.publish(topic, message, headers, key, type=type, confirm=confirm)
        )

    def publish_many(
        self,
        topic: str,
        messages: Iterable[Any],
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        *,
        window: int | None = None,
    ) -> list[str]:
        """Publish many messages with windowed confirms; their ids."""
        return self._run(
            self._broker.publish_many(topic, list(messages), headers, key, window=window)
        )

    def dead_letters(self, topic: str, group: str) -> list[Event]:
        """The dead letters of a group."""
        return self._run(self._broker.dead_letters(topic, group))

    def requeue_dead_letters(self, topic: str, group: str) -> int:
        """Deliver a group's dead letters again; how many."""
        return self._run(self._broker.requeue_dead_letters(topic, group))

    def join(self, timeout: float | timedelta | None = None) -> None:
        """Wait until the subscribed groups are idle."""
        self._run(self._broker.join(timeout))

    def ping(self) -> bool:
        """True when the broker answers."""
        return self._run(self._broker.ping())

    def health_check(self) -> dict[str, Any]:
        """The original health dict."""
        return self._run(self._broker.health_check())

    def stats(self) -> MessagingStats:
        """Counters since the broker was created."""
        return self._broker.stats()

    def close(self) -> None:
        """Drain, disconnect and stop the background loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._broker.disconnect(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    disconnect = close

    def __enter__(self) -> SyncBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
