"""A real uvicorn on a free port: SIGTERM drains, readiness flips, two processes share a
Redis limit, and schemathesis finds no server error or non-conforming response."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from maestro_testkit import free_port
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

SERVER = Path(__file__).with_name("_server.py")


class Server:
    """``_server.py MODE`` in a child process on a free port."""

    def __init__(self, mode: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), mode, str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early: {self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/readyz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not become ready")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=15)
        return out


@pytest.mark.slow
def test_sigterm_flips_readiness_drains_and_closes_resources_in_reverse() -> None:
    """SIGTERM mid-request: the request finishes 200, readiness was already failing,
    resources close in reverse order and the process ends normally."""
    server = Server("drain")
    try:
        server.wait_ready()
        result: dict[str, httpx.Response] = {}
        worker = threading.Thread(
            target=lambda: result.setdefault(
                "slow", httpx.get(server.url + "/slow", params={"seconds": 1.5}, timeout=20)
            )
        )
        worker.start()
        # Signal once the handler has started (no fixed sleep: under load the request may
        # take longer than any guess to arrive); its 1.5 s sleep spans the signal.
        seen: list[str] = []
        assert server.process.stdout is not None
        for line in server.process.stdout:
            seen.append(line)
            if line.strip() == "slow started":
                break
        server.process.send_signal(signal.SIGTERM)
        worker.join(timeout=20)
        code = server.process.wait(timeout=15)
        out = "".join(seen) + server.stop()
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert result["slow"].status_code == 200
    assert result["slow"].json() == {"shutting_down": True}
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a graceful stop
    lines = [line for line in out.splitlines() if line.startswith(("open", "close"))]
    assert lines == ["open db", "open cache", "close cache", "close db"]


@pytest.mark.slow
def test_sigterm_right_after_ready_exits_cleanly() -> None:
    """A SIGTERM as soon as /readyz passes is handled: clean exit, resources closed."""
    server = Server("drain")
    try:
        server.wait_ready()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=15)
        out = server.stop()
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a graceful stop
    assert "close db" in out
    assert "Traceback" not in out


@pytest.mark.slow
@pytest.mark.service
def test_two_processes_share_a_redis_limit(redis_url: str, unique_prefix: str) -> None:
    """Two uvicorn processes with one Redis limit of 3/minute admit 3 requests in total."""
    env = {"RL_REDIS_URL": redis_url, "RL_NAME": unique_prefix}
    servers = [Server("ratelimit", env), Server("ratelimit", env)]
    try:
        for server in servers:
            server.wait_ready()
        answers = [httpx.get(servers[i % 2].url + "/hit", timeout=5) for i in range(5)]
    finally:
        for server in servers:
            server.stop()
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert len({a.json()["pid"] for a in answers[:2]}) == 2
    assert answers[3].headers["content-type"] == "application/problem+json"
    assert int(answers[3].headers["retry-after"]) >= 1


@pytest.fixture(scope="module")
def contract_server() -> Iterator[str]:
    server = Server("contract")
    try:
        server.wait_ready()
        yield server.url
    finally:
        server.stop()


def _contract_schema() -> dict[str, object]:
    sys.path.insert(0, str(SERVER.parent))
    try:
        import _server

        return _server.build("contract").app.openapi()
    finally:
        sys.path.remove(str(SERVER.parent))


schema = schemathesis.openapi.from_dict(_contract_schema())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_schemathesis_finds_no_server_error_and_conforming_responses(
    case: schemathesis.Case,  # type: ignore[type-arg]
    contract_server: str,
) -> None:
    """Generated requests never get a 5xx and every answer matches the declared schema."""
    case.call_and_validate(
        base_url=contract_server, checks=[not_a_server_error, response_schema_conformance]
    )
