"""OpenTelemetry tracing set up for pre-fork servers (extra ``[otel]``).

OpenTelemetry is imported by ``TracingManager.start()`` and by the helpers when they run,
never when maestro_monitoring is imported. Without the SDK, ``@trace`` and the helpers are
no-ops.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._errors import ConfigurationError, MissingExtraError
from ._middleware import RouteResolver, exemplar_source

if TYPE_CHECKING:
    from ._metrics import MetricsManager

__all__ = [
    "TracingManager",
    "add_span_attribute",
    "get_current_span",
    "get_tracer",
    "record_exception",
    "trace",
]

logger = logging.getLogger("maestro.monitoring")

_F = TypeVar("_F", bound=Callable[..., Any])
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DEFAULT_EXCLUDED = ("/metrics", "/livez", "/readyz", "/healthz", "/health")
# never recorded, whatever the allow-list says
_FORBIDDEN_HEADERS = frozenset(
    ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token")
)
_SAVED = "maestro_monitoring.saved"

# _state["active"]: the started TracingManager; _state["api"]: opentelemetry.trace or False;
# _state["unsampled"]: the span type of sampled-out requests, once a traced app was built
_state: dict[str, Any] = {"active": None, "api": None, "unsampled": None}
# this process's pid, refreshed in forked children (os.getpid() is a system call)
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))
_getrandbits = random.getrandbits
_LOW_64 = 0xFFFFFFFFFFFFFFFF
# the W3C trace-flags "random trace id" bit: the only flag a dropped child keeps from its parent
_RANDOM_TRACE_ID = 0x02
# the request headers the instrumentation sees (and extracts the parent from)
_PROPAGATION_HEADERS = frozenset((b"host", b"user-agent", b"traceparent", b"tracestate"))
# the trace id a request's sampling decision was drawn with, for the server span to take
_drawn: ContextVar[list[int] | None] = ContextVar("maestro_monitoring_drawn", default=None)


def _otel_api() -> Any:
    api = _state["api"]
    if api is None:
        try:
            from opentelemetry import trace as api
        except ImportError:
            api = False
        _state["api"] = api
    return api


def _require_sdk(feature: str) -> None:
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(feature, "otel", exc.name or "opentelemetry-sdk") from None


class _Counting:
    """Wraps the span exporter: counts exported and failed spans, keeps the queue bounded."""

    def __init__(self, exporter: Any, on_drop: Callable[[int], None]) -> None:
        self.exporter = exporter
        self.on_drop = on_drop
        self.pending = 0
        self.lock = threading.Lock()

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        with self.lock:
            self.pending = max(0, self.pending - len(spans))
        try:
            result = self.exporter.export(spans)
        except Exception:
            logger.warning("span export failed: %d spans dropped", len(spans))
            self.on_drop(len(spans))
            return SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.on_drop(len(spans))
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        flush = getattr(self.exporter, "force_flush", None)
        return bool(flush(timeout_millis)) if flush is not None else True


class TracingManager:
    """Configures OpenTelemetry tracing for one service, per process.

    ``endpoint`` is an OTLP/HTTP collector (``http://otel-collector:4318``), ``"console"``
    for local runs, or None (tracing stays a no-op unless ``exporter=`` is given).
    ``sample_ratio`` is the share of new traces kept (parents' decisions are followed).
    ``service.instance.id`` is host-pid-start time unless ``instance_id`` is given. Call
    ``start()`` in each worker process (gunicorn: in ``post_fork``).
    """

    def __init__(
        self,
        service: str,
        version: str | None = None,
        environment: str | None = None,
        *,
        endpoint: str | None = None,
        sample_ratio: float = 1.0,
        headers: Mapping[str, str] | None = None,
        instance_id: str | None = None,
        exclude_paths: Iterable[str] = _DEFAULT_EXCLUDED,
        capture_headers: Iterable[str] = (),
        exporter: Any = None,
        max_queue_size: int = 2048,
        schedule_delay: float | timedelta = 5.0,
        export_timeout: float | timedelta = 10.0,
        resource_attributes: Mapping[str, str] | None = None,
        metrics: MetricsManager | None = None,
    ) -> None:
        if not isinstance(service, str) or not service.strip():
            raise ConfigurationError(f"service must be a non-empty name, got {service!r}")
        if (
            isinstance(sample_ratio, bool)
            or not isinstance(sample_ratio, int | float)
            or not 0.0 <= sample_ratio <= 1.0
        ):
            raise ConfigurationError(
                f"sample_ratio must be a number from 0.0 to 1.0, got {sample_ratio!r}"
            )
        if endpoint not in (None, "console") and not str(endpoint).startswith(
            ("http://", "https://")
        ):
            raise ConfigurationError(
                f"endpoint must be an OTLP/HTTP URL like http://otel-collector:4318 (or "
                f"'console'), got {str(endpoint).split('@')[-1]!r}"
            )
        if (
            isinstance(max_queue_size, bool)
            or not isinstance(max_queue_size, int)
            or max_queue_size < 1
        ):
            raise ConfigurationError(
                f"max_queue_size must be a positive integer, got {max_queue_size!r}"
            )
        self.service = service
        self.version = version
        self.environment = environment
        self.endpoint = endpoint
        self.sample_ratio = float(sample_ratio)
        self._headers = dict(headers or {})
        self._instance_id = instance_id
        self.exclude_paths = tuple(exclude_paths)
        allowed = tuple(h.lower() for h in capture_headers)
        bad = sorted(set(allowed) & _FORBIDDEN_HEADERS)
        if bad:
            raise ConfigurationError(
                f"capture_headers may not include {bad}: credentials are never recorded in spans"
            )
        self.capture_headers = allowed
        self._exporter = exporter
        self.max_queue_size = max_queue_size
        self.schedule_delay = _secs(schedule_delay, "schedule_delay")
        self.export_timeout = _secs(export_timeout, "export_timeout")
        self.resource_attributes = dict(resource_attributes or {})
        self._metrics = metrics
        self._dropped: Any = None
        self.provider: Any = None
        self.instance_id: str | None = None
        self._pid: int | None = None
        self._counting: _Counting | None = None
        # TraceIdRatioBased's bound: a new trace is kept when its low 64 bits are below it
        self._bound = round(self.sample_ratio * (1 << 64))
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = (self.endpoint or "none").split("@")[-1]
        return (
            f"TracingManager(service={self.service!r}, endpoint={where!r}, "
            f"sample_ratio={self.sample_ratio}, started={self.started})"
        )

    @property
    def enabled(self) -> bool:
        """True when spans go somewhere (an endpoint or an exporter was given)."""
        return self.endpoint is not None or self._exporter is not None

    @property
    def started(self) -> bool:
        """True when ``start()`` ran in this process."""
        return self.provider is not None and self._pid == _PID[0]

    @property
    def spans_dropped(self) -> int:
        """Spans dropped in this process (queue full or export failed)."""
        return self._drop_count

    _drop_count = 0

    def _on_drop(self, n: int) -> None:
        self._drop_count += n
        if self._dropped is not None:
            self._dropped.inc(n)

    def start(self) -> None:
        """Build the tracer provider for this process (again in a forked child)."""
        if not self.enabled:
            return
        _require_sdk("TracingManager")
        with self._lock:
            if self.started:
                return
            inherited = self.provider
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
            from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

            self.instance_id = self._instance_id or (
                f"{socket.gethostname()}-{os.getpid()}-{int(time.time() * 1000)}"
            )
            attributes: dict[str, str] = {
                **self.resource_attributes,
                "service.name": self.service,
                "service.instance.id": self.instance_id,
            }
            if self.version:
                attributes["service.version"] = self.version
            if self.environment:
                attributes["deployment.environment.name"] = self.environment
            exporter = self._exporter or self._make_exporter()
            if self._metrics is not None or self._dropped is None:
                from ._metrics import default_manager

                self._dropped = (self._metrics or default_manager())._create_standard_counter(
                    "maestro_tracing_spans_dropped_total",
                    "Spans dropped because the export queue was full or the export failed",
                    (),
                )
            self._counting = _Counting(exporter, self._on_drop)
            processor = BatchSpanProcessor(
                self._counting,  # type: ignore[arg-type]
                max_queue_size=self.max_queue_size,
                max_export_batch_size=min(512, self.max_queue_size),
                schedule_delay_millis=self.schedule_delay * 1000,
                export_timeout_millis=self.export_timeout * 1000,
            )
            provider = TracerProvider(
                resource=Resource.create(attributes),
                sampler=ParentBased(TraceIdRatioBased(self.sample_ratio)),
                id_generator=_id_generator(),
            )
            provider.add_span_processor(_Bounded(processor, self))  # type: ignore[arg-type]
            self.provider = provider
            self._pid = _PID[0]
            _state["active"] = self
            exemplar_source[:] = [_exemplar]
            if inherited is not None:
                logger.info("tracing restarted in process %d", self._pid)
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        if self.provider is not None and _state["active"] is self:
            logger.warning(
                "TracingManager.start() ran before fork: process %d shares the parent's "
                "service.instance.id until it calls tracing.start() itself (gunicorn: post_fork)",
                os.getpid(),
            )

    def _make_exporter(self) -> Any:
        if self.endpoint == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise MissingExtraError(
                "the OTLP/HTTP exporter",
                "otel",
                exc.name or "opentelemetry-exporter-otlp-proto-http",
            ) from None
        assert self.endpoint is not None
        url = self.endpoint.rstrip("/")
        if not url.endswith("/v1/traces"):
            url += "/v1/traces"
        return OTLPSpanExporter(endpoint=url, headers=self._headers, timeout=self.export_timeout)

    def force_flush(self, timeout: float = 10.0) -> bool:
        """Export every finished span now."""
        if self.provider is None:
            return True
        return bool(self.provider.force_flush(int(timeout * 1000)))

    def shutdown(self) -> None:
        """Flush and stop this process's provider."""
        if self.provider is not None and self._pid == _PID[0]:
            self.provider.shutdown()
        self.provider = None
        if _state["active"] is self:
            _state["active"] = None
            exemplar_source[:] = []

    def get_tracer(self, name: str = "maestro_monitoring") -> Any:
        """A tracer of this manager (a no-op tracer before ``start()``)."""
        if self.provider is not None:
            return self.provider.get_tracer(name)
        api = _otel_api()
        return api.NoOpTracer() if api else None

    # -- instrumentation ---------------------------------------------------------------------

    def instrument_app(self, app: Any) -> Any:
        """Trace an ASGI app: spans ``"{method} {route}"``, no bodies, no credentials.

        With a Starlette/FastAPI app the middleware is added to it (call this after
        ``add_middleware(MetricsMiddleware)`` so exemplars see the span) and the app is
        returned; any other ASGI app is wrapped and the wrapper returned.
        """
        if not self.enabled:
            return app
        _require_sdk("instrument_app")
        try:
            from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        except ImportError as exc:
            raise MissingExtraError(
                "instrument_app", "otel", exc.name or "opentelemetry-instrumentation-asgi"
            ) from None
        manager = self

        def build(inner: ASGIApp) -> ASGIApp:
            return _TracedApp(inner, manager, OpenTelemetryMiddleware)

        if hasattr(app, "add_middleware") and hasattr(app, "user_middleware"):
            app.add_middleware(_StarletteTraced, build=build)
            return app
        return build(app)

    def instrument_httpx(self, client: Any = None) -> None:
        """Trace httpx requests (every client, or just ``client``); query strings are dropped."""
        if not self.enabled:
            return
        _require_sdk("instrument_httpx")
        try:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        except ImportError as exc:
            raise MissingExtraError(
                "instrument_httpx", "otel", exc.name or "opentelemetry-instrumentation-httpx"
            ) from None
        self.start()

        def request_hook(span: Any, request: Any) -> None:
            url = getattr(request, "url", None)
            if span is None or url is None or not span.is_recording():
                return
            text = str(url)
            clean = text.split("?", 1)[0].split("#", 1)[0]
            if "@" in clean.split("/", 3)[2] if clean.count("/") >= 2 else False:
                scheme, rest = clean.split("://", 1)
                clean = scheme + "://" + rest.split("@", 1)[1]
            span.set_attribute("url.full", clean)
            span.set_attribute("http.url", clean)

        async def async_request_hook(span: Any, request: Any) -> None:
            request_hook(span, request)

        if client is not None:
            HTTPXClientInstrumentor.instrument_client(
                client,
                tracer_provider=self.provider,
                request_hook=async_request_hook if _is_async_client(client) else request_hook,
            )
        else:
            instrumentor = HTTPXClientInstrumentor()
            if instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.uninstrument()
            instrumentor.instrument(
                tracer_provider=self.provider,
                request_hook=request_hook,
                async_request_hook=async_request_hook,
            )


def _is_async_client(client: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(client, "aclose", None))


def _secs(value: float | timedelta, what: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigurationError(f"{what} must be positive seconds, got {value!r}")
    return float(value)


class _Bounded:
    """Counts spans displaced from the full export queue before the batch processor drops them."""

    def __init__(self, inner: Any, manager: TracingManager) -> None:
        self.inner = inner
        self.manager = manager

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def _on_ending(self, span: Any) -> None:
        hook = getattr(self.inner, "_on_ending", None)
        if hook is not None:
            hook(span)

    def on_end(self, span: Any) -> None:
        counting = self.manager._counting
        if counting is not None:
            with counting.lock:
                if counting.pending >= self.manager.max_queue_size:
                    full = True
                else:
                    counting.pending += 1
                    full = False
            if full:
                self.manager._on_drop(1)
        self.inner.on_end(span)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))


def _exemplar() -> dict[str, str] | None:
    api = _otel_api()
    if not api:
        return None
    span = api.get_current_span()
    if type(span) is _state["unsampled"]:
        return None  # a sampled-out request: never an exemplar, and no SpanContext to build
    ctx = span.get_span_context()
    if ctx.trace_flags & 1:
        return {"trace_id": format(ctx.trace_id, "032x")}
    return None


def _id_generator() -> Any:
    """The SDK's random ids, except that a server span takes the trace id its request's
    sampling decision was drawn with: the sampler then decides once, on the same id, and
    ``sample_ratio`` is the share of traces kept (not its square)."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class DrawnIdGenerator(RandomIdGenerator):
        def generate_trace_id(self) -> int:
            drawn = _drawn.get()
            if drawn:
                return drawn.pop()
            return super().generate_trace_id()

    return DrawnIdGenerator()


def _unsampled_span_type() -> Any:
    """The span of a sampled-out request: a NonRecordingSpan whose SpanContext is built the
    first time something reads it (most sampled-out requests never do)."""
    cls = _state.get("unsampled")
    if cls is not None:
        return cls
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    flags = TraceFlags(TraceFlags.DEFAULT)

    class UnsampledSpan(NonRecordingSpan):
        def __init__(self, trace_id: int) -> None:  # the trace id is drawn by the caller
            self._trace_id = trace_id
            self._built: SpanContext | None = None

        def get_span_context(self) -> SpanContext:
            built = self._built
            if built is None:
                trace_id = self._trace_id
                built = SpanContext(trace_id, (trace_id >> 64) or 1, False, flags)
                self._built = self._context = built
            return built

        def __repr__(self) -> str:
            return f"NonRecordingSpan({self.get_span_context()!r})"

    _state["unsampled"] = UnsampledSpan
    return UnsampledSpan


class _StarletteTraced:
    """Starlette ``add_middleware`` shim around the traced-app wrapper."""

    def __init__(self, app: ASGIApp, build: Callable[[ASGIApp], ASGIApp]) -> None:
        self.wrapped = build(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.wrapped(scope, receive, send)


class _TracedApp:
    """Server spans for an ASGI app, with a fast path for requests that are sampled out."""

    def __init__(self, app: ASGIApp, manager: TracingManager, otel_middleware: Any) -> None:
        self.app = app
        self.manager = manager
        self.resolver = RouteResolver()
        exclude = ",".join(f"^{p.rstrip('/')}(/.*)?$" for p in manager.exclude_paths)
        self.otel = otel_middleware(
            self._inner,
            excluded_urls=exclude or None,
            default_span_details=_span_details,
            tracer_provider=_LazyProvider(manager),
            http_capture_headers_server_request=list(manager.capture_headers) or None,
            http_capture_headers_server_response=list(manager.capture_headers) or None,
            http_capture_headers_sanitize_fields=[
                *sorted(_FORBIDDEN_HEADERS),
                ".*token.*",
                ".*secret.*",
            ],
            exclude_spans=["receive", "send"],
        )
        excluded = [p.rstrip("/") or "/" for p in manager.exclude_paths]
        self._exact = frozenset(excluded)
        self._prefixes = tuple(p + "/" for p in excluded if p != "/")
        from opentelemetry import context, propagate
        from opentelemetry.context import Context
        from opentelemetry.instrumentation.asgi import asgi_getter
        from opentelemetry.trace import (
            INVALID_SPAN,
            NonRecordingSpan,
            SpanContext,
            TraceFlags,
            get_current_span,
            set_span_in_context,
        )

        self._attach = context.attach
        self._detach = context.detach
        self._get_current = context.get_current
        self._context = Context
        # the key set_span_in_context() uses, learnt through the public API
        self._span_key = next(iter(set_span_in_context(INVALID_SPAN, Context())))
        self._unsampled = _unsampled_span_type()
        self._non_recording = NonRecordingSpan
        self._span_context = SpanContext
        self._current_span = get_current_span
        self._set_span = set_span_in_context
        self._extract = propagate.extract
        self._getter = asgi_getter
        self._trace_flags = TraceFlags

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        manager = self.manager
        if manager._pid != _PID[0] or manager.provider is None:
            manager.start()
        path = scope.get("path", "")
        if path in self._exact or (self._prefixes and path.startswith(self._prefixes)):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        for key, _ in headers:
            if key == b"traceparent":
                unsampled = self._unsampled_parent(headers)
                if unsampled is not None:
                    # ParentBased drops it: no instrumentation, the parent's trace carried on
                    token = self._attach(unsampled)
                    try:
                        await self.app(scope, receive, send)
                    finally:
                        self._detach(token)
                    return
                break
        else:
            if manager.sample_ratio < 1.0:
                current = self._get_current()
                if self._span_key not in current:
                    # a new trace: TraceIdRatioBased's decision, taken here on the trace id
                    # the server span will get if it is kept
                    trace_id = _getrandbits(128) or 1
                    if (trace_id & _LOW_64) >= manager._bound:
                        # sampled out: no instrumentation, only an unsampled context
                        span = self._unsampled(trace_id)
                        token = self._attach(self._context({**current, self._span_key: span}))
                        try:
                            await self.app(scope, receive, send)
                        finally:
                            self._detach(token)
                        return
                    drawn = _drawn.set([trace_id])
                    try:
                        await self._traced(scope, receive, send, headers)
                    finally:
                        _drawn.reset(drawn)
                    return
        await self._traced(scope, receive, send, headers)

    def _unsampled_parent(self, headers: Iterable[tuple[bytes, bytes]]) -> Any:
        """The context for a request whose incoming parent is valid and not sampled, or None
        when the instrumentation has to decide (sampled, invalid or no parent)."""
        carrier = {"headers": [(k, v) for k, v in headers if k in _PROPAGATION_HEADERS]}
        extracted = self._extract(carrier, getter=self._getter)
        parent = self._current_span(extracted).get_span_context()
        if not parent.is_valid or parent.trace_flags.sampled:
            return None
        # what the SDK makes of a dropped child: the parent's trace and state, a new span id
        span = self._non_recording(
            self._span_context(
                parent.trace_id,
                _getrandbits(64) or 1,
                False,
                self._trace_flags(parent.trace_flags & _RANDOM_TRACE_ID),
                parent.trace_state,
            )
        )
        return self._set_span(span, extracted)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, headers: Iterable[tuple[bytes, bytes]]
    ) -> None:
        allowed = self.manager.capture_headers
        scope[_SAVED] = (scope.get("query_string", b""), headers)
        scope["query_string"] = b""
        scope["headers"] = [
            (k, v)
            for k, v in headers
            if k in _PROPAGATION_HEADERS or (allowed and k.decode("latin-1") in allowed)
        ]
        await self.otel(scope, receive, send)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        saved = scope.pop(_SAVED, None)
        seen_by_otel = (scope.get("query_string", b""), scope.get("headers", ()))
        if saved is not None:
            scope["query_string"], scope["headers"] = saved
        top = scope.get("app")
        named = False

        def name_span(status: int) -> None:
            nonlocal named
            api = _otel_api()
            span = api.get_current_span() if api else None
            if span is not None and span.is_recording():
                route = self.resolver.template(scope, top, status)
                span.update_name(f"{scope.get('method', 'GET')} {route}")
                span.set_attribute("http.route", route)
            named = True

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and not named:
                name_span(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if not named:
                name_span(500)
            # the instrumentation reads the scope again when it finishes: keep it clean
            scope["query_string"], scope["headers"] = seen_by_otel


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    return str(scope.get("method", "HTTP")), {}


class _LazyProvider:
    """The manager's provider, looked up when the middleware asks for a tracer."""

    def __init__(self, manager: TracingManager) -> None:
        self.manager = manager

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        self.manager.start()
        return self.manager.provider.get_tracer(*args, **kwargs)


# -- module-level helpers ----------------------------------------------------------------------


def get_tracer(name: str = "maestro_monitoring") -> Any:
    """A tracer from the started TracingManager, else OpenTelemetry's global one (a no-op
    without SDK); None when OpenTelemetry is not installed."""
    active = _state["active"]
    if active is not None and active.provider is not None:
        return active.provider.get_tracer(name)
    api = _otel_api()
    return api.get_tracer(name) if api else None


def get_current_span() -> Any:
    """The active span (an invalid no-op span outside traces); None without OpenTelemetry."""
    api = _otel_api()
    return api.get_current_span() if api else None


def add_span_attribute(key: str, value: str | bool | int | float) -> None:
    """Set an attribute on the active span (nothing happens outside a recording span)."""
    api = _otel_api()
    if api:
        span = api.get_current_span()
        if span.is_recording():
            span.set_attribute(key, value)


def record_exception(exc: BaseException, *, set_error: bool = True) -> None:
    """Record ``exc`` on the active span (type and message, no locals) and mark it failed."""
    api = _otel_api()
    if not api:
        return
    span = api.get_current_span()
    if span.is_recording():
        span.record_exception(exc)
        if set_error:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


@overload
def trace(name: _F, /) -> _F: ...
@overload
def trace(
    name: str | None = None, /, *, attributes: Mapping[str, str | bool | int | float] | None = None
) -> Callable[[_F], _F]: ...


def trace(
    name: Any = None, /, *, attributes: Mapping[str, str | bool | int | float] | None = None
) -> Any:
    """Decorate a sync or async function so each call is a span (``@trace`` or
    ``@trace("name")``); a no-op without OpenTelemetry."""
    if callable(name):
        return trace(None)(name)
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigurationError(f"trace() takes a span name string, got {name!r}")
    attrs = dict(attributes or {})

    def decorate(fn: _F) -> _F:
        span_name = name or fn.__qualname__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                tracer = get_tracer()
                if tracer is None:
                    return await fn(*args, **kwargs)
                with tracer.start_as_current_span(span_name, attributes=attrs):
                    return await fn(*args, **kwargs)

            return awrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tracer = get_tracer()
            if tracer is None:
                return fn(*args, **kwargs)
            with tracer.start_as_current_span(span_name, attributes=attrs):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
