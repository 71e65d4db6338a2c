"""ServiceClient against real HTTP servers on free loopback ports."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from maestro_core_api import ConfigurationError, ServiceClient, UpstreamError, create_app
from maestro_core_logging import log_context
from maestro_resilience import CircuitBreaker, Retry
from maestro_testkit import FakeClock, free_port

from .conftest import serve

Plan = Callable[[BaseHTTPRequestHandler, int], tuple[int, dict[str, str], bytes]]


class Upstream:
    """A real HTTP server on 127.0.0.1; each request is answered by *plan(handler, n)*."""

    def __init__(self, plan: Plan) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                status, headers, payload = plan(self, len(owner.requests))
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (the timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(body: Any = None) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "application/json"}, json.dumps(body or {"ok": True}).encode()


def busy_then_ok(after: str = "1") -> Plan:
    def plan(handler: BaseHTTPRequestHandler, n: int) -> tuple[int, dict[str, str], bytes]:
        if n == 1:
            return 503, {"retry-after": after}, b"upstream secret stack trace"
        return ok()

    return plan


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def client_for(url: str, clock: FakeClock, **options: Any) -> ServiceClient:
    options.setdefault("retry", Retry(max_attempts=3, delay=0.0, sleep=clock.asleep))
    return ServiceClient(
        url, name="pricing", sleep=clock.asleep, monotonic=clock.monotonic, **options
    )


async def test_503_with_retry_after_is_retried_once_after_the_hint(clock: FakeClock) -> None:
    """A GET answered 503 + Retry-After: 1 is retried once, about one second later."""
    with Upstream(busy_then_ok("1")) as upstream:
        async with client_for(upstream.url, clock) as client:
            response = await client.get("/quotes/A-1")
    assert response.status_code == 200
    assert len(upstream.requests) == 2
    assert sum(clock.sleeps) == pytest.approx(1.0)


async def test_retry_after_as_http_date(clock: FakeClock) -> None:
    """An HTTP-date Retry-After in the past means no extra wait, but one retry."""
    with Upstream(busy_then_ok("Wed, 21 Oct 2015 07:28:00 GMT")) as upstream:
        async with client_for(upstream.url, clock) as client:
            response = await client.get("/x")
    assert response.status_code == 200
    assert len(upstream.requests) == 2
    assert sum(clock.sleeps) == 0


async def test_post_without_key_is_not_retried_with_key_it_is(clock: FakeClock) -> None:
    """POST is sent once without an Idempotency-Key; with one it is retried and the key sent."""
    with Upstream(busy_then_ok("0")) as upstream:
        async with client_for(upstream.url, clock) as client:
            plain = await client.post("/charges", json={"amount": 1})
    assert plain.status_code == 503
    assert len(upstream.requests) == 1
    with Upstream(busy_then_ok("0")) as upstream:
        async with client_for(upstream.url, clock) as client:
            keyed = await client.post("/charges", json={"amount": 1}, idempotency_key="k-1")
    assert keyed.status_code == 200
    assert [r["headers"]["Idempotency-Key"] for r in upstream.requests] == ["k-1", "k-1"]


async def test_request_id_and_traceparent_are_propagated(clock: FakeClock) -> None:
    """The request id bound in the logging context and the inbound traceparent are sent on."""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with Upstream(lambda h, n: ok()) as upstream:
        pricing = client_for(upstream.url, clock)
        app = create_app()

        @app.get("/quote")
        async def quote() -> dict[str, int]:
            return {"status": (await pricing.get("/q")).status_code}

        async with serve(app) as client:
            answer = await client.get(
                "/quote", headers={"X-Request-ID": "req-77", "traceparent": traceparent}
            )
        with log_context(request_id="job-5"):
            await pricing.get("/q")
        await pricing.close()
    assert answer.json() == {"status": 200}
    first, second = upstream.requests
    assert first["headers"]["X-Request-ID"] == "req-77"
    assert first["headers"]["traceparent"] == traceparent
    assert second["headers"]["X-Request-ID"] == "job-5"
    assert "traceparent" not in second["headers"]


async def test_credentials_not_forwarded_across_origins(clock: FakeClock) -> None:
    """A redirect to another origin drops Authorization and Cookie; same origin keeps them."""
    with Upstream(lambda h, n: ok()) as elsewhere:

        def plan(handler: BaseHTTPRequestHandler, n: int) -> tuple[int, dict[str, str], bytes]:
            if handler.path == "/away":
                return 302, {"location": elsewhere.url + "/landing"}, b""
            if handler.path == "/here":
                return 307, {"location": "/final"}, b""
            return ok()

        with Upstream(plan) as origin:
            async with client_for(origin.url, clock) as client:
                secret_headers = {"Authorization": "Bearer t0k3n", "Cookie": "sid=abc"}
                away = await client.get("/away", headers=secret_headers)
                here = await client.get("/here", headers=secret_headers)
                sync_away = client.sync.get("/away", headers=secret_headers)
                client.sync.close()
    assert away.status_code == here.status_code == sync_away.status_code == 200
    for landed in elsewhere.requests:
        assert "Authorization" not in landed["headers"]
        assert "Cookie" not in landed["headers"]
    final = [r for r in origin.requests if r["path"] == "/final"]
    assert final[0]["headers"]["Authorization"] == "Bearer t0k3n"


async def test_unreachable_upstream_is_a_502_problem_naming_it(clock: FakeClock) -> None:
    """Connect errors are retried, then UpstreamError; the app answers a 502 problem."""
    pricing = client_for(f"http://127.0.0.1:{free_port()}", clock)
    with pytest.raises(UpstreamError) as info:
        await pricing.get("/q")
    assert info.value.status_code == 502
    assert "pricing" in str(info.value)
    app = create_app()

    @app.get("/quote")
    async def quote() -> int:
        return (await pricing.get("/q")).status_code

    async with serve(app) as client:
        answer = await client.get("/quote")
    await pricing.close()
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["upstream"] == "pricing"
    assert answer.json()["code"] == "upstream-error"


async def test_timeout_is_a_504_and_body_never_leaks(clock: FakeClock) -> None:
    """A read timeout becomes a 504 UpstreamError; an upstream error body is not in it."""
    import time as _time

    def slow(handler: BaseHTTPRequestHandler, n: int) -> tuple[int, dict[str, str], bytes]:
        _time.sleep(0.3)
        return ok()

    with Upstream(slow) as upstream:
        async with client_for(upstream.url, clock, timeout=0.05, retry=False) as client:
            with pytest.raises(UpstreamError) as info:
                await client.get("/slow")
    assert info.value.status_code == 504
    assert info.value.to_dict()["code"] == "upstream-timeout"


async def test_breaker_opens_and_short_circuits(clock: FakeClock) -> None:
    """After failures the breaker opens; the next call fails fast as UpstreamError."""
    with Upstream(lambda h, n: (503, {}, b"")) as upstream:
        breaker = CircuitBreaker(failure_threshold=2, timeout=30, name="pricing")
        async with client_for(upstream.url, clock, breaker=breaker, retry=False) as client:
            assert (await client.get("/a")).status_code == 503
            assert (await client.get("/a")).status_code == 503
            with pytest.raises(UpstreamError, match="circuit breaker open"):
                await client.get("/a")
    assert len(upstream.requests) == 2


def test_sync_twin_retries(clock: FakeClock) -> None:
    """client.sync.get retries a 503 like the async verb."""
    with Upstream(busy_then_ok("0")) as upstream:
        client = client_for(upstream.url, clock, retry=Retry(max_attempts=2, delay=0.0))
        assert client.sync.get("/x").status_code == 200
        client.sync.close()
    assert len(upstream.requests) == 2


def test_bad_arguments() -> None:
    """A base URL without scheme and a non-positive timeout are configuration errors."""
    with pytest.raises(ConfigurationError, match="base_url"):
        ServiceClient("pricing.internal")
    with pytest.raises(ConfigurationError, match="timeout"):
        ServiceClient("http://pricing.internal", timeout=0)


async def test_bad_request_arguments_are_configuration_errors(clock: FakeClock) -> None:
    """A request httpx cannot build is a ConfigurationError naming the upstream."""
    client = client_for("http://127.0.0.1:9", clock)
    with pytest.raises(ConfigurationError, match="pricing"):
        await client.post("/x", json={"when": object()})
    await client.close()
