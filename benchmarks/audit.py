"""maestro-audit-logger against its anchor: stdlib logging + a JSON formatter, flushed per line.

One run prints: events/s for each durability mode (``os``, ``batch``, ``sync``) and for
the anchor, ``verify()`` throughput, and the time and peak RSS (of a child process) of
exporting one million events to CSV and JSON. Aims (issue 4): ``os`` >= anchor,
``batch`` >= 50,000 events/s, verify >= 300,000 events/s, exports < 150 MB peak RSS.

    python benchmarks/audit.py [--events N] [--export-events N]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maestro_audit_logger import AuditEvent, AuditLogger, verify
from pythonjsonlogger.json import JsonFormatter

DETAILS = {"ip": "192.168.1.1", "method": "password", "attempt": 1}


def events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent("user.login", user_id=f"user{i % 1000}", details=DETAILS, outcome="success")
        for i in range(n)
    ]


def bench_mode(root: Path, mode: str, n: int) -> float:
    evs = events(n)
    d = root / mode
    shutil.rmtree(d, ignore_errors=True)
    with AuditLogger(d, durability=mode, checkpoint_on_close=False) as log:  # type: ignore[arg-type]
        t0 = time.perf_counter()
        for e in evs:
            log.log(e)
        log.flush()
        elapsed = time.perf_counter() - t0
    return n / elapsed


def bench_anchor(root: Path, n: int) -> float:
    (root / "stdlib.jsonl").unlink(missing_ok=True)
    handler = logging.FileHandler(root / "stdlib.jsonl")  # StreamHandler flushes every record
    handler.setFormatter(JsonFormatter("%(asctime)s %(name)s %(message)s"))
    lg = logging.getLogger("bench.audit")
    lg.propagate = False
    lg.setLevel(logging.INFO)
    lg.addHandler(handler)
    try:
        t0 = time.perf_counter()
        for i in range(n):
            lg.info(
                "user.login",
                extra={"user_id": f"user{i % 1000}", "details": DETAILS, "outcome": "success"},
            )
        elapsed = time.perf_counter() - t0
    finally:
        lg.removeHandler(handler)
        handler.close()
    return n / elapsed


# Peak RSS of the export alone: VmHWM of the child's own address space (ru_maxrss would
# also count the parent's RSS inherited through fork, which Linux keeps across exec).
CHILD = """
import sys, time
from maestro_audit_logger import export
t0 = time.perf_counter()
r = export(sys.argv[1], sys.argv[2], sys.argv[3])
dt = time.perf_counter() - t0
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(r.count, dt, int(hwm.split()[1]) / 1024)
"""


def bench_export(src: Path, out: Path, fmt: str) -> tuple[int, float, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(out), fmt],
        check=True,
        capture_output=True,
        text=True,
    )
    count, secs, rss = proc.stdout.split()
    return int(count), float(secs), float(rss)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--sync-events", type=int, default=2_000)
    ap.add_argument("--export-events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N interleaved runs")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n = args.events
        # Interleaved and best-of-N, so a burst of load from elsewhere hits both sides.
        anchor = os_rate = batch_rate = 0.0
        for _ in range(args.repeat):
            anchor = max(anchor, bench_anchor(root, n))
            os_rate = max(os_rate, bench_mode(root, "os", n))
            batch_rate = max(batch_rate, bench_mode(root, "batch", n))
        sync_rate = bench_mode(root, "sync", args.sync_events)
        print(
            f"events logged: {n:,} per run, best of {args.repeat} interleaved runs "
            f"(sync: {args.sync_events:,}, once); anchor = stdlib logging + "
            "python-json-logger JsonFormatter, FileHandler flushed per line"
        )
        print(f"  anchor stdlib JSON logging : {anchor:>10,.0f} events/s")
        print(
            f"  audit os    (no fsync)     : {os_rate:>10,.0f} events/s  "
            f"{os_rate / anchor:.2f}x anchor  (aim >= 1.00x)"
        )
        print(
            f"  audit batch (group commit) : {batch_rate:>10,.0f} events/s  "
            f"{batch_rate / anchor:.2f}x anchor  (aim >= 50,000/s)"
        )
        print(
            f"  audit sync  (fsync each)   : {sync_rate:>10,.0f} events/s  "
            f"{sync_rate / anchor:.2f}x anchor  (no aim: one fsync per event)"
        )

        big = root / "big"
        m = args.export_events
        chunk = [
            AuditEvent(
                "user.login",
                user_id=f"user{i % 1000}",
                details=DETAILS,
                outcome="success",
                source_ip="10.0.0.1",
            )
            for i in range(10_000)
        ]
        t0 = time.perf_counter()
        with AuditLogger(big, durability="os", checkpoint_on_close=True) as log:
            for _ in range(m // len(chunk)):
                log.log_many(chunk)
        fill = time.perf_counter() - t0
        print(f"log_many fill of {m:,} events (os mode): {m / fill:,.0f} events/s")

        vt = cpu = float("inf")
        records = 0
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            result = verify(big)
            vt = min(vt, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
            assert result, result.summary()
            records = result.records
        print(
            f"verify: {records:,} records in {vt:.2f} s = {records / vt:,.0f} events/s  "
            f"(aim >= 300,000/s; per CPU-second: {records / cpu:,.0f})"
        )

        for fmt in ("csv", "json"):
            count, secs, rss = bench_export(big, root / f"export.{fmt}", fmt)
            print(
                f"export {fmt:<4}: {count:,} events in {secs:.2f} s = {count / secs:,.0f}/s, "
                f"peak RSS {rss:.1f} MB  (aim < 150 MB)"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
