"""Shared fixtures for the repository-level tests (tools, README, docker, end to end)."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_tool(name: str) -> ModuleType:
    """Import tools/<name>.py as a module (tools/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"maestro_tools_{name}", REPO / "tools" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningIndex:
    """An index server started by a test, with its base URL."""

    process: subprocess.Popen[str]
    port: int
    output: list[str]

    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def group(self) -> str:
        return f"{self.base}/repository/pypi-group/simple"

    @property
    def hosted(self) -> str:
        return f"{self.base}/repository/pypi-hosted/"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def _start_index(*args: str, env: dict[str, str] | None = None) -> RunningIndex:
    """Start tools/index.py serve on a free port and wait until it prints its URLs."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tools" / "index.py"), "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops it" in line:
            return RunningIndex(proc, port, lines)
    proc.kill()
    raise AssertionError("index did not start:\n" + "".join(lines) + (proc.stdout.read() or ""))


@pytest.fixture
def index_factory() -> Iterator[Callable[..., RunningIndex]]:
    """A function that starts an index (arguments as for `serve`); all are stopped after."""
    started: list[RunningIndex] = []

    def start(*args: str, env: dict[str, str] | None = None) -> RunningIndex:
        index = _start_index(*args, env=env)
        started.append(index)
        return index

    yield start
    for index in started:
        index.stop()


@pytest.fixture(scope="session")
def start_index() -> Callable[..., RunningIndex]:
    """The function that starts an index; the caller stops it (for wider-scoped fixtures)."""
    return _start_index


@pytest.fixture(scope="session")
def tools() -> Callable[[str], ModuleType]:
    """load_tool as a fixture: tools("index") is tools/index.py imported."""
    return load_tool


@pytest.fixture(scope="session")
def workspace_members() -> dict[str, str]:
    """Workspace member distribution name -> version."""
    return members()


def members() -> dict[str, str]:
    """Workspace member distribution name -> version (from its _version.py)."""
    found = {}
    for version_file in sorted(REPO.glob("packages/*/src/*/_version.py")):
        name = version_file.parents[2].name
        match = re.search(r'__version__\s*=\s*"([^"]+)"', version_file.read_text(encoding="utf-8"))
        assert match, version_file
        found[name] = match.group(1)
    return found
