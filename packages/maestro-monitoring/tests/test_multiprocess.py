"""Multiprocess mode: dead-worker compaction keeps totals, and a real gunicorn with 3 workers."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from maestro_monitoring import ConfigurationError
from maestro_monitoring._cli import main
from maestro_monitoring._multiprocess import FilesCollector
from maestro_monitoring.multiprocess import mark_process_dead, prepare_multiproc
from maestro_testkit import free_port
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

WORKER = textwrap.dedent(
    """
    import os, sys
    from prometheus_client import CollectorRegistry
    from maestro_monitoring import MetricsManager
    metrics = MetricsManager(registry=CollectorRegistry())
    n = int(sys.argv[1])
    metrics.counter("jobs_total", "Jobs", labels=["kind"]).labels("a").inc(n)
    hist = metrics.histogram("work_seconds", "Work")
    for _ in range(n):
        hist.observe(0.2)
    metrics.gauge("inflight", "In flight").set(n)
    metrics.gauge("peak", "Peak", multiprocess_mode="max").set(n)
    metrics.gauge("stock", "Stock", multiprocess_mode="sum").set(n)
    print(os.getpid())
    """
)


def run_worker(directory: Path, n: int) -> int:
    """A worker process that records n jobs into the multiprocess directory, then exits."""
    return run_worker_script(WORKER, directory, n)


def run_worker_script(script: str, directory: Path, n: int) -> int:
    """Run ``script`` as a worker of the multiprocess directory; its pid."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    out = subprocess.run(
        [sys.executable, "-c", script, str(n)], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def scrape(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample the multiprocess collector reads from the directory."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
    }


def test_compaction_keeps_every_total(tmp_path: Path) -> None:
    """After mark_process_dead the dead workers' counters, histograms and sum/max gauges stay."""
    directory = tmp_path / "mp"
    prepare_multiproc(directory)
    pids = [run_worker(directory, n) for n in (3, 5, 7)]
    before = scrape(directory)
    assert before[("jobs_total", (("kind", "a"),))] == 15.0
    for pid in pids[:2]:
        assert mark_process_dead(pid, directory) >= 3
    after = scrape(directory)
    assert after[("jobs_total", (("kind", "a"),))] == 15.0
    assert after[("work_seconds_count", ())] == 15.0
    assert after[("work_seconds_bucket", (("le", "0.25"),))] == 15.0
    assert after[("work_seconds_sum", ())] == pytest.approx(3.0)
    assert after[("peak", ())] == 7.0
    assert after[("stock", ())] == 15.0
    names = sorted(p.name for p in directory.glob("*.db"))
    assert not [n for n in names if any(f"_{pid}.db" in n for pid in pids[:2])]
    assert "counter_archive.db" in names
    assert "histogram_archive.db" in names
    # a livesum gauge of a dead worker is gone, the live one remains
    assert after[("inflight", ())] == 7.0


def test_compacted_directory_scrapes_as_many_files_as_before(tmp_path: Path) -> None:
    """Dead workers compact into one archive per type: the file count does not grow."""
    directory = tmp_path / "mp"
    prepare_multiproc(directory)
    pids = [run_worker(directory, 1) for _ in range(4)]
    for pid in pids:
        mark_process_dead(pid, directory)
    files = sorted(p.name for p in directory.glob("*.db"))
    assert len(files) <= 4
    assert scrape(directory)[("jobs_total", (("kind", "a"),))] == 4.0


EVERY_KIND = textwrap.dedent(
    """
    import os, sys
    from prometheus_client import CollectorRegistry
    from maestro_monitoring import MetricsManager
    metrics = MetricsManager(registry=CollectorRegistry())
    n = int(sys.argv[1])
    jobs = metrics.counter("jobs_total", "Jobs", labels=["kind"])
    jobs.labels("a").inc(n)
    jobs.labels(f"only-{n}").inc()
    hist = metrics.histogram("work_seconds", "Work", labels=["route"], buckets=[0.1, 1, 10])
    for i in range(n):
        hist.labels("/r").observe(i / 2)
    metrics.summary("size_bytes", "Size").observe(n * 10)
    for mode in ("livesum", "sum", "max", "min", "mostrecent", "livemostrecent", "all", "liveall"):
        level = metrics.gauge(f"{mode}_level", mode, labels=["k"], multiprocess_mode=mode)
        level.labels("x").set(n)
    print(os.getpid())
    """
)


def _samples(collector: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)  # type: ignore[arg-type]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
    }


def _families(collector: object) -> dict[str, str]:
    registry = CollectorRegistry()
    registry.register(collector)  # type: ignore[arg-type]
    return {metric.name: metric.type for metric in registry.collect()}


def test_our_scrape_merges_the_files_as_prometheus_client_does(tmp_path: Path) -> None:
    """Every metric type and gauge mode, live workers and compacted ones: our collector reads
    the same samples and values as prometheus_client's MultiProcessCollector."""
    directory = tmp_path / "mp"
    prepare_multiproc(directory)
    pids = [run_worker_script(EVERY_KIND, directory, n) for n in (2, 3, 5, 4)]
    ours = FilesCollector(str(directory))
    theirs = MultiProcessCollector(None, path=str(directory))
    assert _samples(ours) == _samples(theirs)
    assert _families(ours) == _families(theirs)
    for pid in pids[:2]:
        mark_process_dead(pid, directory)
    for _ in range(2):  # the second scrape reads the archives parsed by the first
        merged = _samples(ours)
        assert merged == _samples(theirs)
    assert merged[("jobs_total", (("kind", "a"),))] == 14.0
    assert merged[("work_seconds_bucket", (("le", "1.0"), ("route", "/r")))] == 11.0
    assert merged[("min_level", (("k", "x"),))] == 2.0
    assert merged[("mostrecent_level", (("k", "x"),))] == 4.0
    assert ("all_level", (("k", "x"), ("pid", str(pids[0])))) not in merged


def test_a_scrape_sees_every_compaction(tmp_path: Path) -> None:
    """The archives a collector parsed are read again once they change: after each
    mark_process_dead and after prepare-multiproc, with one collector all along."""
    directory = tmp_path / "mp"
    prepare_multiproc(directory)
    ours = FilesCollector(str(directory))
    key = ("jobs_total", (("kind", "a"),))
    expected = 0.0
    for n in (1, 2, 4):
        pid = run_worker(directory, n)
        expected += n
        assert _samples(ours)[key] == expected
        mark_process_dead(pid, directory)
        assert _samples(ours)[key] == expected
    prepare_multiproc(directory)
    assert key not in _samples(ours)
    pid = run_worker(directory, 8)
    mark_process_dead(pid, directory)
    assert _samples(ours)[key] == 8.0


def test_a_file_not_yet_initialised_is_skipped(tmp_path: Path) -> None:
    """A starting worker's empty file does not fail the scrape (prometheus_client's does)."""
    directory = tmp_path / "mp"
    prepare_multiproc(directory)
    run_worker(directory, 3)
    (directory / "counter_99999.db").write_bytes(b"")
    assert _samples(FilesCollector(str(directory)))[("jobs_total", (("kind", "a"),))] == 3.0


def test_prepare_wipes_metric_files_only(tmp_path: Path) -> None:
    """prepare-multiproc removes *.db files from a previous run and nothing else."""
    directory = tmp_path / "mp"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old")
    (directory / "keep.txt").write_text("mine")
    assert prepare_multiproc(directory) == 1
    assert sorted(p.name for p in directory.iterdir() if p.suffix != ".lock") == ["keep.txt"]


def test_mark_process_dead_errors(tmp_path: Path) -> None:
    """A missing directory or a bad pid is a ConfigurationError saying what to do."""
    with pytest.raises(ConfigurationError, match="prepare-multiproc"):
        mark_process_dead(123, tmp_path / "missing")
    with pytest.raises(ConfigurationError, match="pid"):
        mark_process_dead(0, tmp_path)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """maestro-monitoring prepare-multiproc / mark-dead: exit 0, 2 on bad input."""
    directory = tmp_path / "mp"
    assert main(["prepare-multiproc", str(directory)]) == 0
    assert directory.is_dir()
    assert main(["mark-dead", str(directory), "4242"]) == 0
    assert main(["mark-dead", str(tmp_path / "nope"), "4242"]) == 2
    assert "maestro-monitoring: error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["mark-dead", str(directory), "not-a-pid"])
    assert exit_info.value.code == 2


APP = textwrap.dedent(
    """
    import os
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route
    from maestro_monitoring import MetricsManager, MetricsMiddleware, metrics_app

    metrics = MetricsManager(namespace="mp")
    jobs = metrics.counter("jobs_total", "Jobs done", labels=["kind"]).labels(kind="a")

    async def work(request):
        jobs.inc()
        return PlainTextResponse(str(os.getpid()))

    app = Starlette(routes=[Route("/work", work), Mount("/metrics", app=metrics_app(metrics))])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    """
)
CONFIG = textwrap.dedent(
    """
    from maestro_monitoring.multiprocess import mark_process_dead

    def child_exit(server, worker):
        mark_process_dead(worker.pid)
    """
)


def total(base: str) -> float:
    """mp_jobs_total summed over the scrape."""
    response = httpx.get(f"{base}/metrics/", timeout=10)
    response.raise_for_status()  # a failed scrape is a failure, not a zero
    text = response.text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mp_jobs_total{")
    )


@pytest.mark.slow
def test_gunicorn_workers_killed_never_lower_the_totals(tmp_path: Path) -> None:
    """gunicorn, 3 uvicorn workers, one SIGKILLed: the scrape's totals never decrease."""
    directory = tmp_path / "mp"
    assert main(["prepare-multiproc", str(directory)]) == 0
    (tmp_path / "mpapp.py").write_text(APP, encoding="utf-8")
    (tmp_path / "gunicorn_conf.py").write_text(CONFIG, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=3",
            "--worker-class=uvicorn_worker.UvicornWorker",
            f"--bind=127.0.0.1:{port}",
            f"--chdir={tmp_path}",
            "--config=python:gunicorn_conf",
            "mpapp:app",
        ],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(tmp_path)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                httpx.get(f"{base}/metrics/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
        pids: set[int] = set()
        done = 0
        while len(pids) < 3 or done < 30:
            response = httpx.get(f"{base}/work", headers={"connection": "close"}, timeout=5)
            pids.add(int(response.text))
            done += 1
            assert done < 2000, "the requests never reached three workers"
        assert total(base) == done

        seen: list[float] = []
        failed: list[str] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                try:
                    seen.append(total(base))
                except httpx.TransportError:
                    continue  # the connection went to the worker being killed
                except httpx.HTTPStatusError as exc:
                    failed.append(str(exc))

        watcher = threading.Thread(target=watch)
        watcher.start()
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while list(directory.glob(f"*_{victim}.db")):
            assert time.monotonic() < deadline, "the dead worker was never compacted"
            time.sleep(0.05)
        for _ in range(10):
            httpx.get(f"{base}/work", headers={"connection": "close"}, timeout=5)
            done += 1
        time.sleep(0.2)
        stop.set()
        watcher.join()
        assert seen, "no scrape succeeded while the worker died"
        assert not failed, failed
        drops = [(i, a, b) for i, (a, b) in enumerate(itertools.pairwise(seen)) if b < a]
        assert not drops, f"totals decreased: {drops} of {len(seen)} scrapes"
        assert total(base) == done
        assert (directory / "counter_archive.db").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
