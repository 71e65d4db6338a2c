"""maestro-test-result-aggregator against its anchors, in one run.

1. Bulk store of 100,000 results: ``store_results`` vs raw ``sqlite3.executemany`` of
   ready-made tuples into an equivalent table (same columns, indexes and WAL settings).
   Aim: at least 0.5x the raw speed.
2. Import of a ~10 MB JUnit XML file: our streaming, entity-safe parser vs junitparser
   reading the same file (parse + every case's name, class, time and result). Aim: >= 1x.
   The full import (parse + store in one transaction) is printed too.
3. ``get_summary`` and a 30-day ``analyze_trends`` on a store of 1,000,000 results
   (200 runs x 5,000 tests over 60 days, 5 categories). Aims: < 50 ms and < 500 ms.
4. Streaming import of a 200 MB JUnit file (about 2 million cases) and of one case with a
   200 MB ``system-out``, each in a fresh process: peak RSS (aim < 200 MB) and import
   throughput in MB/s beside junitparser's parse alone (``JUnitXml.fromfile`` of a 20 MB
   slice, also in a fresh process; its tree of a 200 MB file would take gigabytes, and
   per MB it is slower there: 14.8 against 19.2 MB/s of CPU, so the slice is the harder
   anchor). Aim: ours >= 1x. CPU seconds of both are printed too (steadier when the
   machine is busy).
5. Streaming import of a 200 MB CTRF JSON file, each in a fresh process: peak RSS of the
   import (aim < 200 MB, as for JUnit) and our two-pass streaming parse beside the
   standard library's ``json.load`` of the whole file followed by the same CTRF reader
   (what the importer did before).

Run: python benchmarks/aggregator.py [--quick] [--big-mb 200] [--only-big] [--only-json]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from maestro_test_result_aggregator import TestResultAggregator
from maestro_test_result_aggregator._importers import read_report
from maestro_test_result_aggregator._schema import MIGRATIONS, RESULT_COLUMNS, RESULTS


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_bulk(tmp: Path, n: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        {
            "test_id": f"tests.test_mod{i % 200}::test_case_{i}",
            "status": "failed" if i % 20 == 0 else "passed",
            "duration": (i % 300) / 100,
            "metadata": {"worker": i % 8},
            "message": "assert x == y" if i % 20 == 0 else "",
        }
        for i in range(n)
    ]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = [
        (
            "run-raw",
            it["test_id"],
            1,
            1,
            "unit",
            it["status"],
            it["status"],
            it["duration"],
            stamp,
            it["message"],
            "",
            f'{{"worker":{i % 8}}}',
            "",
            "",
            it["test_id"],
            "",
            "",
            "",
        )
        for i, it in enumerate(items)
    ]

    def ours() -> None:
        path = tmp / f"ours-{time.perf_counter_ns()}.db"
        with TestResultAggregator(db_path=path, clock=lambda: now) as agg:
            started = time.perf_counter()  # like the anchor: schema exists, time the batch only
            agg.store_results(items, orchestration_id="run", category="unit")
            ours.elapsed = time.perf_counter() - started  # type: ignore[attr-defined]

    def raw() -> None:
        path = tmp / f"raw-{time.perf_counter_ns()}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for statement in MIGRATIONS[0].render("sqlite"):
            conn.execute(statement)
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO {RESULTS} ({', '.join(RESULT_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(RESULT_COLUMNS))})",
            rows,
        )
        conn.execute("COMMIT")
        raw.elapsed = time.perf_counter() - started  # type: ignore[attr-defined]
        conn.close()

    ours_times, raw_times = [], []
    for _ in range(3):  # interleaved, so a busy machine slows both alike
        ours()
        ours_times.append(ours.elapsed)  # type: ignore[attr-defined]
        raw()
        raw_times.append(raw.elapsed)  # type: ignore[attr-defined]
    ours_t, raw_t = min(ours_times), min(raw_times)
    print(f"bulk store {n:,} results")
    print(
        f"  ours   store_results (validate + attempts + insert)  {ours_t * 1000:9.1f} ms  "
        f"{n / ours_t:12,.0f} rows/s"
    )
    print(
        f"  anchor raw sqlite3.executemany (same table)           {raw_t * 1000:9.1f} ms  "
        f"{n / raw_t:12,.0f} rows/s"
    )
    print(f"  ratio  ours speed / raw speed = {raw_t / ours_t:.2f}x   (aim >= 0.50x)")


def make_junit(path: Path, target_bytes: int) -> int:
    rng = random.Random(7)
    cases = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">\n')
        suite = 0
        while fh.tell() < target_bytes:
            fh.write(
                f'  <testsuite name="pkg.Suite{suite}" tests="100" failures="0" errors="0" '
                'skipped="0" time="1.0">\n'
            )
            for i in range(100):
                roll = rng.random()
                fh.write(
                    f'    <testcase classname="pkg.module{suite}.Class{i % 7}" '
                    f'name="test_{i}[p{i % 5}]" time="{rng.random():.3f}"'
                )
                if roll < 0.05:
                    fh.write(
                        '>\n      <failure message="assert 1 == 2" type="AssertionError">'
                        'Traceback (most recent call last):\n  File "x.py", line '
                        "3\nAssertionError: assert 1 == 2</failure>\n    </testcase>\n"
                    )
                elif roll < 0.08:
                    fh.write('>\n      <skipped message="not on linux"/>\n    </testcase>\n')
                elif roll < 0.2:
                    fh.write(
                        ">\n      <system-out>"
                        + "log line &amp; more\n" * 10
                        + "</system-out>\n    </testcase>\n"
                    )
                else:
                    fh.write("/>\n")
                cases += 1
            fh.write("  </testsuite>\n")
            suite += 1
        fh.write("</testsuites>\n")
    return cases


def bench_junit(tmp: Path, size: int) -> None:
    import junitparser

    path = tmp / "big.xml"
    cases = make_junit(path, size)

    def ours() -> None:
        report = read_report(path)
        assert report.attempt_count == cases

    def theirs() -> None:
        xml = junitparser.JUnitXml.fromfile(str(path))
        seen = 0
        for suite in xml:
            for case in suite:
                _ = (case.name, case.classname, case.time, [type(r).__name__ for r in case.result])
                seen += 1
        assert seen == cases

    def full_import() -> None:
        with TestResultAggregator(db_path=tmp / f"imp-{time.perf_counter_ns()}.db") as agg:
            agg.import_file(path, orchestration_id="run")

    ours_times, theirs_times, import_times = [], [], []
    for _ in range(3):  # interleaved, so a busy machine slows both alike
        ours_times.append(best(ours, 1))
        theirs_times.append(best(theirs, 1))
        import_times.append(best(full_import, 1))
    ratios = [t / i for t, i in zip(theirs_times, import_times, strict=True)]
    ours_t, theirs_t, import_t = min(ours_times), min(theirs_times), min(import_times)
    mb = path.stat().st_size / 1e6
    print(f"JUnit XML, {mb:.1f} MB, {cases:,} test cases")
    print(f"  ours   parse (streaming, DOCTYPE-safe)               {ours_t * 1000:9.1f} ms")
    print(f"  anchor junitparser fromfile + read every case        {theirs_t * 1000:9.1f} ms")
    print(f"  ratio  ours speed / junitparser speed = {theirs_t / ours_t:.2f}x   (aim >= 1.00x)")
    print(f"  info   ours full import (parse + store, 1 txn)       {import_t * 1000:9.1f} ms")
    print(
        f"  ratio  ours import speed / junitparser parse speed = {min(ratios):.2f}x-"
        f"{max(ratios):.2f}x over 3 interleaved rounds"
    )


def bench_queries(tmp: Path, runs: int, tests: int) -> None:
    path = tmp / "million.db"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    now = start + timedelta(days=60)
    categories = ["api", "ui", "unit", "integration", "e2e"]
    rng = random.Random(3)
    started = time.perf_counter()
    with TestResultAggregator(db_path=path, clock=lambda: now) as agg:
        for r in range(runs):
            moment = start + timedelta(days=60 * r / runs, minutes=r)
            agg.store_results(
                [
                    {
                        "test_id": f"t{t}",
                        "category": categories[t % 5],
                        "status": "failed" if rng.random() < 0.03 else "passed",
                        "duration": rng.random() * 3,
                        "recorded_at": moment,
                    }
                    for t in range(tests)
                ],
                orchestration_id=f"run-{r:04d}",
            )
    load_t = time.perf_counter() - started
    total = runs * tests
    with TestResultAggregator(db_path=path, clock=lambda: now) as agg:
        run_id = f"run-{runs - 1:04d}"
        summary_times = [best(lambda: agg.get_summary(run_id), 1) for _ in range(20)]
        trend_times = [best(lambda: agg.analyze_trends("api", 30), 1) for _ in range(5)]
        trends = agg.analyze_trends("api", 30)
        summary = agg.get_summary(run_id)
    print(
        f"store of {total:,} results ({runs} runs x {tests:,} tests, 60 days, 5 categories), "
        f"loaded in {load_t:.1f} s"
    )
    print(
        f"  get_summary (one run of {summary['total']:,} tests)        median "
        f"{statistics.median(summary_times) * 1000:7.2f} ms   (aim < 50 ms)"
    )
    print(
        f"  analyze_trends('api', 30) ({trends.total:,} results, {len(trends.points)} days)  "
        f"median {statistics.median(trend_times) * 1000:7.2f} ms   (aim < 500 ms)"
    )


_CHILD_IMPORT = """
import resource, sys, time
from maestro_test_result_aggregator import TestResultAggregator
started = time.perf_counter()
with TestResultAggregator(db_path=sys.argv[2]) as agg:
    result = agg.import_file(sys.argv[1], orchestration_id="big")
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(elapsed, usage.ru_maxrss / 1024, result.attempts, result.batches,
      usage.ru_utime + usage.ru_stime)
"""

_CHILD_JUNITPARSER = """
import resource, sys, time
import junitparser
started = time.perf_counter()
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
elapsed = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


_CHILD_PARSE = """
import resource, sys, time
from maestro_test_result_aggregator._importers import read_report
started = time.perf_counter()
report = read_report(sys.argv[1], sink=lambda batch: None)
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(elapsed, rss, report.attempt_count)
"""

_CHILD_JSON_LOAD = """
import gc, json, resource, sys, time
from maestro_test_result_aggregator._importers.ctrf import parse_ctrf
started = time.perf_counter()
gc.disable()  # as read_report does
with open(sys.argv[1], "rb") as fh:
    doc = json.load(fh)
count = parse_ctrf(sys.argv[1], doc).attempt_count
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(elapsed, rss, count)
"""


def make_ctrf(path: Path, target_bytes: int) -> int:
    """A CTRF file of about ``target_bytes``: 1 test in 10 failed, environment last."""
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"reportFormat": "CTRF", "specVersion": "1.0.0", "results": {"tool": ')
        fh.write('{"name": "playwright"}, "tests": [\n')
        written = 0
        while written < target_bytes:
            failed = count % 10 == 0
            test = (
                f'{{"name": "test_{count}", "status": "{"failed" if failed else "passed"}", '
                f'"duration": {count % 997}, "suite": ["pkg", "mod_{count % 50}"], '
                f'"filePath": "tests/mod_{count % 50}.spec.ts"'
                + (', "message": "expected 1 to equal 2", "trace": "at line 3"' if failed else "")
                + "}"
            )
            fh.write(("," if count else "") + test + "\n")
            written += len(test) + 2
            count += 1
        fh.write('], "environment": {"commit": "abc", "branchName": "main"}}, "runId": "big"}')
    return count


def bench_json(tmp: Path, size_mb: int, rounds: int) -> None:
    path = tmp / "big.ctrf.json"
    count = make_ctrf(path, size_mb * 1_000_000)
    mb = path.stat().st_size / 1e6
    ratios, parse_speeds, load_speeds, parse_rss, load_rss, import_speeds, import_rss = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for round_ in range(rounds):
        ours_t, ours_rss, attempts = _child(_CHILD_PARSE, str(path))
        assert int(attempts) == count
        theirs_t, theirs_rss, seen = _child(_CHILD_JSON_LOAD, str(path))
        assert int(seen) == count
        ratios.append(theirs_t / ours_t)
        parse_speeds.append(mb / ours_t)
        load_speeds.append(mb / theirs_t)
        parse_rss.append(ours_rss)
        load_rss.append(theirs_rss)
        print(
            f"  round {round_ + 1}: ours parse {mb / ours_t:6.1f} MB/s (peak RSS {ours_rss:6.1f} "
            f"MB), json.load + reader {mb / theirs_t:6.1f} MB/s (peak RSS {theirs_rss:7.1f} MB)",
            flush=True,
        )
    db = tmp / "json.db"
    import_t, rss, attempts, batches, _ = _child(_CHILD_IMPORT, str(path), str(db))
    assert int(attempts) == count
    import_speeds.append(mb / import_t)
    import_rss.append(rss)
    print(f"streaming import of {mb:.0f} MB CTRF JSON, {count:,} tests (fresh processes)")
    print(
        f"  ours   read_report (two passes, batches to a sink)  "
        f"{min(parse_speeds):6.1f}-{max(parse_speeds):6.1f} MB/s  peak RSS "
        f"{max(parse_rss):7.1f} MB"
    )
    print(
        f"  anchor json.load of the whole file + the reader    "
        f"{min(load_speeds):6.1f}-{max(load_speeds):6.1f} MB/s  peak RSS "
        f"{max(load_rss):7.1f} MB"
    )
    print(
        f"  ratio  ours parse speed / json.load speed = {min(ratios):.2f}x-{max(ratios):.2f}x "
        f"over {rounds} rounds; peak RSS {max(parse_rss) / max(load_rss):.3f}x"
    )
    print(
        f"  ours   import_file (parse + store, {int(batches)} batches, 1 txn)   "
        f"{import_speeds[0]:6.2f} MB/s     peak RSS {import_rss[0]:7.1f} MB (aim < 200 MB)"
    )


def _child(code: str, *args: str) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return [float(x) for x in out.stdout.split()]


def make_big_output(path: Path, output_bytes: int) -> None:
    chunk = "log line with some text & more\n".replace("&", "&amp;") * 1000
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<testsuite name="s"><testcase classname="C" name="t" time="1"><system-out>')
        written = 0
        while written < output_bytes:
            fh.write(chunk)
            written += len(chunk)
        fh.write("</system-out></testcase></testsuite>\n")


def bench_big(tmp: Path, big_mb: int, rounds: int = 3) -> None:
    big = tmp / "big-200.xml"
    cases = make_junit(big, big_mb * 1_000_000)
    slice_path = tmp / "slice.xml"
    make_junit(slice_path, max(big_mb // 10, 1) * 1_000_000)
    size_mb = big.stat().st_size / 1e6
    slice_mb = slice_path.stat().st_size / 1e6
    # Fresh processes (peak RSS is per process), alternated over the rounds so a busy
    # machine slows both sides alike; the ratio of each round is reported as a range.
    ratios, ours_all, theirs_all, rss_all, cpu_ratios = [], [], [], [], []
    for round_ in range(rounds):
        db = tmp / f"big-{round_}.db"
        load = os.getloadavg()[0]
        ours_t, ours_rss, attempts, batches, ours_cpu = _child(_CHILD_IMPORT, str(big), str(db))
        assert int(attempts) == cases
        for leftover in tmp.glob(f"big-{round_}.db*"):
            leftover.unlink()
        theirs_t, theirs_rss, theirs_cpu = _child(_CHILD_JUNITPARSER, str(slice_path))
        ours_speed, theirs_speed = size_mb / ours_t, slice_mb / theirs_t
        ratios.append(ours_speed / theirs_speed)
        # CPU seconds per MB (both processes, all threads): steadier than wall time on a
        # busy machine, but it ignores the second core the import's writer thread uses.
        cpu_ratios.append((theirs_cpu / slice_mb) / (ours_cpu / size_mb))
        ours_all.append(ours_speed)
        theirs_all.append(theirs_speed)
        rss_all.append(ours_rss)
        print(
            f"  round {round_ + 1} (load {load:.1f}): ours {ours_t:7.1f} s {ours_speed:5.2f} MB/s "
            f"(CPU {ours_cpu:.1f} s, peak RSS {ours_rss:5.1f} MB), junitparser "
            f"{theirs_speed:5.2f} MB/s (CPU {theirs_cpu:.1f} s, peak RSS {theirs_rss:5.1f} MB), "
            f"ratio {ours_speed / theirs_speed:.2f}x (CPU per MB {cpu_ratios[-1]:.2f}x)",
            flush=True,
        )
    print(f"streaming import of {size_mb:.0f} MB JUnit XML, {cases:,} cases (fresh process)")
    print(
        f"  ours   import_file (parse + store, {int(batches)} batches, 1 txn)  "
        f"{min(ours_all):5.2f}-{max(ours_all):5.2f} MB/s   peak RSS {max(rss_all):7.1f} MB "
        "(aim < 200 MB)"
    )
    print(
        f"  anchor junitparser JUnitXml.fromfile ({slice_mb:.0f} MB slice)     "
        f"{min(theirs_all):5.2f}-{max(theirs_all):5.2f} MB/s"
    )
    print(
        f"  ratio  ours import speed / junitparser parse speed = {min(ratios):.2f}x-"
        f"{max(ratios):.2f}x over {rounds} rounds (aim >= 1.00x); peak RSS "
        f"{max(rss_all):.0f} MB"
    )
    print(
        f"  info   CPU per MB, junitparser / ours = {min(cpu_ratios):.2f}x-"
        f"{max(cpu_ratios):.2f}x (the writer thread's CPU counted, its second core not)"
    )
    one = tmp / "one-case.xml"
    make_big_output(one, big_mb * 1_000_000)
    one_t, one_rss, _, _, _ = _child(_CHILD_IMPORT, str(one), str(tmp / "one.db"))
    print(
        f"  ours   one case with a {one.stat().st_size / 1e6:.0f} MB system-out         "
        f"{one_t:8.1f} s                peak RSS {one_rss:7.1f} MB (aim < 200 MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the big import")
    parser.add_argument("--only-big", action="store_true", help="run the big import only")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the big import")
    parser.add_argument("--only-json", action="store_true", help="run the CTRF import only")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        big_mb = 20 if args.quick else args.big_mb
        if args.only_json:
            bench_json(tmp, big_mb, args.rounds)
            return 0
        if args.only_big:
            bench_big(tmp, 20 if args.quick else args.big_mb, args.rounds)
            return 0
        bench_bulk(tmp, 20_000 if args.quick else 100_000)
        print()
        bench_junit(tmp, 1_000_000 if args.quick else 10_000_000)
        print()
        bench_queries(tmp, 20 if args.quick else 200, 5_000)
        print()
        bench_big(tmp, big_mb, args.rounds)
        print()
        bench_json(tmp, big_mb, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
