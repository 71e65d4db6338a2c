"""The scrape endpoint: Prometheus text (fast writer, no ``_created``) or OpenMetrics with
exemplars when the scraper asks for it; as an ASGI app or a server on its own port."""

from __future__ import annotations

import contextlib
import math
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

    from ._metrics import MetricsManager

__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "MetricsApp",
    "MetricsServer",
    "metrics_app",
    "render",
    "start_metrics_server",
]

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_INF = math.inf
_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}


def _value(v: float) -> str:
    if v == _INF:
        return "+Inf"
    if v == -_INF:
        return "-Inf"
    if math.isnan(v):
        return "NaN"
    return repr(float(v))


# "name{labels} " per sample identity: label sets repeat from scrape to scrape
_HEADS: dict[tuple[object, ...], str] = {}
_HEADS_MAX = 200_000


def _head(name: str, labels: dict[str, str], key: tuple[object, ...]) -> str:
    parts = []
    for k, raw in labels.items():
        v = raw
        if "\\" in v or "\n" in v or '"' in v:
            v = v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
        parts.append(f'{k}="{v}"')
    head = name + "{" + ",".join(parts) + "} "
    if len(_HEADS) >= _HEADS_MAX:
        _HEADS.clear()
    _HEADS[key] = head
    return head


_CREATED_TYPES = frozenset(("counter", "histogram", "summary", "gaugehistogram"))


def _text(metrics: Iterator[Metric], created: bool) -> bytes:
    out: list[str] = []
    _write(metrics, created, out)
    return "".join(out).encode()


def _write(metrics: Iterable[Metric], created: bool, out: list[str]) -> None:
    """Append the text exposition of ``metrics`` to ``out``."""
    append = out.append
    for metric in metrics:
        mname = metric.name
        mtype = metric.type
        if mtype == "counter":
            mname += "_total"
        elif mtype == "info":
            mname += "_info"
        doc = metric.documentation
        if "\\" in doc or "\n" in doc:
            doc = doc.replace("\\", r"\\").replace("\n", r"\n")
        append(f"# HELP {mname} {doc}\n# TYPE {mname} {_TYPES.get(mtype, mtype)}\n")
        side: dict[str, list[str]] | None = None
        base = metric.name
        skip = base + "_created" if mtype in _CREATED_TYPES and not created else None
        aside_names = _aside(base, mtype, created)
        heads = _HEADS
        for sample in metric.samples:
            name = sample[0]
            if name == skip:
                continue
            labels = sample[1]
            if labels:
                key = (name, *labels.items())
                head = heads.get(key)
                if head is None:
                    head = _head(name, labels, key)
            else:
                head = name + " "
            value = sample[2]
            text = repr(float(value)) if value - value == 0 else _value(value)
            timestamp = sample[3]
            if timestamp is None:
                line = f"{head}{text}\n"
            else:
                line = f"{head}{text} {int(float(timestamp) * 1000):d}\n"
            if aside_names and name in aside_names:
                if side is None:
                    side = {}
                side.setdefault(name, []).append(line)
            else:
                append(line)
        if side:
            for name, lines in side.items():
                append(f"# HELP {name} {doc}\n# TYPE {name} gauge\n")
                out.extend(lines)


# -- the direct writer: prometheus_client's own metric objects, read without collect() -----
#
# collect() builds two Sample tuples and a label dict per series (one of them the _created
# sample that is then dropped): most of a scrape's time. For the plain prometheus_client
# Counter, Gauge, Histogram and Summary of a CollectorRegistry, the writer below reads each
# child's values instead and writes the same lines (the tests compare the two byte for
# byte); any other collector, or any layout it does not recognise, goes through collect().

_DIRECT: dict[type, str] = {}
# metric object -> {label values: the heads of its lines}
_DIRECT_HEADS: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def _direct_types() -> dict[type, str]:
    if not _DIRECT:
        from prometheus_client import Counter, Gauge, Histogram, Summary

        _DIRECT.update(
            {Counter: "counter", Gauge: "gauge", Histogram: "histogram", Summary: "summary"}
        )
    return _DIRECT


def _registry_collectors(collector: Collector) -> list[Any] | None:
    """The collectors of a plain CollectorRegistry, in collect() order (None: not one)."""
    from prometheus_client.registry import CollectorRegistry

    if type(collector) is not CollectorRegistry:
        return None
    registry: Any = collector
    try:
        with registry._lock:
            if registry._target_info:
                return None
            return list(registry._collector_to_names)
    except AttributeError:
        return None


def _label_part(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    parts = []
    for k, raw in zip(names, values, strict=True):
        v = raw
        if "\\" in v or "\n" in v or '"' in v:
            v = v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
        parts.append(f'{k}="{v}"')
    return ",".join(parts)


def _heads(
    kind: str, name: str, names: tuple[str, ...], values: tuple[str, ...], le: tuple[str, ...]
) -> tuple[str, ...]:
    """The "name{labels} " heads of one child's lines, in the order they are written."""
    labels = _label_part(names, values)

    def head(sample: str, extra: str = "") -> str:
        inner = ",".join(p for p in (labels, extra) if p)
        return f"{sample}{{{inner}}} " if inner else f"{sample} "

    if kind == "counter":
        return (head(name + "_total"),)
    if kind == "gauge":
        return (head(name),)
    if kind == "summary":
        return (head(name + "_count"), head(name + "_sum"))
    return (
        *(head(name + "_bucket", f'le="{bound}"') for bound in le),
        head(name + "_count"),
        head(name + "_sum"),
    )


def _number(value: float) -> str:
    return repr(float(value)) if value - value == 0 else _value(value)


def _write_direct(raw: Any, out: list[str]) -> bool:
    """Append the lines of one plain prometheus_client metric; False: use collect()."""
    kind = _direct_types().get(type(raw))
    if kind is None:
        return False
    try:
        name: str = raw._name
        names: tuple[str, ...] = tuple(raw._labelnames)
        if raw._labelvalues:
            return False
        if names:
            with raw._lock:
                children = list(raw._metrics.items())
        else:
            children = [((), raw)]
        if kind == "gauge" and any("_child_samples" in vars(c) for _, c in children):
            return False  # set_function(): the value comes from a callback
        le: tuple[str, ...] = ()
        if kind == "histogram":
            from prometheus_client.utils import floatToGoString

            le = tuple(floatToGoString(b) for b in raw._upper_bounds)  # type: ignore[no-untyped-call]
        lines = _direct_lines(raw, kind, name, names, children=children, le=le)
    except (AttributeError, TypeError):
        return False
    doc: str = raw._documentation
    if "\\" in doc or "\n" in doc:
        doc = doc.replace("\\", r"\\").replace("\n", r"\n")
    family = name + "_total" if kind == "counter" else name
    out.append(f"# HELP {family} {doc}\n# TYPE {family} {kind}\n")
    out.extend(lines)
    return True


def _direct_lines(
    raw: Any,
    kind: str,
    name: str,
    names: tuple[str, ...],
    *,
    children: list[tuple[tuple[str, ...], Any]],
    le: tuple[str, ...],
) -> list[str]:
    cache = _DIRECT_HEADS.get(raw)
    if cache is None or len(cache) > 2 * len(children) + 64:  # children removed since
        cache = _DIRECT_HEADS[raw] = {}
    lines: list[str] = []
    append = lines.append
    for values, child in children:
        heads = cache.get(values)
        if heads is None:
            heads = cache[values] = _heads(kind, name, names, values, le)
        if kind in {"counter", "gauge"}:
            append(f"{heads[0]}{_number(child._value.get())}\n")
        elif kind == "summary":
            append(f"{heads[0]}{_number(child._count.get())}\n")
            append(f"{heads[1]}{_number(child._sum.get())}\n")
        else:
            buckets = child._buckets
            if len(buckets) != len(le):
                raise TypeError("an unexpected histogram layout")
            total = 0.0
            for head, bucket in zip(heads, buckets, strict=False):
                total += bucket.get()
                append(f"{head}{_number(total)}\n")
            append(f"{heads[-2]}{_number(total)}\n")
            if child._upper_bounds[0] >= 0:
                append(f"{heads[-1]}{_number(child._sum.get())}\n")
    return lines


def _aside(base: str, mtype: str, created: bool) -> frozenset[str]:
    """Sample names written as their own gauge families in the text format."""
    names = set()
    if mtype == "gaugehistogram":
        names |= {base + "_gsum", base + "_gcount"}
    if created and mtype in _CREATED_TYPES:
        names.add(base + "_created")
    return frozenset(names)


def _without_created(collector: Collector) -> Collector:
    from prometheus_client.registry import Collector as Base

    class _Filtered(Base):
        def collect(self) -> Iterator[Metric]:
            for metric in collector.collect():
                created = metric.name + "_created"
                if any(s.name == created for s in metric.samples):
                    metric.samples = [s for s in metric.samples if s.name != created]
                yield metric

    return _Filtered()


def wants_openmetrics(accept: str) -> bool:
    """True when the Accept header asks for OpenMetrics (as Prometheus does by default)."""
    for part in accept.split(","):
        media, _, params = part.partition(";")
        if media.strip().lower() != "application/openmetrics-text":
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                with contextlib.suppress(ValueError):
                    q = float(value)
        if q > 0:
            return True
    return False


def render(
    collector: Collector, accept: str = "", *, created_series: bool = False
) -> tuple[bytes, str]:
    """The exposition of ``collector`` for an ``Accept`` header: (body, content type)."""
    if wants_openmetrics(accept):
        from prometheus_client.openmetrics.exposition import generate_latest

        source = collector if created_series else _without_created(collector)
        return generate_latest(source), OPENMETRICS_CONTENT_TYPE  # type: ignore[no-untyped-call]
    collectors = None if created_series else _registry_collectors(collector)
    if collectors is None:
        return _text(iter(collector.collect()), created_series), TEXT_CONTENT_TYPE
    out: list[str] = []
    for each in collectors:
        if not _write_direct(each, out):
            _write(each.collect(), False, out)
    return "".join(out).encode(), TEXT_CONTENT_TYPE


def _resolve(
    metrics: MetricsManager | None, registry: Collector | None
) -> tuple[MetricsManager | None, Collector]:
    if registry is not None:
        return metrics, registry
    from ._metrics import default_manager

    manager = metrics or default_manager()
    return manager, manager.exposition_registry


class MetricsApp:
    """ASGI app answering GET/HEAD with the exposition (mount it at ``/metrics``)."""

    def __init__(
        self,
        metrics: MetricsManager | None = None,
        *,
        registry: Collector | None = None,
        created_series: bool = False,
    ) -> None:
        self.metrics = metrics
        self.registry = registry
        self.created_series = created_series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"allow", b"GET, HEAD"), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        accept = ""
        for key, value in scope.get("headers", ()):
            if key == b"accept":
                accept = value.decode("latin-1")
        _, collector = _resolve(self.metrics, self.registry)
        body, content_type = render(collector, accept, created_series=self.created_series)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def metrics_app(
    metrics: MetricsManager | None = None,
    *,
    registry: Collector | None = None,
    created_series: bool = False,
) -> MetricsApp:
    """An ASGI app serving the metrics of ``metrics`` (default manager) or of ``registry``."""
    return MetricsApp(metrics, registry=registry, created_series=created_series)


class MetricsServer(ThreadingHTTPServer):
    """The HTTP server started by :func:`start_metrics_server`; ``close()`` stops it."""

    daemon_threads = True
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (useful with port=0)."""
        return int(self.server_address[1])

    def close(self) -> None:
        """Stop serving and release the port."""
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def start_metrics_server(
    port: int,
    addr: str = "0.0.0.0",
    *,
    metrics: MetricsManager | None = None,
    registry: Collector | None = None,
    created_series: bool = False,
    path: str = "/metrics",
) -> MetricsServer:
    """Serve the exposition on ``addr:port`` from a daemon thread; returns the server."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigurationError(f"port must be an integer from 0 to 65535, got {port!r}")
    if not path.startswith("/"):
        raise ConfigurationError(f"path must start with '/', got {path!r}")
    _, collector = _resolve(metrics, registry)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in (path, "/"):
                self.send_error(404, f"metrics are at {path}")
                return
            body, content_type = render(
                collector,
                self.headers.get("Accept", ""),
                created_series=created_series,
            )
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    try:
        server = MetricsServer((addr, port), Handler)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {addr}:{port} for metrics ({exc.strerror}): choose a free port"
        ) from None
    server.thread = threading.Thread(
        target=server.serve_forever, name=f"metrics-{server.port}", daemon=True
    )
    server.thread.start()
    return server
