"""Rate limiting with GCRA, in memory or in Redis (one Lua script, one round trip)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Literal, NamedTuple

from starlette.requests import Request

from ._errors import ConfigurationError, MissingExtraError, RateLimitException

__all__ = ["Decision", "MemoryStorage", "RateLimit", "RedisStorage"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

_PERIODS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*([a-z]+)\s*$", re.I)
SCOPE_KEY = "maestro.ratelimit"


def parse_rate(rate: str) -> tuple[int, float]:
    """``"100/minute"`` -> (100, 60.0); also ``"5/10s"``, ``"1000 per hour"``."""
    match = _RATE.match(rate) if isinstance(rate, str) else None
    if match is None or match.group(3).lower() not in _PERIODS:
        raise ConfigurationError(
            f"rate must look like '100/minute' (second, minute, hour or day), got {rate!r}"
        )
    count = int(match.group(1))
    multiplier = int(match.group(2) or 1)
    if count < 1 or multiplier < 1:
        raise ConfigurationError(f"rate must allow at least one request, got {rate!r}")
    return count, multiplier * _PERIODS[match.group(3).lower()]


class Decision(NamedTuple):
    """One check's outcome: allowed or not, what is left, and when to come back."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float
    policy: str
    window: float

    def header_values(self) -> tuple[bytes, bytes]:
        """(``RateLimit-Policy``, ``RateLimit``) values per the IETF draft."""
        policy = f'"{self.policy}";q={self.limit};w={int(self.window)}'.encode()
        state = f'"{self.policy}";r={self.remaining};t={math.ceil(self.reset_after)}'.encode()
        return policy, state


class MemoryStorage:
    """Per-process GCRA state: one float (the theoretical arrival time) per key."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._tat: dict[str, float] = {}
        self._monotonic = monotonic
        self._max_keys = max_keys

    def _sweep(self, now: float) -> None:
        expired = [k for k, tat in self._tat.items() if tat <= now]
        for k in expired:
            del self._tat[k]
        if len(self._tat) >= self._max_keys:  # all live: drop the oldest half
            for k in sorted(self._tat, key=self._tat.__getitem__)[: len(self._tat) // 2]:
                del self._tat[k]

    def hit(self, key: str, interval: float, tolerance: float) -> tuple[bool, float]:
        """Account one request; return (allowed, seconds: until reset if allowed, else to wait)."""
        now = self._monotonic()
        table = self._tat
        tat = table.get(key)
        if tat is None:
            if len(table) >= self._max_keys:
                self._sweep(now)
            tat = now
        elif tat < now:
            tat = now
        new_tat = tat + interval
        wait = new_tat - tolerance - now
        if wait > 1e-9:
            return False, wait
        table[key] = new_tat
        return True, new_tat - now

    async def ahit(self, key: str, interval: float, tolerance: float) -> tuple[bool, float]:
        """The same as :meth:`hit` (memory needs no I/O)."""
        return self.hit(key, interval, tolerance)


_LUA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or t)
if tat < t then tat = t end
local new_tat = tat + interval
local wait = new_tat - tolerance - t
if wait > 0.000000001 then return {0, tostring(wait)} end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - t) * 1000) + 1)
return {1, tostring(new_tat - t)}
"""


class RedisStorage:
    """GCRA state shared by every replica in Redis; the check is one Lua script (EVALSHA).

    Time comes from the Redis server (``TIME``), so replicas with skewed clocks agree.
    """

    def __init__(self, url_or_client: Any, *, prefix: str = "maestro:ratelimit:") -> None:
        if isinstance(url_or_client, str):
            try:
                import redis.asyncio as redis_asyncio
            except ImportError:
                raise MissingExtraError(
                    "RateLimit with a Redis storage", "redis", "redis"
                ) from None
            self._client: Any = redis_asyncio.Redis.from_url(url_or_client)
            self._owned = True
        else:
            self._client = url_or_client
            self._owned = False
        self.prefix = prefix
        self._script = self._client.register_script(_LUA)

    def __repr__(self) -> str:
        return f"<RedisStorage prefix={self.prefix!r}>"

    def hit(self, key: str, interval: float, tolerance: float) -> tuple[bool, float]:
        """Redis is only reached asynchronously: use :meth:`ahit`."""
        raise ConfigurationError("a Redis rate-limit storage is asynchronous: call ahit()")

    async def ahit(self, key: str, interval: float, tolerance: float) -> tuple[bool, float]:
        """Account one request in Redis; same result as :meth:`MemoryStorage.hit`."""
        allowed, seconds = await self._script(
            keys=[self.prefix + key], args=[repr(interval), repr(tolerance)]
        )
        return bool(int(allowed)), float(seconds)

    async def aclose(self) -> None:
        """Close the client this storage created (a client given to it is left open)."""
        if self._owned:
            await self._client.aclose()


KeyFunc = Callable[["Request"], str]


def _principal_key(scope: Scope) -> str | None:
    state = scope.get("state")
    if isinstance(state, dict):
        for attribute in ("maestro_principal", "principal", "user"):
            principal = state.get(attribute)
            if principal is not None:
                for field in ("subject", "sub", "id", "username"):
                    value = getattr(principal, field, None)
                    if value:
                        return f"p:{value}"
    return None


def _ip_key(scope: Scope) -> str:
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


class RateLimit:
    """A rate limit: GCRA (a token bucket without a timer) per key.

    ``RateLimit("100/minute", burst=None, key="principal_or_ip", storage=None,
    on_backend_error="allow", scope="global")``. ``burst`` is how many requests may come
    at once (default: the rate's count). ``key``: ``"principal_or_ip"`` (the
    authenticated principal, else the client IP after trusted proxies), ``"ip"``,
    ``"global"`` or a callable taking the request. ``storage``: ``None``/``"memory"``,
    a ``redis://`` URL, a ``redis.asyncio`` client or a :class:`RedisStorage`.
    ``on_backend_error``: ``"allow"`` lets requests through when the storage fails (a
    warning is logged once per minute, ``backend_errors`` counts them), ``"deny"``
    answers 503. ``scope="route"`` keeps one bucket per route template.

    Give it to ``create_app(rate_limit=...)`` for the whole app, or per route:
    ``dependencies=[Depends(RateLimit("5/minute"))]``.
    """

    def __init__(
        self,
        rate: str,
        *,
        burst: int | None = None,
        key: Literal["principal_or_ip", "ip", "global"] | KeyFunc = "principal_or_ip",
        storage: Any = None,
        on_backend_error: Literal["allow", "deny"] = "allow",
        scope: Literal["global", "route"] = "global",
        name: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window = parse_rate(rate)
        self.rate = rate
        if burst is not None and (
            isinstance(burst, bool) or not isinstance(burst, int) or burst < 1
        ):
            raise ConfigurationError(f"burst must be a positive integer or None, got {burst!r}")
        self.burst = burst if burst is not None else self.limit
        self.interval = self.window / self.limit
        self.tolerance = self.interval * self.burst
        if not (callable(key) or key in ("principal_or_ip", "ip", "global")):
            raise ConfigurationError(
                f"key must be 'principal_or_ip', 'ip', 'global' or a callable, got {key!r}"
            )
        self.key = key
        if on_backend_error not in ("allow", "deny"):
            raise ConfigurationError(
                f"on_backend_error must be 'allow' or 'deny', got {on_backend_error!r}"
            )
        self.on_backend_error = on_backend_error
        if scope not in ("global", "route"):
            raise ConfigurationError(f"scope must be 'global' or 'route', got {scope!r}")
        self.scope = scope
        self.name = name or f"{self.limit}-per-{int(self.window)}"
        self.storage: Any
        if storage is None or storage in ("memory", "memory://"):
            self.storage = MemoryStorage(monotonic=monotonic)
        elif isinstance(storage, str):
            if not storage.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigurationError(
                    "storage must be None, 'memory', a redis:// URL or a Redis client, "
                    f"got a string starting {storage.split(':', 1)[0]!r}"
                )
            self.storage = RedisStorage(storage, prefix=f"maestro:ratelimit:{self.name}:")
        elif isinstance(storage, MemoryStorage | RedisStorage):
            self.storage = storage
        elif hasattr(storage, "register_script"):
            self.storage = RedisStorage(storage, prefix=f"maestro:ratelimit:{self.name}:")
        else:
            raise ConfigurationError(
                f"storage must be None, 'memory', a redis:// URL or a Redis client, got {storage!r}"
            )
        self._sync = isinstance(self.storage, MemoryStorage)
        self.backend_errors = 0
        self._last_warning = -math.inf
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"<RateLimit {self.rate!r} burst={self.burst} key={self.key!r} scope={self.scope!r}>"

    def key_for(self, scope: Scope, request: Request | None = None) -> str:
        """The bucket key of a request."""
        key = self.key
        if callable(key):
            from starlette.requests import Request as StarletteRequest

            value = str(key(request if request is not None else StarletteRequest(scope)))
        elif key == "principal_or_ip":
            value = _principal_key(scope) or _ip_key(scope)
        elif key == "ip":
            value = _ip_key(scope)
        else:
            value = "*"
        if self.scope == "route":
            route = scope.get("route")
            template = getattr(route, "path_format", None) or scope.get("path", "")
            value = f"{template}|{value}"
        return value

    def _decision(self, allowed: bool, seconds: float) -> Decision:
        if allowed:
            remaining = max(0, int((self.tolerance - seconds) / self.interval + 1e-9))
            return Decision(True, self.burst, remaining, seconds, 0.0, self.name, self.window)
        reset = seconds + self.tolerance - self.interval
        return Decision(False, self.burst, 0, reset, seconds, self.name, self.window)

    def check(self, key: str) -> Decision:
        """Account one request for *key* in a memory storage (synchronous, no I/O)."""
        allowed, seconds = self.storage.hit(key, self.interval, self.tolerance)
        if allowed:
            remaining = int((self.tolerance - seconds) / self.interval + 1e-9)
            return Decision(
                True,
                self.burst,
                remaining if remaining > 0 else 0,
                seconds,
                0.0,
                self.name,
                self.window,
            )
        return self._decision(allowed, seconds)

    async def acheck(self, key: str) -> Decision | None:
        """Account one request for *key*; ``None`` when the storage failed and
        ``on_backend_error="allow"`` lets the request through."""
        if self._sync:
            return self.check(key)
        try:
            allowed, seconds = await self.storage.ahit(key, self.interval, self.tolerance)
        except Exception as error:
            self.backend_errors += 1
            now = self._monotonic()
            if now - self._last_warning >= 60.0:
                self._last_warning = now
                from maestro_core_logging import get_logger

                get_logger("maestro.api").warning(
                    "rate-limit storage failed",
                    rate_limit=self.name,
                    on_backend_error=self.on_backend_error,
                    error_type=type(error).__name__,
                    backend_errors=self.backend_errors,
                )
            if self.on_backend_error == "deny":
                raise _BackendDown from None
            return None
        return self._decision(allowed, seconds)

    async def __call__(self, request: Request) -> None:
        """FastAPI dependency form: raise a 429 (or 503) problem when over the limit."""
        scope = request.scope
        try:
            decision = await self.acheck(self.key_for(scope, request))
        except _BackendDown:
            from ._errors import ServiceUnavailableException

            raise ServiceUnavailableException(
                "rate limiting is unavailable",
                error_code="rate-limit-unavailable",
                headers={"Retry-After": "1"},
            ) from None
        if decision is None:
            return
        remember(scope, decision)
        if not decision.allowed:
            raise RateLimitException(retry_after=decision.retry_after, headers=headers_of(scope))


class _BackendDown(Exception):
    """The storage failed and the limit is configured to deny."""


def remember(scope: Scope, decision: Decision) -> None:
    """Keep the most restrictive decision of this request in its scope."""
    decisions = scope.setdefault(SCOPE_KEY, [])
    decisions.append(decision)


def headers_of(scope: Scope) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` for the request's decisions (once each)."""
    decisions: list[Decision] = scope.get(SCOPE_KEY) or []
    if not decisions:
        return {}
    worst = min(decisions, key=lambda d: (d.allowed, d.remaining))
    policies = ", ".join(d.header_values()[0].decode() for d in decisions)
    return {"RateLimit-Policy": policies, "RateLimit": worst.header_values()[1].decode()}
