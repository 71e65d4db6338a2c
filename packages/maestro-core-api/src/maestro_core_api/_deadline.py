"""Request deadlines sharing one event-loop timer, for the request timeout.

``asyncio.timeout()`` schedules and cancels a timer per request (about 4-6 us with uvloop,
as much as the rest of the limits layer). Every request of a middleware has the same
timeout, so deadlines arrive in order: a queue of them needs one timer, armed at the
earliest deadline still running, and each request only appends an entry and flags it
done. On expiry the request's task is cancelled and the cancellation is turned into a
timeout by the caller, with ``asyncio.timeout``'s accounting (``Task.uncancel``), so a
cancellation from elsewhere (the client went away) is never mistaken for a timeout.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Deadline", "Deadlines"]

# Finished entries behind a long-running one are compacted away once the queue holds
# this many and at least half of it is finished.
_COMPACT_AT = 256
# uvloop's timers have millisecond resolution and may fire that much early.
_RESOLUTION = 0.001


class Deadline:
    """One request's deadline: ``expired`` once its task was cancelled for it."""

    __slots__ = ("cancelling", "done", "expired", "task", "when")

    def __init__(self, task: asyncio.Task[object], when: float) -> None:
        self.task: asyncio.Task[object] | None = task
        self.when = when
        self.cancelling = task.cancelling()
        self.done = False
        self.expired = False

    def finish(self) -> bool:
        """Mark the request finished; True when it ran out of time.

        Like ``asyncio.timeout``, an expired deadline takes back its own cancellation
        (``uncancel``); it counts as a timeout only if no other cancellation is pending.
        """
        self.done = True
        task, self.task = self.task, None
        if not self.expired or task is None:
            return False
        return task.uncancel() <= self.cancelling


class Deadlines:
    """The deadlines of one middleware on one event loop (all ``timeout`` seconds long)."""

    @staticmethod
    def of(owner: dict[asyncio.AbstractEventLoop, Deadlines], timeout: float) -> Deadlines:
        """The running loop's deadlines in *owner* (created on first use; closed loops are
        forgotten)."""
        loop = asyncio.get_running_loop()
        found = owner.get(loop)
        if found is None:
            for closed in [k for k in owner if k.is_closed()]:
                del owner[closed]
            found = owner[loop] = Deadlines(loop, timeout)
        return found

    __slots__ = ("_live", "_queue", "_timer", "loop", "timeout")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self._queue: deque[Deadline] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._live = 0

    def __len__(self) -> int:
        """Entries held (finished ones are dropped lazily)."""
        return len(self._queue)

    def start(self, task: asyncio.Task[object]) -> Deadline:
        """Register *task*, due ``timeout`` seconds from now; call ``finish()`` at its end."""
        queue = self._queue
        while queue and queue[0].done:
            queue.popleft()
        entry = Deadline(task, self.loop.time() + self.timeout)
        queue.append(entry)
        if self._timer is None:
            self._timer = self.loop.call_at(entry.when, self._expire)
        elif len(queue) >= _COMPACT_AT and len(queue) > 2 * (self._live + 1):
            self._compact()
        self._live += 1
        return entry

    def finish(self, entry: Deadline) -> bool:
        """Mark *entry* finished; True when its request ran out of time."""
        self._live -= 1
        return entry.finish()

    def _compact(self) -> None:
        # A long request at the head keeps every later (finished) entry queued.
        self._queue = deque(e for e in self._queue if not e.done)

    def _expire(self) -> None:
        self._timer = None
        queue = self._queue
        now = self.loop.time()
        while queue:
            head = queue[0]
            if not head.done:
                if head.when > now + _RESOLUTION:
                    break
                head.expired = True
                if head.task is not None:
                    head.task.cancel()
            queue.popleft()
        if queue:
            self._timer = self.loop.call_at(queue[0].when, self._expire)
