"""TracingManager: spans per route template, sampling, no secrets, OTLP/HTTP, fork safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from maestro_monitoring import (
    ConfigurationError,
    MetricsManager,
    MetricsMiddleware,
    TracingManager,
    add_span_attribute,
    get_current_span,
    metrics_app,
    record_exception,
    trace,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

SECRET = "s3cr3t-value-never-recorded"


class Receiver:
    """A small OTLP/HTTP receiver: collects the protobuf posts to /v1/traces."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                owner.paths.append(self.path)
                owner.requests.append(message)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, str], Any]]:
        """(resource attributes, span) for every received span."""
        found = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running OTLP/HTTP receiver on 127.0.0.1."""
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def memory() -> InMemorySpanExporter:
    """The SDK's in-memory exporter."""
    return InMemorySpanExporter()


@pytest.fixture
def tracing(memory: InMemorySpanExporter) -> Iterator[TracingManager]:
    """A started TracingManager exporting to memory, shut down after the test."""
    manager = TracingManager(
        "orders",
        "1.4.2",
        "production",
        exporter=memory,
        sample_ratio=1.0,
        metrics=MetricsManager(registry=CollectorRegistry(), enabled=True),
    )
    manager.start()
    yield manager
    manager.shutdown()


def spans(tracing: TracingManager, memory: InMemorySpanExporter) -> list[Any]:
    """Finished spans after a flush."""
    tracing.force_flush()
    return list(memory.get_finished_spans())


async def handler(request: Request) -> Response:
    add_span_attribute("order.count", 3)
    return JSONResponse(dict(request.path_params))


def app_with_routes() -> Starlette:
    """A Starlette app with a plain route, a mount and a metrics endpoint."""
    return Starlette(
        routes=[
            Route("/users/{user_id}", handler, methods=["GET", "POST"]),
            Mount("/v1", routes=[Route("/items/{item_id}", handler)]),
            Route("/metrics", lambda request: PlainTextResponse("m")),
        ]
    )


async def test_trace_decorator_records_sync_and_async_spans(
    tracing: TracingManager, memory: InMemorySpanExporter
) -> None:
    """@trace and @trace("name") make spans; record_exception marks the span failed."""

    @trace("charge_card")
    async def charge() -> int:
        return 5

    @trace
    def refund() -> None:
        try:
            raise ValueError("card declined")
        except ValueError as exc:
            record_exception(exc)

    assert await charge() == 5
    refund()
    found = {s.name: s for s in spans(tracing, memory)}
    assert set(found) == {
        "charge_card",
        "test_trace_decorator_records_sync_and_async_spans.<locals>.refund",
    }
    failed = found["test_trace_decorator_records_sync_and_async_spans.<locals>.refund"]
    assert failed.status.status_code.name == "ERROR"
    resource = found["charge_card"].resource.attributes
    assert resource["service.name"] == "orders"
    assert resource["service.version"] == "1.4.2"
    assert resource["deployment.environment.name"] == "production"
    assert str(os.getpid()) in str(resource["service.instance.id"])


async def test_server_spans_use_the_route_template_and_record_no_secrets(
    tracing: TracingManager, memory: InMemorySpanExporter
) -> None:
    """Span "GET /users/{user_id}"; no query string, Authorization, cookie or body recorded."""
    app = app_with_routes()
    tracing.instrument_app(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            f"/users/42?token={SECRET}",
            headers={"Authorization": f"Bearer {SECRET}", "Cookie": f"session={SECRET}"},
            content=f'{{"password": "{SECRET}"}}',
        )
        await client.get("/v1/items/7")
        await client.get("/metrics")
    assert response.json() == {"user_id": "42"}
    found = spans(tracing, memory)
    names = sorted(s.name for s in found)
    assert names == ["GET /v1/items/{item_id}", "POST /users/{user_id}"]
    post = next(s for s in found if s.name.startswith("POST"))
    assert post.attributes["http.route"] == "/users/{user_id}"
    assert post.attributes["order.count"] == 3
    for span in found:
        dump = repr(dict(span.attributes)) + repr([e.attributes for e in span.events])
        assert SECRET not in dump
        assert "authorization" not in dump.lower()
        assert "cookie" not in dump.lower()


def _probe_app(manager: TracingManager, seen: list[Any]) -> Starlette:
    """An instrumented app whose /probe records the span context its handler sees."""

    async def probe(request: Request) -> Response:
        seen.append(get_current_span().get_span_context())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/probe", probe)])
    manager.instrument_app(app)
    return app


async def test_sampled_out_requests_record_nothing_but_propagate(
    memory: InMemorySpanExporter,
) -> None:
    """sample_ratio=0: no span recorded; the handler sees a valid, unsampled trace context."""
    manager = TracingManager("orders", exporter=memory, sample_ratio=0.0)
    seen: list[Any] = []

    app = _probe_app(manager, seen)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(20):
                await client.get("/probe")
            sampled_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            await client.get("/probe", headers={"traceparent": sampled_parent})
        manager.force_flush()
        recorded = memory.get_finished_spans()
    finally:
        manager.shutdown()
    assert all(ctx.is_valid for ctx in seen)
    assert not any(ctx.trace_flags.sampled for ctx in seen[:20])
    assert [s.name for s in recorded] == ["GET /probe"]  # the parent said sampled
    assert format(recorded[0].context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"


async def test_exemplars_carry_the_trace_id(
    tracing: TracingManager, memory: InMemorySpanExporter
) -> None:
    """With tracing on, the OpenMetrics exposition has exemplars with the request's trace id."""
    metrics = MetricsManager(registry=CollectorRegistry(), enabled=True)
    app = app_with_routes()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    tracing.instrument_app(app)
    app.router.routes.append(Mount("/scrape", app=metrics_app(metrics)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", follow_redirects=True
    ) as client:
        await client.get("/users/1")
        text = (
            await client.get("/scrape", headers={"accept": "application/openmetrics-text"})
        ).text
    trace_id = format(spans(tracing, memory)[0].context.trace_id, "032x")
    assert f'# {{trace_id="{trace_id}"}}' in text


def test_spans_reach_a_real_otlp_http_receiver(receiver: Receiver) -> None:
    """OTLP/HTTP: protobuf posts to /v1/traces carry the spans and the resource."""
    manager = TracingManager(
        "orders", "2.0.0", endpoint=receiver.endpoint, headers={"x-tenant": "t1"}
    )
    manager.start()
    try:

        @trace("nightly_job")
        def job() -> None:
            return None

        job()
        assert manager.force_flush()
    finally:
        manager.shutdown()
    received = receiver.spans()
    assert receiver.paths == ["/v1/traces"]
    assert [span.name for _, span in received] == ["nightly_job"]
    resource = received[0][0]
    assert resource["service.name"] == "orders"
    assert resource["service.version"] == "2.0.0"
    assert resource["service.instance.id"] == manager.instance_id


def test_httpx_spans_drop_the_query_string(
    tracing: TracingManager, memory: InMemorySpanExporter, receiver: Receiver
) -> None:
    """instrument_httpx(client): the client span has no query string, credentials,
    Authorization or Cookie header, or body."""
    body = ExportTraceServiceRequest()  # a body the receiver accepts, holding the secret
    attribute = body.resource_spans.add().resource.attributes.add()
    attribute.key = "password"
    attribute.value.string_value = SECRET
    with httpx.Client() as client:
        tracing.instrument_httpx(client)
        client.post(
            f"{receiver.endpoint}/v1/traces?api_key={SECRET}",
            headers={"Authorization": f"Bearer {SECRET}", "Cookie": f"session={SECRET}"},
            content=body.SerializeToString(),
        ).raise_for_status()
    found = spans(tracing, memory)
    assert len(found) == 1
    dump = repr(dict(found[0].attributes)) + repr([e.attributes for e in found[0].events])
    assert SECRET not in dump
    assert "authorization" not in dump.lower()
    assert "cookie" not in dump.lower()
    assert found[0].attributes["url.full"] == f"{receiver.endpoint}/v1/traces"


def test_a_dead_collector_drops_spans_and_counts_them() -> None:
    """OTLP collector down: spans are dropped after the bounded queue and counted."""
    registry = CollectorRegistry()
    metrics = MetricsManager(registry=registry, enabled=True)
    with socket_closed_port() as port:
        manager = TracingManager(
            "orders",
            endpoint=f"http://127.0.0.1:{port}",
            max_queue_size=4,
            export_timeout=0.2,
            schedule_delay=30,
            metrics=metrics,
        )
        manager.start()
        try:
            tracer = manager.get_tracer()
            for index in range(10):
                with tracer.start_as_current_span(f"work-{index}"):
                    pass
            manager.force_flush()
        finally:
            manager.shutdown()
    dropped = registry.get_sample_value("maestro_tracing_spans_dropped_total")
    assert manager.spans_dropped == 10
    assert dropped == 10.0


class socket_closed_port:
    """A port nothing listens on (bound then closed)."""

    def __enter__(self) -> int:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        sock.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        return None


FORK_SCRIPT = textwrap.dedent(
    """
    import logging, os, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from maestro_monitoring import TracingManager, trace

    tracing = TracingManager("orders", endpoint=sys.argv[1])
    tracing.start()                      # wrong place: before the fork
    # One write(2) per line: a pipe write this small is atomic, so the children's lines never
    # interleave (print() makes several writes when the stream is unbuffered).
    os.write(1, f"parent {tracing.instance_id}\\n".encode())

    @trace("work")
    def work():
        return None

    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            tracing.start()              # the post-fork recipe
            os.write(1, f"child {tracing.instance_id}\\n".encode())
            work()
            tracing.shutdown()
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    tracing.shutdown()
    """
)


@pytest.mark.slow
def test_fork_warns_and_the_post_fork_recipe_gives_distinct_instances(
    receiver: Receiver,
) -> None:
    """Forking after start() warns; start() in each child gives spans with distinct ids."""
    out = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT, receiver.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = f"stdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert out.stderr.count("TracingManager.start() ran before fork") == 2, report
    ids = {line.split()[1]: line.split()[0] for line in out.stdout.splitlines() if line}
    children = {i for i, who in ids.items() if who == "child"}
    assert len(children) == 2, report
    received = {resource["service.instance.id"] for resource, _ in receiver.spans()}
    assert received == children, report


def test_bad_options_are_refused() -> None:
    """Bad ratios, endpoints and header allow-lists that include credentials are refused."""
    with pytest.raises(ConfigurationError, match="sample_ratio"):
        TracingManager("orders", sample_ratio=1.5)
    with pytest.raises(ConfigurationError, match="OTLP/HTTP URL"):
        TracingManager("orders", endpoint="otel-collector:4317")
    with pytest.raises(ConfigurationError, match="never recorded"):
        TracingManager("orders", capture_headers=["Authorization"])
    assert "hunter2" not in repr(
        TracingManager("orders", endpoint="http://user:hunter2@collector:4318")
    )


def test_without_opentelemetry_everything_is_a_no_op() -> None:
    """Without OpenTelemetry, @trace runs the function and start() names the extra."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None
        from maestro_monitoring import MissingExtraError, TracingManager, get_tracer, trace

        @trace("x")
        def f():
            return 7

        assert f() == 7
        assert get_tracer() is None
        try:
            TracingManager("orders", endpoint="http://c:4318").start()
        except MissingExtraError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "needs the otel extra: pip install 'maestro-monitoring[otel]'" in out.stdout


async def test_sample_ratio_is_the_share_of_new_traces_kept(
    memory: InMemorySpanExporter,
) -> None:
    """sample_ratio=0.5 keeps about half the new traces (decided once, not twice)."""
    import random

    random.seed(15)
    manager = TracingManager("orders", exporter=memory, sample_ratio=0.5)
    app = Starlette(routes=[Route("/users/{user_id}", handler)])
    manager.instrument_app(app)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for index in range(400):
                await client.get(f"/users/{index}")
        manager.force_flush()
        kept = len(memory.get_finished_spans())
    finally:
        manager.shutdown()
    assert 150 <= kept <= 250  # 200 expected; deciding twice would keep about 100


async def test_an_unsampled_parent_is_followed_without_instrumentation(
    memory: InMemorySpanExporter,
) -> None:
    """traceparent flags 00: nothing recorded; the handler carries the parent's trace and state."""
    manager = TracingManager("orders", exporter=memory, sample_ratio=1.0)
    seen: list[Any] = []

    app = _probe_app(manager, seen)
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(3):
                await client.get("/probe", headers={"traceparent": parent, "tracestate": "k=v"})
            await client.get("/probe", headers={"traceparent": "00-zz-not-valid-01"})
        manager.force_flush()
        recorded = memory.get_finished_spans()
    finally:
        manager.shutdown()
    assert [s.name for s in recorded] == ["GET /probe"]  # only the request without a parent
    for ctx in seen[:3]:
        assert format(ctx.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
        assert ctx.is_valid
        assert not ctx.trace_flags.sampled
        assert not ctx.is_remote
        assert ctx.span_id != 0xB7AD6B7169203331
        assert ctx.trace_state.get("k") == "v"
    assert len({ctx.span_id for ctx in seen[:3]}) == 3


async def test_sampled_out_requests_get_distinct_traces_and_no_exemplars(
    memory: InMemorySpanExporter,
) -> None:
    """Sampled out: a distinct unsampled trace per request, no exemplar, the context restored."""
    from opentelemetry import trace as otel_trace

    registry = CollectorRegistry()
    metrics = MetricsManager(registry=registry, enabled=True)
    manager = TracingManager("orders", exporter=memory, sample_ratio=0.0)
    seen: list[Any] = []

    async def probe(request: Request) -> Response:
        seen.append(get_current_span().get_span_context())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/probe", probe)])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    manager.instrument_app(app)
    app.router.routes.append(Mount("/scrape", app=metrics_app(metrics)))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", follow_redirects=True
        ) as client:
            for _ in range(5):
                await client.get("/probe")
            text = (
                await client.get("/scrape", headers={"accept": "application/openmetrics-text"})
            ).text
    finally:
        manager.shutdown()
    assert len({ctx.trace_id for ctx in seen}) == 5
    assert all(ctx.is_valid and not ctx.trace_flags.sampled for ctx in seen)
    assert 'http_route="/probe"' in text
    assert "trace_id" not in text
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
