"""The middleware stack: pure ASGI, request ids, headers, limits, timeouts, client address."""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import maestro_core_api
import pytest
from fastapi import FastAPI, Request
from maestro_core_api import ConfigurationError, create_app
from maestro_core_logging import capture_logs
from starlette.middleware.base import BaseHTTPMiddleware

from .conftest import serve

SRC = Path(maestro_core_api.__file__).resolve().parent  # the tested copy: source or wheel


def build(**options: Any) -> FastAPI:
    options.setdefault("problem_type_base", "https://errors.maestro.internal/")
    app = create_app(title="stack", version="2.0.0", **options)
    seen: dict[str, int] = {}
    app.state.seen = seen

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            seen["bytes"] = total
        return {"bytes": total}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            seen["cancelled"] = 1
            raise
        return {"done": "late"}

    @app.get("/client")
    async def client(request: Request) -> dict[str, str | None]:
        return {"ip": request.client.host if request.client else None}

    @app.get("/big")
    async def big() -> dict[str, str]:
        return {"data": "x" * 5000}

    return app


def test_no_base_http_middleware_in_the_source() -> None:
    """No module of the package imports or subclasses BaseHTTPMiddleware or uses @app.middleware."""
    for path in SRC.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert name != "BaseHTTPMiddleware", path.name
            if isinstance(node, ast.alias):
                assert "BaseHTTPMiddleware" not in node.name, path.name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr != "middleware", f"{path.name}: @app.middleware"


async def test_no_base_http_middleware_in_the_built_stack() -> None:
    """Walking the built middleware chain finds no BaseHTTPMiddleware instance."""
    app = build(cors_origins=["https://shop.example"])
    async with serve(app) as client:
        assert (await client.get("/ping")).status_code == 200
    layer: Any = app.middleware_stack
    names = []
    while layer is not None and layer is not app.router:
        assert not isinstance(layer, BaseHTTPMiddleware)
        names.append(type(layer).__name__)
        layer = getattr(layer, "app", None)
    ours = list(app.state.maestro.middleware)
    start = names.index(ours[0])
    assert names[start : start + len(ours)] == ours
    assert ours == [
        "RequestLoggingMiddleware",
        "MetricsMiddleware",
        "CoreMiddleware",
        "CORSMiddleware",
        "GZipWhenAccepted",
        "LimitsMiddleware",
    ]
    behind_proxy = create_app(trusted_proxies=["10.0.0.0/8"])
    assert behind_proxy.state.maestro.middleware[0] == "ForwardedMiddleware"


async def test_request_id_echoed_once_or_replaced() -> None:
    """A valid X-Request-ID is echoed once; hostile ones are replaced and never logged."""
    hostile = ["<script>alert(1)</script>", "a" * 200, "abc\r\nSet-Cookie: x=1"]
    with capture_logs() as events:
        async with serve(build()) as client:
            good = await client.get("/ping", headers={"X-Request-ID": "req-1"})
            replaced = []
            for value in hostile:
                headers = [(b"x-request-id", value.encode())]
                replaced.append(await client.get("/ping", headers=headers))
    assert good.headers.get_list("x-request-id") == ["req-1"]
    for response, value in zip(replaced, hostile, strict=True):
        ids = response.headers.get_list("x-request-id")
        assert len(ids) == 1
        assert ids[0] != value
        assert len(ids[0]) == 32
    text = json.dumps(events)
    assert "<script>" not in text
    assert "a" * 200 not in text
    assert "Set-Cookie" not in text
    access = [e for e in events if e.get("logger") == "maestro.access"]
    assert {e["request_id"] for e in access} == {
        "req-1",
        *(r.headers["x-request-id"] for r in replaced),
    }


async def test_generated_request_ids_are_random_hex() -> None:
    """Requests without an id get distinct 32-digit lowercase hex ids, like uuid4().hex."""
    async with serve(build()) as client:
        ids = [(await client.get("/ping")).headers["x-request-id"] for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)


async def test_security_headers_on_answers_and_problems() -> None:
    """Every answer, errors included, carries the security headers."""
    async with serve(build()) as client:
        for response in (await client.get("/ping"), await client.get("/missing")):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "default-src 'none'" in response.headers["content-security-policy"]
        docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers


async def test_cors_and_gzip() -> None:
    """Configured origins get CORS answers; large bodies are gzipped when asked for."""
    async with serve(build(cors_origins=["https://shop.example"])) as client:
        preflight = await client.options(
            "/ping",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
        )
        other = await client.get("/ping", headers={"Origin": "https://evil.example"})
        big = await client.get("/big", headers={"Accept-Encoding": "gzip"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in other.headers
    assert big.headers["content-encoding"] == "gzip"
    assert big.json()["data"] == "x" * 5000


async def call_raw(
    app: Any,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    path: str = "/upload",
    http_version: str = "1.1",
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Drive the ASGI app directly (to send a false Content-Length)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(1)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


async def test_body_limit_declared_false_and_chunked() -> None:
    """413 problem for a large Content-Length, a false one, and chunked bodies; excess unseen."""
    app = build(max_body_bytes=100)
    async with serve(app) as client:
        declared = await client.post("/upload", content=b"x" * 101)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"y" * 30

        chunked = await client.post("/upload", content=chunks())
        ok = await client.post("/upload", content=b"z" * 100)
        status, headers, body = await call_raw(
            app, [(b"content-length", b"10")], [b"a" * 60, b"b" * 60, b"c" * 60]
        )
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "https://errors.maestro.internal/payload-too-large"
    assert ok.json() == {"bytes": 100}
    assert status == 413
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(body)["status"] == 413
    assert app.state.seen["bytes"] <= 100


@pytest.mark.parametrize("http_version", ["2", "3"])
@pytest.mark.parametrize("cors", [False, True])
async def test_body_limit_counts_http2_bodies_without_length_headers(
    http_version: str, cors: bool
) -> None:
    """Over HTTP/2 and HTTP/3 a request body needs neither Content-Length nor
    Transfer-Encoding (DATA frames carry it): the limit still counts it on the stream."""
    app = build(max_body_bytes=100, cors_origins=["https://shop.example"] if cors else None)
    async with serve(app):  # lifespan entered
        status, headers, body = await call_raw(
            app, [], [b"a" * 60, b"b" * 60, b"c" * 60], http_version=http_version
        )
        seen_of_large = app.state.seen["bytes"]
        small_status, _, small_body = await call_raw(
            app, [], [b"a" * 50, b"b" * 50], http_version=http_version
        )
    assert status == 413
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(body)["code"] == "payload-too-large"
    assert seen_of_large <= 100
    assert small_status == 200
    assert json.loads(small_body) == {"bytes": 100}


async def test_timeout_cancels_the_handler_and_answers_503() -> None:
    """A handler past request_timeout is cancelled; the answer is a 503 timeout problem."""
    app = build(request_timeout=0.05)
    async with serve(app) as client:
        slow = await client.get("/slow")
        fast = await client.get("/ping")
    assert slow.status_code == 503
    assert slow.json()["type"] == "https://errors.maestro.internal/timeout"
    assert slow.headers["content-type"] == "application/problem+json"
    assert app.state.seen["cancelled"] == 1
    assert fast.status_code == 200


async def test_forwarded_for_only_from_trusted_proxies() -> None:
    """X-Forwarded-For names the client only when the peer is a trusted proxy."""
    header = {"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}
    trusting = build(trusted_proxies=["10.0.0.0/8"])
    async with serve(trusting, client=("10.0.0.5", 4000)) as client:
        via_proxy = (await client.get("/client", headers=header)).json()
    async with serve(trusting, client=("198.51.100.9", 4000)) as client:
        direct = (await client.get("/client", headers=header)).json()
    async with serve(build(), client=("10.0.0.5", 4000)) as client:
        untrusted = (await client.get("/client", headers=header)).json()
    assert via_proxy == {"ip": "203.0.113.7"}
    assert direct == {"ip": "198.51.100.9"}
    assert untrusted == {"ip": "10.0.0.5"}


def test_bad_arguments_are_configuration_errors() -> None:
    """Bad networks, timeouts and limits fail at create_app with a clear message."""
    with pytest.raises(ConfigurationError, match="CIDR"):
        create_app(trusted_proxies=["not-an-ip"])
    with pytest.raises(ConfigurationError, match="request_timeout"):
        create_app(request_timeout=0)
    with pytest.raises(ConfigurationError, match="max_body_bytes"):
        create_app(max_body_bytes=-1).build_middleware_stack()
    with pytest.raises(ConfigurationError, match="cursor_secret"):
        create_app(cursor_secret="short")


async def test_security_headers_middleware_standalone() -> None:
    """On any ASGI app: own headers win, an empty value drops one, HSTS only over https."""
    import httpx
    from maestro_core_api import SecurityHeadersMiddleware

    async def plain(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-frame-options", b"SAMEORIGIN")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    app = SecurityHeadersMiddleware(plain, headers={"Referrer-Policy": ""})
    for base, hsts in (("http://svc", False), ("https://svc", True)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            response = await client.get("/")
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "referrer-policy" not in response.headers
        assert ("strict-transport-security" in response.headers) is hsts


async def test_core_middleware_security_headers_merge() -> None:
    """create_app's CoreMiddleware adds each security header once: the answer's own win
    (any case), HTML keeps its own policy (none added), HSTS only over https."""
    import httpx
    from maestro_core_api._stack import CoreMiddleware, core_options

    def answering(headers: list[tuple[bytes, bytes]]) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})

        return app

    async def get(app: Any, base: str = "http://svc") -> httpx.Response:
        transport = httpx.ASGITransport(app=CoreMiddleware(app, **core_options(None, True)))
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await client.get("/")

    def names(response: httpx.Response) -> list[str]:
        return [k.decode().lower() for k, _ in response.headers.raw]

    json_type = [(b"content-type", b"application/json")]
    for base, hsts in (("http://svc", False), ("https://svc", True)):
        plain = await get(answering(json_type), base)
        assert plain.headers["x-frame-options"] == "DENY"
        assert plain.headers["content-security-policy"].startswith("default-src 'none'")
        assert ("strict-transport-security" in plain.headers) is hsts
        assert len(names(plain)) == len(set(names(plain)))
    own = await get(answering([*json_type, (b"X-Frame-Options", b"SAMEORIGIN")]), "https://svc")
    assert own.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert own.headers["x-content-type-options"] == "nosniff"
    assert own.headers["strict-transport-security"].startswith("max-age=")
    html = await get(answering([(b"content-type", b"text/html; charset=utf-8")]))
    assert "content-security-policy" not in html.headers
    assert html.headers["referrer-policy"] == "no-referrer"
    policy = await get(answering([*json_type, (b"content-security-policy", b"default-src 'self'")]))
    assert policy.headers.get_list("content-security-policy") == ["default-src 'self'"]
    transport = await get(
        answering([*json_type, (b"strict-transport-security", b"max-age=1")]), "https://svc"
    )
    assert transport.headers.get_list("strict-transport-security") == ["max-age=1"]


async def test_deprecation_headers_from_any_endpoint_kind() -> None:
    """The deprecation notice is found on a plain endpoint function and on a callable
    object marked by deprecated(); unmarked endpoints and unmatched paths get none."""
    from maestro_core_api import deprecated
    from starlette.responses import JSONResponse

    app = create_app(title="dep", version="1.0.0")

    @app.get("/old")
    @deprecated(sunset="2026-12-31")
    async def old() -> dict[str, str]:
        return {"old": "yes"}

    class Endpoint:
        async def __call__(self) -> JSONResponse:
            return JSONResponse({"callable": True})

    app.add_api_route("/callable", deprecated()(Endpoint()), methods=["GET"])
    async with serve(app) as client:
        marked = await client.get("/old")
        instance = await client.get("/callable")
        missing = await client.get("/nowhere")
    assert marked.headers["deprecation"] == "?1"
    assert "sunset" in marked.headers
    assert instance.status_code == 200
    assert instance.headers["deprecation"] == "?1"
    assert "deprecation" not in missing.headers


def test_generated_request_ids_unique_across_batches_and_forks() -> None:
    """Ids from new_request_id are 32 hex digits, never repeated across refills, and a
    forked child draws fresh ones rather than the parent's next ids."""
    import os

    from maestro_core_api._app import new_request_id

    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its next ids and leave at once
        try:
            os.write(write, "".join(new_request_id() for _ in range(4)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = "".join(new_request_id() for _ in range(4))
    assert len(child) == 128
    assert child != parent


def _parity_app() -> FastAPI:
    from maestro_core_api import deprecated
    from maestro_core_api._middleware import inbound_traceparent
    from starlette.responses import HTMLResponse, StreamingResponse

    app = build(request_timeout=0.05)

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("boom")

    @app.get("/late-boom")
    async def late_boom() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise RuntimeError("late")

        return StreamingResponse(chunks())

    @app.get("/old")
    @deprecated(sunset="2026-12-31")
    async def old() -> dict[str, str]:
        return {"old": "yes"}

    @app.get("/trace")
    async def trace() -> dict[str, str | None]:
        return {"traceparent": inbound_traceparent()}

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    return app


async def test_default_stack_is_one_service_layer() -> None:
    """Without CORS, problems, security headers, GZip and the limits are one layer."""
    app = build()
    async with serve(app) as client:
        assert (await client.get("/ping")).status_code == 200
    assert list(app.state.maestro.middleware) == [
        "RequestLoggingMiddleware",
        "MetricsMiddleware",
        "ServiceMiddleware",
    ]


async def test_service_layer_common_path_answers_like_the_separate_layers() -> None:
    """A request without body and gzip (ServiceMiddleware's own path) gets exactly what the
    same request takes through the separate layers (sent with Content-Length: 0): status,
    headers, problem bodies, timeouts, errors, deprecation, traceparent, logs."""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    paths = ["/ping", "/slow", "/boom", "/old", "/missing", "/trace", "/page"]

    async def answers(extra: dict[str, str]) -> tuple[list[Any], list[str]]:
        seen: list[Any] = []
        with capture_logs() as events:
            async with serve(_parity_app()) as client:
                client.headers.pop("accept-encoding", None)
                for path in paths:
                    response = await client.get(path, headers={"traceparent": traceparent, **extra})
                    headers = sorted(
                        (k, v)
                        for k, v in response.headers.multi_items()
                        if k not in {"x-request-id", "content-length"}
                    )
                    body = response.json() if "json" in response.headers["content-type"] else None
                    if isinstance(body, dict):
                        body.pop("request_id", None)
                    seen.append((path, response.status_code, headers, body or response.text))
                with pytest.raises(RuntimeError, match="late"):
                    await client.get("/late-boom", headers=extra)
        messages = sorted(str(e["message"]) for e in events if e.get("logger") == "maestro.api")
        return seen, messages

    common, common_logs = await answers({})
    general, general_logs = await answers({"content-length": "0"})
    assert common == general
    assert common_logs == general_logs
    by_path = {path: (status, dict(headers), body) for path, status, headers, body in common}
    assert by_path["/slow"][0] == 503
    assert by_path["/boom"][0] == 500
    assert by_path["/boom"][1]["content-type"] == "application/problem+json"
    assert by_path["/boom"][1]["x-frame-options"] == "DENY"
    assert by_path["/old"][1]["deprecation"] == "?1"
    assert by_path["/trace"][2] == {"traceparent": traceparent}
    assert "content-security-policy" not in by_path["/page"][1]
    assert common_logs.count("unhandled exception") == 2  # /boom and /late-boom
    assert "request timed out" in common_logs


@pytest.mark.parametrize(
    ("status", "headers", "bodies"),
    [
        (200, [(b"content-type", b"application/json")], [b'{"a":1}']),
        (200, [(b"content-type", b"application/json")], [b"x" * 999]),
        (200, [(b"content-type", b"application/json")], [b"x" * 1000]),
        (200, [(b"content-type", b"text/plain")], [b"x" * 5000]),
        (200, [(b"content-type", b"text/plain")], [b"x" * 10, b"y" * 10]),
        (200, [(b"content-type", b"text/plain")], [b"x" * 2000, b"y" * 2000, b""]),
        (200, [(b"content-type", b"text/event-stream")], [b"data: 1\n\n", b"data: 2\n\n"]),
        (200, [(b"content-type", b"image/png")], [b"x" * 5000]),
        (200, [(b"content-type", b"application/grpc+proto")], [b"x" * 5000]),
        (200, [(b"content-encoding", b"br")], [b"x" * 5000]),
        (206, [(b"content-type", b"text/plain")], [b"x" * 5000]),
        (200, [], [b"x" * 5000]),
        (204, None, [b""]),
    ],
)
async def test_gzip_gate_answers_like_starlettes_gzip(
    status: int, headers: list[tuple[bytes, bytes]] | None, bodies: list[bytes]
) -> None:
    """With Accept-Encoding: gzip, GZipWhenAccepted sends exactly the messages Starlette's
    GZipMiddleware sends (same headers, same bytes, at the same moments), whether it
    passes a small answer on itself or hands the answer to Starlette's responder."""
    from maestro_core_api._stack import GZipWhenAccepted
    from starlette.middleware.gzip import GZipMiddleware

    async def run(layer: Any) -> list[tuple[int, dict[str, Any]]]:
        sent: list[tuple[int, dict[str, Any]]] = []
        step = 0

        async def app(scope: Any, receive: Any, send: Any) -> None:
            nonlocal step
            start: dict[str, Any] = {"type": "http.response.start", "status": status}
            if headers is not None:
                start["headers"] = list(headers)
            await send(start)
            for i, body in enumerate(bodies):
                step += 1
                more = i < len(bodies) - 1
                await send({"type": "http.response.body", "body": body, "more_body": more})

        async def send(message: dict[str, Any]) -> None:
            sent.append((step, json.loads(json.dumps(message, default=bytes.hex))))

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"accept-encoding", b"gzip, deflate")],
        }
        await layer(app)(scope, None, send)
        return sent

    ours = await run(lambda app: GZipWhenAccepted(app, minimum_size=1000))
    starlettes = await run(lambda app: GZipMiddleware(app, minimum_size=1000, compresslevel=9))
    assert ours == starlettes
