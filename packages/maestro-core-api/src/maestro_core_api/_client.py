"""``ServiceClient``: outbound HTTP on httpx with maestro-resilience's retry and breaker.

Only this module touches httpx (the rest of the package sees ``httpx.Response`` only as
a return type), so another client library can replace it here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ConfigurationError, UpstreamError
from ._middleware import inbound_traceparent, seconds

if TYPE_CHECKING:
    import httpx
    from maestro_resilience import CircuitBreaker, Retry

__all__ = ["ServiceClient"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key")


class _RetryableStatus(Exception):
    """An answer worth retrying (429/502/503/504); carries the response."""

    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class _RetryableError(Exception):
    """A connect error or read timeout worth retrying; carries the httpx error."""

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class _Failed:
    """A failure not to retry, handed through the retry policy as a result."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse ``Retry-After``: delta seconds or an HTTP date; None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port
    if port is None:
        port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def _default_retry() -> Retry:
    from maestro_resilience import Retry

    return Retry(max_attempts=3, delay=0.1, jitter="full", name="service-client")


class ServiceClient:
    """A client for one upstream service, resilient by default.

    ``ServiceClient(base_url, name=..., timeout=5.0, retry=None, breaker=None)``:

    * retries (``retry``: a ``maestro_resilience.Retry``; ``None`` = 3 attempts, 0.1 s
      full-jitter backoff; ``False`` = never) only idempotent methods, or POST/PATCH
      given an ``idempotency_key=`` (sent as ``Idempotency-Key``), on connect errors,
      read timeouts and 429/502/503/504; a ``Retry-After`` (seconds or HTTP date,
      capped by ``max_retry_after``) is waited for;
    * a ``breaker`` (``maestro_resilience.CircuitBreaker``) sees every attempt;
    * ``X-Request-ID`` (the request being served) and ``traceparent`` are propagated;
    * redirects are followed (``max_redirects``) without ``Authorization``, ``Cookie``,
      ``Proxy-Authorization`` or ``X-API-Key`` once the origin changes;
    * a transport failure raises :class:`UpstreamError` (502; 504 for a timeout), which an
      app built by ``create_app`` answers as a problem naming the upstream only.

    Async verbs (``await client.get(...)``); the same verbs, synchronous, on ``.sync``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str | None = None,
        timeout: float | timedelta = 5.0,
        retry: Retry | Literal[False] | None = None,
        breaker: CircuitBreaker | None = None,
        headers: Mapping[str, str] | None = None,
        max_retry_after: float | timedelta = 30.0,
        max_redirects: int = 5,
        follow_redirects: bool = True,
        propagate: bool = True,
        transport: Any = None,
        sync_transport: Any = None,
        sleep: Callable[[float], Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"base_url must be an http:// or https:// URL, got {base_url!r}"
            )
        self.base_url = base_url
        self.name = name or httpx.URL(base_url).host
        seconds_timeout = seconds("timeout", timeout, allow_none=False)
        self.timeout = httpx.Timeout(seconds_timeout)
        if retry is False:
            self.retry: Retry | None = None
        else:
            self.retry = retry if retry is not None else _default_retry()
        self.breaker = breaker
        self.max_retry_after = seconds("max_retry_after", max_retry_after, allow_none=False)
        if (
            isinstance(max_redirects, bool)
            or not isinstance(max_redirects, int)
            or max_redirects < 0
        ):
            raise ConfigurationError(f"max_redirects must be >= 0, got {max_redirects!r}")
        self.max_redirects = max_redirects
        self.follow_redirects = follow_redirects
        self.propagate = propagate
        self._headers = dict(headers or {})
        self._transport = transport
        self._sync_transport = sync_transport
        self._sleep = sleep
        self._monotonic = monotonic
        self._client: httpx.AsyncClient | None = None
        self._sync_client: httpx.Client | None = None
        self.sync = _SyncVerbs(self)
        if self.retry is not None:
            self._retrying_async = self.retry(self._attempt_async)
            self._retrying_sync = self.retry(self._attempt_sync)

    def __repr__(self) -> str:
        return f"<ServiceClient {self.name!r} base_url={self.base_url!r}>"

    # ---- plumbing --------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient`` (created on first use)."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.timeout,
                headers=self._headers,
                follow_redirects=False,
                transport=self._transport,
            )
        return self._client

    def _client_sync(self) -> httpx.Client:
        if self._sync_client is None:
            import httpx

            self._sync_client = httpx.Client(
                base_url=self.base_url,
                timeout=self.timeout,
                headers=self._headers,
                follow_redirects=False,
                transport=self._sync_transport,
            )
        return self._sync_client

    def _outgoing(
        self, headers: Mapping[str, str] | None, idempotency_key: str | None
    ) -> dict[str, str]:
        out = dict(headers or {})
        lower = {k.lower() for k in out}
        if idempotency_key is not None:
            if not isinstance(idempotency_key, str) or not idempotency_key.strip():
                raise ConfigurationError("idempotency_key must be a non-empty string")
            out["Idempotency-Key"] = idempotency_key
        if self.propagate:
            from maestro_core_logging import get_context

            request_id = get_context().get("request_id")
            if isinstance(request_id, str) and "x-request-id" not in lower:
                out["X-Request-ID"] = request_id
            if "traceparent" not in lower:
                traceparent = _current_traceparent()
                if traceparent is not None:
                    out["traceparent"] = traceparent
        return out

    def _build(
        self,
        client: httpx.AsyncClient | httpx.Client,
        method: str,
        *,
        url: str,
        headers: Mapping[str, str] | None,
        key: str | None,
        options: dict[str, Any],
    ) -> httpx.Request:
        """The request to send; httpx's complaints about it become ConfigurationError."""
        import httpx

        try:
            return client.build_request(
                method, url, headers=self._outgoing(headers, key), **options
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, TypeError, ValueError) as error:
            if isinstance(error, ConfigurationError):
                raise
            # The error's text may quote the URL (and a password in it): name its type only.
            raise ConfigurationError(
                f"cannot build the {method} request to {self.name!r} ({type(error).__name__}): "
                "check the URL, headers and body arguments"
            ) from None

    def _hint(self, response: httpx.Response) -> float | None:
        hint = retry_after_seconds(response.headers.get("retry-after"))
        if hint is None:
            return None
        return min(hint, self.max_retry_after or hint)

    def _classify(self, error: Exception) -> Exception:
        """Wrap an httpx error: retryable (connect, read timeout) or final."""
        import httpx

        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.ReadTimeout):
            return _RetryableError(error)
        if isinstance(error, httpx.PoolTimeout):
            return _RetryableError(error)
        return error

    def _upstream(self, error: BaseException) -> UpstreamError:
        import httpx
        from maestro_resilience import CircuitBreakerOpenError

        if isinstance(error, _RetryableError):
            error = error.error
        if isinstance(error, CircuitBreakerOpenError):
            return UpstreamError(self.name, "is unavailable (circuit breaker open)")
        if isinstance(error, httpx.TimeoutException):
            return UpstreamError(self.name, "did not answer in time", timeout=True)
        if isinstance(error, httpx.ConnectError):
            return UpstreamError(self.name, "is unreachable")
        if isinstance(error, httpx.TooManyRedirects):
            return UpstreamError(self.name, "redirected too many times")
        return UpstreamError(self.name, f"failed ({type(error).__name__})")

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.Request | None:
        """The next request of a redirect, with credentials dropped across origins."""
        import httpx

        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return None
        url = request.url.join(location)
        method = request.method
        content: bytes | None = request.content if method not in ("GET", "HEAD") else None
        if (response.status_code == 303 and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        ):
            method, content = "GET", None
        headers = httpx.Headers(request.headers)
        if _origin(url) != _origin(request.url):
            for name in CREDENTIAL_HEADERS:
                headers.pop(name, None)
        headers.pop("host", None)
        if content is None:
            headers.pop("content-length", None)
            headers.pop("content-type", None)
            headers.pop("transfer-encoding", None)
        return httpx.Request(method, url, headers=headers, content=content)

    # ---- async -----------------------------------------------------------------

    async def _wait_hint(self, pending: list[float]) -> None:
        if pending:
            hint, failed_at = pending
            pending.clear()
            wait = hint - (self._monotonic() - failed_at)
            if wait > 0:
                if self._sleep is not None:
                    slept = self._sleep(wait)
                    if asyncio.iscoroutine(slept):
                        await slept
                else:
                    await asyncio.sleep(wait)

    async def _send_async(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        response = await client.send(request)
        hops = 0
        while self.follow_redirects:
            following = self._redirect(request, response)
            if following is None:
                break
            hops += 1
            if hops > self.max_redirects:
                import httpx

                await response.aclose()
                raise httpx.TooManyRedirects("too many redirects", request=following)
            await response.aclose()
            request = following
            response = await client.send(request)
        return response

    async def _attempt_async(self, request: httpx.Request, pending: list[float]) -> Any:
        await self._wait_hint(pending)

        async def once() -> httpx.Response:
            try:
                response = await self._send_async(request)
            except Exception as error:
                raise self._classify(error) from error
            if response.status_code in RETRY_STATUSES:
                hint = self._hint(response)
                if hint is not None:
                    pending[:] = [hint, self._monotonic()]
                raise _RetryableStatus(response, hint)
            return response

        try:
            if self.breaker is not None:
                acall = getattr(self.breaker, "acall", None) or self.breaker.call_async
                return await acall(once)
            return await once()
        except _RetryableStatus:
            raise
        except _RetryableError:
            raise
        except Exception as error:
            return _Failed(error)

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """Send a request (``options`` as httpx's: ``params``, ``json``, ``content``, ...)."""
        method = method.upper()
        request = self._build(
            self.client, method, url=url, headers=headers, key=idempotency_key, options=options
        )
        pending: list[float] = []
        retryable = self.retry is not None and (
            method in IDEMPOTENT_METHODS or idempotency_key is not None
        )
        try:
            if retryable:
                result = await self._retrying_async(request, pending)
            else:
                result = await self._attempt_async(request, pending)
        except _RetryableStatus as answer:
            return answer.response
        except _RetryableError as error:
            raise self._upstream(error) from None
        if isinstance(result, _Failed):
            raise self._upstream(result.error) from None
        response: httpx.Response = result
        return response

    async def get(self, url: str, **options: Any) -> httpx.Response:
        """GET (retried)."""
        return await self.request("GET", url, **options)

    async def head(self, url: str, **options: Any) -> httpx.Response:
        """HEAD (retried)."""
        return await self.request("HEAD", url, **options)

    async def options(self, url: str, **options: Any) -> httpx.Response:
        """OPTIONS (retried)."""
        return await self.request("OPTIONS", url, **options)

    async def put(self, url: str, **options: Any) -> httpx.Response:
        """PUT (retried: idempotent)."""
        return await self.request("PUT", url, **options)

    async def delete(self, url: str, **options: Any) -> httpx.Response:
        """DELETE (retried: idempotent)."""
        return await self.request("DELETE", url, **options)

    async def post(self, url: str, **options: Any) -> httpx.Response:
        """POST (retried only with ``idempotency_key=``)."""
        return await self.request("POST", url, **options)

    async def patch(self, url: str, **options: Any) -> httpx.Response:
        """PATCH (retried only with ``idempotency_key=``)."""
        return await self.request("PATCH", url, **options)

    async def close(self) -> None:
        """Close the connection pools."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    async def __aenter__(self) -> ServiceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ---- sync ------------------------------------------------------------------

    def _send_sync(self, request: httpx.Request) -> httpx.Response:
        client = self._client_sync()
        response = client.send(request)
        hops = 0
        while self.follow_redirects:
            following = self._redirect(request, response)
            if following is None:
                break
            hops += 1
            if hops > self.max_redirects:
                import httpx

                response.close()
                raise httpx.TooManyRedirects("too many redirects", request=following)
            response.close()
            request = following
            response = client.send(request)
        return response

    def _attempt_sync(self, request: httpx.Request, pending: list[float]) -> Any:
        if pending:
            hint, failed_at = pending
            pending.clear()
            wait = hint - (self._monotonic() - failed_at)
            if wait > 0:
                (self._sleep or time.sleep)(wait)

        def once() -> httpx.Response:
            try:
                response = self._send_sync(request)
            except Exception as error:
                raise self._classify(error) from error
            if response.status_code in RETRY_STATUSES:
                hint = self._hint(response)
                if hint is not None:
                    pending[:] = [hint, self._monotonic()]
                raise _RetryableStatus(response, hint)
            return response

        try:
            if self.breaker is not None:
                return self.breaker.call(once)
            return once()
        except (_RetryableStatus, _RetryableError):
            raise
        except Exception as error:
            return _Failed(error)

    def _request_sync(
        self,
        method: str,
        url: str,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> httpx.Response:
        method = method.upper()
        request = self._build(
            self._client_sync(),
            method,
            url=url,
            headers=headers,
            key=idempotency_key,
            options=options,
        )
        pending: list[float] = []
        retryable = self.retry is not None and (
            method in IDEMPOTENT_METHODS or idempotency_key is not None
        )
        try:
            if retryable:
                result = self._retrying_sync(request, pending)
            else:
                result = self._attempt_sync(request, pending)
        except _RetryableStatus as answer:
            return answer.response
        except _RetryableError as error:
            raise self._upstream(error) from None
        if isinstance(result, _Failed):
            raise self._upstream(result.error) from None
        response: httpx.Response = result
        return response


class _SyncVerbs:
    """``client.sync``: the same verbs, synchronous (on an ``httpx.Client``)."""

    def __init__(self, owner: ServiceClient) -> None:
        self._owner = owner

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send a request synchronously."""
        return self._owner._request_sync(method, url, **options)

    def get(self, url: str, **options: Any) -> httpx.Response:
        """GET (retried)."""
        return self.request("GET", url, **options)

    def head(self, url: str, **options: Any) -> httpx.Response:
        """HEAD (retried)."""
        return self.request("HEAD", url, **options)

    def options(self, url: str, **options: Any) -> httpx.Response:
        """OPTIONS (retried)."""
        return self.request("OPTIONS", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        """PUT (retried: idempotent)."""
        return self.request("PUT", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        """DELETE (retried: idempotent)."""
        return self.request("DELETE", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        """POST (retried only with ``idempotency_key=``)."""
        return self.request("POST", url, **options)

    def patch(self, url: str, **options: Any) -> httpx.Response:
        """PATCH (retried only with ``idempotency_key=``)."""
        return self.request("PATCH", url, **options)

    def close(self) -> None:
        """Close the synchronous connection pool."""
        owner = self._owner
        if owner._sync_client is not None:
            owner._sync_client.close()
            owner._sync_client = None


def _current_traceparent() -> str | None:
    """The active OpenTelemetry span as a traceparent, else the inbound header."""
    import sys

    if "opentelemetry.trace" in sys.modules:
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            return (
                f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
            )
    return inbound_traceparent()
