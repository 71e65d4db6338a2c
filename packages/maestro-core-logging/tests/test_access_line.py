"""The common access line rendered directly is the line the generic path writes.

RequestLoggingMiddleware renders its common line (a response below 500, a client address,
only the request id in the context) straight through the JSON renderer. These tests run
the same request down both paths and compare the lines, and check that everything which
changes a line (redaction, processors, capture, levels, other formats) still takes the
generic path. No timing is asserted here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import maestro_core_logging as mcl
import pytest
from maestro_core_logging._config import STATE

if TYPE_CHECKING:
    from .conftest import Output


def make_scope(path: str = "/orders/7", headers: list[Any] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("10.0.0.9", 1234),
    }


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def run(app: Any, scope: dict[str, Any]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    asyncio.run(app(scope, receive, send))


def fixed_clock() -> Callable[[], float]:
    """A monotonic clock advancing 2.5 ms per reading: equal durations on both paths."""
    ticks = iter(range(10_000))
    return lambda: next(ticks) * 0.0025


def both_paths(out: Output, scope: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The access line of one request down the direct path, then down the generic one."""
    fast = mcl.RequestLoggingMiddleware(
        ok_app, monotonic=fixed_clock(), request_id_factory=lambda: "rid-1"
    )
    generic = mcl.RequestLoggingMiddleware(
        ok_app, monotonic=fixed_clock(), request_id_factory=lambda: "rid-1"
    )
    # Another (equal) logger object: the middleware no longer renders its line directly.
    generic.logger = mcl.get_logger("maestro.access")  # type: ignore[assignment]
    run(fast, dict(scope))
    run(generic, dict(scope))
    first, second = (line for line in out.lines() if line["logger"] == "maestro.access")
    return first, second


def spy_on_renderer(monkeypatch: pytest.MonkeyPatch) -> list[bytes | None]:
    renderer = STATE.json_renderer
    assert renderer is not None
    real = renderer.access_line
    calls: list[bytes | None] = []

    def spy(*args: Any, **kwargs: Any) -> bytes | None:
        line = real(*args, **kwargs)
        calls.append(line)
        return line

    monkeypatch.setattr(renderer, "access_line", spy)
    return calls


def same_line(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Equal fields in equal order; only the timestamps may differ."""
    assert list(first) == list(second)
    assert {**first, "timestamp": None} == {**second, "timestamp": None}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"environment": "production", "version": "1.4.2"},
        {"redact_keys": ()},
        {"extra_redact_keys": ("card_pin",)},
    ],
)
def test_the_direct_line_is_the_generic_line(
    configure: Callable[..., Output], monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    out = configure(**options)
    calls = spy_on_renderer(monkeypatch)
    first, second = both_paths(out, make_scope())
    assert len(calls) == 1
    assert calls[0] is not None  # the first request took the direct path
    same_line(first, second)
    assert first["message"] == "GET /orders/7 200"
    assert first["duration_ms"] == 2.5
    assert first["request_id"] == "rid-1"
    assert first["client_ip"] == "10.0.0.9"


def test_trace_ids_on_the_direct_line(
    configure: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    tracer = sdk_trace.TracerProvider().get_tracer("tests")
    out = configure()
    calls = spy_on_renderer(monkeypatch)
    with tracer.start_as_current_span("request") as span:
        first, second = both_paths(out, make_scope())
        context = span.get_span_context()
    assert calls
    assert calls[0] is not None
    same_line(first, second)
    assert first["trace_id"] == format(context.trace_id, "032x")
    assert first["span_id"] == format(context.span_id, "016x")


def test_url_credentials_in_the_path_or_the_id_are_masked(
    configure: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct path hands such lines back; the generic path masks the password."""
    out = configure()
    calls = spy_on_renderer(monkeypatch)
    middleware = mcl.RequestLoggingMiddleware(ok_app)
    run(middleware, make_scope(path="/go/https://ann:hunter2@example.com/x"))
    run(middleware, make_scope(headers=[(b"x-request-id", b"https://bob:pw123456@h/")]))
    assert calls == [None, None]
    first, second = out.lines()
    assert first["http_path"] == "/go/https://ann:***@example.com/x"
    assert first["message"] == "GET /go/https://ann:***@example.com/x 200"
    assert second["request_id"] == "https://bob:***@h/"
    assert "hunter2" not in out.text()
    assert "pw123456" not in out.text()


def test_a_masked_access_key_disables_the_direct_path(
    configure: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = configure(extra_redact_keys=("http_path",))
    calls = spy_on_renderer(monkeypatch)
    run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    assert calls == []
    assert out.lines()[0]["http_path"] == "[REDACTED]"


def test_processors_capture_levels_and_formats_take_the_generic_path(
    configure: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def processor(logger: Any, method_name: str, event: Any) -> Any:
        seen.append(dict(event))
        return event

    out = configure(processors=[processor])
    run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    assert seen
    assert seen[0]["http_status"] == 200
    assert out.lines()[0]["http_route"] == "/orders/7"

    out.clear()
    configure(logger_levels={"maestro.access": "warning"})
    run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    assert out.lines() == []

    out.clear()
    configure(level="warning", logger_levels={"maestro.access": "warning"})
    run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    assert out.lines() == []

    out.clear()
    configure(level="info", logger_levels={"maestro.access": "info"})
    with mcl.capture_logs() as events:
        run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    assert [e["http_status"] for e in events] == [200]
    assert out.lines() == []

    out.clear()
    configure(format="ecs")
    run(mcl.RequestLoggingMiddleware(ok_app), make_scope())
    (line,) = out.lines()
    assert line["http"]["response"]["status_code"] == 200
    assert line["log.level"] == "info"


def test_excluded_paths_write_nothing_on_the_direct_path(
    configure: Callable[..., Output],
) -> None:
    out = configure()
    run(mcl.RequestLoggingMiddleware(ok_app, exclude_paths=["/livez"]), make_scope("/livez"))
    assert out.lines() == []
