"""A pure ASGI middleware: request ids, one access line per request, debug scopes.

It wraps ``send`` instead of subclassing Starlette's ``BaseHTTPMiddleware``, so it works
with any ASGI framework, streams responses untouched and keeps the request's context
variables visible to the application.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ._config import STATE, access_renderer, get_logger
from ._context import CONTEXT
from ._errors import ConfigurationError
from ._logger import BoundLogger
from ._scope import DebugScope, debug_scope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any three-argument coroutine function: frameworks type scope/receive/send differently.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

_WARNED: list[bool] = []

# Incoming ids are echoed into headers and logs: accept only short, plain tokens.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


# The version (4) and variant (RFC 4122) bits of a random UUID.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _new_request_id() -> str:
    """A random id in the form of ``uuid4().hex``, without building a ``UUID`` object."""
    value = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    return f"{value:032x}"


def route_template(scope: Scope, root_path: str = "") -> str:
    """Return the matched route's template (``/items/{item_id}``), else the raw path.

    *root_path* is the scope's ``root_path`` before the application ran: what a
    Starlette ``Mount`` appended to it since is the mount prefix of the route.
    """
    route = scope.get("route")
    if route is not None:
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if isinstance(template, str) and template:
            mounted = str(scope.get("root_path", ""))
            if mounted.startswith(root_path) and len(mounted) > len(root_path):
                return mounted[len(root_path) :].rstrip("/") + template
            return template
    return str(scope.get("path", ""))


class RequestLoggingMiddleware:
    """Log one access line per HTTP request and bind its request id.

    * Takes the request id from the *header* (``X-Request-ID``) when it is a short plain
      token, else makes one (``uuid4().hex``); binds it as ``request_id`` for everything
      logged during the request and returns it in the response header.
    * Writes one line on the ``logger_name`` logger: ``http_method``, ``http_route``
      (the route template when the framework sets ``scope["route"]``, as FastAPI does,
      else the raw path), ``http_path``, ``http_status``, ``duration_ms``, ``client_ip``.
      The query string is never logged.  5xx and unhandled exceptions log at error level.
    * A request cancelled before it ends (the client went away, an outer timeout) still
      gets its line, at warning level with ``cancelled: true`` (status 499 when no response
      had started).
    * With *debug_sample_rate* (default: ``configure_logging``'s, itself 0) a fraction of
      requests log at debug level; with
      *buffer_debug* the other requests keep their debug lines and write them only if the
      request fails (5xx or an exception).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        header: str = "X-Request-ID",
        logger_name: str = "maestro.access",
        exclude_paths: Iterable[str] = (),
        debug_sample_rate: float | None = None,
        buffer_debug: bool = False,
        request_id_factory: Callable[[], str] = _new_request_id,
        monotonic: Callable[[], float] | None = None,
        random: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if clock is not None:
            if monotonic is not None:
                raise ConfigurationError(
                    "RequestLoggingMiddleware takes monotonic= (clock= is its deprecated "
                    "name), not both"
                )
            if not _WARNED:
                _WARNED.append(True)
                warnings.warn(
                    "RequestLoggingMiddleware(clock=...) is deprecated and will be removed in "
                    "2.0; use RequestLoggingMiddleware(monotonic=...)",
                    DeprecationWarning,
                    stacklevel=2,
                )
            monotonic = clock
        if not header or not header.isascii():
            raise ConfigurationError(f"header must be a non-empty ASCII name, got {header!r}")
        if debug_sample_rate is not None and not 0.0 <= debug_sample_rate <= 1.0:
            raise ConfigurationError(
                f"debug_sample_rate must be between 0 and 1, got {debug_sample_rate!r}"
            )
        self.app = app
        self.header = header
        self._header_key = header.lower().encode("latin-1")
        self.exclude_paths = frozenset(exclude_paths)
        self.debug_sample_rate = debug_sample_rate
        self.buffer_debug = buffer_debug
        self.request_id_factory = request_id_factory
        self.clock = monotonic if monotonic is not None else time.perf_counter
        self._random = random
        self.logger: BoundLogger = get_logger(logger_name)  # type: ignore[assignment]
        # The common access line is rendered directly while self.logger is still ours.
        self._logger_name = logger_name
        self._own_logger = self.logger

    def _request_id(self, scope: Scope) -> str:
        header_key = self._header_key
        key_length = len(header_key)
        for key, value in scope.get("headers") or ():
            # Names of another length cannot be the header: no lower-casing for them.
            if len(key) == key_length and key.lower() == header_key:
                candidate = str(value.decode("latin-1")).strip()
                if _VALID_REQUEST_ID.fullmatch(candidate):
                    return candidate
                break
        return self.request_id_factory()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; only ``http`` scopes are logged."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        header_key = self._header_key
        key_length = len(header_key)
        id_header = (header_key, request_id.encode("latin-1"))
        status: list[int] = []

        def send_with_id(message: Message) -> Awaitable[None]:
            # A plain function handing back send's own awaitable: no coroutine of ours
            # per message (servers and middleware only ever await what send returns).
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                raw = message.get("headers") or ()
                # Names of another length cannot be the id header: most headers are
                # skipped without lower-casing them, and the app's own id header (if
                # any) is filtered out only when there is one.
                for name, _ in raw:
                    if len(name) == key_length and name.lower() == header_key:
                        headers = [(k, v) for k, v in raw if k.lower() != header_key]
                        headers.append(id_header)
                        break
                else:
                    headers = [*raw, id_header]
                # The app's message (and its header list) is never mutated: a copy.
                message = {**message, "headers": headers}
            return send(message)

        root_path = str(scope.get("root_path", ""))
        started = self.clock()
        previous = CONTEXT.get()
        # The context the request runs in; the access line may skip the generic path
        # only while the context is still exactly this dict (see _access).
        context = {**previous, "request_id": request_id} if previous else {"request_id": request_id}
        token = CONTEXT.set(context)
        try:
            rate = self.debug_sample_rate
            if rate is None:
                config = STATE.config
                rate = config.debug_sample_rate if config is not None else 0.0
            if rate > 0.0 or self.buffer_debug:
                options: dict[str, Any] = {}
                if self._random is not None:
                    options["random"] = self._random
                with debug_scope(sample_rate=rate, buffer=self.buffer_debug, **options) as state:
                    await self._serve(
                        scope,
                        receive,
                        send_with_id,
                        status=status,
                        root_path=root_path,
                        started=started,
                        scope_state=state,
                    )
                return
            # No debug scope to open: no context manager and no further call on this path.
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # If no response started, the server answers 500 for the app.
                code = status[0] if status else 500
                self._access(scope, root_path, code, started, error=True)
                raise
            except BaseException:
                # Cancelled (the client went away, an outer timeout): the request
                # still gets its access line; 499 is "client closed request".
                code = status[0] if status else 499
                self._access(scope, root_path, code, started, error=False, cancelled=True)
                raise
            code = status[0] if status else 500
            if (
                code < 500
                and not previous
                and self._common_line(scope, root_path, code, started, request_id, context)
            ):
                return
            self._access(scope, root_path, code, started, error=False)
        finally:
            try:
                CONTEXT.reset(token)
            except ValueError:
                CONTEXT.set(previous)

    def _common_line(  # noqa: PLR0917 - once per request: positional is the cheapest call
        self,
        scope: Scope,
        root_path: str,
        status: int,
        started: float,
        request_id: str,
        context: dict[str, Any],
    ) -> bool:
        """Write the common access line (a response below 500, a client address, only the
        request id in the context) straight through the JSON renderer; False when it must
        take the generic path instead, as nothing was written then.

        The line is the one ``_access`` would write, byte for byte: the renderer renders
        exactly these fields, and refuses (None) whenever redaction or an unusual value
        would make the generic path write something else.
        """
        path = scope.get("path", "")
        if path in self.exclude_paths:
            return True  # a successful probe: no line at all
        client = scope.get("client")
        if (
            not client
            or CONTEXT.get() is not context  # the app bound more: those go on the line too
            or self.logger is not self._own_logger
        ):
            return False
        renderer = access_renderer(self._logger_name)
        if renderer is None:
            return False
        method = scope.get("method", "")
        route = route_template(scope, root_path)
        try:
            line = renderer.access_line(
                self._logger_name,
                f"{method} {route} {status}",
                request_id,
                method,
                route,
                path,
                status,
                round((self.clock() - started) * 1000.0, 3),
                client[0],
            )
        except Exception:  # a value that cannot be rendered here: the generic path copes
            return False
        if line is None:
            return False
        self.logger._logger.write(line)
        return True

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send_with_id: Send,
        *,
        status: list[int],
        root_path: str,
        started: float,
        scope_state: DebugScope | None,
    ) -> None:
        """Run the app and write the access line (inside the debug scope, if any)."""
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # If no response started, the server answers 500 for the app.
            code = status[0] if status else 500
            self._access(scope, root_path, code, started, error=True)
            raise
        except BaseException:
            # Cancelled (the client went away, an outer timeout): the request
            # still gets its access line; 499 is "client closed request".
            code = status[0] if status else 499
            self._access(scope, root_path, code, started, error=False, cancelled=True)
            raise
        code = status[0] if status else 500
        if code >= 500 and scope_state is not None:
            scope_state.flush()
        self._access(scope, root_path, code, started, error=False)

    def _access(
        self,
        scope: Scope,
        root_path: str,
        status: int,
        started: float,
        *,
        error: bool,
        cancelled: bool = False,
    ) -> None:
        path = scope.get("path", "")
        if path in self.exclude_paths and not error and not cancelled and status < 500:
            return
        duration_ms = round((self.clock() - started) * 1000.0, 3)
        method = scope.get("method", "")
        route = route_template(scope, root_path)
        client = scope.get("client")
        if client and status < 500 and not error and not cancelled:
            # The common line, with its keywords given directly (no dict to unpack).
            self.logger.info(
                f"{method} {route} {status}",
                http_method=method,
                http_route=route,
                http_path=path,
                http_status=status,
                duration_ms=duration_ms,
                client_ip=client[0],
            )
            return
        fields: dict[str, Any] = {
            "http_method": method,
            "http_route": route,
            "http_path": path,
            "http_status": status,
            "duration_ms": duration_ms,
        }
        if client:
            fields["client_ip"] = client[0]
        message = f"{method} {route} {status}"
        if cancelled:
            fields["cancelled"] = True
            self.logger.warning(message + " (cancelled)", **fields)
        elif error:
            self.logger.exception(message, **fields)
        elif status >= 500:
            self.logger.error(message, **fields)
        else:
            self.logger.info(message, **fields)
