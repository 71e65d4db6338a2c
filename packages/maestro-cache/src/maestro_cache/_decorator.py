"""@cached: get_or_set around a function, with a key template checked at decoration."""

from __future__ import annotations

import functools
import inspect
import string
import typing
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from ._common import TTL
from ._errors import CacheConfigError
from ._interface import CacheInterface

__all__ = ["Cached", "cached"]

P = ParamSpec("P")
R = TypeVar("R")

_UNRESOLVED: Any = object()


def _template_fields(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise CacheConfigError(f"key template {template!r} is not valid: {exc}") from None
    roots = []
    for _, field, _, _ in parsed:
        if field is None:
            continue
        root = field.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise CacheConfigError(
                f"key template {template!r} must name parameters ({{user_id}}), "
                "not positions ({} or {0})"
            )
        roots.append(root)
    return roots


class Cached(Generic[P, R]):
    """A function wrapped by :func:`cached`; call it as the function itself.

    ``.key(*args, **kwargs)`` is the cache key a call would use; ``.invalidate(...)``
    deletes it (a coroutine for ``async def`` functions, a plain call otherwise).
    """

    def __init__(
        self,
        fn: Callable[P, R],
        template: str,
        ttl: TTL,
        cache: CacheInterface | None,
        options: dict[str, Any],
    ) -> None:
        self.__wrapped__ = fn
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._sig = inspect.signature(fn)
        self._template = template
        self._ttl = ttl
        self._cache = cache
        self._options = options
        self._is_async = inspect.iscoroutinefunction(fn)
        self._type: Any = _UNRESOLVED

    def _return_type(self) -> Any:
        if self._type is _UNRESOLVED:
            try:
                hint = typing.get_type_hints(self._fn).get("return")
            except Exception:
                annotation = self._sig.return_annotation
                is_plain = annotation is not inspect.Signature.empty
                hint = annotation if is_plain and not isinstance(annotation, str) else None
            self._type = hint
        return self._type

    def _cache_now(self) -> CacheInterface:
        if self._cache is not None:
            return self._cache
        from ._service import get_cache

        return get_cache()

    def key(self, *args: Any, **kwargs: Any) -> str:
        """The cache key (before the cache's namespace) for these arguments."""
        try:
            bound = self._sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise CacheConfigError(f"cannot build the cache key: {exc}") from None
        bound.apply_defaults()
        return self._template.format(**bound.arguments)

    def invalidate(self, *args: Any, **kwargs: Any) -> Any:
        """Delete the cached value for these arguments (await it for async functions)."""
        key = self.key(*args, **kwargs)
        cache = self._cache_now()
        if self._is_async:
            return cache.delete(key)
        return cache.sync.delete(key)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = self.key(*args, **kwargs)
        cache = self._cache_now()
        fn = self._fn
        if self._is_async:

            async def run() -> Any:
                return await cache.get_or_set(
                    key,
                    lambda: fn(*args, **kwargs),
                    self._ttl,
                    type=self._return_type(),
                    **self._options,
                )

            return run()  # type: ignore[return-value]
        return cache.sync.get_or_set(
            key,
            lambda: fn(*args, **kwargs),
            self._ttl,
            type=self._return_type(),
            **self._options,
        )

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return _Bound(self, instance)

    def __repr__(self) -> str:
        return f"<cached {self._fn.__qualname__} key={self._template!r}>"


class _Bound:
    """A cached method bound to its object: call it, or ask for its ``key`` / ``invalidate``."""

    __slots__ = ("_cached", "_instance")

    def __init__(self, cached: Cached[..., Any], instance: Any) -> None:
        self._cached = cached
        self._instance = instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._cached(self._instance, *args, **kwargs)

    def key(self, *args: Any, **kwargs: Any) -> str:
        """The cache key for these arguments."""
        return self._cached.key(self._instance, *args, **kwargs)

    def invalidate(self, *args: Any, **kwargs: Any) -> Any:
        """Delete the cached value for these arguments (await it for async methods)."""
        return self._cached.invalidate(self._instance, *args, **kwargs)


def cached(
    ttl: TTL = None,
    *,
    key: str | None = None,
    cache: CacheInterface | None = None,
    stale_ttl: float | None = None,
    early: str | None = None,
    lock: bool = False,
    loader_timeout: float | None = None,
) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """Cache a function's result with get_or_set (single-flight, optional lock/XFetch/stale).

    ``key`` is a template over the parameters (``"user:{user_id}"``), checked against the
    signature now; without one the key is ``module.qualname:{arg1}:{arg2}...``. Methods
    need an explicit template (no ``self`` repr in keys). The return annotation
    (a pydantic model, dataclass, datetime, Decimal ...) converts cached values back.
    ``cache`` defaults to ``get_cache()`` at call time.
    """
    if cache is not None and not isinstance(cache, CacheInterface):
        raise CacheConfigError("cache= must be a cache (InMemoryCache, RedisCache, ...)")
    if early not in (None, "xfetch"):
        raise CacheConfigError(f"early must be None or 'xfetch', got {early!r}")
    options: dict[str, Any] = {
        "stale_ttl": stale_ttl,
        "early": early,
        "lock": lock,
        "loader_timeout": loader_timeout,
    }

    def decorate(fn: Callable[P, R]) -> Cached[P, R]:
        if not callable(fn):
            raise CacheConfigError(f"@cached decorates functions, got {fn!r}")
        params = inspect.signature(fn).parameters
        names = list(params)
        if key is None:
            if names and names[0] in ("self", "cls"):
                raise CacheConfigError(
                    f"@cached on the method {fn.__qualname__} needs key=: a template such as "
                    f"'{fn.__name__}:{{{names[1] if len(names) > 1 else 'id'}}}' "
                    "(the object itself is never part of a key)"
                )
            variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            parts = [f"{{{n}}}" for n in names if params[n].kind not in variadic]
            template = ":".join([f"{fn.__module__}.{fn.__qualname__}", *parts])
        else:
            if not isinstance(key, str) or not key:
                raise CacheConfigError("key= must be a non-empty template such as 'user:{id}'")
            template = key
            for field in _template_fields(template):
                if field not in params:
                    raise CacheConfigError(
                        f"key template {template!r} names {{{field}}}, which is not a "
                        f"parameter of {fn.__qualname__}{inspect.signature(fn)}"
                    )
        return Cached(fn, template, ttl, cache, options)

    return decorate
