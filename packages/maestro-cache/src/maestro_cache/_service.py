"""CacheService: the cache chosen by URL (argument, settings or environment); get_cache()."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ._caches import InMemoryCache, RedisCache
from ._common import FOREVER
from ._errors import CacheConfigError
from ._interface import CacheInterface
from ._tiered import TieredBackend

__all__ = ["CacheService", "get_cache", "set_default_cache"]

# field -> (new variable, deprecated variable of the original package or None)
_ENV: dict[str, tuple[str, str | None]] = {
    "url": ("MAESTRO_CACHE__URL", "MAESTRO_CACHE_URL"),
    "default_ttl": ("MAESTRO_CACHE__DEFAULT_TTL", "MAESTRO_CACHE_TTL"),
    "key_prefix": ("MAESTRO_CACHE__KEY_PREFIX", "MAESTRO_CACHE_PREFIX"),
    "max_size": ("MAESTRO_CACHE__MAX_SIZE", "MAESTRO_CACHE_MAX_SIZE"),
    "version": ("MAESTRO_CACHE__VERSION", None),
    "serializer": ("MAESTRO_CACHE__SERIALIZER", None),
    "signing_key": ("MAESTRO_CACHE__SIGNING_KEY", None),
    "fail_open": ("MAESTRO_CACHE__FAIL_OPEN", None),
    "local_ttl": ("MAESTRO_CACHE__LOCAL_TTL", None),
    "max_connections": ("MAESTRO_CACHE__MAX_CONNECTIONS", None),
    "socket_timeout": ("MAESTRO_CACHE__SOCKET_TIMEOUT", None),
}
_DEFAULTS: dict[str, Any] = {
    "url": "memory://",
    "default_ttl": 3600.0,
    "key_prefix": "",
    "max_size": 10_000,
    "version": None,
    "serializer": "json",
    "signing_key": None,
    "fail_open": True,
    "local_ttl": None,
    "max_connections": 64,
    "socket_timeout": 0.5,
}


def _number(name: str, text: str, kind: Callable[[str], Any]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise CacheConfigError(f"{name}={text!r} is not a valid {kind.__name__}") from None


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise CacheConfigError(f"{name}={text!r} is not a boolean; use true or false")


def _from_env(field: str, environ: Mapping[str, str]) -> Any:
    """The field's value from the environment, or None; warns for the original names."""
    new, old = _ENV[field]
    text = environ.get(new)
    name = new
    if text is None and old is not None and old in environ:
        text, name = environ[old], old
        warnings.warn(
            f"{old} is deprecated; set {new} instead",
            DeprecationWarning,
            stacklevel=4,
        )
    if text is None or text == "":
        return None
    if field in ("default_ttl", "local_ttl", "socket_timeout"):
        if text.strip().lower() in ("none", "forever"):
            return FOREVER if field == "default_ttl" else None
        return _number(name, text, float)
    if field in ("max_size", "max_connections"):
        return _number(name, text, int)
    if field == "fail_open":
        return _boolean(name, text)
    return text


def _secret(value: Any) -> Any:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


class CacheService(CacheInterface):
    """The cache named by a URL: ``memory://`` (the default), ``redis://``, ``rediss://``,
    ``unix://``, ``redis+sentinel://`` or ``redis+cluster://``; with ``local_ttl`` a Redis
    cache gets an in-process L1 (see :class:`TieredCache`).

    Arguments left as None come from ``MAESTRO_CACHE__<FIELD>`` environment variables
    (``URL``, ``DEFAULT_TTL``, ``KEY_PREFIX``, ``MAX_SIZE``, ``VERSION``, ``SERIALIZER``,
    ``SIGNING_KEY``, ``FAIL_OPEN``, ``LOCAL_TTL``, ``MAX_CONNECTIONS``, ``SOCKET_TIMEOUT``),
    then from the defaults. An argument given explicitly is never replaced by the
    environment (``default_ttl=0`` is an error, not "use the environment").
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        default_ttl: Any = None,
        key_prefix: str | None = None,
        version: int | str | None = None,
        max_size: int | None = None,
        serializer: str | None = None,
        signing_key: object = None,
        fail_open: bool | None = None,
        local_ttl: float | None = None,
        max_connections: int | None = None,
        socket_timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        given = {
            "url": url,
            "default_ttl": default_ttl,
            "key_prefix": key_prefix,
            "version": version,
            "max_size": max_size,
            "serializer": serializer,
            "signing_key": signing_key,
            "fail_open": fail_open,
            "local_ttl": local_ttl,
            "max_connections": max_connections,
            "socket_timeout": socket_timeout,
        }
        env = os.environ if environ is None else environ
        config: dict[str, Any] = {}
        for field, argument in given.items():
            value = _from_env(field, env) if argument is None else argument
            config[field] = _DEFAULTS[field] if value is None else _secret(value)
        url_text = config["url"]
        if not isinstance(url_text, str):
            raise CacheConfigError("url must be a str such as memory:// or redis://host:6379/0")
        common = {
            "default_ttl": config["default_ttl"],
            "key_prefix": config["key_prefix"],
            "version": config["version"],
            "serializer": config["serializer"],
            "signing_key": config["signing_key"],
            **options,
        }
        scheme = url_text.partition("://")[0].lower()
        if scheme == "memory":
            if config["local_ttl"] is not None:
                raise CacheConfigError("local_ttl (an L1) only applies to a redis:// URL")
            inner: CacheInterface = InMemoryCache(max_size=config["max_size"], **common)
        else:
            remote = RedisCache(
                url_text,
                fail_open=config["fail_open"],
                max_connections=config["max_connections"],
                socket_timeout=config["socket_timeout"],
                **common,
            )
            inner = remote
            if config["local_ttl"] is not None:
                local = InMemoryCache(default_ttl=config["local_ttl"], max_size=config["max_size"])
                from ._tiered import TieredCache

                inner = TieredCache(local=local, remote=remote)
        self._inner = inner
        self.url = _masked(url_text)
        # Share the inner cache's configuration and store: this object is that cache.
        self.__dict__.update({k: v for k, v in inner.__dict__.items() if k != "_sync"})
        self._sync = None

    @classmethod
    def from_settings(cls, settings: Any, *, redis: Any = None, **overrides: Any) -> CacheService:
        """A cache from a ``CacheSettings`` section (duck-typed); keywords override fields.

        With ``redis=`` (a ``RedisSettings``) and the default ``memory://`` URL, the Redis
        section's URL is used.
        """
        values: dict[str, Any] = {}
        for field in _DEFAULTS:
            if hasattr(settings, field):
                values[field] = getattr(settings, field)
        url = _secret(values.get("url", "memory://"))
        if redis is not None and (url is None or str(url).startswith("memory://")):
            url = _secret(getattr(redis, "url", None))
        values["url"] = url
        values.update(overrides)
        values = {
            k: (FOREVER if k == "default_ttl" and v is None else v) for k, v in values.items()
        }
        return cls(environ={}, **values)

    @property
    def backend(self) -> CacheInterface:
        """The concrete cache: an InMemoryCache, RedisCache or TieredCache."""
        return self._inner

    def _size(self) -> int | None:
        return self._inner._size()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """For a tiered cache: wait for the invalidation channel; True for other caches."""
        backend = self._b
        if isinstance(backend, TieredBackend):
            return backend.wait_ready(timeout)
        return True

    def __repr__(self) -> str:
        return f"<CacheService {self._inner!r}>"


def _masked(url: str) -> str:
    from ._redis import mask_url

    return mask_url(url)


_default: dict[str, CacheInterface] = {}
_default_lock = threading.Lock()


def get_cache() -> CacheInterface:
    """The process-wide default cache (a ``CacheService()`` from the environment)."""
    cache = _default.get("cache")
    if cache is None:
        with _default_lock:
            cache = _default.get("cache")
            if cache is None:
                cache = _default["cache"] = CacheService()
    return cache


def set_default_cache(cache: CacheInterface | None) -> None:
    """Replace the cache ``get_cache()`` returns (None: build it from the environment again)."""
    if cache is not None and not isinstance(cache, CacheInterface):
        raise CacheConfigError("set_default_cache takes a cache (CacheInterface) or None")
    with _default_lock:
        if cache is None:
            _default.pop("cache", None)
        else:
            _default["cache"] = cache
