"""The middleware's cheap paths keep every documented behaviour (no timing asserted here)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import maestro_core_logging as mcl
from maestro_core_logging._asgi import _new_request_id
from maestro_core_logging._scopevar import SCOPE

if TYPE_CHECKING:
    from .conftest import Output


def make_scope(path: str = "/orders", headers: list[Any] | None = None, **extra: Any) -> Any:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("10.0.0.9", 1234),
    }
    scope.update(extra)
    return scope


def call(app: Any, scope: Any) -> list[dict[str, Any]]:
    """Run *app* on *scope* and return the messages it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def responder(
    headers: list[Any], seen: list[Any] | None = None, status: int = 200
) -> Callable[..., Any]:
    """An app answering with *headers*; it records the messages it built in *seen*."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": status, "headers": headers}
        if seen is not None:
            seen.append(start)
            seen.append(SCOPE.get())
        await send(start)
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def access(out: Output) -> dict[str, Any]:
    (line,) = [line for line in out.lines() if line["logger"] == "maestro.access"]
    return line


def test_generated_id_has_the_uuid4_hex_form(configure: Callable[..., Output]) -> None:
    """The default id is what ``uuid4().hex`` gives: 32 hex digits, version 4, RFC variant."""
    ids = {_new_request_id() for _ in range(200)}
    assert len(ids) == 200
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    out = configure()
    sent = call(mcl.RequestLoggingMiddleware(responder([])), make_scope())
    returned = dict(sent[0]["headers"])[b"x-request-id"].decode()
    assert uuid.UUID(hex=returned).version == 4
    assert access(out)["request_id"] == returned


def test_headers_without_an_id_are_kept_and_the_id_appended(
    configure: Callable[..., Output],
) -> None:
    """The app's headers keep their order; its message and list are not mutated."""
    configure()
    app_headers = [(b"content-type", b"text/plain"), [b"x-other-id", b"1"]]
    seen: list[Any] = []
    middleware = mcl.RequestLoggingMiddleware(responder(app_headers, seen))
    sent = call(middleware, make_scope(headers=[(b"x-request-id", b"in-1")]))
    assert [tuple(h) for h in sent[0]["headers"]] == [
        (b"content-type", b"text/plain"),
        (b"x-other-id", b"1"),
        (b"x-request-id", b"in-1"),
    ]
    assert app_headers == [(b"content-type", b"text/plain"), [b"x-other-id", b"1"]]
    assert seen[0]["headers"] is app_headers
    assert sent[0] is not seen[0]


def test_an_app_id_header_in_any_case_is_replaced(configure: Callable[..., Output]) -> None:
    """Every spelling of the app's own id header goes; exactly one of ours is sent."""
    configure()
    app_headers = [(b"X-Request-ID", b"app"), (b"a", b"1"), (b"x-request-id", b"app2")]
    middleware = mcl.RequestLoggingMiddleware(responder(app_headers))
    sent = call(middleware, make_scope(headers=[(b"X-Request-Id", b"in-2")]))
    assert sent[0]["headers"] == [(b"a", b"1"), (b"x-request-id", b"in-2")]
    assert len(app_headers) == 3


def test_no_debug_scope_is_opened_unless_asked(configure: Callable[..., Output]) -> None:
    """Sample rate 0 and no buffering: the app runs without a debug scope; else with one."""
    configure()
    seen: list[Any] = []
    call(mcl.RequestLoggingMiddleware(responder([], seen)), make_scope())
    assert seen[1] is None
    seen.clear()
    call(mcl.RequestLoggingMiddleware(responder([], seen), buffer_debug=True), make_scope())
    assert isinstance(seen[1], mcl.DebugScope)
    assert SCOPE.get() is None


def test_common_access_line_keeps_its_fields_and_redaction(
    configure: Callable[..., Output],
) -> None:
    """The success line: all fields, context the app bound (redacted), URL passwords masked."""
    out = configure(extra_redact_keys=("client_ip",))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        mcl.bind_context(session_token="s3cr3t", tenant="acme")
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = mcl.RequestLoggingMiddleware(app, request_id_factory=lambda: "rid-1")
    call(middleware, make_scope(path="/go/https://ann:hunter2@example.com/x"))
    line = access(out)
    assert line["level"] == "info"
    assert line["message"] == "GET /go/https://ann:***@example.com/x 201"
    assert line["http_path"] == "/go/https://ann:***@example.com/x"
    assert line["http_method"] == "GET"
    assert line["http_status"] == 201
    assert line["request_id"] == "rid-1"
    assert line["tenant"] == "acme"
    assert line["session_token"] == "[REDACTED]"
    assert line["client_ip"] == "[REDACTED]"
    assert isinstance(line["duration_ms"], float)
    assert "hunter2" not in out.text()
    assert "s3cr3t" not in out.text()


def test_line_without_client_and_5xx_line(configure: Callable[..., Output]) -> None:
    """No client: no client_ip field; a 5xx answer still logs at error level."""
    out = configure()
    call(mcl.RequestLoggingMiddleware(responder([])), make_scope(client=None))
    line = access(out)
    assert "client_ip" not in line
    assert line["level"] == "info"
    out.clear()
    call(mcl.RequestLoggingMiddleware(responder([], status=503)), make_scope())
    line = access(out)
    assert line["level"] == "error"
    assert line["client_ip"] == "10.0.0.9"


def test_context_bound_before_the_request_is_kept(configure: Callable[..., Output]) -> None:
    """An outer context is merged with the request id and restored afterwards."""
    out = configure()
    with mcl.log_context(job="outer"):
        call(mcl.RequestLoggingMiddleware(responder([])), make_scope())
        assert mcl.get_context() == {"job": "outer"}
    line = access(out)
    assert line["job"] == "outer"
    assert "request_id" in line
