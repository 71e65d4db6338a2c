"""The two layers ``create_app`` installs around the app, each doing several jobs.

Every ASGI layer costs a call and a ``send`` wrapper per request, so the jobs that sit
next to each other in the stack share one layer:

* :class:`CoreMiddleware` (inside logging and metrics): the problem catch-all, the
  security headers and the inbound ``traceparent`` for outbound calls;
* :class:`LimitsMiddleware` (innermost): body limit, request timeout, the app-wide rate
  limit and the per-route headers (``RateLimit``, ``Deprecation``).

The standalone ``SecurityHeadersMiddleware`` and ``ForwardedMiddleware`` serve apps
assembled by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import timedelta
from types import FunctionType
from typing import Any

from ._deadline import Deadlines
from ._errors import ConfigurationError, RateLimitException
from ._middleware import (
    _API_CSP,
    _TRACEPARENT,
    DEFAULT_SECURITY_HEADERS,
    ASGIApp,
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    seconds,
)
from ._problem import current_request_id, instance_of, problem_dict, send_problem
from ._ratelimit import SCOPE_KEY, RateLimit, _BackendDown, headers_of, remember

__all__ = ["CoreMiddleware", "GZipWhenAccepted", "LimitsMiddleware", "ServiceMiddleware"]

# HTTP versions whose request bodies are announced by a header (see LimitsMiddleware).
_FRAMED_BY_HEADERS = frozenset({"1.1", "1.0"})


def _instance(scope: Scope) -> str:
    return instance_of(scope)


def _deprecation_of(route: Any) -> Any:
    """The ``deprecated()`` notice of the matched route's endpoint, else None.

    Most endpoints are plain functions without one: their ``__dict__`` is read instead of
    ``getattr`` with a default, which raises and swallows an AttributeError per request.
    """
    if route is None:
        return None
    endpoint = getattr(route, "endpoint", None)
    if type(endpoint) is FunctionType:
        return endpoint.__dict__.get("__maestro_deprecation__")
    return getattr(endpoint, "__maestro_deprecation__", None)


def _add_route_headers(scope: Scope, message: Message) -> None:
    """Add the request's ``RateLimit`` and the route's ``Deprecation`` headers to a response
    start (those the answer does not set itself)."""
    extra: list[tuple[bytes, bytes]] = []
    if SCOPE_KEY in scope:
        for name, value in headers_of(scope).items():
            extra.append((name.lower().encode(), value.encode()))
    notice = _deprecation_of(scope.get("route"))
    if notice is not None:
        extra.extend(notice.raw_headers)
    if extra:
        raw = list(message.get("headers") or ())
        present = {k.lower() for k, _ in raw}
        raw.extend(h for h in extra if h[0] not in present)
        message["headers"] = raw


class CoreMiddleware:
    """Problem catch-all + security headers + inbound ``traceparent``, in one layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        problem_type_base: str | None = None,
        security_headers: Mapping[str, str] | None = DEFAULT_SECURITY_HEADERS,
        hsts: str | None = "max-age=31536000; includeSubDomains",
    ) -> None:
        self.app = app
        self.problem_type_base = problem_type_base
        self._headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in (security_headers or {}).items()
        ]
        self._secure = security_headers is not None
        self._hsts = hsts.encode("latin-1") if hsts else None
        # What a response gets when it sets none of these headers itself and is not HTML
        # (the common case: one list built per response), over HTTP and over HTTPS.
        self._added = (*self._headers, (b"content-security-policy", _API_CSP))
        self._added_https = (
            (*self._added, (b"strict-transport-security", self._hsts))
            if self._hsts
            else self._added
        )
        # Names whose presence in a response changes what is added (so does an HTML
        # content type: HTML keeps its own content security policy).
        self._watched = frozenset(
            [
                *(name for name, _ in self._headers),
                b"content-security-policy",
                b"strict-transport-security",
            ]
        )

    def _merged(self, headers: Any, https: bool) -> list[tuple[bytes, bytes]]:
        """The response's headers plus the security headers it does not set itself."""
        raw = list(headers)
        present = set()
        html = False
        for name, value in raw:
            lowered = name.lower()
            present.add(lowered)
            if lowered == b"content-type" and value.startswith(b"text/html"):
                html = True
        raw.extend(h for h in self._headers if h[0] not in present)
        if not html and b"content-security-policy" not in present:
            raw.append((b"content-security-policy", _API_CSP))
        hsts = self._hsts if https else None
        if hsts and b"strict-transport-security" not in present:
            raw.append((b"strict-transport-security", hsts))
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent = None
        for key, value in scope["headers"]:
            if key == b"traceparent":
                traceparent = value.decode("latin-1")
                break
        started = False
        secure = self._secure
        https = scope.get("scheme") == "https"
        added = self._added_https if https else self._added

        def core_send(message: Message) -> Awaitable[None]:
            # A plain function handing back send's own awaitable: no coroutine of ours
            # per message (servers and middleware only ever await what send returns).
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if secure:
                    self._add_headers(message, https, added)
            return send(message)

        token = _TRACEPARENT.set(traceparent) if traceparent is not None else None
        try:
            await self.app(scope, receive, core_send)
        except Exception:
            self._log_failure(scope)
            if started:
                raise
            await self._internal_error(core_send, scope)
        finally:
            if token is not None:
                _TRACEPARENT.reset(token)

    def _add_headers(
        self, message: Message, https: bool, added: tuple[tuple[bytes, bytes], ...]
    ) -> None:
        """Add the security headers to a response start the answer did not set itself."""
        headers = message.get("headers") or ()
        watched = self._watched
        for name, value in headers:
            lowered = name.lower()
            if lowered in watched or (
                lowered == b"content-type" and value.startswith(b"text/html")
            ):
                # The general merge decides what is still added.
                message["headers"] = self._merged(headers, https)
                return
        message["headers"] = [*headers, *added]

    @staticmethod
    def _log_failure(scope: Scope) -> None:
        from maestro_core_logging import get_logger

        get_logger("maestro.api").exception(
            "unhandled exception", http_method=scope.get("method"), http_path=scope.get("path")
        )

    async def _internal_error(self, send: Send, scope: Scope) -> None:
        body = problem_dict(
            500,
            detail="internal error",
            instance=_instance(scope),
            request_id=current_request_id(),
            type_base=self.problem_type_base,
        )
        await send_problem(send, 500, body)


class LimitsMiddleware:
    """Body limit + request timeout + app-wide rate limit + per-route headers, in one layer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout: float | timedelta,
        limit: RateLimit | None = None,
        problem_type_base: str | None = None,
        exclude_paths: frozenset[str] = frozenset(),
    ) -> None:
        if (
            isinstance(max_body_bytes, bool)
            or not isinstance(max_body_bytes, int)
            or (max_body_bytes < 0)
        ):
            raise ConfigurationError(
                f"max_body_bytes must be a non-negative integer, got {max_body_bytes!r}"
            )
        self.app = app
        self.max_body_bytes = max_body_bytes
        chosen = seconds("request_timeout", timeout, allow_none=False)
        assert chosen is not None
        self.timeout = chosen
        self.limit = limit
        self.problem_type_base = problem_type_base
        self.exclude_paths = exclude_paths
        # One timer per event loop for every request's timeout (see _deadline.py).
        self._by_loop: dict[asyncio.AbstractEventLoop, Deadlines] = {}
        self._deadlines: Deadlines | None = None

    async def _problem(
        self,
        send: Send,
        *,
        scope: Scope,
        status: int,
        code: str,
        detail: str,
        headers: list[tuple[str, str]],
    ) -> None:
        body = problem_dict(
            status,
            code=code,
            detail=detail,
            instance=_instance(scope),
            request_id=current_request_id(),
            type_base=self.problem_type_base,
        )
        await send_problem(send, status, body, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self.max_body_bytes
        # HTTP/1.x frames a request body only with Content-Length or Transfer-Encoding
        # (without either there is none); HTTP/2 and HTTP/3 carry it in DATA frames, with
        # or without a Content-Length: such a body is always counted.
        has_body = scope.get("http_version") not in _FRAMED_BY_HEADERS
        for key, value in scope["headers"]:
            if key == b"content-length":
                has_body = True
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > max_body:
                    detail = str(BodyTooLarge(max_body).detail)
                    await self._problem(
                        send,
                        scope=scope,
                        status=413,
                        code="payload-too-large",
                        detail=detail,
                        headers=[("connection", "close")],
                    )
                    return
            elif key == b"transfer-encoding":
                has_body = True

        limit = self.limit
        if limit is not None and scope.get("path") not in self.exclude_paths:
            if limit.key == "principal_or_ip" and scope.get("app") is not None:
                from ._auth import authenticator_of, principal_of

                if authenticator_of(scope["app"]) is not None:
                    await principal_of(scope, scope["app"])
            try:
                decision = await limit.acheck(limit.key_for(scope))
            except _BackendDown:
                await self._problem(
                    send,
                    scope=scope,
                    status=503,
                    code="rate-limit-unavailable",
                    detail="rate limiting is unavailable",
                    headers=[("retry-after", "1")],
                )
                return
            if decision is not None:
                remember(scope, decision)
                if not decision.allowed:
                    error = RateLimitException(retry_after=decision.retry_after)
                    body = error.to_dict(
                        instance=_instance(scope),
                        request_id=current_request_id(),
                        type_base=self.problem_type_base,
                    )
                    headers = [*error.headers.items(), *headers_of(scope).items()]
                    await send_problem(send, 429, body, headers)
                    return

        started = False

        def limits_send(message: Message) -> Awaitable[None]:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add_route_headers(scope, message)
            return send(message)

        app_receive = receive
        if has_body:
            received = 0

            async def counting_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > max_body:
                        raise BodyTooLarge(max_body)
                return message

            app_receive = counting_receive

        task = asyncio.current_task()
        assert task is not None  # ASGI servers run each request in a task
        deadlines = self._deadlines_here()
        deadline = deadlines.start(task)
        try:
            try:
                await self.app(scope, app_receive, limits_send)
            finally:
                timed_out = deadlines.finish(deadline)
        except BodyTooLarge as error:
            if started:
                raise
            await self._problem(
                send,
                scope=scope,
                status=413,
                code="payload-too-large",
                detail=str(error.detail),
                headers=[("connection", "close")],
            )
        except asyncio.CancelledError as cancelled:
            if not timed_out:
                raise
            if started:
                raise TimeoutError from cancelled
            await self._timed_out(send, scope)

    def _deadlines_here(self) -> Deadlines:
        """The deadlines of the running event loop."""
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not asyncio.get_running_loop():
            deadlines = self._deadlines = Deadlines.of(self._by_loop, self.timeout)
        return deadlines

    async def _timed_out(self, send: Send, scope: Scope) -> None:
        """Log the timeout and answer 503 (no response had started)."""
        from maestro_core_logging import get_logger

        get_logger("maestro.api").warning(
            "request timed out",
            http_method=scope.get("method"),
            http_path=scope.get("path"),
            timeout=self.timeout,
        )
        await self._problem(
            send,
            scope=scope,
            status=503,
            code="timeout",
            detail=f"the request took longer than {self.timeout:g}s",
            headers=[("retry-after", "1")],
        )


# Request headers that take a request off ServiceMiddleware's common path.
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


class ServiceMiddleware:
    """``CoreMiddleware``, ``GZipWhenAccepted`` and ``LimitsMiddleware`` as one layer, as
    ``create_app`` stacks them when no CORS layer sits between them.

    The common request (no body, no app-wide rate limit, no gzip asked for) runs in one
    call with one ``send`` wrapper: the problem catch-all, the security headers, the
    route headers and the request timeout, with those layers' own helpers. Any other
    request goes through the three layers themselves, unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        core: Mapping[str, Any],
        limits: Mapping[str, Any],
        gzip_minimum_size: int | None,
    ) -> None:
        self.app = app
        self.limits = LimitsMiddleware(app, **limits)
        inner: ASGIApp = self.limits
        if gzip_minimum_size is not None:
            inner = GZipWhenAccepted(inner, minimum_size=gzip_minimum_size)
        self.core = CoreMiddleware(inner, **core)
        self._gzip = gzip_minimum_size is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        core = self.core
        if (
            scope["type"] != "http"
            or self.limits.limit is not None
            or scope.get("http_version") not in _FRAMED_BY_HEADERS
        ):
            await core(scope, receive, send)
            return
        traceparent = None
        for key, value in scope["headers"]:
            if key in _BODY_HEADERS or (
                key == b"accept-encoding" and self._gzip and b"gzip" in value
            ):
                await core(scope, receive, send)
                return
            if key == b"traceparent" and traceparent is None:
                traceparent = value.decode("latin-1")
        started = False
        secure = core._secure
        https = scope.get("scheme") == "https"
        added = core._added_https if https else core._added

        def service_send(message: Message) -> Awaitable[None]:
            # LimitsMiddleware's and CoreMiddleware's send wrappers in one plain function.
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add_route_headers(scope, message)
                if secure:
                    core._add_headers(message, https, added)
            return send(message)

        def secured_send(message: Message) -> Awaitable[None]:
            # Our own answers (timeout, internal error) get the security headers only,
            # as when CoreMiddleware passes them on.
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if secure:
                    core._add_headers(message, https, added)
            return send(message)

        limits = self.limits
        task = asyncio.current_task()
        assert task is not None  # ASGI servers run each request in a task
        deadlines = limits._deadlines_here()
        deadline = deadlines.start(task)
        token = _TRACEPARENT.set(traceparent) if traceparent is not None else None
        try:
            try:
                try:
                    await self.app(scope, receive, service_send)
                finally:
                    timed_out = deadlines.finish(deadline)
            except asyncio.CancelledError as cancelled:
                if not timed_out:
                    raise
                if started:
                    raise TimeoutError from cancelled
                await limits._timed_out(secured_send, scope)
        except Exception:
            core._log_failure(scope)
            if started:
                raise
            await core._internal_error(secured_send, scope)
        finally:
            if token is not None:
                _TRACEPARENT.reset(token)


def core_options(problem_type_base: str | None, security_headers: bool) -> dict[str, Any]:
    """CoreMiddleware's options as create_app chooses them."""
    return {
        "problem_type_base": problem_type_base,
        "security_headers": DEFAULT_SECURITY_HEADERS if security_headers else None,
    }


class GZipWhenAccepted:
    """Starlette's ``GZipMiddleware``, entered only when the client accepts gzip, and only
    for answers it would compress.

    Requests without ``Accept-Encoding: gzip`` skip the compression layer altogether.
    For those with it (httpx, requests and browsers send it by default), an answer whose
    single body is smaller than *minimum_size*, which Starlette passes on unchanged, is
    passed on here without Starlette's per-request responder (about half of a small
    request's cost in the stack); any other answer (larger, streamed, already encoded,
    partial, an excluded content type) is handed to Starlette's ``GZipResponder`` as it
    starts, so it is compressed, or not, exactly as ``GZipMiddleware`` does it.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int = 1000, compresslevel: int = 9) -> None:
        from starlette.middleware.gzip import GZipMiddleware, GZipResponder

        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)
        self._responder = GZipResponder
        self._minimum_size = minimum_size
        self._excluded = frozenset(self.gzip.exclude_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for key, value in scope["headers"]:
                if key == b"accept-encoding":
                    if b"gzip" in value:
                        await self._gzip(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)

    def _starlette_sends_at_once(self, message: Message) -> bool:
        """True when Starlette's responder passes this response start on at once (already
        encoded, partial, or an excluded content type): never compressed, never held."""
        if message["status"] == 206:
            return True
        content_type = ""
        # Header names compared as they are, as Starlette's Headers does.
        for name, value in message.get("headers") or ():
            if name == b"content-encoding":
                return True
            if name == b"content-type" and not content_type:
                content_type = value.decode("latin-1")
        # GZipMiddleware's test, on the first content type.
        media_type = content_type.partition(";")[0].strip().lower()
        media_types = {media_type, media_type.partition("/")[0] + "/*"}
        if media_type.startswith("application/grpc+"):
            media_types.add("application/grpc")
        return not self._excluded.isdisjoint(media_types)

    async def _gzip(self, scope: Scope, receive: Receive, send: Send) -> None:
        gzip = self.gzip
        minimum_size = self._minimum_size
        held: Message | None = None  # the response start, until its first body
        responder: Any = None  # Starlette's GZipResponder, once the answer needs it
        passing = False  # a small answer went out unchanged: pass the rest on

        async def gzip_send(message: Message) -> None:
            nonlocal held, responder, passing
            if responder is not None:
                await responder.send_with_compression(message)
                return
            if passing:
                await send(message)
                return
            kind = message["type"]
            if kind == "http.response.start":
                if not self._starlette_sends_at_once(message):
                    message.setdefault("headers", [])  # as Starlette's responder does
                    held = message
                    return
            elif (
                kind == "http.response.body"
                and held is not None
                and not message.get("more_body", False)
                and len(message.get("body", b"")) < minimum_size
            ):
                # What Starlette does with a small single body: both messages unchanged.
                start, held, passing = held, None, True
                await send(start)
                await send(message)
                return
            # Anything else is Starlette's responder's, from the held start on.
            responder = self._responder(
                self.app,
                minimum_size,
                compresslevel=gzip.compresslevel,
                thread_minimum_size=gzip.thread_minimum_size,
                exclude_content_types=gzip.exclude_content_types,
            )
            responder.send = send
            if held is not None:
                start, held = held, None
                await responder.send_with_compression(start)
            await responder.send_with_compression(message)

        await self.app(scope, receive, gzip_send)
