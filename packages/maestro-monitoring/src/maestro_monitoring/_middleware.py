"""RED metrics for ASGI apps: pure ASGI, route templates (mounts included), pre-bound children."""

from __future__ import annotations

import functools
import itertools
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError
from ._metrics import (
    DEFAULT_BUCKETS,
    FastValue,
    GaugeChild,
    HistogramChild,
    MetricsManager,
    default_manager,
)

if TYPE_CHECKING:
    from ._metrics import Gauge, Histogram

__all__ = ["UNMATCHED", "MetricsMiddleware", "RouteResolver", "exemplar_source"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "<unmatched>"
_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY")
)
_STATUS_CLASSES = {n: f"{n // 100}xx" for n in range(100, 600)}
# duration children cached per middleware; past this, new combinations go through labels()
_MAX_CACHED_CHILDREN = 20_000
_Add = Callable[[float], None]
_Step = Callable[[], object]
# a duration child and, when it is prometheus_client's own Histogram child with our
# FastValues, its sum's add and fold, the bucket bounds and each bucket's step up: what
# observe() updates, without its per-call checks
_Recorder = tuple[HistogramChild, tuple[_Add, _Step] | None, tuple[float, ...], tuple[_Step, ...]]
# (method label, its active-requests series' step up and step down,
#  {id(route): (route, {status: recorder})})
_MethodEntry = tuple[str, _Step, _Step, dict[int, tuple[Any, dict[int, _Recorder]]]]

# Set by maestro_monitoring's tracing when a tracer provider is started (exemplars).
exemplar_source: list[Callable[[], dict[str, str] | None]] = []


def _route_templates(app: Any) -> dict[int, tuple[Any, str]]:
    """Map id(route) -> (route, full template) by walking a Starlette-style route tree."""
    found: dict[int, tuple[Any, str]] = {}

    def walk(routes: Iterable[Any], prefix: str, depth: int) -> None:
        if depth > 16:
            return
        for route in routes:
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue
            template = prefix + path
            found.setdefault(id(route), (route, template))
            children = getattr(route, "routes", None)
            if children:
                walk(children, template, depth + 1)

    router = getattr(app, "router", None)
    routes = getattr(router, "routes", None) or getattr(app, "routes", None)
    if routes:
        walk(routes, "", 0)
    return found


def _histogram_recorder(child: HistogramChild) -> _Recorder:
    """``child`` with, when it is a plain prometheus_client Histogram child holding our
    FastValues, the ``inc`` of its sum and the step of each bucket: what ``observe()``
    updates, minus the checks a pre-bound child always passes. Any other child (a no-op, a
    subclass, a multiprocess value, another layout) is observed as is."""
    from prometheus_client import Histogram as PHistogram

    raw: Any = child  # private attributes below; getattr: _is_observable is untyped
    if type(raw) is PHistogram:
        try:
            observable = bool(getattr(raw, "_is_observable")())  # noqa: B009
            bounds = tuple(raw._upper_bounds)
            values = (raw._sum, *raw._buckets)
            observable = observable and all(type(v) is FastValue for v in values)
            steps = tuple(bucket.step_up for bucket in raw._buckets)
            sums = (raw._sum.add, raw._sum.fold)
        except (AttributeError, TypeError):
            observable = False
        if (
            observable
            and bounds
            and len(bounds) == len(steps)
            and bounds[-1] == float("inf")
            and all(a < b for a, b in itertools.pairwise(bounds))
        ):
            return (child, sums, bounds, steps)
    return (child, None, (), ())


def _gauge_steps(child: GaugeChild) -> tuple[_Step, _Step]:
    """One step up and one down on a gauge child: our FastValue's lock-free steps for a
    plain child, else the child's own ``inc(1)`` and ``dec(1)``."""
    raw: Any = child
    value = getattr(raw, "_value", None)
    if type(value) is FastValue:
        return value.step_up, value.step_down
    return functools.partial(child.inc, 1), functools.partial(child.dec, 1)


class RouteResolver:
    """Finds the full route template (mount prefixes included) of a handled request."""

    def __init__(self) -> None:
        self._templates: dict[int, tuple[Any, str]] = {}
        self._walked_app: Any = None

    def template(self, scope: Scope, top: Any, status: int) -> str:
        """The template of ``scope["route"]``, or ``<unmatched>``."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        hit = self._templates.get(id(route))
        if hit is None or hit[0] is not route:
            if top is not None:
                self._walked_app = top
            self._templates.update(_route_templates(self._walked_app))
            hit = self._templates.get(id(route))
            if hit is None or hit[0] is not route:
                path = getattr(route, "path", None)
                if not isinstance(path, str):
                    return UNMATCHED
                hit = (route, path)
                self._templates[id(route)] = hit
        # a mount whose inner router matched nothing
        if status == 404 and getattr(route, "routes", None):
            return UNMATCHED
        return hit[1]


class MetricsMiddleware:
    """Pure ASGI middleware recording ``http_server_request_duration_seconds`` and
    ``http_server_active_requests`` (OpenTelemetry semantic conventions, Prometheus names).

    ``http_route`` is the route template (mount prefixes included) from ``scope["route"]``;
    paths that match no route are ``<unmatched>``, unknown methods ``_OTHER``. Requests
    under ``exclude_paths`` are not measured. ``group_status=True`` records ``2xx`` ...
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: MetricsManager | None = None,
        exclude_paths: Iterable[str] = ("/metrics",),
        group_status: bool = False,
        buckets: Iterable[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.app = app
        if isinstance(exclude_paths, str):
            raise ConfigurationError(
                f"exclude_paths must be a list of paths, not the string {exclude_paths!r}"
            )
        paths = tuple(exclude_paths)
        for p in paths:
            if not isinstance(p, str) or not p.startswith("/"):
                raise ConfigurationError(f"exclude_paths entries must start with '/', got {p!r}")
        self._exact = frozenset(p.rstrip("/") or "/" for p in paths)
        self._prefixes = tuple(p.rstrip("/") + "/" for p in paths if p != "/")
        self.group_status = group_status
        manager = metrics or default_manager()
        self.metrics = manager
        self.duration: Histogram = manager._create_unprefixed_histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests",
            ("http_request_method", "http_route", "http_response_status_code"),
            tuple(buckets),
        )
        self.active: Gauge = manager._create_unprefixed_gauge(
            "http_server_active_requests",
            "Number of active HTTP server requests",
            ("http_request_method",),
        )
        # per request method: its label value, its active-requests series and its duration
        # recorders, keyed by id(route) -> (route, {status: recorder}); the route is kept so
        # a recycled id never finds another route's child
        self._methods: dict[str, _MethodEntry] = {}
        self._cached = 0
        self._resolver = RouteResolver()

    def _recorder(self, entry: _MethodEntry, route: Any, status: int, top: Any) -> _Recorder:
        """The pre-bound child for (method, route object, status); resolved once, then cached."""
        template = self._resolver.template({"route": route}, top, status)
        code = _STATUS_CLASSES.get(status, str(status)) if self.group_status else str(status)
        recorder = _histogram_recorder(self.duration.labels(entry[0], template, code))
        if self._cached < _MAX_CACHED_CHILDREN:
            routes = entry[3]
            hit = routes.get(id(route))
            if hit is None or hit[0] is not route:
                hit = (route, {})
                routes[id(route)] = hit
            if status not in hit[1]:
                hit[1][status] = recorder
                self._cached += 1
        return recorder

    def _method(self, method: str) -> _MethodEntry:
        name = method if method in _METHODS else "_OTHER"
        entry: _MethodEntry = (name, *_gauge_steps(self.active.labels(name)), {})
        if len(self._methods) < 64:
            self._methods[method] = entry
        return entry

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in self._exact or (self._prefixes and path.startswith(self._prefixes)):
            await self.app(scope, receive, send)
            return
        entry = self._methods.get(scope.get("method", "GET"))
        if entry is None:
            entry = self._method(scope.get("method", "GET"))
        _, up, down, routes = entry
        top = scope.get("app")  # read now: a mounted Starlette app replaces scope["app"]
        status = 0

        def send_wrapper(message: Message) -> Awaitable[None]:
            # a plain function handing back send's own awaitable: no coroutine of ours per
            # message (ASGI servers and middleware only ever await what send returns)
            nonlocal status
            if status == 0 and message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        up()
        start = perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            if status == 0:
                status = 500
            raise
        finally:
            elapsed = perf_counter() - start
            down()
            if status == 0:
                # the app returned without a response: the client went away first
                status = 499
            route = scope.get("route")
            hit = routes.get(id(route))
            recorder = hit[1].get(status) if hit is not None and hit[0] is route else None
            if recorder is None:
                recorder = self._recorder(entry, route, status, top)
            exemplar = exemplar_source[0]() if exemplar_source else None
            sums = recorder[1]
            if sums is None or exemplar is not None:
                recorder[0].observe(elapsed, exemplar)
            else:
                sums[0](elapsed)  # the sum: add, then fold into the total
                sums[1]()
                recorder[3][bisect_left(recorder[2], elapsed)]()
