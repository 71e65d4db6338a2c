"""A real Prometheus server (the Debian binary) scrapes a test app once and stores its series."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from maestro_monitoring import MetricsManager, start_metrics_server
from maestro_testkit import free_port
from prometheus_client import CollectorRegistry


def query(base: str, promql: str) -> list[dict[str, Any]]:
    """Run an instant query against Prometheus's HTTP API."""
    response = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=5)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.mark.slow
def test_prometheus_scrapes_the_exposition(
    tmp_path: Path, realistic: tuple[CollectorRegistry, MetricsManager]
) -> None:
    """Prometheus (bound to 127.0.0.1) scrapes the app: up=1, our series stored, no _created."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: run tools/system-deps.sh (Debian package prometheus)")
    _, metrics = realistic
    server = start_metrics_server(0, "127.0.0.1", metrics=metrics)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.port}']\n",
        encoding="utf-8",
    )
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        up: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                up = query(base, 'up{job="app"}')
            except httpx.HTTPError:
                up = []
            if up and query(base, "orders_created_total"):
                break
            time.sleep(0.2)
        assert up, "Prometheus never scraped the app: " + (tmp_path / "prometheus.log").read_text()
        assert up[0]["value"][1] == "1"
        created = query(base, 'orders_created_total{channel="web"}')
        assert created[0]["value"][1] == "3"
        assert created[0]["metric"]["service"] == "orders"
        routes = {
            r["metric"]["http_route"]
            for r in query(base, "http_server_request_duration_seconds_count")
        }
        assert routes == {"/orders/{order_id}", "/v1/items/{item_id}", "/missing", "<unmatched>"}
        state = query(base, 'maestro_circuit_breaker_state{name="pricing"}')
        assert state[0]["value"][1] == "2"
        assert query(base, 'maestro_cache_hits_total{cache="default"}')[0]["value"][1] == "120"
        assert query(base, '{__name__=~".+_created"}') == []
        health = query(base, 'scrape_samples_scraped{job="app"}')
        assert int(health[0]["value"][1]) > 50
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        server.close()
