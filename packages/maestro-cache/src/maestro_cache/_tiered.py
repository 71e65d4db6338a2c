"""TieredCache: an in-process L1 in front of Redis, kept coherent across processes.

Every write goes to Redis first, then to this process's L1, then a message on the pub/sub
channel ``{key_prefix}:invalidate`` names the keys (or the glob) so that every other
process drops its L1 copy; a process ignores its own messages (its node id is in them).

With ``invalidation="tracking"`` the server itself reports changed keys: the listener
turns on ``CLIENT TRACKING ... BCAST PREFIX {namespace}`` redirected to its own
``__redis__:invalidate`` subscription, so writes by any client, expiries and evictions
all reach L1, and nothing is published.

A background thread holds the subscription. L1 is only read while that subscription is
confirmed: when the connection drops (Redis restarted, network cut) L1 is flushed and
bypassed, and it is flushed again once the subscription is back, so no process serves a
copy that an invalidation it never received has made stale. A read that raced with an
invalidation does not fill L1.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from ._caches import InMemoryCache, RedisCache
from ._errors import CacheConfigError
from ._interface import CacheInterface
from ._memory import MemoryBackend
from ._redis import RedisBackend

__all__ = ["TieredBackend", "TieredCache"]

log = logging.getLogger("maestro.cache")


class TieredBackend:
    """Byte-level operations on L1 (MemoryBackend) + L2 (RedisBackend) with invalidation."""

    kind = "tiered"
    shared = True

    def __init__(
        self,
        local: MemoryBackend,
        remote: RedisBackend,
        local_ttl_ms: int,
        channel: str,
        *,
        tracking_prefix: str | None = None,
    ) -> None:
        self.local = local
        self._tracking = tracking_prefix is not None
        self._tracking_prefix = tracking_prefix or ""
        self.remote = remote
        self._ttl = local_ttl_ms
        self.channel = channel
        self.node = uuid.uuid4().hex
        self.listening = False
        self.disconnects = 0
        self._generation = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._listen_tracking if self._tracking else self._listen,
            name=f"maestro-cache-invalidation-{channel}",
            daemon=True,
        )
        self._thread.start()

    @property
    def evictions(self) -> int:
        return self.local.evictions

    # ---- the invalidation bus -------------------------------------------------------

    def _message(self, keys: Iterable[str] | None = None, pattern: str | None = None) -> bytes:
        body: dict[str, Any] = {"n": self.node}
        if pattern is not None:
            body["p"] = pattern
        else:
            body["k"] = list(keys or ())
        return orjson.dumps(body)

    def _apply(self, data: bytes) -> None:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict) or body.get("n") == self.node:
            return
        self._generation += 1
        if isinstance(body.get("p"), str):
            self.local.clear(body["p"])
        elif isinstance(body.get("k"), list):
            self.local.delete(k for k in body["k"] if isinstance(k, str))

    def _lost(self) -> None:
        if self.listening:
            self.disconnects += 1
            log.warning("cache invalidation channel lost; L1 flushed and bypassed until back")
        self.listening = False
        self._generation += 1
        self.local.clear("*")

    def _listen(self) -> None:
        delay = 0.05
        while not self._stop.is_set():
            client = pubsub = None
            try:
                client = self.remote.listener_client()
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                idle = 0
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.1)
                    if message is None:
                        idle += 1
                        if idle >= 10:  # about a second of silence: prove the link is alive
                            idle = 0
                            pubsub.ping()
                        continue
                    idle = 0
                    kind = message.get("type")
                    if kind == "subscribe":
                        self._generation += 1
                        self.local.clear("*")
                        self.listening = True
                        self._ready.set()
                        delay = 0.05
                    elif kind == "message":
                        self._apply(message["data"])
            except Exception:
                self._lost()
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)
            finally:
                for thing in (pubsub, client):
                    if thing is not None:
                        try:
                            thing.close()
                        except Exception:  # closing a dead connection may fail: ignore
                            log.debug("closing the invalidation connection failed")
        self.listening = False

    def _listen_tracking(self) -> None:
        """RESP3-style client tracking over RESP2: BCAST on this cache's prefix, redirected
        to this connection's own __redis__:invalidate subscription."""
        import redis

        delay = 0.05
        target = self.remote.target
        while not self._stop.is_set():
            client = None
            try:
                client = redis.Redis.from_url(
                    target.url,
                    protocol=2,
                    socket_timeout=max(self.remote._socket_timeout, 1.0),
                    socket_connect_timeout=self.remote._socket_timeout,
                )
                conn: Any = client.connection_pool.get_connection()
                conn.send_command("CLIENT", "ID")
                client_id = conn.read_response()
                args: list[Any] = ["CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST"]
                if self._tracking_prefix:
                    args += ["PREFIX", self._tracking_prefix]
                conn.send_command(*args)
                conn.read_response()
                conn.send_command("SUBSCRIBE", "__redis__:invalidate")
                idle = 0
                while not self._stop.is_set():
                    if not conn.can_read(timeout=0.1):
                        idle += 1
                        if idle >= 10:
                            idle = 0
                            conn.send_command("PING")
                        continue
                    idle = 0
                    reply = conn.read_response()
                    if not isinstance(reply, list) or not reply:
                        continue
                    if reply[0] == b"subscribe":
                        self._generation += 1
                        self.local.clear("*")
                        self.listening = True
                        self._ready.set()
                        delay = 0.05
                    elif reply[0] == b"message":
                        self._generation += 1
                        keys = reply[2]
                        if keys is None:  # FLUSHALL / FLUSHDB
                            self.local.clear("*")
                        else:
                            self.local.delete(k.decode() for k in keys)
            except Exception:
                self._lost()
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)
            finally:
                if client is not None:
                    try:
                        client.connection_pool.disconnect()
                        client.close()
                    except Exception:  # closing a dead connection may fail: ignore
                        log.debug("closing the tracking connection failed")
        self.listening = False

    def _publish(self, message: bytes) -> None:
        if not self._tracking:
            self.remote.publish(self.channel, message)

    async def _apublish(self, message: bytes) -> None:
        if not self._tracking:
            await self.remote.apublish(self.channel, message)

    def wait_ready(self, timeout: float) -> bool:
        """Block until the invalidation subscription is confirmed (True) or ``timeout`` passes."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.listening = False
        self.local.clear("*")

    # ---- reads ------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        if self.listening:
            value = self.local.get(key)
            if value is not None:
                return value
        generation = self._generation
        value = self.remote.get(key)
        if value is not None and self.listening and generation == self._generation:
            self.local.set(key, value, self._ttl)
        return value

    async def aget(self, key: str) -> bytes | None:
        if self.listening:
            value = self.local.get(key)
            if value is not None:
                return value
        generation = self._generation
        value = await self.remote.aget(key)
        if value is not None and self.listening and generation == self._generation:
            self.local.set(key, value, self._ttl)
        return value

    def _split(self, keys: list[str]) -> tuple[dict[str, bytes], list[str]]:
        found: dict[str, bytes] = {}
        if self.listening:
            for key, value in zip(keys, self.local.mget(keys), strict=True):
                if value is not None:
                    found[key] = value
        return found, [k for k in keys if k not in found]

    def _fill(self, missing: list[str], values: list[bytes | None], generation: int) -> None:
        if self.listening and generation == self._generation:
            fill = {k: v for k, v in zip(missing, values, strict=True) if v is not None}
            if fill:
                self.local.mset(fill, self._ttl)

    def mget(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        found, missing = self._split(keys)
        if missing:
            generation = self._generation
            values = self.remote.mget(missing)
            self._fill(missing, values, generation)
            found.update((k, v) for k, v in zip(missing, values, strict=True) if v is not None)
        return [found.get(k) for k in keys]

    async def amget(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        found, missing = self._split(keys)
        if missing:
            generation = self._generation
            values = await self.remote.amget(missing)
            self._fill(missing, values, generation)
            found.update((k, v) for k, v in zip(missing, values, strict=True) if v is not None)
        return [found.get(k) for k in keys]

    def exists(self, key: str) -> bool:
        return self.remote.exists(key)

    async def aexists(self, key: str) -> bool:
        return await self.remote.aexists(key)

    def pttl(self, key: str) -> int | None:
        return self.remote.pttl(key)

    async def apttl(self, key: str) -> int | None:
        return await self.remote.apttl(key)

    def ping(self) -> bool:
        return self.remote.ping()

    async def aping(self) -> bool:
        return await self.remote.aping()

    def unlock(self, key: str, token: bytes) -> bool:
        return self.remote.unlock(key, token)

    async def aunlock(self, key: str, token: bytes) -> bool:
        return await self.remote.aunlock(key, token)

    # ---- writes: Redis, then L1, then tell the others ------------------------------

    def _drop(self, keys: list[str]) -> bytes:
        self._generation += 1
        self.local.delete(keys)
        return self._message(keys)

    def set(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        done = self.remote.set(key, value, ttl_ms)
        message = self._drop([key])
        self._publish(message)
        if self.listening:
            self.local.set(key, value, self._ttl if ttl_ms is None else min(ttl_ms, self._ttl))
        return done

    async def aset(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        done = await self.remote.aset(key, value, ttl_ms)
        message = self._drop([key])
        await self._apublish(message)
        if self.listening:
            self.local.set(key, value, self._ttl if ttl_ms is None else min(ttl_ms, self._ttl))
        return done

    def add(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        done = self.remote.add(key, value, ttl_ms)
        if done:
            self._publish(self._drop([key]))
        return done

    async def aadd(self, key: str, value: bytes, ttl_ms: int | None) -> bool:
        done = await self.remote.aadd(key, value, ttl_ms)
        if done:
            await self._apublish(self._drop([key]))
        return done

    def mset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        self.remote.mset(items, ttl_ms)
        self._publish(self._drop(list(items)))

    async def amset(self, items: Mapping[str, bytes], ttl_ms: int | None) -> None:
        await self.remote.amset(items, ttl_ms)
        await self._apublish(self._drop(list(items)))

    def delete(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        count = self.remote.delete(keys)
        self._publish(self._drop(keys))
        return count

    async def adelete(self, keys: Iterable[str]) -> int:
        keys = list(keys)
        count = await self.remote.adelete(keys)
        await self._apublish(self._drop(keys))
        return count

    def incr(self, key: str, amount: int) -> int:
        value = self.remote.incr(key, amount)
        self._publish(self._drop([key]))
        return value

    async def aincr(self, key: str, amount: int) -> int:
        value = await self.remote.aincr(key, amount)
        await self._apublish(self._drop([key]))
        return value

    def expire(self, key: str, ttl_ms: int | None) -> bool:
        done = self.remote.expire(key, ttl_ms)
        self._publish(self._drop([key]))
        return done

    async def aexpire(self, key: str, ttl_ms: int | None) -> bool:
        done = await self.remote.aexpire(key, ttl_ms)
        await self._apublish(self._drop([key]))
        return done

    def clear(self, pattern: str) -> int:
        count = self.remote.clear(pattern)
        self._generation += 1
        self.local.clear(pattern)
        self._publish(self._message(pattern=pattern))
        return count

    async def aclear(self, pattern: str) -> int:
        count = await self.remote.aclear(pattern)
        self._generation += 1
        self.local.clear(pattern)
        await self._apublish(self._message(pattern=pattern))
        return count

    def close(self) -> None:
        self.stop()
        self.remote.close()

    async def aclose(self) -> None:
        self.stop()
        await self.remote.aclose()


class TieredCache(CacheInterface):
    """L1 (an :class:`InMemoryCache`) in front of L2 (a :class:`RedisCache`).

    The key prefix, serializer, TTL and fail-open policy are the remote cache's; L1 keeps a
    copy of each value for at most the local cache's ``default_ttl`` seconds.
    ``invalidation="pubsub"`` (the default) broadcasts this cache's own writes on
    ``{key_prefix}:invalidate``; ``"tracking"`` (standalone Redis) uses server-side client
    tracking in BCAST mode on the key prefix, so writes by any client, expiries and
    evictions invalidate L1 too.
    """

    def __init__(
        self,
        local: InMemoryCache | None = None,
        remote: RedisCache | None = None,
        *,
        invalidation: str = "pubsub",
    ) -> None:
        if remote is None or not isinstance(remote, RedisCache):
            raise CacheConfigError("TieredCache needs remote=RedisCache(...)")
        local = local if local is not None else InMemoryCache(default_ttl=30)
        if not isinstance(local, InMemoryCache):
            raise CacheConfigError("TieredCache needs local=InMemoryCache(...)")
        if invalidation not in ("pubsub", "tracking"):
            raise CacheConfigError(
                f"invalidation must be 'pubsub' or 'tracking', got {invalidation!r}"
            )
        if invalidation == "tracking" and remote.mode != "standalone":
            raise CacheConfigError(
                "invalidation='tracking' needs a standalone Redis (redis://); use 'pubsub' "
                "with Sentinel or Cluster"
            )
        local_ttl = local._default_ttl_ms
        if local_ttl is None:
            raise CacheConfigError("the local cache of a TieredCache needs a finite default_ttl")
        channel = f"{remote.key_prefix or 'maestro-cache'}:invalidate"
        self._local = local
        self._remote = remote
        namespace = remote._ns
        self._tier = TieredBackend(
            local._store,
            remote._redis,
            local_ttl,
            channel,
            tracking_prefix=namespace if invalidation == "tracking" else None,
        )
        super().__init__(
            self._tier,
            default_ttl=remote._default_ttl_ms / 1000 if remote._default_ttl_ms else None,
            key_prefix=remote.key_prefix,
            version=remote._version,
            serializer=remote._ser,
            max_key_length=remote._max_key,
            fail_open=remote.fail_open,
            loader_timeout=remote._loader_timeout,
            lock_timeout=remote._lock_timeout,
            monotonic=remote._monotonic,
        )
        self._wall = remote._wall

    @property
    def local(self) -> InMemoryCache:
        """The L1 cache."""
        return self._local

    @property
    def remote(self) -> RedisCache:
        """The L2 cache."""
        return self._remote

    @property
    def invalidation_connected(self) -> bool:
        """True while the invalidation subscription is up (and L1 is in use)."""
        return self._tier.listening

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Block until the invalidation subscription is up; False after ``timeout`` seconds."""
        return self._tier.wait_ready(timeout)

    def _size(self) -> int | None:
        return len(self._local)

    def __repr__(self) -> str:
        return f"<TieredCache L1={self._local!r} L2={self._remote!r}>"
