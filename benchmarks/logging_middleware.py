"""CPU cost per request of maestro-core-logging's RequestLoggingMiddleware (issue 19).

Drives a minimal ASGI app directly (no event loop, no HTTP client: the coroutine is run
with ``coro.send(None)``, as nothing in it suspends), with and without the middleware, and
prints the median CPU time (``time.process_time``) per request over several rounds. The
access lines go to a real file (``/dev/null`` by default, or ``--file PATH``) through the
configured JSON sink, so the per-line write and flush are part of the figure.

    .venv/bin/python benchmarks/logging_middleware.py [--requests 20000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from maestro_core_logging import RequestLoggingMiddleware, configure_logging


async def bare_app(scope: Any, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """The smallest HTTP app: 200 with two headers and a body."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


def _scope(with_id: bool) -> dict[str, Any]:
    headers = [(b"host", b"svc"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")]
    if with_id:
        headers.append((b"x-request-id", b"req-0123456789abcdef"))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders/42",
        "raw_path": b"/orders/42",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("10.0.0.1", 5555),
        "server": ("svc", 80),
    }


def _per_request(app: Any, requests: int, with_id: bool) -> float:
    """CPU seconds per request for *requests* calls of *app*."""
    base = _scope(with_id)
    started = time.process_time()
    for _ in range(requests):
        coro = app(dict(base), _receive, _send)
        try:
            coro.send(None)
        except StopIteration:
            pass
        else:  # pragma: no cover - the app never suspends
            raise RuntimeError("the app suspended")
    return (time.process_time() - started) / requests


def main() -> None:
    """Measure and print median µs per request, bare app vs middleware."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--file", default=os.devnull)
    args = parser.parse_args()
    stream = open(args.file, "w")  # noqa: SIM115 - kept open for the whole run
    configure_logging(service="bench", format="json", stream=stream, stdlib=False)
    cases: dict[str, tuple[Any, bool]] = {
        "bare app": (bare_app, False),
        "middleware, id generated": (RequestLoggingMiddleware(bare_app), False),
        "middleware, id from header": (RequestLoggingMiddleware(bare_app), True),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for app, with_id in cases.values():  # warm up
        _per_request(app, 2000, with_id)
    for _ in range(args.rounds):  # interleaved rounds: load changes hit every case alike
        for name, (app, with_id) in cases.items():
            results[name].append(_per_request(app, args.requests, with_id))
    bare = statistics.median(results["bare app"])
    print(f"{args.requests} requests x {args.rounds} rounds, lines to {args.file}")
    for name, values in results.items():
        median = statistics.median(values)
        extra = (
            "" if name == "bare app" else f"  (middleware alone: {(median - bare) * 1e6:.2f} µs)"
        )
        print(f"{name:28s} median {median * 1e6:7.2f} µs  min {min(values) * 1e6:7.2f}{extra}")
    stream.close()


if __name__ == "__main__":
    main()
