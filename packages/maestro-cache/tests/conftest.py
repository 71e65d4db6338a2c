"""Fixtures: one cache per backend (memory, the shared Redis, a private 3-master cluster) and
a private redis-server the test may stop and restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from maestro_cache import CacheInterface, InMemoryCache, RedisCache
from maestro_testkit import IN_CI, free_port, require_service


def _wait_port(port: int, up: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.02)
    raise RuntimeError(f"redis-server on port {port} did not come {'up' if up else 'down'}")


def _redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not on PATH (install the redis-server package)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


class PrivateRedis:
    """A redis-server of our own on a free port: tests stop and restart it at will."""

    def __init__(self, directory: Path, extra: tuple[str, ...] = ()) -> None:
        self.binary = _redis_server_binary()
        self.port = free_port()
        self.dir = directory
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
            _wait_port(self.port, up=False)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private, stoppable redis-server (the shared 6379 one is never touched)."""
    with tempfile.TemporaryDirectory(prefix="maestro-cache-redis-") as tmp:
        server = PrivateRedis(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _cluster_port(taken: list[int]) -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    import random

    for _ in range(200):
        port = random.randint(20000, 30000)
        if port in taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@pytest.fixture(scope="session")
def cluster_url() -> Iterator[str]:
    """A 3-master Redis Cluster on free ports, created once per session."""
    binary = _redis_server_binary()
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not on PATH")
    with tempfile.TemporaryDirectory(prefix="maestro-cache-cluster-") as tmp:
        procs = []
        ports: list[int] = []
        try:
            for index in range(3):
                port = _cluster_port(ports)
                node_dir = Path(tmp) / str(index)
                node_dir.mkdir()
                procs.append(
                    subprocess.Popen(
                        [
                            binary,
                            "--port",
                            str(port),
                            "--bind",
                            "127.0.0.1",
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            str(node_dir / "nodes.conf"),
                            "--cluster-node-timeout",
                            "2000",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            str(node_dir),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                ports.append(port)
            for port in ports:
                _wait_port(port, up=True)
            created = subprocess.run(
                [
                    cli,
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{port}" for port in ports),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert created.returncode == 0, created.stdout + created.stderr
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                info = subprocess.run(
                    [cli, "-p", str(ports[0]), "cluster", "info"],
                    capture_output=True,
                    text=True,
                ).stdout
                if "cluster_state:ok" in info:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("the test cluster did not reach cluster_state:ok")
            yield "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in ports)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(params=["memory", "redis", "cluster"])
async def cache(
    request: pytest.FixtureRequest, unique_prefix: str
) -> AsyncIterator[CacheInterface]:
    """The same API on each backend: in-process, the shared Redis, a private cluster."""
    made: CacheInterface
    if request.param == "memory":
        made = InMemoryCache(key_prefix=unique_prefix)
    elif request.param == "redis":
        url = require_service("redis").url
        made = RedisCache(url, socket_timeout=5, key_prefix=unique_prefix)
    else:
        made = RedisCache(
            request.getfixturevalue("cluster_url"), socket_timeout=5, key_prefix=unique_prefix
        )
    try:
        yield made
    finally:
        if request.param != "memory":
            await made.clear()
            made.sync.clear()
        await made.close()
