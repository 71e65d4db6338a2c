"""Added cost per successful call: maestro-resilience against the libraries it replaces.

Each case times a loop of calls to a trivial function, wrapped and bare, in this one process;
the added cost is (wrapped - bare) per call, the minimum over several repeats. The aims come
from issue 3: breaker <= 0.5 us and <= 1/4 of pybreaker; retry <= 1 us and <= 1/20 of
tenacity; async timeout <= 1.5 x asyncio.timeout; and from issue 11: an open breaker's
rejection (the hot path while a dependency is down) <= 0.5 x pybreaker's. The failure path
(a counted failure while closed) and the sync timeout (SIGALRM on the main thread, the
worker pool elsewhere) are printed as well. Timings are noisy on a shared machine; rerun
before drawing conclusions.

Run: python benchmarks/resilience.py [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import circuitbreaker  # type: ignore[import-untyped]
import maestro_resilience as mr
import pybreaker
import stamina
import tenacity

QUICK = "--quick" in sys.argv
# Many short timed loops and their minimum: on a shared machine a short loop often runs
# without being preempted, a long one rarely does.
REPEATS = 10 if QUICK else 40
CALLS = 10_000 if QUICK else 20_000


def plain(x: int) -> int:
    return x


def boom(x: int) -> int:
    raise ConnectionError(x)


def per_call_raising_ns(fn: Callable[[int], Any], calls: int = CALLS) -> float:
    """Best-of-REPEATS nanoseconds per call of fn(i) that raises (caught here)."""
    best = float("inf")
    loop_range = range(calls)
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for i in loop_range:
            try:
                fn(i)
            except Exception:
                continue
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def failure_cases() -> dict[str, float]:
    """The failure path (closed, failure counted) and the open breaker's rejection."""
    bare = per_call_raising_ns(boom)
    print(f"bare raising call: {bare / 1000:.3f} us")
    results: dict[str, float] = {}
    big = 10**9
    print("circuit breaker, closed, failure path (counted, not opening):")
    for label, wrapped in (
        ("ours failure", mr.CircuitBreaker(failure_threshold=big)(boom)),
        ("pybreaker failure", pybreaker.CircuitBreaker(fail_max=big)(boom)),
    ):
        results[label] = per_call_raising_ns(wrapped) - bare
        print(f"  {label:<34} {results[label] / 1000:8.3f} us added")
    print("circuit breaker, open, rejection path (the function is not called):")
    ours = mr.CircuitBreaker(failure_threshold=1, timeout=10_000)(boom)
    theirs = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=10_000)(boom)
    for wrapped in (ours, theirs):
        for _ in range(2):
            try:
                wrapped(0)
            except Exception:
                continue
    for label, wrapped in (("ours rejection", ours), ("pybreaker rejection", theirs)):
        # A rejection replaces the call: its whole cost is the cost.
        results[label] = per_call_raising_ns(wrapped)
        print(f"  {label:<34} {results[label] / 1000:8.3f} us per call")
    return results


def timeout_cases() -> dict[str, float]:
    """The sync @timeout: the SIGALRM path here (main thread), the pool from a thread."""
    import threading

    bare = per_call_ns(plain, CALLS // 10)
    results: dict[str, float] = {}
    print("sync timeout, success path:")
    results["main thread"] = per_call_ns(mr.timeout(seconds=5.0)(plain), CALLS // 10) - bare
    print(f"  {'main thread (SIGALRM deadline)':<34} {results['main thread'] / 1000:8.3f} us added")
    pooled = mr.timeout(seconds=5.0)(plain)
    box: list[float] = []
    worker = threading.Thread(target=lambda: box.append(per_call_ns(pooled, CALLS // 10)))
    worker.start()
    worker.join()
    results["worker pool"] = box[0] - bare
    print(f"  {'other thread (bounded pool)':<34} {results['worker pool'] / 1000:8.3f} us added")
    return results


async def aplain() -> int:
    return 1


def per_call_ns(fn: Callable[[int], Any], calls: int = CALLS) -> float:
    """Best-of-REPEATS nanoseconds per call of fn(i)."""
    best = float("inf")
    loop_range = range(calls)
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for i in loop_range:
            fn(i)
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def added(name: str, wrapped: Callable[[int], Any], bare: float) -> float:
    cost = per_call_ns(wrapped) - bare
    print(f"  {name:<34} {cost / 1000:8.3f} us added")
    return cost


def sync_cases() -> dict[str, float]:
    bare = per_call_ns(plain)
    print(f"bare call: {bare / 1000:.3f} us")
    results: dict[str, float] = {}
    print("circuit breaker, closed, success path:")
    results["ours breaker"] = added(
        "maestro_resilience.CircuitBreaker", mr.CircuitBreaker()(plain), bare
    )
    results["pybreaker"] = added(
        "pybreaker.CircuitBreaker", pybreaker.CircuitBreaker(fail_max=5)(plain), bare
    )
    results["circuitbreaker"] = added(
        "circuitbreaker.CircuitBreaker",
        circuitbreaker.CircuitBreaker(failure_threshold=5, recovery_timeout=60)(plain),
        bare,
    )
    print("retry, success on the first attempt:")
    results["ours retry"] = added(
        "maestro_resilience.retry", mr.retry(max_attempts=3, delay=1.0)(plain), bare
    )
    results["tenacity"] = added(
        "tenacity.retry",
        tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_exponential())(
            plain
        ),
        bare,
    )
    stamina_plain = stamina.retry(on=Exception, attempts=3)(plain)
    results["stamina"] = added("stamina.retry", stamina_plain, bare)
    return results


async def async_per_call_ns(make: Callable[[], Any], calls: int) -> float:
    """Best-of-REPEATS nanoseconds per await of make().

    Every 500 calls the loop gets one turn (sleep(0)), as it would in a real service, so
    that cancelled timer handles are purged from its heap instead of piling up; the bare
    case pays the same turns, so they cancel out of the added cost.
    """
    best = float("inf")
    chunk = range(500)
    chunks = range(max(1, calls // 500))
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for _c in chunks:
            for _i in chunk:
                await make()
            await asyncio.sleep(0)
        best = min(best, (time.perf_counter_ns() - start) / (len(chunks) * 500))
    return best


async def async_cases() -> dict[str, float]:
    calls = CALLS
    ours = mr.timeout(seconds=5.0)(aplain)

    async def with_asyncio_timeout() -> int:
        async with asyncio.timeout(5.0):
            return await aplain()

    async def bare_wrapper() -> int:
        # A wrapper coroutine alone: what any decorator pays before doing anything.
        return await aplain()

    bare = await async_per_call_ns(aplain, calls)
    print(f"bare await: {bare / 1000:.3f} us")
    results = {}
    print("async timeout, success path:")
    for label, make in (
        ("asyncio.timeout (anchor)", with_asyncio_timeout),
        ("maestro_resilience.timeout", ours),
        ("(an empty wrapper coroutine)", bare_wrapper),
    ):
        cost = await async_per_call_ns(make, calls) - bare
        results[label] = cost
        print(f"  {label:<34} {cost / 1000:8.3f} us added")
    return results


def verdict(ok: bool) -> str:
    return "meets the aim" if ok else "MISSES the aim"


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"Python {sys.version.split()[0]}, {CALLS} calls x best of {REPEATS}\n")
    s = sync_cases()
    f = failure_cases()
    t = timeout_cases()
    a = asyncio.run(async_cases())
    ours_b, ours_r = s["ours breaker"], s["ours retry"]
    ours_t, anchor_t = a["maestro_resilience.timeout"], a["asyncio.timeout (anchor)"]
    print("\nratios (added cost, ours / anchor; lower is better):")
    print(
        f"  breaker vs pybreaker       {ours_b / s['pybreaker']:6.3f}   aim <= 0.25   "
        f"and ours {ours_b / 1000:.3f} us <= 0.5 us: "
        f"{verdict(ours_b / s['pybreaker'] <= 0.25 and ours_b <= 500)}"
    )
    print(f"  breaker vs circuitbreaker  {ours_b / s['circuitbreaker']:6.3f}")
    print(
        f"  retry vs tenacity          {ours_r / s['tenacity']:6.3f}   aim <= 0.05   "
        f"and ours {ours_r / 1000:.3f} us <= 1 us: "
        f"{verdict(ours_r / s['tenacity'] <= 0.05 and ours_r <= 1000)}"
    )
    print(f"  retry vs stamina           {ours_r / s['stamina']:6.3f}")
    rejection = f["ours rejection"] / f["pybreaker rejection"]
    aim = verdict(rejection <= 0.5)
    print(f"  open rejection vs pybreaker {rejection:5.3f}   aim <= 0.5    {aim}")
    print(f"  failure path vs pybreaker  {f['ours failure'] / f['pybreaker failure']:6.3f}")
    print(
        f"  sync timeout added: {t['main thread'] / 1000:.1f} us on the main thread, "
        f"{t['worker pool'] / 1000:.1f} us from other threads"
    )
    print(
        f"  timeout vs asyncio.timeout {ours_t / anchor_t:6.3f}   aim <= 1.5    "
        f"{verdict(ours_t / anchor_t <= 1.5)}"
    )
    loaded = "asyncio" in sys.modules
    print(f"\n(asyncio is loaded here by the benchmark itself: {loaded})")


if __name__ == "__main__":
    main()
