"""The Redis backend (standalone, Sentinel, Cluster) behind a circuit breaker.

redis-py is imported when the first Redis cache is created, never by ``import maestro_cache``.
Standalone servers use a ``BlockingConnectionPool``: callers beyond ``max_connections`` wait
up to ``pool_timeout`` for a free connection instead of failing. Connection errors and
timeouts count on a maestro-resilience ``CircuitBreaker``; while it is open, calls fail at
once with CacheUnavailableError (which the cache turns into a miss when it fails open).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from maestro_resilience import CircuitBreaker, CircuitBreakerOpenError

from ._errors import CacheConfigError, CacheUnavailableError, MaestroCacheError

__all__ = ["RedisBackend", "RedisTarget", "mask_url", "parse_redis_url"]

T = TypeVar("T")

_UNLOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_SCAN_BATCH = 500


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for repr, logs and errors)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


@dataclass(frozen=True)
class RedisTarget:
    """What a ``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://`` or
    ``redis+cluster://`` URL names."""

    mode: str  # "standalone", "sentinel" or "cluster"
    url: str = field(repr=False)  # standalone: the URL for redis-py from_url
    hosts: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False


def _hosts(netloc: str, default_port: int) -> tuple[tuple[str, int], ...]:
    hosts = []
    for raw in netloc.split(","):
        item = raw.strip()
        if not item:
            continue
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        if not host:
            host, port = item, ""
        try:
            hosts.append((host, int(port) if port else default_port))
        except ValueError:
            raise CacheConfigError(f"port in {item!r} is not a number") from None
    if not hosts:
        raise CacheConfigError("the URL names no host; write host:port")
    return tuple(hosts)


def parse_redis_url(url: str) -> RedisTarget:
    """Parse a Redis URL; CacheConfigError (password never shown) if it is not one."""
    if not isinstance(url, str):
        raise CacheConfigError("a Redis URL must be a str")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise CacheConfigError(f"{mask_url(url)!r} is not a URL; write redis://host:6379/0")
    scheme = scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises for a bad port
        except ValueError:
            raise CacheConfigError(f"{mask_url(url)!r} has a bad host or port") from None
        return RedisTarget("standalone", url, ssl=scheme == "rediss")
    if scheme not in ("redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"):
        raise CacheConfigError(
            f"unknown cache URL scheme {scheme!r}: use memory://, redis://, rediss://, "
            "unix://, redis+sentinel:// or redis+cluster://"
        )
    userinfo, _, hostpart = rest.rpartition("@")
    username = password = None
    if userinfo:
        user, colon, pw = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(pw) if colon else None
    netloc, _, path = hostpart.partition("/")
    path = path.partition("?")[0]
    segments = [unquote(s) for s in path.split("/") if s]
    ssl = scheme.startswith("rediss")
    if scheme.endswith("+sentinel"):
        if not segments:
            raise CacheConfigError(
                "a redis+sentinel:// URL names the master: "
                "redis+sentinel://s1:26379,s2:26379/mymaster/0"
            )
        db = _db(segments[1] if len(segments) > 1 else "0")
        return RedisTarget(
            "sentinel",
            url,
            _hosts(netloc, 26379),
            segments[0],
            db,
            username,
            password,
            ssl,
        )
    if segments and segments[0] not in ("0",):
        raise CacheConfigError("Redis Cluster has only database 0; drop the /<db> from the URL")
    return RedisTarget("cluster", url, _hosts(netloc, 6379), "", 0, username, password, ssl)


def _db(text: str) -> int:
    try:
        db = int(text)
    except ValueError:
        raise CacheConfigError(f"database must be a number, got {text!r}") from None
    if db < 0:
        raise CacheConfigError(f"database must be >= 0, got {db}")
    return db


def _redis_errors() -> tuple[tuple[type[BaseException], ...], type[BaseException]]:
    from redis import exceptions

    unreachable = (
        exceptions.ConnectionError,
        exceptions.TimeoutError,
        exceptions.ClusterDownError,
        exceptions.TryAgainError,
        ConnectionError,
        TimeoutError,
        OSError,
    )
    return unreachable, exceptions.ResponseError


class RedisBackend:
    """Byte-level operations on Redis, sync and async clients built from one configuration."""

    kind = "redis"
    shared = True

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 64,
        pool_timeout: float = 2.0,
        socket_timeout: float = 0.5,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.target = parse_redis_url(url)
        self.safe_url = mask_url(url)
        self._max_connections = max_connections
        self._pool_timeout = pool_timeout
        self._socket_timeout = socket_timeout
        self._unreachable, self._response_error = _redis_errors()
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=5,
            timeout=5.0,
            expected_exception=self._unreachable,
            name=f"maestro-cache {self.safe_url}",
        )
        self._aclients: dict[int, tuple[asyncio.AbstractEventLoop, Any]] = {}
        self._client: Any = None
        # redis-py's cluster clients raise once a node's pool is full; a semaphore of
        # max_connections in front of them makes callers wait (up to pool_timeout) instead.
        self._asems: dict[int, asyncio.Semaphore] = {}
        self._sem = threading.BoundedSemaphore(max_connections)
        self._unlock_sha: str | None = None

    # ---- clients ------------------------------------------------------------------

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "socket_timeout": self._socket_timeout,
            "socket_connect_timeout": self._socket_timeout,
        }
        target = self.target
        if target.mode != "standalone":
            if target.username:
                kwargs["username"] = target.username
            if target.password is not None:
                kwargs["password"] = target.password
            if target.ssl:
                kwargs["ssl"] = True
        return kwargs

    def _build(self, asynchronous: bool) -> Any:
        if asynchronous:
            import redis.asyncio as r
            from redis.asyncio.retry import Retry
        else:
            import redis as r  # type: ignore[no-redef]
            from redis.retry import Retry  # type: ignore[assignment]
        from redis.backoff import NoBackoff

        target = self.target
        kwargs = self._kwargs()
        kwargs["retry"] = Retry(NoBackoff(), 0)
        if target.mode == "standalone":
            pool = r.BlockingConnectionPool.from_url(
                target.url,
                max_connections=self._max_connections,
                timeout=self._pool_timeout,
                **kwargs,
            )
            return r.Redis(connection_pool=pool)
        if target.mode == "sentinel":
            if asynchronous:
                from redis.asyncio.sentinel import Sentinel
            else:
                from redis.sentinel import Sentinel  # type: ignore[assignment]
            sentinel_kwargs = {"socket_timeout": self._socket_timeout}
            if target.password is not None:
                sentinel_kwargs["password"] = target.password  # type: ignore[assignment]
            sentinel = Sentinel(
                list(target.hosts),
                sentinel_kwargs=sentinel_kwargs,
                **kwargs,
            )
            client = sentinel.master_for(target.service, db=target.db)
            client._maestro_sentinels = sentinel.sentinels
            return client
        if asynchronous:
            from redis.asyncio.cluster import ClusterNode, RedisCluster
        else:
            from redis.cluster import ClusterNode, RedisCluster  # type: ignore[assignment]
        kwargs.pop("retry")
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
            max_connections=self._max_connections,
            **kwargs,
        )

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        entry = self._aclients.get(id(loop))
        if entry is None or entry[0] is not loop:
            entry = (loop, self._build(asynchronous=True))
            self._aclients[id(loop)] = entry
        return entry[1]

    def _sclient(self) -> Any:
        if self._client is None:
            self._client = self._build(asynchronous=False)
        return self._client

    # ---- error mapping ------------------------------------------------------------

    def _down(self, exc: BaseException) -> CacheUnavailableError:
        if isinstance(exc, CircuitBreakerOpenError):
            return CacheUnavailableError(
                f"Redis at {self.safe_url} is unavailable: the circuit breaker is open after "
                f"repeated failures (next try in {exc.retry_after:.1f}s)"
            )
        return CacheUnavailableError(
            f"Redis at {self.safe_url} is unavailable: {type(exc).__name__}: "
            f"{str(exc).replace(self.target.password or chr(0), '***')}"
        )

    def _refused(self, exc: BaseException) -> MaestroCacheError:
        return MaestroCacheError(f"Redis refused the command: {exc}")

    async def _arun(self, op: Callable[[Any], Awaitable[T]]) -> T:
        if self.target.mode == "cluster":
            return await self._arun_bounded(op)
        client = self._aclient()
        try:
            with self.breaker:
                return await op(client)
        except CircuitBreakerOpenError as exc:
            raise self._down(exc) from None
        except self._response_error as exc:
            raise self._refused(exc) from None
        except self._unreachable as exc:
            raise self._down(exc) from None

    async def _arun_bounded(self, op: Callable[[Any], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        sem = self._asems.get(id(loop))
        if sem is None:
            sem = self._asems[id(loop)] = asyncio.Semaphore(self._max_connections)
        try:
            async with asyncio.timeout(self._pool_timeout):
                await sem.acquire()
        except TimeoutError:
            raise self._pool_exhausted() from None
        try:
            client = self._aclient()
            try:
                with self.breaker:
                    return await op(client)
            except CircuitBreakerOpenError as exc:
                raise self._down(exc) from None
            except self._response_error as exc:
                raise self._refused(exc) from None
            except self._unreachable as exc:
                raise self._down(exc) from None
        finally:
            sem.release()

    def _pool_exhausted(self) -> CacheUnavailableError:
        return CacheUnavailableError(
            f"no free connection to {self.safe_url} within pool_timeout="
            f"{self._pool_timeout:g}s (max_connections={self._max_connections})"
        )

    def _run(self, op: Callable[[Any], T]) -> T:
        if self.target.mode == "cluster":
            if not self._sem.acquire(timeout=self._pool_timeout):
                raise self._pool_exhausted()
            try:
                return self._run_unbounded(op)
            finally:
                self._sem.release()
        return self._run_unbounded(op)

    def _run_unbounded(self, op: Callable[[Any], T]) -> T:
        client = self._sclient()
        try:
            with self.breaker:
                return op(client)
        except CircuitBreakerOpenError as exc:
            raise self._down(exc) from None
        except self._response_error as exc:
            raise self._refused(exc) from None
        except self._unreachable as exc:
            raise self._down(exc) from None

    # ---- operations (as functions of a client, shared by sync and async) ----------

    @property
    def _cluster(self) -> bool:
        return self.target.mode == "cluster"

    # async

    async def aget(self, key: str) -> bytes | None:
        return await self._arun(lambda c: c.get(key))

    async def amget(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        if self._cluster:
            return await self._arun(lambda c: c.mget_nonatomic(keys))
        return await self._arun(lambda c: c.mget(keys))

    async def aset(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return bool(await self._arun(lambda c: c.set(key, value, px=ttl_ms)))

    async def aadd(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return bool(await self._arun(lambda c: c.set(key, value, px=ttl_ms, nx=True)))

    async def amset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        async def op(client: Any) -> None:
            if ttl_ms is None and not self._cluster:
                await client.mset(items)
                return
            pipe = client.pipeline(transaction=False) if not self._cluster else client.pipeline()
            for key, value in items.items():
                pipe.set(key, value, px=ttl_ms)
            await pipe.execute()

        await self._arun(op)

    async def adelete(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        return int(await self._arun(lambda c: c.delete(*keys)))

    async def aexists(self, key: str) -> bool:
        return bool(await self._arun(lambda c: c.exists(key)))

    async def aincr(self, key: str, amount: int) -> int:
        return int(await self._arun(lambda c: c.incrby(key, amount)))

    async def apttl(self, key: str) -> int | None:
        left = int(await self._arun(lambda c: c.pttl(key)))
        return None if left == -2 else left

    async def aexpire(self, key: str, ttl_ms: int | None) -> bool:
        if ttl_ms is None:

            async def persist(client: Any) -> bool:
                return bool(await client.persist(key)) or bool(await client.exists(key))

            return await self._arun(persist)
        return bool(await self._arun(lambda c: c.pexpire(key, ttl_ms)))

    async def aclear(self, pattern: str) -> int:
        async def op(client: Any) -> int:
            deleted = 0
            batch: list[bytes] = []
            async for key in client.scan_iter(match=pattern, count=_SCAN_BATCH):
                batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    deleted += int(await client.unlink(*batch))
                    batch = []
            if batch:
                deleted += int(await client.unlink(*batch))
            return deleted

        return await self._arun(op)

    async def aunlock(self, key: str, token: bytes) -> bool:
        return bool(await self._arun(lambda c: c.eval(_UNLOCK, 1, key, token)))

    async def apublish(self, channel: str, message: bytes) -> None:
        await self._arun(lambda c: c.publish(channel, message))

    async def aping(self) -> bool:
        return bool(await self._arun(lambda c: c.ping()))

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        entry = self._aclients.pop(id(loop), None)
        if entry is not None:
            await _aclose_client(entry[1])
        self.close()

    # sync

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self._run(lambda c: c.get(key))
        return value

    def mget(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        if self._cluster:
            return self._run(lambda c: c.mget_nonatomic(keys))
        return self._run(lambda c: c.mget(keys))

    def set(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return bool(self._run(lambda c: c.set(key, value, px=ttl_ms)))

    def add(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        return bool(self._run(lambda c: c.set(key, value, px=ttl_ms, nx=True)))

    def mset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        def op(client: Any) -> None:
            if ttl_ms is None and not self._cluster:
                client.mset(items)
                return
            pipe = client.pipeline(transaction=False) if not self._cluster else client.pipeline()
            for key, value in items.items():
                pipe.set(key, value, px=ttl_ms)
            pipe.execute()

        self._run(op)

    def delete(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        return int(self._run(lambda c: c.delete(*keys)))

    def exists(self, key: str) -> bool:
        return bool(self._run(lambda c: c.exists(key)))

    def incr(self, key: str, amount: int) -> int:
        return int(self._run(lambda c: c.incrby(key, amount)))

    def pttl(self, key: str) -> int | None:
        left = int(self._run(lambda c: c.pttl(key)))
        return None if left == -2 else left

    def expire(self, key: str, ttl_ms: int | None) -> bool:
        if ttl_ms is None:
            return self._run(lambda c: bool(c.persist(key)) or bool(c.exists(key)))
        return bool(self._run(lambda c: c.pexpire(key, ttl_ms)))

    def clear(self, pattern: str) -> int:
        def op(client: Any) -> int:
            deleted = 0
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=_SCAN_BATCH):
                batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    deleted += int(client.unlink(*batch))
                    batch = []
            if batch:
                deleted += int(client.unlink(*batch))
            return deleted

        return self._run(op)

    def unlock(self, key: str, token: bytes) -> bool:
        return bool(self._run(lambda c: c.eval(_UNLOCK, 1, key, token)))

    def publish(self, channel: str, message: bytes) -> None:
        self._run(lambda c: c.publish(channel, message))

    def listener_client(self) -> Any:
        """A fresh synchronous client for a long-lived subscription (outside the breaker)."""
        return self._build(asynchronous=False)

    def ping(self) -> bool:
        return bool(self._run(lambda c: c.ping()))

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
            pool = getattr(client, "connection_pool", None)
            if pool is not None:
                pool.disconnect()
            for sentinel in getattr(client, "_maestro_sentinels", ()):
                sentinel.close()


async def _aclose_client(client: Any) -> None:
    await client.aclose()
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        await pool.disconnect()
    for sentinel in getattr(client, "_maestro_sentinels", ()):
        await sentinel.aclose()
