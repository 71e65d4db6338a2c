"""Breaker state shared by every replica through Redis (the optional ``[redis]`` extra)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._errors import ConfigurationError, MissingExtraError
from ._validate import name_of, number

__all__ = ["RedisBreakerStore"]

logger = logging.getLogger("maestro.resilience")


class RedisBreakerStore:
    """Where breakers named alike, in every process, keep one state: open or closed, the
    time it reopens for trials, and the count of consecutive failures.

    Give it to a breaker as ``CircuitBreaker(name="payments", store=RedisBreakerStore(url))``.
    Each failure a breaker counts increments the shared count, so the replicas open the
    breaker together once ``failure_threshold`` failures happened among them; an opening
    (or closing) is written at once, and every breaker reads the shared state at most
    every ``sync_interval`` seconds before admitting a call (0: before every call). The
    success path touches Redis only to reset a failure count it saw. If Redis cannot be
    reached, each breaker carries on with its own state and logs a warning.

    ``url`` is a ``redis://`` URL (``rediss://`` for TLS); ``key_prefix`` names the keys
    (``<key_prefix><breaker name>``); ``client`` may be a ready ``redis.Redis``; ``clock``
    returns an aware UTC ``datetime`` (the replicas share wall-clock deadlines).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        key_prefix: str = "maestro:breaker:",
        sync_interval: float = 1.0,
        client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if client is None:
            try:
                import redis
            except ImportError as exc:
                raise MissingExtraError(
                    "Breaker state shared through Redis", "redis", "redis"
                ) from exc
            if not isinstance(url, str) or not url.startswith(("redis://", "rediss://")):
                raise ConfigurationError(
                    "url must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0"
                )
            client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._client = client
        self._prefix = name_of(key_prefix, "maestro:breaker:")
        self.sync_interval = number("sync_interval", sync_interval, minimum=0)
        if clock is not None and not callable(clock):
            raise ConfigurationError(
                f"clock must be a callable returning a datetime, got {clock!r}"
            )
        self._clock = clock
        self._warned = False

    def _wall(self) -> float:
        """Now, as seconds since the epoch (replicas compare wall-clock deadlines)."""
        if self._clock is None:
            return time.time()
        now = self._clock()
        if now.tzinfo is None:
            raise ConfigurationError(
                "clock returned a naive datetime; attach a timezone (datetime.now(UTC))"
            )
        return now.timestamp()

    def __repr__(self) -> str:
        return f"<RedisBreakerStore prefix={self._prefix!r}>"

    def key(self, name: str) -> str:
        """The Redis key of the breaker called ``name``."""
        return f"{self._prefix}{name}"

    def _failed(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("shared breaker state unavailable, using local state: %r", error)

    def read(self, name: str) -> tuple[float | None, int]:
        """(seconds until an open shared state admits trials, or None when it is closed;
        the shared count of consecutive failures)."""
        try:
            raw, failures = self._client.hmget(self.key(name), ["open_until", "failures"])
        except Exception as error:
            self._failed(error)
            return None, 0
        self._warned = False
        count = int(failures) if failures is not None else 0
        if raw is None:
            return None, count
        remaining = float(raw) - self._wall()
        return (remaining if remaining > 0 else None), count

    def add_failure(self, name: str) -> int | None:
        """Count one failure for everyone; the shared count, or None if Redis failed."""
        try:
            return int(self._client.hincrby(self.key(name), "failures", 1))
        except Exception as error:
            self._failed(error)
            return None

    def reset_failures(self, name: str) -> None:
        """A success: the consecutive failures start again from zero."""
        try:
            self._client.hset(self.key(name), "failures", 0)
        except Exception as error:
            self._failed(error)

    def opened(self, name: str, seconds: float) -> None:
        """Write that the breaker opened for ``seconds`` (until trials are allowed)."""
        try:
            key = self.key(name)
            self._client.hset(
                key, mapping={"open_until": repr(self._wall() + seconds), "failures": 0}
            )
        except Exception as error:
            self._failed(error)

    def closed(self, name: str) -> None:
        """Write that the breaker closed."""
        try:
            key = self.key(name)
            pipe = self._client.pipeline()
            pipe.hdel(key, "open_until")
            pipe.hset(key, "failures", 0)
            pipe.execute()
        except Exception as error:
            self._failed(error)

    def delete(self, name: str) -> None:
        """Remove the shared state of ``name`` (tests, decommissioned breakers)."""
        try:
            self._client.delete(self.key(name))
        except Exception as error:
            self._failed(error)
