"""get_or_set: single-flight per process, token lock across processes, XFetch, stale-on-error.

In-process single-flight: the first caller of a key starts one load (an asyncio task, or
the calling thread for ``.sync``); concurrent callers wait for its result or its exception.
The key being loaded is recorded in a context variable that the load inherits, so a loader
asking for its own key gets :class:`CacheReentrancyError` instead of waiting for itself.

Across processes (``lock=True``): ``SET <key>\\0lock <token> NX PX <loader_timeout>``; the
holder loads and releases with a compare-and-delete of its own token (a lock that expired
and was taken by another process is never deleted by the late holder). Others poll the
value until it appears, serving their stale copy at once if they have one.

XFetch (``early="xfetch"``): an entry remembers how long its load took (``delta``); a read
at ``now`` recomputes early when ``now - delta * beta * ln(U) >= fresh_until`` (U uniform in
(0, 1]), so one caller refreshes a hot key shortly before it expires. The caller that draws
an early refresh first claims it in the shared store (``SET <key>\\0early NX`` until the
value's expiry): in every process but the one that got the claim, and in that process while
its refresh runs, callers are served the still-fresh value at once. So a hot key read by
many processes is refreshed early once per lifetime, without ``lock=True``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import math
import random
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._common import _HEADER, _HEADER_END, ENVELOPE, MISSING, check_key, seconds, ttl_ms
from ._errors import (
    CacheConfigError,
    CacheLockTimeoutError,
    CacheReentrancyError,
    CacheUnavailableError,
)
from ._serializers import DecodeError
from ._typed import Codec, codec_for

if TYPE_CHECKING:
    from ._interface import CacheInterface

__all__ = ["Plan", "async_get_or_set", "make_plan", "sync_get_or_set"]

log = logging.getLogger("maestro.cache")

_LOADING: contextvars.ContextVar[frozenset[tuple[int, str]]] = contextvars.ContextVar(
    "maestro_cache_loading", default=frozenset()
)
LOCK_SUFFIX = "\x00lock"
EARLY_SUFFIX = "\x00early"


class Plan:
    """One get_or_set call, validated (a plain slots class: built on every call)."""

    __slots__ = (
        "beta",
        "codec",
        "full",
        "key",
        "loader",
        "lock",
        "stale_ms",
        "timeout",
        "ttl_ms",
        "xfetch",
    )

    def __init__(  # noqa: PLR0917 - one field each
        self,
        key: str,
        full: str,
        loader: Callable[[], Any],
        ttl_ms: int | None,
        lock: bool,
        xfetch: bool,
        beta: float,
        stale_ms: int | None,
        codec: Codec | None,
        timeout: float,
    ) -> None:
        self.key = key
        self.full = full
        self.loader = loader
        self.ttl_ms = ttl_ms
        self.lock = lock
        self.xfetch = xfetch
        self.beta = beta
        self.stale_ms = stale_ms
        self.codec = codec
        self.timeout = timeout


def make_plan(  # noqa: PLR0917 - the arguments of get_or_set, passed through
    cache: CacheInterface,
    key: str,
    loader: Callable[[], Any],
    ttl: Any,
    lock: bool,
    early: str | None,
    beta: float,
    stale_ttl: float | None,
    tp: Any,
    loader_timeout: float | None,
) -> Plan:
    """Validate the arguments of get_or_set once (the defaults take the short branches)."""
    if type(key) is str and 0 < len(key) <= cache._max_key and key.isprintable() and " " not in key:
        full = cache._ns + key
    else:
        full = cache._ns + check_key(key, cache._max_key)
    if not callable(loader):
        raise CacheConfigError(f"loader must be a callable taking no arguments, got {loader!r}")
    if early is not None and early != "xfetch":
        raise CacheConfigError(f"early must be None or 'xfetch', got {early!r}")
    if not (type(beta) is float and beta == 1.0):
        beta = seconds("beta", beta)
    stale_ms = None if stale_ttl is None else round(seconds("stale_ttl", stale_ttl) * 1000)
    expiry = cache._default_ttl_ms if ttl is None else ttl_ms(ttl, cache._default_ttl_ms)
    if expiry is None and (early or stale_ms):
        raise CacheConfigError("early= and stale_ttl= need a TTL: the value must expire")
    timeout = (
        cache._loader_timeout
        if loader_timeout is None
        else seconds("loader_timeout", loader_timeout)
    )
    return Plan(
        key,
        full,
        loader,
        expiry,
        bool(lock),
        early is not None,
        beta,
        stale_ms,
        None if tp is None else codec_for(tp),
        timeout,
    )


# ---- reading and writing entries -----------------------------------------------------


def _value_of(cache: CacheInterface, plan: Plan, raw: bytes) -> tuple[Any, float, float]:
    """(value, fresh_until, delta) of a stored entry; DecodeError for junk."""
    fresh_until, delta = math.inf, 0.0
    if raw[:1] == ENVELOPE:
        if len(raw) < _HEADER_END:
            raise DecodeError("truncated header")
        fresh_until, delta = _HEADER.unpack_from(raw, 1)
        raw = raw[_HEADER_END:]
    plain = cache._ser.loads(raw)
    if plan.codec is not None:
        try:
            plain = plan.codec.from_plain(plain)
        except ValueError as exc:  # pydantic.ValidationError: the cached shape changed
            raise DecodeError(f"cached value no longer fits {plan.codec.name}: {exc}") from None
    return plain, fresh_until, delta


def _lookup(cache: CacheInterface, plan: Plan, raw: bytes | None) -> tuple[Any, Any, int]:
    """(fresh value or MISSING, old value to fall back on or MISSING, early): ``early`` is
    0, or for an early refresh drawn by XFetch the milliseconds the old value stays fresh."""
    if raw is None:
        cache._misses += 1
        return MISSING, MISSING, 0
    try:
        value, fresh_until, delta = _value_of(cache, plan, raw)
    except DecodeError as exc:
        cache._junk(None, str(exc))
        return MISSING, MISSING, 0
    if fresh_until != math.inf:
        now = cache._wall()
        if fresh_until <= now:
            cache._misses += 1
            return MISSING, value, 0
        if plan.xfetch and delta > 0 and _xfetch_due(now, fresh_until, delta, plan.beta):
            return MISSING, value, max(1, math.ceil((fresh_until - now) * 1000))
    cache._hits += 1
    return value, MISSING, 0


def _early_taken(cache: CacheInterface, plan: Plan, claimed: bool) -> bool:
    """Count an early refresh this caller runs; False (a hit on the old value) if another
    caller has the claim."""
    if claimed:
        cache._early += 1
    else:
        cache._hits += 1
    return claimed


def _xfetch_due(now: float, fresh_until: float, delta: float, beta: float) -> bool:
    """XFetch: recompute now with a probability that grows as expiry approaches."""
    return now - delta * beta * math.log(1.0 - random.random()) >= fresh_until


def _fresh(cache: CacheInterface, plan: Plan, raw: bytes | None) -> Any:
    """A fresh value from ``raw`` or MISSING, without counting (lock waiters poll with it)."""
    if raw is None:
        return MISSING
    try:
        value, fresh_until, _ = _value_of(cache, plan, raw)
    except DecodeError:
        return MISSING
    if fresh_until != math.inf and fresh_until <= cache._wall():
        return MISSING
    return value


def _entry(
    cache: CacheInterface, plan: Plan, value: Any, delta: float
) -> tuple[bytes, Any, int | None]:
    """(bytes to store, the value as a reader will see it, physical TTL in ms)."""
    plain = plan.codec.to_plain(value) if plan.codec is not None else value
    data = cache._ser.dumps(plain)
    seen = cache._ser.loads(data)
    if plan.codec is not None:
        seen = plan.codec.from_plain(seen)
    physical = plan.ttl_ms
    if plan.xfetch or plan.stale_ms:
        assert plan.ttl_ms is not None  # make_plan guarantees it
        fresh_until = cache._wall() + plan.ttl_ms / 1000
        data = ENVELOPE + _HEADER.pack(fresh_until, delta) + data
        physical = plan.ttl_ms + (plan.stale_ms or 0)
    return data, seen, physical


def _timeout_error(plan: Plan, what: str) -> CacheLockTimeoutError:
    return CacheLockTimeoutError(
        f"{what} for cache key {plan.key!r} did not finish within {plan.timeout:g}s "
        "(loader_timeout); the slot was freed, the next call loads again"
    )


class _AsyncFlight:
    """One in-process load of a key on one event loop, and the callers waiting for it.

    Each caller waits on a future of its own (a cancelled caller cancels only that future,
    never the load); the load settles them all. One timer per flight enforces the leader's
    ``loader_timeout``: it fails every waiter, cancels the load and frees the slot.
    """

    __slots__ = ("deadline", "loop", "task", "timer", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self.loop = loop
        self.deadline = deadline
        self.waiters: list[asyncio.Future[Any]] = []
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def settle(self, value: Any = None, error: BaseException | None = None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for waiter in self.waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(value)
                else:
                    waiter.set_exception(error)
        self.waiters.clear()


def _leave(cache: CacheInterface, plan: Plan, flight: _AsyncFlight) -> None:
    if cache._flights.get(plan.full) is flight:
        del cache._flights[plan.full]


def _flight_expired(cache: CacheInterface, plan: Plan, flight: _AsyncFlight) -> None:
    """The load ran past loader_timeout: free the slot, fail the waiters, cancel the load."""
    _leave(cache, plan, flight)
    for waiter in flight.waiters:
        if not waiter.done():
            waiter.set_exception(_timeout_error(plan, "loading"))
    flight.waiters.clear()
    if flight.task is not None:
        flight.task.cancel()


def _waiter_expired(plan: Plan, waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(_timeout_error(plan, "loading"))


# ---- async ----------------------------------------------------------------------------


async def async_get_or_set(cache: CacheInterface, plan: Plan) -> Any:
    """The async get_or_set."""
    token = (id(cache), plan.full)
    if token in _LOADING.get():
        raise CacheReentrancyError(plan.key)
    try:
        raw = await cache._b.aget(plan.full)
    except CacheUnavailableError as exc:
        cache._unavailable(exc)
        raw = None
    value, old, early = _lookup(cache, plan, raw)
    if value is not MISSING:
        return value
    loop = asyncio.get_running_loop()
    flight: _AsyncFlight | None = cache._flights.get(plan.full)
    if early:
        # An early refresh is optional: if one is running here or in another process, the
        # old value is still fresh and is served at once.
        running = flight is not None and flight.loop is loop
        if not _early_taken(cache, plan, not running and await _async_claim(cache, plan, early)):
            return old
    if flight is None or flight.loop is not loop:
        flight = _AsyncFlight(loop, loop.time() + plan.timeout)
        ctx = contextvars.copy_context()
        ctx.run(_LOADING.set, _LOADING.get() | {token})
        flight.task = loop.create_task(_async_load(cache, plan, old, flight), context=ctx)
        flight.timer = loop.call_at(flight.deadline, _flight_expired, cache, plan, flight)
        cache._flights[plan.full] = flight
    waiter = loop.create_future()
    flight.waiters.append(waiter)
    if loop.time() + plan.timeout >= flight.deadline:
        return await waiter  # the flight's own timer bounds this wait
    handle = loop.call_later(plan.timeout, _waiter_expired, plan, waiter)
    try:
        return await waiter
    finally:
        handle.cancel()


async def _async_load(cache: CacheInterface, plan: Plan, old: Any, flight: _AsyncFlight) -> None:
    try:
        if plan.lock:
            value = await _async_locked(cache, plan, old)
        else:
            value = MISSING
            if old is MISSING:  # a load that finished since this caller's read: use it
                value = _fresh(cache, plan, await _async_peek(cache, plan))
            if value is MISSING:
                value = await _async_load_store(cache, plan)
    except asyncio.CancelledError:
        _leave(cache, plan, flight)
        flight.settle(error=_timeout_error(plan, "loading"))
        raise
    except Exception as exc:
        _leave(cache, plan, flight)
        if old is not MISSING and plan.stale_ms:
            cache._stale_served += 1
            log.warning(
                "loader for cache key %r failed, serving the stale value: %r", plan.key, exc
            )
            flight.settle(old)
        else:
            flight.settle(error=exc)
    else:
        _leave(cache, plan, flight)
        flight.settle(value)


async def _async_claim(cache: CacheInterface, plan: Plan, fresh_ms: int) -> bool:
    """Claim the early refresh of ``plan.full`` until the old value expires (True: ours;
    with the store unreachable, refresh: the load will find out)."""
    try:
        return await cache._b.aadd(plan.full + EARLY_SUFFIX, b"1", fresh_ms)
    except CacheUnavailableError:
        return True


def _sync_claim(cache: CacheInterface, plan: Plan, fresh_ms: int) -> bool:
    try:
        return cache._b.add(plan.full + EARLY_SUFFIX, b"1", fresh_ms)
    except CacheUnavailableError:
        return True


async def _async_peek(cache: CacheInterface, plan: Plan) -> bytes | None:
    try:
        return await cache._b.aget(plan.full)
    except CacheUnavailableError:
        return None


def _peek(cache: CacheInterface, plan: Plan) -> bytes | None:
    try:
        return cache._b.get(plan.full)
    except CacheUnavailableError:
        return None


async def _async_load_store(cache: CacheInterface, plan: Plan) -> Any:
    started = cache._monotonic()
    result = plan.loader()
    if inspect.isawaitable(result):
        result = await result
    cache._loads += 1
    data, seen, physical = _entry(cache, plan, result, cache._monotonic() - started)
    try:
        await cache._b.aset(plan.full, data, physical)
    except CacheUnavailableError as exc:
        cache._unavailable(exc)
    return seen


async def _async_locked(cache: CacheInterface, plan: Plan, old: Any) -> Any:
    lock_key = plan.full + LOCK_SUFFIX
    token = secrets.token_hex(16).encode()
    lock_ms = max(1, round(plan.timeout * 1000))
    deadline = cache._monotonic() + cache._lock_timeout
    delay = 0.005
    while True:
        try:
            acquired = await cache._b.aadd(lock_key, token, lock_ms)
        except CacheUnavailableError:
            cache._errors += 1
            raise
        if acquired:
            try:
                if old is MISSING:
                    value = _fresh(cache, plan, await cache._b.aget(plan.full))
                    if value is not MISSING:
                        return value
                return await _async_load_store(cache, plan)
            finally:
                try:
                    await cache._b.aunlock(lock_key, token)
                except CacheUnavailableError:
                    cache._errors += 1  # the lock expires by itself
        if old is not MISSING:
            return old  # another process is refreshing it: serve what we have
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
        value = _fresh(cache, plan, await cache._b.aget(plan.full))
        if value is not MISSING:
            return value
        if cache._monotonic() >= deadline:
            raise CacheLockTimeoutError(
                f"the lock on cache key {plan.key!r} was held by another process for more "
                f"than lock_timeout={cache._lock_timeout:g}s and no value appeared"
            )


# ---- sync -----------------------------------------------------------------------------


class _Flight:
    __slots__ = ("error", "event", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


def sync_get_or_set(cache: CacheInterface, plan: Plan) -> Any:
    """The sync get_or_set (threads share one load per key)."""
    token = (id(cache), plan.full)
    if token in _LOADING.get():
        raise CacheReentrancyError(plan.key)
    try:
        raw = cache._b.get(plan.full)
    except CacheUnavailableError as exc:
        cache._unavailable(exc)
        raw = None
    value, old, early = _lookup(cache, plan, raw)
    if value is not MISSING:
        return value
    if early:  # optional: served the old value if a refresh runs here or elsewhere
        with cache._flight_lock:
            running = plan.full in cache._sync_flights
        if not _early_taken(cache, plan, not running and _sync_claim(cache, plan, early)):
            return old
    with cache._flight_lock:
        found: _Flight | None = cache._sync_flights.get(plan.full)
        leader = found is None
        flight = _Flight() if found is None else found
        if leader:
            cache._sync_flights[plan.full] = flight
    if not leader:
        if not flight.event.wait(plan.timeout):
            with cache._flight_lock:
                if cache._sync_flights.get(plan.full) is flight:
                    del cache._sync_flights[plan.full]
            raise _timeout_error(plan, "loading")
        if flight.error is not None:
            raise flight.error
        return flight.value
    reset = _LOADING.set(_LOADING.get() | {token})
    try:
        if plan.lock:
            flight.value = _sync_locked(cache, plan, old)
        else:
            value = _fresh(cache, plan, _peek(cache, plan)) if old is MISSING else MISSING
            flight.value = _sync_load_store(cache, plan) if value is MISSING else value
    except Exception as exc:
        if old is not MISSING and plan.stale_ms:
            cache._stale_served += 1
            log.warning(
                "loader for cache key %r failed, serving the stale value: %r", plan.key, exc
            )
            flight.value = old
        else:
            flight.error = exc
            raise
    finally:
        _LOADING.reset(reset)
        with cache._flight_lock:
            if cache._sync_flights.get(plan.full) is flight:
                del cache._sync_flights[plan.full]
        flight.event.set()
    return flight.value


def _sync_load_store(cache: CacheInterface, plan: Plan) -> Any:
    started = cache._monotonic()
    result = plan.loader()
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise CacheConfigError(
            f"the loader for cache key {plan.key!r} returned an awaitable: use "
            "'await cache.get_or_set(...)' for async loaders, cache.sync for sync ones"
        )
    cache._loads += 1
    data, seen, physical = _entry(cache, plan, result, cache._monotonic() - started)
    try:
        cache._b.set(plan.full, data, physical)
    except CacheUnavailableError as exc:
        cache._unavailable(exc)
    return seen


def _sync_locked(cache: CacheInterface, plan: Plan, old: Any) -> Any:
    import time

    lock_key = plan.full + LOCK_SUFFIX
    token = secrets.token_hex(16).encode()
    lock_ms = max(1, round(plan.timeout * 1000))
    deadline = cache._monotonic() + cache._lock_timeout
    delay = 0.005
    while True:
        try:
            acquired = cache._b.add(lock_key, token, lock_ms)
        except CacheUnavailableError:
            cache._errors += 1
            raise
        if acquired:
            try:
                if old is MISSING:
                    value = _fresh(cache, plan, cache._b.get(plan.full))
                    if value is not MISSING:
                        return value
                return _sync_load_store(cache, plan)
            finally:
                try:
                    cache._b.unlock(lock_key, token)
                except CacheUnavailableError:
                    cache._errors += 1
        if old is not MISSING:
            return old
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
        value = _fresh(cache, plan, cache._b.get(plan.full))
        if value is not MISSING:
            return value
        if cache._monotonic() >= deadline:
            raise CacheLockTimeoutError(
                f"the lock on cache key {plan.key!r} was held by another process for more "
                f"than lock_timeout={cache._lock_timeout:g}s and no value appeared"
            )
