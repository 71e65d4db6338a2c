"""RequestLoggingMiddleware with a minimal pure-ASGI app over httpx.ASGITransport."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import httpx
import maestro_core_logging as mcl
import pytest
from maestro_core_logging._asgi import route_template

if TYPE_CHECKING:
    from .conftest import Output

log = mcl.get_logger("app")


class Route:
    """What FastAPI puts in scope["route"]: an object with the path template."""

    def __init__(self, path: str) -> None:
        self.path = path


async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """A tiny router: /items/{id} sets scope["route"], /fail raises, /error answers 503."""
    if scope["type"] == "lifespan":
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        return
    path = scope["path"]
    log.debug("handling", path=path)
    log.info("seen context", context=mcl.get_context())
    if path.startswith("/items/"):
        scope["route"] = Route("/items/{item_id}")
    if path == "/fail":
        raise RuntimeError("handler crashed")
    status = 503 if path == "/error" else 200
    headers = [(b"content-type", b"text/plain"), (b"x-request-id", b"app-set")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def configure(configure: Callable[..., Output]) -> Callable[..., Output]:
    """Like the package fixture, with the test client's own httpx logs turned down."""

    def apply(**kwargs: Any) -> Output:
        kwargs.setdefault("logger_levels", {"httpx": "WARNING"})
        return configure(**kwargs)

    return apply


def ticking_clock() -> Callable[[], float]:
    """A clock that advances 25 ms per reading."""
    ticks: Iterator[float] = (i * 0.025 for i in itertools.count())
    return lambda: next(ticks)


def client_for(middleware: mcl.RequestLoggingMiddleware) -> httpx.AsyncClient:
    """An httpx client that calls the middleware in-process."""
    transport = httpx.ASGITransport(app=middleware, client=("10.1.2.3", 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def access_lines(out: Output) -> list[dict[str, Any]]:
    """The access lines written so far."""
    return [line for line in out.lines() if line["logger"] == "maestro.access"]


async def test_request_id_is_generated_and_returned(configure: Callable[..., Output]) -> None:
    """Without an incoming X-Request-ID one is made, bound for the request and returned."""
    out = configure()
    middleware = mcl.RequestLoggingMiddleware(app, request_id_factory=lambda: "generated-1")
    async with client_for(middleware) as client:
        response = await client.get("/hello?token=abc")
    assert response.headers["x-request-id"] == "generated-1"
    assert response.headers.get_list("x-request-id") == ["generated-1"]
    app_line = next(line for line in out.lines() if line["logger"] == "app")
    assert app_line["request_id"] == "generated-1"
    assert app_line["context"] == {"request_id": "generated-1"}
    assert mcl.get_context() == {}


async def test_incoming_request_id_is_kept(configure: Callable[..., Output]) -> None:
    """A well-formed incoming X-Request-ID is used, logged and echoed."""
    out = configure()
    async with client_for(mcl.RequestLoggingMiddleware(app)) as client:
        response = await client.get("/hello", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert access_lines(out)[0]["request_id"] == "abc-123"


async def test_malformed_request_id_is_replaced(configure: Callable[..., Output]) -> None:
    """An incoming id with spaces or of excessive length is replaced by a fresh one."""
    configure()
    middleware = mcl.RequestLoggingMiddleware(app)
    async with client_for(middleware) as client:
        bad = await client.get("/hello", headers={"X-Request-ID": "a b <script>"})
        long = await client.get("/hello", headers={"X-Request-ID": "x" * 500})
    for response in (bad, long):
        rid = response.headers["x-request-id"]
        assert len(rid) == 32
        assert all(ch in "0123456789abcdef" for ch in rid)


async def test_one_access_line_with_route_template(configure: Callable[..., Output]) -> None:
    """One access line holds method, route template, raw path, status, duration and client."""
    out = configure()
    middleware = mcl.RequestLoggingMiddleware(app, monotonic=ticking_clock())
    async with client_for(middleware) as client:
        await client.post("/items/42?secret=1")
    (line,) = access_lines(out)
    assert line["message"] == "POST /items/{item_id} 200"
    assert line["level"] == "info"
    assert line["http_method"] == "POST"
    assert line["http_route"] == "/items/{item_id}"
    assert line["http_path"] == "/items/42"
    assert line["http_status"] == 200
    assert line["duration_ms"] == 25.0
    assert line["client_ip"] == "10.1.2.3"
    assert "secret" not in out.text()


async def test_raw_path_without_a_route(configure: Callable[..., Output]) -> None:
    """Without scope["route"] the access line uses the raw path."""
    out = configure()
    async with client_for(mcl.RequestLoggingMiddleware(app)) as client:
        await client.get("/plain")
    assert access_lines(out)[0]["http_route"] == "/plain"


def test_route_template_prefers_path_format() -> None:
    """A Starlette-style route's path_format (convertors stripped) wins over its path."""

    class StarletteRoute:
        path = "/users/{user_id:int}"
        path_format = "/users/{user_id}"

    assert route_template({"route": StarletteRoute(), "path": "/users/7"}) == "/users/{user_id}"
    assert route_template({"path": "/users/7"}) == "/users/7"


def test_route_template_includes_the_mount_prefix() -> None:
    """A route inside a mounted sub-application gets the mount prefix it was reached by."""
    scope = {"route": Route("/items/{item_id}"), "path": "/api/v1/items/3", "root_path": "/api/v1"}
    assert route_template(scope, root_path="/api") == "/v1/items/{item_id}"
    assert route_template(scope, root_path="") == "/api/v1/items/{item_id}"
    assert route_template({**scope, "root_path": "/api"}, root_path="/api") == "/items/{item_id}"


async def test_server_error_logs_at_error_and_flushes_debug(
    configure: Callable[..., Output],
) -> None:
    """A 5xx answer logs the access line at error level after the request's buffered debug."""
    out = configure(level="info")
    middleware = mcl.RequestLoggingMiddleware(app, buffer_debug=True)
    async with client_for(middleware) as client:
        ok = await client.get("/fine")
        failed = await client.get("/error")
    assert (ok.status_code, failed.status_code) == (200, 503)
    debug = [line for line in out.lines() if line["level"] == "debug"]
    assert [line["path"] for line in debug] == ["/error"]
    assert debug[0]["request_id"] == failed.headers["x-request-id"]
    last = out.lines()[-1]
    assert (last["logger"], last["level"], last["http_status"]) == ("maestro.access", "error", 503)


async def test_unhandled_exception_is_logged_and_reraised(
    configure: Callable[..., Output],
) -> None:
    """An exception from the app logs a 500 access line with the exception, then propagates."""
    out = configure()
    middleware = mcl.RequestLoggingMiddleware(app, buffer_debug=True)
    async with client_for(middleware) as client:
        with pytest.raises(RuntimeError, match="handler crashed"):
            await client.get("/fail")
    lines = out.lines()
    assert [line["level"] for line in lines] == ["info", "debug", "error"]
    line = access_lines(out)[0]
    assert line["http_status"] == 500
    assert line["level"] == "error"
    assert line["exception"]["type"] == "RuntimeError"
    assert mcl.get_context() == {}


async def test_sampled_requests_log_debug(configure: Callable[..., Output]) -> None:
    """With debug_sample_rate, a sampled request writes its debug lines straight away."""
    out = configure(level="info")
    draws = iter([0.01, 0.99])
    middleware = mcl.RequestLoggingMiddleware(
        app, debug_sample_rate=0.1, random=lambda: next(draws)
    )
    async with client_for(middleware) as client:
        await client.get("/sampled")
        await client.get("/not-sampled")
    debug = [line["path"] for line in out.lines() if line["level"] == "debug"]
    assert debug == ["/sampled"]


async def test_excluded_paths_write_no_access_line(configure: Callable[..., Output]) -> None:
    """Successful requests to excluded paths (health checks) write no access line."""
    out = configure()
    middleware = mcl.RequestLoggingMiddleware(app, exclude_paths={"/health"})
    async with client_for(middleware) as client:
        await client.get("/health")
        await client.get("/error")
    assert [line["http_path"] for line in access_lines(out)] == ["/error"]


async def test_non_http_scopes_pass_through(configure: Callable[..., Output]) -> None:
    """Lifespan (and websocket) scopes reach the app untouched and log nothing."""
    out = configure()
    middleware = mcl.RequestLoggingMiddleware(app)
    sent: list[dict[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await middleware({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}]
    assert out.lines() == []


def test_bad_middleware_arguments_are_rejected() -> None:
    """An empty header name or a sample rate outside 0..1 raises ConfigurationError."""
    with pytest.raises(mcl.ConfigurationError, match="header"):
        mcl.RequestLoggingMiddleware(app, header="")
    with pytest.raises(mcl.ConfigurationError, match="debug_sample_rate"):
        mcl.RequestLoggingMiddleware(app, debug_sample_rate=2)


async def test_custom_header_name(configure: Callable[..., Output]) -> None:
    """The request id header name is configurable."""
    configure()
    middleware = mcl.RequestLoggingMiddleware(app, header="X-Correlation-ID")
    async with client_for(middleware) as client:
        response = await client.get("/x", headers={"X-Correlation-ID": "corr-1"})
    assert response.headers["x-correlation-id"] == "corr-1"


async def test_a_cancelled_request_still_writes_its_access_line(
    configure: Callable[..., Output],
) -> None:
    """A request cancelled mid-flight (client gone, outer timeout) logs 499 and cancelled."""
    import asyncio

    out = configure()
    started = asyncio.Event()

    async def hanging(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(30)

    middleware = mcl.RequestLoggingMiddleware(hanging)
    scope = {"type": "http", "method": "GET", "path": "/slow", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    task = asyncio.create_task(middleware(scope, receive, send))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [access] = [line for line in out.lines() if line["logger"] == "maestro.access"]
    assert access["http_status"] == 499
    assert access["cancelled"] is True
    assert access["level"] == "warning"
    assert access["message"] == "GET /slow 499 (cancelled)"


async def test_the_middleware_takes_the_configured_sample_rate(
    configure: Callable[..., Output],
) -> None:
    """Without a rate of its own the middleware samples at configure_logging's rate."""
    out = configure(debug_sample_rate=1.0)
    middleware = mcl.RequestLoggingMiddleware(app)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/items/1")
    assert "handling" in [line["message"] for line in out.lines()]


def test_clock_is_the_deprecated_name_of_monotonic(monkeypatch: pytest.MonkeyPatch) -> None:
    """clock= (1.0) still works with one DeprecationWarning naming monotonic=."""
    from maestro_core_logging import _asgi

    monkeypatch.setattr(_asgi, "_WARNED", [])
    with pytest.warns(DeprecationWarning, match=r"use RequestLoggingMiddleware\(monotonic=...\)"):
        middleware = mcl.RequestLoggingMiddleware(app, clock=ticking_clock())
    assert middleware.clock() == 0.0
