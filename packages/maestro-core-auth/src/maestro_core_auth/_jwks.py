"""`JWKSClient`: a resilient JWKS cache (httpx, extra ``jwks``); discovery helpers for `_oidc`."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._errors import AuthConfigError, JWKSFetchError
from ._keys import ALGORITHMS, Key, KeySet
from ._util import optional_import, seconds

if TYPE_CHECKING:
    import asyncio
    import ssl

__all__ = ["JWKSClient"]

_log = logging.getLogger("maestro.auth")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.I)
_MAX_KID = 256
_MAX_DOCUMENT = 512 * 1024


def _check_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise AuthConfigError(f"{what} must be a URL string")
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise AuthConfigError(f"{what} must be an https:// URL (http:// only on loopback)")
    return url


def _httpx() -> Any:
    return optional_import("httpx", "JWKSClient", "jwks")


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process (httpx would build one per client, slowly)."""
    import ssl

    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class _Fetched:
    """Status, headers and at most ``_MAX_DOCUMENT`` bytes of a response (never more is read)."""

    def __init__(self, status: int, headers: Any, body: bytes, what: str) -> None:
        self.status, self.headers, self.body, self.what = status, headers, body, what

    def document(self) -> Any:
        if self.status != 200:
            raise JWKSFetchError(f"{self.what} answered HTTP {self.status}")
        try:
            return json.loads(self.body)
        except ValueError:
            raise JWKSFetchError(f"{self.what} is not valid JSON") from None


def _too_large(what: str) -> JWKSFetchError:
    return JWKSFetchError(f"{what} is larger than {_MAX_DOCUMENT} bytes")


def _get(client: Any, url: str, what: str) -> _Fetched:
    with client.stream("GET", url, headers={"accept": "application/json"}) as response:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > _MAX_DOCUMENT:
                raise _too_large(what)
        return _Fetched(response.status_code, response.headers, body, what)


async def _aget(client: Any, url: str, what: str) -> _Fetched:
    async with client.stream("GET", url, headers={"accept": "application/json"}) as response:
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > _MAX_DOCUMENT:
                raise _too_large(what)
        return _Fetched(response.status_code, response.headers, body, what)


class JWKSClient:
    """Fetches and caches a JWKS, and survives IdP outages and key rotations.

    - The key set lives for the response's ``max-age`` clamped to ``[min_ttl, max_ttl]``.
    - An unknown ``kid`` triggers one refetch (concurrent callers share it) at most once per
      ``refetch_cooldown``; a kid still unknown after it is remembered as unknown until then.
    - When a refresh fails, the last good set is served for up to ``stale_if_error`` seconds
      past its expiry (logged once, counted in :meth:`stats`); JWKSFetchError only when no
      good set is left.
    """

    def __init__(
        self,
        url: str,
        *,
        algorithms: Iterable[str] | None = None,
        min_ttl: float | timedelta = 60.0,
        max_ttl: float | timedelta = 86_400.0,
        default_ttl: float | timedelta = 3_600.0,
        refetch_cooldown: float | timedelta = 30.0,
        stale_if_error: float | timedelta = 6 * 3600.0,
        timeout: float | timedelta = 3.0,
        monotonic: Callable[[], float] | None = None,
        _issuer: str | None = None,
    ) -> None:
        _httpx()
        self._discover_from = _issuer
        self.url: str | None = None if _issuer is not None else _check_url(url, "url")
        self.algorithms = tuple(algorithms) if algorithms else None
        for alg in self.algorithms or ():
            if alg not in ALGORITHMS:
                raise AuthConfigError(f"unknown algorithm {alg!r}; use one of {ALGORITHMS}")
        self.min_ttl = seconds(min_ttl, "min_ttl")
        self.max_ttl = seconds(max_ttl, "max_ttl")
        if self.max_ttl < self.min_ttl:
            raise AuthConfigError("max_ttl must be >= min_ttl")
        self.default_ttl = min(max(seconds(default_ttl, "default_ttl"), self.min_ttl), self.max_ttl)
        self.refetch_cooldown = seconds(refetch_cooldown, "refetch_cooldown")
        self.stale_if_error = seconds(stale_if_error, "stale_if_error")
        self.timeout = seconds(timeout, "timeout", minimum=0.001)
        self._monotonic = monotonic or time.monotonic
        self._keys: KeySet | None = None
        self._expires = 0.0  # monotonic time the current set goes stale
        self._last_attempt: float | None = None
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[asyncio.AbstractEventLoop, asyncio.Future[None]] = {}
        self._outage_logged = False
        self.generation = 0
        self._stats = {"fetches": 0, "failures": 0, "stale_served": 0, "coalesced": 0}
        self._signature: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"JWKSClient(url={self.url or self._discover_from!r}, keys={len(self._keys or ())})"

    @classmethod
    def from_issuer(cls, issuer: str, **options: Any) -> JWKSClient:
        """A client whose JWKS URL is discovered from ``issuer``'s OpenID configuration."""
        _check_url(issuer, "issuer")
        return cls("", _issuer=issuer, **options)

    def fresh_for(self) -> float:
        """Seconds until the current key set goes stale (0 when there is none)."""
        if self._keys is None:
            return 0.0
        return max(self._expires - self._monotonic(), 0.0)

    def stats(self) -> dict[str, Any]:
        """Counters (fetches, failures, stale_served, coalesced) and the current key count."""
        return {**self._stats, "keys": len(self._keys or ()), "generation": self.generation}

    # ----------------------------------------------------------------- state
    def _install(self, doc: Any, ttl: float) -> None:
        try:
            keys = KeySet.from_jwks(doc, algorithms=self.algorithms)
        except AuthConfigError as exc:
            raise JWKSFetchError(f"the JWKS document is unusable: {exc}") from None
        if len(keys) == 0:
            raise JWKSFetchError("the JWKS holds no usable signing key")
        signature = tuple(sorted(f"{k.kid}|{k.alg}|{k.thumbprint()}" for k in keys))
        self._keys = keys
        self._expires = self._monotonic() + ttl
        if signature != self._signature:
            self._signature = signature
            self.generation += 1
            self._unknown.clear()
        if self._outage_logged:
            _log.info("JWKS fetch recovered", extra={"event": "auth.jwks_recovered"})
        self._outage_logged = False

    def _ttl(self, headers: Any) -> float:
        match = _MAX_AGE.search(headers.get("cache-control", "") or "")
        ttl = float(match.group(1)) if match else self.default_ttl
        return min(max(ttl, self.min_ttl), self.max_ttl)

    def _failed(self, exc: BaseException) -> None:
        self._stats["failures"] += 1
        now = self._monotonic()
        usable = self._keys is not None and now < self._expires + self.stale_if_error
        if not self._outage_logged:
            _log.warning(
                "JWKS fetch failed; %s",
                "serving the last good key set" if usable else "no key set to serve",
                extra={"event": "auth.jwks_fetch_failed", "error": type(exc).__name__},
            )
            self._outage_logged = True

    def _usable(self) -> KeySet:
        now = self._monotonic()
        if self._keys is not None:
            if now < self._expires:
                return self._keys
            if now < self._expires + self.stale_if_error:
                self._stats["stale_served"] += 1
                return self._keys
        raise JWKSFetchError("no JWKS could be fetched and no last good key set is left")

    def _should_fetch(self, kid: object) -> bool:
        now = self._monotonic()
        if self._keys is None or now >= self._expires:  # nothing yet, or stale
            return self._last_attempt is None or now >= self._last_attempt + min(
                self.refetch_cooldown, 5.0
            )
        if not isinstance(kid, str) or len(kid) > _MAX_KID:
            return False
        until = self._unknown.get(kid)
        if until is not None and now < until:
            return False
        return self._last_attempt is None or now >= self._last_attempt + self.refetch_cooldown

    def _select(self, kid: object) -> Key | None:
        keys = self._usable()
        found = keys.select(kid)
        if found is None and isinstance(kid, str) and len(kid) <= _MAX_KID:
            self._unknown[kid] = self._monotonic() + self.refetch_cooldown
            while len(self._unknown) > 1024:
                self._unknown.popitem(last=False)
        return found

    # ----------------------------------------------------------------- sync
    def _fetch_sync(self) -> None:
        httpx = _httpx()
        self._last_attempt = self._monotonic()
        self._stats["fetches"] += 1
        try:
            with httpx.Client(
                timeout=self.timeout, follow_redirects=False, verify=_tls()
            ) as client:
                if self.url is None:
                    assert self._discover_from is not None
                    meta = _get(client, _well_known(self._discover_from), "discovery").document()
                    self.url = _jwks_uri(meta, self._discover_from)
                fetched = _get(client, self.url, "the JWKS endpoint")
                self._install(fetched.document(), self._ttl(fetched.headers))
        except (JWKSFetchError, httpx.HTTPError, AuthConfigError) as exc:
            self._failed(exc)

    def refresh(self) -> None:
        """Fetch the key set now (sync); failures keep the last good set."""
        with self._lock:
            self._fetch_sync()

    def keys(self) -> KeySet:
        """The current key set, fetched if needed (sync)."""
        if self._should_fetch(None):
            self._locked_fetch(None)
        return self._usable()

    def _locked_fetch(self, kid: object) -> None:
        attempt = self._last_attempt
        with self._lock:
            if self._last_attempt != attempt:  # another thread fetched while we waited
                self._stats["coalesced"] += 1
                return
            if self._should_fetch(kid):
                self._fetch_sync()

    def key_for(self, kid: object) -> Key | None:
        """The key a token's ``kid`` names, refetching once per cooldown if it is unknown."""
        stale = self._keys is None or self._monotonic() >= self._expires
        if stale and self._should_fetch(kid):
            self._locked_fetch(kid)
        keys = self._usable()
        found = keys.select(kid)
        if found is None and self._should_fetch(kid):
            self._locked_fetch(kid)
        return found if found is not None else self._select(kid)

    # ----------------------------------------------------------------- async
    async def _fetch_async(self) -> None:
        httpx = _httpx()
        self._last_attempt = self._monotonic()
        self._stats["fetches"] += 1
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, verify=_tls()
            ) as client:
                if self.url is None:
                    assert self._discover_from is not None
                    meta = await _aget(client, _well_known(self._discover_from), "discovery")
                    self.url = _jwks_uri(meta.document(), self._discover_from)
                fetched = await _aget(client, self.url, "the JWKS endpoint")
                self._install(fetched.document(), self._ttl(fetched.headers))
        except (JWKSFetchError, httpx.HTTPError, AuthConfigError) as exc:
            self._failed(exc)

    async def _coalesced_fetch(self, kid: object) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        pending = self._inflight.get(loop)
        if pending is not None:
            self._stats["coalesced"] += 1
            await asyncio.shield(pending)
            return
        if not self._should_fetch(kid):
            return
        future: asyncio.Future[None] = loop.create_future()
        self._inflight[loop] = future
        try:
            await self._fetch_async()
        finally:
            del self._inflight[loop]
            future.set_result(None)

    async def arefresh(self) -> None:
        """Fetch the key set now; failures keep the last good set."""
        await self._fetch_async()

    async def akeys(self) -> KeySet:
        """The current key set, fetched if needed."""
        if self._should_fetch(None):
            await self._coalesced_fetch(None)
        return self._usable()

    async def akey_for(self, kid: object) -> Key | None:
        """``key_for`` without blocking the event loop; concurrent refetches are coalesced."""
        if self._keys is None or self._monotonic() >= self._expires:
            await self._coalesced_fetch(kid)
        keys = self._usable()
        found = keys.select(kid)
        if found is None and (self._should_fetch(kid) or self._inflight):
            await self._coalesced_fetch(kid)
        return found if found is not None else self._select(kid)


def _well_known(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _jwks_uri(meta: Any, issuer: str) -> str:
    if not isinstance(meta, dict) or meta.get("issuer") != issuer:
        raise JWKSFetchError("the discovery document's issuer is not the configured issuer")
    return _check_url(meta.get("jwks_uri"), "jwks_uri")
