"""maestro-monitoring against the prometheus_client / OpenTelemetry ways of doing the same work.

Cases (issue 15; interleaved rounds in this one process, medians printed with the ratio):

1. RED work per request: our MetricsMiddleware around a trivial ASGI app, against a
   hand-written middleware doing the same raw pre-bound prometheus_client operations
   (the floor) and against a middleware calling ``.labels()`` on every request (what
   prometheus-fastapi-instrumentator and starlette-exporter do). Added cost = wrapped - bare.
   Aims: <= 3 us, <= 1.5x raw pre-bound, >= 2x faster than ``.labels()`` per request.
2. ``counter(...).labels(...).inc()`` through our wrapper (cached child) against
   prometheus_client's own ``.labels(...).inc()``, and a held child against a raw one.
3. Exposition of 1,000 counter series: ``render`` against ``generate_latest`` with
   ``_created`` off (and on). Aim: <= 1.0x.
4. A traced request that is sampled out: extra cost of ``TracingManager.instrument_app``
   (sample_ratio=0) over the bare app; aim <= 2 us. The OpenTelemetry ASGI middleware alone,
   sampled out, is printed as the anchor. Then the same for a request whose ``traceparent``
   says "not sampled" (what most requests carry behind a sampling edge), both sides given
   the same header.
5. Multiprocess scrape with 200 dead-worker files: after our compaction against no dead
   files (aim <= 1.2x); prometheus_client's MultiProcessCollector + generate_latest on the
   uncompacted directory and on the one without dead files, for reference.
6. Middleware throughput with wrk: FastAPI /ping on uvicorn (a subprocess per app), bare
   and with MetricsMiddleware, interleaved rounds that alternate which goes first (skipped
   when wrk is not installed). Aim: >= 0.95x bare.

6b. (``--callgrind``) The same two apps under valgrind's callgrind: instructions the server
   executes per request, counted (not timed) over 1,000 keep-alive requests after 300
   warm-up ones, so the figure does not move with the machine's load; bare / ours is the
   throughput ratio an instruction-bound server would show.

Run: python benchmarks/monitoring.py [--quick] [--callgrind | --callgrind-only]
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from maestro_monitoring import DEFAULT_BUCKETS, MetricsManager, MetricsMiddleware, TracingManager
from maestro_monitoring._exposition import render
from maestro_monitoring._multiprocess import FilesCollector
from maestro_monitoring.multiprocess import mark_process_dead
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 15
REQUESTS = 2_000 if QUICK else 10_000

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


def median_interleaved(
    cases: dict[str, Callable[[], float]], rounds: int = ROUNDS
) -> dict[str, float]:
    """Run every case once per round, in turn; the median of each case's per-op times."""
    seen: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            seen[name].append(case())
    return {name: statistics.median(values) for name, values in seen.items()}


def show(label: str, value: float, unit: str = "us") -> None:
    print(f"  {label:<58} {value:10.3f} {unit}")


# -- 1. RED work per request -------------------------------------------------------------------


class _Route:
    path = "/orders/{order_id}"


ROUTE = _Route()


async def endpoint(scope: Scope, receive: Any, send: Any) -> None:
    scope["route"] = ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class RawPreBound:
    """The floor: the same middleware shape (status captured from ``send``) with the raw
    prometheus_client children bound once at start-up and no route lookup at all."""

    def __init__(self, app: ASGI, registry: CollectorRegistry) -> None:
        self.app = app
        hist = Histogram(
            "raw_duration_seconds",
            "d",
            ["method", "route", "status"],
            registry=registry,
            buckets=DEFAULT_BUCKETS,  # the same bounds as ours, said rather than assumed
        )
        gauge = Gauge("raw_active", "a", ["method"], registry=registry)
        self.child = hist.labels("GET", "/orders/{order_id}", "200")
        self.active = gauge.labels("GET")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        status = 500

        async def wrapped(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.active.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, wrapped)
        finally:
            self.active.dec()
            self.child.observe(time.perf_counter() - start)


class LabelsPerRequest:
    """What the common middlewares do: ``.labels()`` on every request."""

    def __init__(self, app: ASGI, registry: CollectorRegistry) -> None:
        self.app = app
        self.hist = Histogram(
            "lbl_duration_seconds",
            "d",
            ["method", "route", "status"],
            registry=registry,
            buckets=DEFAULT_BUCKETS,
        )
        self.gauge = Gauge("lbl_active", "a", ["method"], registry=registry)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        status = 500

        async def wrapped(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"]
        self.gauge.labels(method).inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, wrapped)
        finally:
            self.gauge.labels(method).dec()
            route = getattr(scope.get("route"), "path", scope["path"])
            self.hist.labels(method, route, str(status)).observe(time.perf_counter() - start)


async def _noop_send(message: MutableMapping[str, Any]) -> None:
    return None


async def _noop_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def per_request_us(app: ASGI, headers: list[tuple[bytes, bytes]] | None = None) -> float:
    """Microseconds per request of ``app`` driven directly (no server, no sockets)."""

    async def loop() -> float:
        scope_headers = headers or []
        start = time.perf_counter()
        for _ in range(REQUESTS):
            scope: Scope = {
                "type": "http",
                "method": "GET",
                "path": "/orders/7",
                "headers": scope_headers,
                "query_string": b"",
            }
            await app(scope, _noop_receive, _noop_send)
        return (time.perf_counter() - start) / REQUESTS * 1e6

    return asyncio.run(loop())


def red_case() -> dict[str, float]:
    registry = CollectorRegistry()
    ours = MetricsMiddleware(endpoint, metrics=MetricsManager(registry=registry, enabled=True))
    raw = RawPreBound(endpoint, registry)
    labels = LabelsPerRequest(endpoint, registry)
    times = median_interleaved(
        {
            "bare": lambda: per_request_us(endpoint),
            "ours": lambda: per_request_us(ours),
            "raw": lambda: per_request_us(raw),
            "labels": lambda: per_request_us(labels),
        }
    )
    added = {k: times[k] - times["bare"] for k in ("ours", "raw", "labels")}
    print("1. RED work per request (added over the bare ASGI call, median)")
    show("bare ASGI call", times["bare"])
    show("MetricsMiddleware (ours)", added["ours"])
    show("raw pre-bound prometheus_client ops (hand-written floor)", added["raw"])
    show(".labels() per request middleware (instrumentator style)", added["labels"])
    show("ratio ours / raw pre-bound (aim <= 1.5)", added["ours"] / added["raw"], "x")
    show("speed-up over .labels() per request (aim >= 2)", added["labels"] / added["ours"], "x")
    return added


# -- 2. counter through the wrapper ----------------------------------------------------------


def loop_ns(fn: Callable[[], object], calls: int = 50_000) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls


def counter_case() -> None:
    registry = CollectorRegistry()
    ours = MetricsManager(registry=registry, enabled=True).counter(
        "ours_total", "o", labels=["channel"]
    )
    raw = Counter("raw_total", "r", ["channel"], registry=registry)
    held_ours = ours.labels(channel="web")
    held_raw = raw.labels(channel="web")
    times = median_interleaved(
        {
            "ours labels+inc": lambda: loop_ns(lambda: ours.labels(channel="web").inc()),
            "raw labels+inc": lambda: loop_ns(lambda: raw.labels(channel="web").inc()),
            "ours held": lambda: loop_ns(held_ours.inc),
            "raw held": lambda: loop_ns(held_raw.inc),
        }
    )
    print("2. counter inc")
    show("ours: counter.labels(channel='web').inc() (cached child)", times["ours labels+inc"], "ns")
    show("prometheus_client: .labels(channel='web').inc()", times["raw labels+inc"], "ns")
    show("ours: held child .inc()", times["ours held"], "ns")
    show("prometheus_client: held child .inc()", times["raw held"], "ns")
    show(
        "ratio ours cached / raw held child (aim <= 1.2)",
        times["ours labels+inc"] / times["raw held"],
        "x",
    )
    show("ratio ours held / raw held", times["ours held"] / times["raw held"], "x")
    show(
        "ratio ours / prometheus_client, both calling .labels()",
        times["ours labels+inc"] / times["raw labels+inc"],
        "x",
    )


# -- 3. exposition -----------------------------------------------------------------------------


def exposition_case() -> None:
    import prometheus_client.metrics as pm

    registry = CollectorRegistry()
    metrics = MetricsManager(registry=registry, enabled=True)
    for family in range(10):
        c = metrics.counter(f"family_{family}_total", "A family", labels=["route", "status"])
        for series in range(100):
            c.labels(f"/route/{series}", "200").inc(series)

    def timed(fn: Callable[[], object], calls: int = 5 if QUICK else 20) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls * 1000

    def theirs_created_off() -> float:
        pm._use_created = False
        try:
            return timed(lambda: generate_latest(registry))
        finally:
            pm._use_created = True

    times = median_interleaved(
        {
            "ours": lambda: timed(lambda: render(registry)),
            "off": theirs_created_off,
            "on": lambda: timed(lambda: generate_latest(registry)),
        }
    )
    print("3. exposition of 1,000 counter series")
    show("ours: render() (text 0.0.4, _created off)", times["ours"], "ms")
    show("generate_latest, _created off", times["off"], "ms")
    show("generate_latest, _created on (the default)", times["on"], "ms")
    show(
        "ratio ours / generate_latest _created off (aim <= 1.0)", times["ours"] / times["off"], "x"
    )


# -- 4. sampled-out traced request -----------------------------------------------------------


def tracing_case() -> None:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    manager = TracingManager("bench", exporter=InMemorySpanExporter(), sample_ratio=0.0)
    manager.start()
    ours = manager.instrument_app(endpoint)
    anchor = OpenTelemetryMiddleware(
        endpoint, tracer_provider=manager.provider, exclude_spans=["receive", "send"]
    )
    parent = [(b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")]
    times = median_interleaved(
        {
            "bare": lambda: per_request_us(endpoint),
            "ours": lambda: per_request_us(ours),
            "anchor": lambda: per_request_us(anchor),
            "bare parent": lambda: per_request_us(endpoint, parent),
            "ours parent": lambda: per_request_us(ours, parent),
            "anchor parent": lambda: per_request_us(anchor, parent),
        }
    )
    manager.shutdown()
    print("4. traced request, sampled out (added over the bare ASGI call)")
    show("ours: instrument_app, sample_ratio=0 (aim <= 2 us)", times["ours"] - times["bare"])
    show("OpenTelemetry ASGI middleware alone, sampled out", times["anchor"] - times["bare"])
    show(
        "ratio anchor / ours",
        (times["anchor"] - times["bare"]) / max(times["ours"] - times["bare"], 1e-9),
        "x",
    )
    ours_parent = times["ours parent"] - times["bare parent"]
    anchor_parent = times["anchor parent"] - times["bare parent"]
    show("ours: incoming traceparent not sampled", ours_parent)
    show("OpenTelemetry ASGI middleware alone, same traceparent", anchor_parent)
    show("ratio anchor / ours, unsampled parent", anchor_parent / max(ours_parent, 1e-9), "x")


# -- 5. multiprocess scrape ------------------------------------------------------------------


def _write_worker(directory: Path, pid: int, routes: int) -> None:
    """A worker's files: one counter and one histogram file, in prometheus_client's format."""
    mmap_dict: Any = importlib.import_module("prometheus_client.mmap_dict")
    counter = mmap_dict.MmapedDict(str(directory / f"counter_{pid}.db"))
    histogram = mmap_dict.MmapedDict(str(directory / f"histogram_{pid}.db"))
    try:
        for route in range(routes):
            labels = ["route", "status"]
            values = [f"/r/{route}", "200"]
            key = mmap_dict.mmap_key("jobs", "jobs_total", labels, values, "Jobs")
            counter.write_value(key, 1.0, 0.0)
            for bound in ("0.1", "0.5", "1.0", "+Inf"):
                key = mmap_dict.mmap_key(
                    "latency_seconds",
                    "latency_seconds_bucket",
                    [*labels, "le"],
                    [*values, bound],
                    "L",
                )
                histogram.write_value(key, 1.0, 0.0)
            key = mmap_dict.mmap_key("latency_seconds", "latency_seconds_sum", labels, values, "L")
            histogram.write_value(key, 0.2, 0.0)
    finally:
        counter.close()
        histogram.close()


def multiprocess_case() -> None:
    routes = 20
    base = Path(tempfile.mkdtemp(prefix="maestro-monitoring-bench-"))
    try:
        dirs = {name: base / name for name in ("none", "uncompacted", "compacted")}
        for directory in dirs.values():
            directory.mkdir()
            for live in range(4):  # four live workers everywhere
                _write_worker(directory, 1_000_000 + live, routes)
        for pid in range(200):
            _write_worker(dirs["uncompacted"], 10 + pid, routes)
            _write_worker(dirs["compacted"], 10 + pid, routes)
            mark_process_dead(10 + pid, dirs["compacted"])
        # ours: what metrics_app serves in multiprocess mode (FilesCollector, our writer);
        # prometheus_client: MultiProcessCollector and generate_latest, as its docs say
        registries = {}
        for name in ("none", "compacted"):
            registry = CollectorRegistry()
            registry.register(FilesCollector(str(dirs[name])))
            registries[name] = registry
        theirs = {}
        for name in ("none", "uncompacted"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(dirs[name]))  # type: ignore[no-untyped-call]
            theirs[f"pc {name}"] = registry

        def scrape(write: Callable[[], object]) -> float:
            calls = 3 if QUICK else 10
            start = time.perf_counter()
            for _ in range(calls):
                write()
            return (time.perf_counter() - start) / calls * 1000

        cases: dict[str, Callable[[], float]] = {
            name: functools.partial(scrape, functools.partial(render, registry))
            for name, registry in registries.items()
        }
        for name, registry in theirs.items():
            cases[name] = functools.partial(scrape, functools.partial(generate_latest, registry))
        times = median_interleaved(cases)
        files = {name: len(list(d.glob("*.db"))) for name, d in dirs.items()}
    finally:
        shutil.rmtree(base)
    print("5. multiprocess scrape (4 live workers; 200 dead workers' files)")
    show(f"ours, no dead workers ({files['none']} files)", times["none"], "ms")
    show(
        f"ours, 200 dead, compacted by mark_process_dead ({files['compacted']} files)",
        times["compacted"],
        "ms",
    )
    show(f"prometheus_client, no dead workers ({files['none']} files)", times["pc none"], "ms")
    show(
        f"prometheus_client, 200 dead, uncompacted ({files['uncompacted']} files)",
        times["pc uncompacted"],
        "ms",
    )
    show("ratio ours compacted / ours none (aim <= 1.2)", times["compacted"] / times["none"], "x")
    show("ratio prometheus_client 200 dead / none", times["pc uncompacted"] / times["pc none"], "x")
    show("ratio ours / prometheus_client, no dead workers", times["none"] / times["pc none"], "x")


WRK_APP = """
import os
from fastapi import FastAPI
from maestro_monitoring import MetricsMiddleware, metrics_app

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"ok": "pong"}


if os.environ["BENCH_MODE"] == "ours":
    app.add_middleware(MetricsMiddleware)
    app.mount("/metrics", metrics_app())
"""


def _start_uvicorn(
    directory: Path, mode: str, prefix: tuple[str, ...] = (), timeout: float = 30
) -> tuple[Any, int]:
    """A uvicorn process serving the bare app or ours; (process, port) once it listens."""
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            *prefix,
            sys.executable,
            "-m",
            "uvicorn",
            "wrkapp:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=directory,
        env={**os.environ, "BENCH_MODE": mode, "PYTHONPATH": str(directory)},
        stderr=subprocess.DEVNULL if prefix else None,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"uvicorn ({mode}) did not start") from None
            time.sleep(0.25 if prefix else 0.1)


def _wrk(port: int, seconds: int) -> float:
    """Requests/s wrk gets from the server on ``port`` in ``seconds``."""
    import re
    import subprocess

    url = f"http://127.0.0.1:{port}/ping"
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk's output: {out}")
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors: {out}")
    return float(match.group(1))


def wrk_case() -> None:
    print("6. middleware throughput with wrk (FastAPI /ping on uvicorn, 16 connections)")
    if shutil.which("wrk") is None:
        print("  wrk is not installed: skipped (Debian package wrk)")
        return
    directory = Path(tempfile.mkdtemp(prefix="maestro-monitoring-wrk-"))
    servers: dict[str, tuple[Any, int]] = {}
    try:
        (directory / "wrkapp.py").write_text(WRK_APP, encoding="utf-8")
        # both servers up all along, idle while wrk loads the other: short runs in
        # alternating order follow the shared machine's load more closely than long ones
        for mode in ("bare", "ours"):
            servers[mode] = _start_uvicorn(directory, mode)
        for mode in ("bare", "ours"):
            _wrk(servers[mode][1], 1)  # warm-up
        seconds = 2 if QUICK else 3
        rounds = 3 if QUICK else 10
        seen: dict[str, list[float]] = {"bare": [], "ours": []}
        for index in range(rounds):
            for mode in ("bare", "ours") if index % 2 == 0 else ("ours", "bare"):
                seen[mode].append(_wrk(servers[mode][1], seconds))
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=15)
        shutil.rmtree(directory)
    bare = statistics.median(seen["bare"])
    ours = statistics.median(seen["ours"])
    ratios = sorted(o / b for o, b in zip(seen["ours"], seen["bare"], strict=True))
    show("bare FastAPI", bare, "req/s")
    show("FastAPI + MetricsMiddleware", ours, "req/s")
    show("ratio ours / bare, medians (aim >= 0.95)", ours / bare, "x")
    show("per-round ratio, median", statistics.median(ratios), "x")
    print(f"  per-round ratios, sorted: {', '.join(f'{r:.2f}' for r in ratios)}")


def _instructions_per_request(directory: Path, mode: str, requests: int) -> float:
    """Instructions (callgrind's Ir) the uvicorn server of ``mode`` executes per request:
    300 warm-up requests, counters zeroed, ``requests`` keep-alive GETs, counters dumped."""
    import _callgrind

    out = str(directory / f"callgrind.{mode}.out")
    server, port = _start_uvicorn(directory, mode, _callgrind.valgrind_prefix(out), timeout=300)
    return _callgrind.instructions_per_request(server, port, out, requests)


def callgrind_case() -> None:
    print("6b. instructions per request under uvicorn (valgrind callgrind; the same app as 6)")
    import _callgrind

    if not _callgrind.available():
        print("  valgrind is not installed: skipped (Debian package valgrind)")
        return
    directory = Path(tempfile.mkdtemp(prefix="maestro-monitoring-callgrind-"))
    try:
        (directory / "wrkapp.py").write_text(WRK_APP, encoding="utf-8")
        counts = {
            mode: _instructions_per_request(directory, mode, 1_000) for mode in ("bare", "ours")
        }
    finally:
        shutil.rmtree(directory)
    show("bare FastAPI", counts["bare"], "Ir/req")
    show("FastAPI + MetricsMiddleware", counts["ours"], "Ir/req")
    show("instructions added per request", counts["ours"] - counts["bare"], "Ir")
    show("throughput bound bare / ours (aim >= 0.95)", counts["bare"] / counts["ours"], "x")


def main() -> None:
    print(f"maestro-monitoring benchmark: {ROUNDS} interleaved rounds, medians; pid {os.getpid()}")
    if "--callgrind-only" in sys.argv:
        callgrind_case()
        return
    red_case()
    counter_case()
    exposition_case()
    tracing_case()
    multiprocess_case()
    wrk_case()
    if "--callgrind" in sys.argv:
        callgrind_case()


if __name__ == "__main__":
    main()
