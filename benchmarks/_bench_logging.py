"""maestro-core-logging against its anchors, in one process.

* a JSON line (three bound context keys, redaction on, service fields) against a stdlib
  plain-text line (``logging.Formatter`` to a ``StreamHandler`` on /dev/null), against
  structlog configured by hand for speed (orjson, ``BytesLoggerFactory``, filtering
  bound logger, cached, and a bound logger rather than the lazy proxy) and against
  python-json-logger with its orjson formatter;
* a filtered-out ``debug`` call against stdlib's and structlog's;
* ``import maestro_core_logging`` in a fresh interpreter, and ``configure_logging()``.

Aims (issue 7): JSON line <= 0.8x the stdlib line; filtered debug < 0.3 us; import < 80 ms.
Issue 11: with the fairer anchors the line must still be <= 0.8x structlog's.
Timings are CPU time (``time.process_time``: time the process was descheduled by other
load on the shared machine is not counted), the best of 61 interleaved repeats.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

REPEATS = 61
CALLS = 2_000
DEBUG_CALLS = 20_000


def race(contenders: dict[str, Callable[[], None]], calls: int) -> dict[str, float]:
    """Return each contender's best per-call CPU time in seconds.

    The contenders take turns within every repeat, so a burst of load from the other
    processes on the machine hits them alike; the best repeat is the least disturbed.
    CPU time of the process, not wall time: a repeat during which the scheduler ran
    another process is not charged for the time it waited.
    """
    best = dict.fromkeys(contenders, float("inf"))
    clock = time.process_time
    for _ in range(REPEATS):
        for name, fn in contenders.items():
            start = clock()
            fn()
            best[name] = min(best[name], (clock() - start) / calls)
    return best


def import_time(statement: str, runs: int = 9) -> tuple[float, float]:
    """Return (best, median) wall time of *statement* in fresh interpreters, in seconds."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return min(samples), statistics.median(samples)


def run() -> None:
    """Time ours and the anchors and print the ratios."""
    import maestro_core_logging as mcl
    import orjson
    import structlog
    from pythonjsonlogger.orjson import OrjsonFormatter

    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives for the whole run
    devnull_bytes = open(os.devnull, "wb")  # noqa: SIM115

    # -- ours: JSON, redaction on (default keys), three context keys, service fields
    mcl.configure_logging(
        service="orders",
        environment="production",
        version="1.4.2",
        format="json",
        level="info",
        stream=devnull,
    )
    ours = mcl.get_logger("bench")
    mcl.bind_context(request_id="3f2a9c", tenant="acme", user_id=42)

    # -- anchor: stdlib plain text
    std = logging.getLogger("bench.stdlib")
    std.propagate = False
    std_handler = logging.StreamHandler(devnull)
    std_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    std.addHandler(std_handler)
    std.setLevel(logging.INFO)

    # -- anchor: python-json-logger, with its orjson formatter (its fastest)
    pjl = logging.getLogger("bench.pjl")
    pjl.propagate = False
    pjl_handler = logging.StreamHandler(devnull)
    pjl_handler.setFormatter(OrjsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    pjl.addHandler(pjl_handler)
    pjl.setLevel(logging.INFO)

    # -- anchor: structlog by hand, its documented fast path
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(devnull_bytes),
        cache_logger_on_first_use=True,
    )
    # A bound logger, as a service holds one: bind() resolves the lazy proxy once.
    slog = structlog.get_logger("bench").bind()
    structlog.contextvars.bind_contextvars(request_id="3f2a9c", tenant="acme", user_id=42)

    def ours_line() -> None:
        for _ in range(CALLS):
            ours.info("user logged in", user_id=42, ip="10.0.0.1")

    def std_line() -> None:
        for _ in range(CALLS):
            std.info("user logged in user_id=%s ip=%s", 42, "10.0.0.1")

    def pjl_line() -> None:
        for _ in range(CALLS):
            pjl.info("user logged in", extra={"user_id": 42, "ip": "10.0.0.1"})

    def slog_line() -> None:
        for _ in range(CALLS):
            slog.info("user logged in", user_id=42, ip="10.0.0.1")

    def ours_debug() -> None:
        for _ in range(DEBUG_CALLS):
            ours.debug("cache probe", key="k")

    def std_debug() -> None:
        for _ in range(DEBUG_CALLS):
            std.debug("cache probe key=%s", "k")

    def slog_debug() -> None:
        for _ in range(DEBUG_CALLS):
            slog.debug("cache probe", key="k")

    for fn in (ours_line, std_line, slog_line, pjl_line):  # warm up
        fn()

    line = race(
        {"ours": ours_line, "stdlib": std_line, "structlog": slog_line, "pjl": pjl_line}, CALLS
    )
    debug = race({"ours": ours_debug, "stdlib": std_debug, "structlog": slog_debug}, DEBUG_CALLS)

    configure_first = import_time(
        "import maestro_core_logging as m, io; "
        "m.configure_logging(service='s', stream=io.StringIO())"
    )
    imp = {
        "ours": import_time("import maestro_core_logging"),
        "structlog": import_time("import structlog"),
        "logging": import_time("import logging"),
    }

    start = time.perf_counter()
    for _ in range(1000):
        mcl.configure_logging(
            service="orders",
            environment="production",
            version="1.4.2",
            format="json",
            level="info",
            stream=devnull,
        )
    configure_again = (time.perf_counter() - start) / 1000

    us = 1e6
    print("maestro-core-logging")
    print("  JSON line, 3 context keys, redaction on (best CPU time per call):")
    print(f"    ours (maestro-core-logging)    {line['ours'] * us:6.2f} us")
    print(
        f"    stdlib plain-text line         {line['stdlib'] * us:6.2f} us   "
        f"ours/stdlib    = {line['ours'] / line['stdlib']:.2f}  (aim <= 0.80)"
    )
    print(
        f"    structlog + orjson by hand     {line['structlog'] * us:6.2f} us   "
        f"ours/structlog = {line['ours'] / line['structlog']:.2f}  (aim <= 0.80; "
        f"structlog/stdlib = {line['structlog'] / line['stdlib']:.2f})"
    )
    print(
        f"    python-json-logger (orjson)    {line['pjl'] * us:6.2f} us   "
        f"ours/pjl       = {line['ours'] / line['pjl']:.2f}"
    )
    print("  filtered-out debug call:")
    print(f"    ours                           {debug['ours'] * us:6.3f} us   (aim < 0.300)")
    print(f"    stdlib logger.debug            {debug['stdlib'] * us:6.3f} us")
    print(f"    structlog filtering logger     {debug['structlog'] * us:6.3f} us")
    print("  import in a fresh interpreter (best / median of 9):")
    for label, key, note in (
        ("import maestro_core_logging ", "ours", "   (aim < 80 ms)"),
        ("import structlog            ", "structlog", ""),
        ("import logging              ", "logging", ""),
    ):
        best, median = imp[key]
        print(f"    {label}  {best * 1e3:6.1f} / {median * 1e3:6.1f} ms{note}")
    best, median = configure_first
    print(
        f"    import + configure_logging()   {best * 1e3:6.1f} / {median * 1e3:6.1f} ms   "
        "(configure imports structlog, to route structlog.get_logger() users, and orjson)"
    )
    print(f"  configure_logging() again, same arguments (no-op): {configure_again * us:.1f} us")
    devnull.close()
    devnull_bytes.close()


if __name__ == "__main__":
    run()
