"""maestro-core-api against bare FastAPI, BaseHTTPMiddleware, `limits` and bare httpx.

Measures (issue 19), each side by side in interleaved rounds, medians printed with ratios:

1. Throughput of ``GET /ping`` with wrk on loopback (``-t1 -c16``) against a real uvicorn,
   with the h11 and the httptools protocol: the default ``create_app`` stack (request id +
   access log, metrics, problems, security headers, GZip, body limit, timeout) versus bare
   FastAPI (aim >= 0.90x) and versus the same stack built from ``BaseHTTPMiddleware``
   (aim >= 1.7x on h11, >= 2.5x on httptools). Without wrk on PATH a small asyncio
   load generator (16 keep-alive connections) takes its place and says so.
   Every round runs wrk once against each app in turn; the per-round ratios are printed
   with their range, as the shared machine's load moves them. The strict anchor runs bare
   FastAPI with uvicorn's access log off, while create_app writes its own access line; a
   second anchor, printed on its own line, is bare FastAPI as uvicorn runs it by default
   (its access line per request, to the same /dev/null).
1b. CPU time per ``GET /ping`` in process (no server, no client: the ASGI apps driven
   directly, one task per request as uvicorn runs them, lifespans entered), bare FastAPI
   versus ``create_app``, and what each layer of the stack costs on its own around a
   minimal app. A steadier figure than wrk on a shared machine, and the breakdown of
   where the stack's microseconds go.
2. A 404 answered as a problem versus FastAPI's default 404: server CPU time per
   request, driving the ASGI apps directly (aim <= 1.1x).
3. A memory rate-limit check (GCRA) versus the ``limits`` library's moving window
   (aim: >= 2x faster and <= 3 us per check).
4. ``ServiceClient.get`` versus bare ``httpx.AsyncClient.get`` against a uvicorn on
   loopback (aim <= 1.05x).

Server and client cases report medians of interleaved rounds; the in-process micro cases
(2, 3) the best of ten interleaved short loops, the figure least disturbed by other
processes. Before timing, the stack's behaviour is checked (a valid request id echoed, an invalid
one replaced, exactly one header). Timings are noisy on a shared machine; rerun before
drawing conclusions.

5. (``--instructions``) Instructions per ``GET /ping`` the uvicorn process executes, counted
   by valgrind's callgrind (independent of the machine's load), for bare FastAPI, bare
   FastAPI sending only the seven response headers the stack adds, ``create_app``, and
   bare FastAPI with uvicorn's default access log: the throughput bound of section 1, and
   what the headers alone cost the server.

Run: python benchmarks/api.py [--quick] [--cpu | --instructions]   (--quick: 1 round of
2 s per server case; --cpu: only the in-process CPU figures: 404 and per-request stack;
--instructions: only section 5, about ten minutes under valgrind)
Internal: python benchmarks/api.py --serve VARIANT PORT HTTP
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

QUICK = "--quick" in sys.argv
ROUNDS = 1 if QUICK else 5
DURATION = 2 if QUICK else 5
CONNECTIONS = 16


# ---- the apps ----------------------------------------------------------------------


def _quiet_logging() -> None:
    from maestro_core_logging import configure_logging

    configure_logging(service="bench", format="json", stream=io.StringIO(), level="info")


def _devnull_logging() -> None:
    from maestro_core_logging import configure_logging

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the server process
    configure_logging(service="bench", format="json", stream=sink, level="info")


def bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    return app


def stack_app() -> Any:
    from maestro_core_api import create_app

    app = create_app(title="bench", version="1.0.0")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    return app


def basehttp_app() -> Any:
    """The same stack's work done by BaseHTTPMiddleware layers (what people write)."""
    import uuid

    from fastapi import FastAPI, Request, Response
    from maestro_core_logging import bind_context, get_logger, unbind_context
    from maestro_monitoring import MetricsManager
    from prometheus_client import CollectorRegistry
    from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
    from starlette.responses import JSONResponse

    access = get_logger("maestro.access")
    metrics = MetricsManager(registry=CollectorRegistry())
    duration = metrics.histogram(
        "http_server_request_duration_seconds",
        "Duration of HTTP server requests",
        labels=("http_request_method", "http_route", "http_response_status_code"),
    )

    class RequestIdAndAccessLog(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            incoming = request.headers.get("x-request-id", "")
            ok = 0 < len(incoming) <= 128 and re.fullmatch(r"[A-Za-z0-9._:@/+=-]+", incoming)
            request_id = incoming if ok else uuid.uuid4().hex
            bind_context(request_id=request_id)
            started = time.perf_counter()
            try:
                response = await call_next(request)
            finally:
                unbind_context("request_id")
            response.headers["X-Request-ID"] = request_id
            access.info(
                f"{request.method} {request.url.path} {response.status_code}",
                http_method=request.method,
                http_path=request.url.path,
                http_status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            return response

    class Metrics(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            started = time.perf_counter()
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", request.url.path)
            duration.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started
            )
            return response

    class Problems(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            try:
                return await call_next(request)
            except Exception:
                return JSONResponse(
                    {"type": "about:blank", "title": "Internal Server Error", "status": 500},
                    status_code=500,
                    media_type="application/problem+json",
                )

    class SecurityHeaders(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Content-Security-Policy"] = "default-src 'none'"
            return response

    class LimitsAndTimeout(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if int(request.headers.get("content-length") or 0) > 10 * 2**20:
                return JSONResponse({"status": 413}, status_code=413)
            return await asyncio.wait_for(call_next(request), 30.0)

    app = FastAPI()
    for layer in (LimitsAndTimeout, SecurityHeaders, Problems, Metrics, RequestIdAndAccessLog):
        app.add_middleware(layer)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "ok"}

    return app


def headers_app() -> Any:
    """Bare FastAPI plus only the seven response headers create_app's stack adds (the
    five security headers, the API content security policy and a 32-hex request id), as
    static bytes from one pure-ASGI layer: what the server pays for the headers alone."""
    from maestro_core_api._middleware import _API_CSP, DEFAULT_SECURITY_HEADERS

    app = bare_app()
    added = [
        *(
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in DEFAULT_SECURITY_HEADERS.items()
        ),
        (b"content-security-policy", _API_CSP),
        (b"x-request-id", b"0123456789abcdef0123456789abcdef"),
    ]

    async def with_headers(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        def send_with_headers(message: Any) -> Any:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            return send(message)

        await app(scope, receive, send_with_headers)

    return with_headers


VARIANTS: dict[str, Callable[[], Any]] = {
    "bare": bare_app,
    "stack": stack_app,
    "basehttp": basehttp_app,
}
# Not part of the wrk rounds: the instruction-count case's middle anchor.
HEADERS_ONLY = "bare+headers"
# Bare FastAPI again, with uvicorn's default access log on (the strict anchor above runs it
# with access_log=False, while create_app writes its own access line): a second anchor.
UVICORN_LOG = "bare+uvicorn-access-log"


def serve(variant: str, port: int, http: str) -> None:
    """Run one app under uvicorn (a child process of the benchmark)."""
    import uvicorn

    if variant == UVICORN_LOG:
        # Bare FastAPI as `uvicorn app:app` runs it: uvicorn's default logging, its access
        # line per request on stdout (/dev/null here, the device the stack's sink writes to).
        uvicorn.run(bare_app(), host="127.0.0.1", port=port, http=http)
        return
    _devnull_logging()
    uvicorn.run(
        headers_app() if variant == HEADERS_ONLY else VARIANTS[variant](),
        host="127.0.0.1",
        port=port,
        http=http,
        log_level="warning",
        access_log=False,
        log_config=None,
    )


# ---- server throughput -------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    def __init__(self, variant: str, http: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", variant, str(self.port), http],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/ping", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{variant} server did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def wrk(url: str, duration: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no rate: {out}")
    return float(match.group(1))


async def _python_load(url: str, duration: int) -> float:
    """16 keep-alive HTTP/1.1 connections sending GETs back to back (wrk's stand-in)."""
    host, port = "127.0.0.1", int(url.rsplit(":", 1)[1].split("/", 1)[0])
    path = "/" + url.rsplit(":", 1)[1].split("/", 1)[1]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    stop = time.monotonic() + duration
    counts = [0] * CONNECTIONS

    async def worker(i: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.monotonic() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            counts[i] += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(CONNECTIONS)))
    return sum(counts) / (time.monotonic() - started)


def load(url: str, duration: int) -> float:
    if shutil.which("wrk"):
        return wrk(url, duration)
    return asyncio.run(_python_load(url, duration))


def check_behaviour(url: str) -> None:
    import httpx

    good = httpx.get(url, headers={"X-Request-ID": "bench-1"})
    bad = httpx.get(url, headers={"X-Request-ID": "<script>"})
    assert good.headers.get_list("x-request-id") == ["bench-1"], good.headers
    ids = bad.headers.get_list("x-request-id")
    assert len(ids) == 1, ids
    assert ids[0] != "<script>", ids


def throughput() -> None:
    if shutil.which("wrk"):
        tool = "wrk -t1 on loopback"
    else:
        tool = "a Python asyncio load generator (wrk is not on PATH: install it for real figures)"
    print(f"GET /ping throughput, {tool}, {CONNECTIONS} connections, {DURATION}s x {ROUNDS}")
    variants = [*VARIANTS, UVICORN_LOG]
    for http in ("h11", "httptools"):
        children = {variant: Child(variant, http) for variant in variants}
        try:
            check_behaviour(children["stack"].url + "/ping")
            for child in children.values():  # warm up: imports, first requests
                load(child.url + "/ping", 1)
            rates: dict[str, list[float]] = {v: [] for v in variants}
            for _ in range(ROUNDS):
                for variant, child in children.items():
                    rates[variant].append(load(child.url + "/ping", DURATION))
        finally:
            for child in children.values():
                child.close()
        median = {v: statistics.median(r) for v, r in rates.items()}
        vs_bare = [s / b for s, b in zip(rates["stack"], rates["bare"], strict=True)]
        vs_base = [s / b for s, b in zip(rates["stack"], rates["basehttp"], strict=True)]
        vs_logged = [s / b for s, b in zip(rates["stack"], rates[UVICORN_LOG], strict=True)]
        print(
            f"  {http:9s} bare {median['bare']:8.0f} req/s | create_app {median['stack']:8.0f}"
            f" | BaseHTTP stack {median['basehttp']:8.0f}   (medians)"
        )
        print(
            f"  {http:9s} create_app / bare = {statistics.median(vs_bare):.2f}x"
            f" (rounds {min(vs_bare):.2f}-{max(vs_bare):.2f}; aim >= 0.90)"
            f"; create_app / BaseHTTP = {statistics.median(vs_base):.2f}x"
            f" (rounds {min(vs_base):.2f}-{max(vs_base):.2f};"
            f" aim >= {1.7 if http == 'h11' else 2.5})"
        )
        print(
            f"  {http:9s} anchor with uvicorn's default access log (bare FastAPI, one"
            f" uvicorn access line per request to the same /dev/null): {median[UVICORN_LOG]:.0f}"
            f" req/s; create_app / it = {statistics.median(vs_logged):.2f}x"
            f" (rounds {min(vs_logged):.2f}-{max(vs_logged):.2f}; the aim is set on the"
            f" strict anchor above)"
        )


# ---- instructions per request under uvicorn ---------------------------------------


def _instructions_per_request(variant: str, protocol: str, requests: int) -> float:
    """Instructions (callgrind's Ir) the uvicorn process serving *variant* executes per
    ``GET /ping``: 300 warm-up requests, counters zeroed, *requests* keep-alive GETs on one
    connection, counters dumped. Independent of the machine's load, unlike wrk."""
    import tempfile
    from pathlib import Path

    import _callgrind

    with tempfile.TemporaryDirectory(prefix="maestro-api-callgrind-") as directory:
        out = str(Path(directory) / "callgrind.out")
        port = _free_port()
        server = subprocess.Popen(
            [
                *_callgrind.valgrind_prefix(out),
                sys.executable,
                __file__,
                "--serve",
                variant,
                str(port),
                protocol,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _callgrind.wait_for_port(server, port, 600, variant)
        return _callgrind.instructions_per_request(server, port, out, requests)


def instructions() -> None:
    """The throughput bound wrk cannot give steadily on a shared machine: instructions the
    server executes per request for bare FastAPI, bare FastAPI sending only the seven
    response headers the stack adds, and create_app's stack."""
    import _callgrind

    print("Instructions per GET /ping under uvicorn (valgrind callgrind, 1,000 requests)")
    if not _callgrind.available():
        print("  valgrind is not installed: skipped (Debian package valgrind)")
        return
    for http in ("h11", "httptools"):
        counts = {
            variant: _instructions_per_request(variant, http, 1_000)
            for variant in ("bare", HEADERS_ONLY, "stack", UVICORN_LOG)
        }
        bare, headers, stack = counts["bare"], counts[HEADERS_ONLY], counts["stack"]
        logged = counts[UVICORN_LOG]
        print(
            f"  {http:9s} bare {bare / 1e3:.1f}k | bare + the stack's 7 response headers"
            f" {headers / 1e3:.1f}k (+{(headers - bare) / 1e3:.1f}k) | create_app"
            f" {stack / 1e3:.1f}k (+{(stack - bare) / 1e3:.1f}k)"
        )
        print(
            f"  {http:9s} bound bare / create_app = {bare / stack:.3f}x (aim >= 0.90);"
            f" the headers alone: bare / (bare + headers) = {bare / headers:.3f}x;"
            f" (bare + headers) / create_app = {headers / stack:.3f}x"
        )
        print(
            f"  {http:9s} bare FastAPI with uvicorn's default access log {logged / 1e3:.1f}k"
            f" (+{(logged - bare) / 1e3:.1f}k): it / create_app = {logged / stack:.3f}x"
        )


# ---- CPU per request in process ----------------------------------------------------


def _ping_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ping",
        "raw_path": b"/ping",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
    }


async def _cpu_per_request(app: Any, n: int) -> float:
    """CPU seconds per request, each request in its own task as a server runs it."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    loop = asyncio.get_running_loop()
    started = time.process_time()
    for _ in range(n):
        await loop.create_task(app(_ping_scope(), receive, send))
    return (time.process_time() - started) / n


async def _minimal(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"13")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"pong":"ok"}'})


def _layers() -> dict[str, Any]:
    """Each layer of create_app's stack alone around a minimal app, as create_app sets it."""
    from maestro_core_api._app import PROBE_PATHS, new_request_id
    from maestro_core_api._stack import (
        CoreMiddleware,
        GZipWhenAccepted,
        LimitsMiddleware,
        ServiceMiddleware,
        core_options,
    )
    from maestro_core_logging import RequestLoggingMiddleware
    from maestro_monitoring import MetricsManager, MetricsMiddleware
    from prometheus_client import CollectorRegistry

    return {
        "minimal app": _minimal,
        "+ request id & access line (core-logging)": RequestLoggingMiddleware(
            _minimal, exclude_paths=PROBE_PATHS, request_id_factory=new_request_id
        ),
        "+ RED metrics (maestro-monitoring)": MetricsMiddleware(
            _minimal,
            metrics=MetricsManager(registry=CollectorRegistry()),
            exclude_paths=tuple(sorted(PROBE_PATHS)),
        ),
        "+ problems & security headers": CoreMiddleware(_minimal, **core_options(None, True)),
        "+ gzip gate (no Accept-Encoding)": GZipWhenAccepted(_minimal, minimum_size=1000),
        "+ body limit & timeout": LimitsMiddleware(
            _minimal, max_body_bytes=10 * 2**20, timeout=30.0, exclude_paths=PROBE_PATHS
        ),
        # create_app's default: the three above as one layer (no CORS between them).
        "+ the three above as one (ServiceMiddleware)": ServiceMiddleware(
            _minimal,
            core=core_options(None, True),
            limits={
                "max_body_bytes": 10 * 2**20,
                "timeout": 30.0,
                "exclude_paths": PROBE_PATHS,
            },
            gzip_minimum_size=1000,
        ),
    }


def cpu_per_request() -> None:
    import contextlib

    rounds = 3 if QUICK else 9
    n = 1000 if QUICK else 3000

    async def run() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        apps = {"bare": bare_app(), "stack": stack_app()}
        layers = _layers()
        async with contextlib.AsyncExitStack() as lifespans:
            for app in apps.values():
                await lifespans.enter_async_context(app.router.lifespan_context(app))
            for app in [*apps.values(), *layers.values()]:  # warm up
                await _cpu_per_request(app, 500)
            whole: dict[str, list[float]] = {name: [] for name in apps}
            alone: dict[str, list[float]] = {name: [] for name in layers}
            for _ in range(rounds):  # interleaved: load changes hit every case alike
                for name, app in apps.items():
                    whole[name].append(await _cpu_per_request(app, n))
                for name, app in layers.items():
                    alone[name].append(await _cpu_per_request(app, n))
        return whole, alone

    whole, alone = _event_loop_run(run())
    bare, stack = min(whole["bare"]), min(whole["stack"])
    ratios = [b / s for b, s in zip(whole["bare"], whole["stack"], strict=True)]
    print(
        f"CPU per GET /ping in process (best of {rounds} interleaved rounds): bare FastAPI"
        f" {bare * 1e6:.1f} us | create_app {stack * 1e6:.1f} us (+{(stack - bare) * 1e6:.1f} us)"
        f" -> bare / create_app = {bare / stack:.2f}x"
        f" (rounds {min(ratios):.2f}-{max(ratios):.2f})"
    )
    base = min(alone["minimal app"])
    for name, values in alone.items():
        if name == "minimal app":
            print(f"  {name:44s} {base * 1e6:6.2f} us")
        else:
            print(f"  {name:44s} {(min(values) - base) * 1e6:+6.2f} us")


def _event_loop_run(coro: Any) -> Any:
    """Run *coro* on uvloop when installed (uvicorn's default loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# ---- 404 in process ----------------------------------------------------------------

Scope = MutableMapping[str, Any]


async def _asgi_call(app: Callable[[Any, Any, Any], Awaitable[None]], path: str) -> int:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, send)
    return status


async def _per_request_us(app: Any, path: str, n: int) -> float:
    """CPU microseconds per request (time the scheduler gave to others is not counted)."""
    started = time.process_time()
    for _ in range(n):
        await _asgi_call(app, path)
    return (time.process_time() - started) / n * 1e6


def not_found() -> None:
    from fastapi import FastAPI
    from maestro_core_api._problem import install_problem_handlers

    default, problem = FastAPI(), FastAPI()
    install_problem_handlers(problem)
    for app in (default, problem):

        @app.get("/ping")
        async def ping() -> dict[str, str]:
            return {"pong": "ok"}

    async def run() -> tuple[list[float], list[float]]:
        assert await _asgi_call(default, "/nope") == 404
        assert await _asgi_call(problem, "/nope") == 404
        n = 2000 if QUICK else 5000
        a: list[float] = []
        b: list[float] = []
        for _ in range(10):
            a.append(await _per_request_us(default, "/nope", n // 5))
            b.append(await _per_request_us(problem, "/nope", n // 5))
        return a, b

    a, b = asyncio.run(run())
    default_us, problem_us = min(a), min(b)
    ratios = [y / x for x, y in zip(a, b, strict=True)]
    print(
        f"404 (CPU per request, best of 10): FastAPI default {default_us:.1f} us | problem+json"
        f" {problem_us:.1f} us -> {problem_us / default_us:.2f}x"
        f" (rounds {min(ratios):.2f}-{max(ratios):.2f}; aim <= 1.10)"
    )


# ---- rate-limit check --------------------------------------------------------------


def rate_limit() -> None:
    from limits import RateLimitItemPerMinute
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter
    from maestro_core_api import RateLimit

    ours = RateLimit("1000000/minute")
    limiter = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerMinute(1_000_000)
    keys = [f"ip:10.0.0.{i}" for i in range(100)]
    n = 5_000 if QUICK else 20_000

    def time_ours() -> float:
        check = ours.check
        started = time.perf_counter()
        for i in range(n):
            check(keys[i % 100])
        return (time.perf_counter() - started) / n * 1e6

    def time_limits() -> float:
        hit = limiter.hit
        started = time.perf_counter()
        for i in range(n):
            hit(item, keys[i % 100])
        return (time.perf_counter() - started) / n * 1e6

    a: list[float] = []
    b: list[float] = []
    for _ in range(10):
        a.append(time_ours())
        b.append(time_limits())
    ours_us, limits_us = min(a), min(b)
    print(
        f"rate-limit check: ours (GCRA, memory) {ours_us:.2f} us (aim <= 3) | limits moving "
        f"window {limits_us:.2f} us -> limits / ours = {limits_us / ours_us:.1f}x (aim >= 2)"
    )


# ---- ServiceClient -----------------------------------------------------------------


def service_client() -> None:
    import httpx
    from maestro_core_api import ServiceClient

    child = Child("bare", "httptools")
    n = 300 if QUICK else 1000

    async def run() -> tuple[float, float]:
        bare = httpx.AsyncClient(base_url=child.url, timeout=5.0)
        ours = ServiceClient(child.url, name="bench", timeout=5.0)
        await bare.get("/ping")
        await ours.get("/ping")

        async def timed(get: Callable[[str], Awaitable[httpx.Response]]) -> float:
            started = time.perf_counter()
            for _ in range(n):
                await get("/ping")
            return (time.perf_counter() - started) / n * 1e6

        a: list[float] = []
        b: list[float] = []
        for _ in range(max(ROUNDS, 3)):
            a.append(await timed(bare.get))
            b.append(await timed(ours.get))
        await bare.aclose()
        await ours.close()
        return statistics.median(a), statistics.median(b)

    try:
        bare_us, ours_us = asyncio.run(run())
    finally:
        child.close()
    print(
        f"outbound GET: httpx.AsyncClient {bare_us:.0f} us | ServiceClient {ours_us:.0f} us"
        f" -> {ours_us / bare_us:.3f}x (aim <= 1.05)"
    )


def main() -> None:
    if "--serve" in sys.argv:
        at = sys.argv.index("--serve")
        serve(sys.argv[at + 1], int(sys.argv[at + 2]), sys.argv[at + 3])
        return
    _quiet_logging()
    if "--instructions" in sys.argv:
        _devnull_logging()
        instructions()
        return
    if "--cpu" in sys.argv:
        not_found()
        _devnull_logging()
        cpu_per_request()
        return
    rate_limit()
    not_found()
    service_client()
    _devnull_logging()
    cpu_per_request()
    throughput()


if __name__ == "__main__":
    main()
