"""The front door a newcomer meets first: `make help`, `make index`, index and publish messages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
INDEX = [sys.executable, str(REPO / "tools" / "index.py")]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port that something is listening on for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return {**clean, **extra}


def test_make_help_shows_the_variable_as_the_user_types_it() -> None:
    """`make help` prints $MAESTRO_INDEX_URL, not Make's escaped $$MAESTRO_INDEX_URL."""
    out = subprocess.run(
        ["make", "help"], cwd=REPO, capture_output=True, text=True, check=True, env=_env()
    ).stdout
    assert "$MAESTRO_INDEX_URL" in out
    assert "$$" not in out


def test_make_index_checks_the_port_before_building(held_port: int) -> None:
    """`make index` on a busy port stops at once with the fix, before building anything."""
    proc = subprocess.run(
        ["make", "index"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(MAESTRO_INDEX_PORT=str(held_port), MAESTRO_INDEX_HOST="127.0.0.1"),
    )
    assert proc.returncode != 0
    assert f"port {held_port} on 127.0.0.1 is already in use" in proc.stderr
    assert "MAESTRO_INDEX_PORT" in proc.stderr
    assert "building" not in proc.stdout


def test_serve_help_names_every_default_and_variable() -> None:
    """`index.py serve --help` shows each option's default and its MAESTRO_INDEX_* variable."""
    out = subprocess.run(
        [*INDEX, "serve", "--help"], capture_output=True, text=True, check=True, env=_env()
    ).stdout
    flat = " ".join(out.split())
    for option, variable, default in (
        ("--host", "MAESTRO_INDEX_HOST", "localhost"),
        ("--port", "MAESTRO_INDEX_PORT", "28081"),
        ("--data-dir", "MAESTRO_INDEX_DATA", ".index-data/"),
        ("--upstream", "MAESTRO_INDEX_UPSTREAM", "https://pypi.org/simple"),
    ):
        assert option in flat
        assert f"default {default}; env {variable}" in flat, option
    assert "default dist/" in flat


def test_check_lists_every_missing_name_at_once(
    index_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """`index.py check` names all of the guide's Install All names an index lacks, exit 1."""
    index = index_factory("--root", str(tmp_path / "empty"), "--data-dir", str(tmp_path / "d"))
    proc = subprocess.run(
        [*INDEX, "check", "--index-url", index.group],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert "12 of 12 names are not on" in proc.stderr
    for name in ("maestro-core-api", "maestro-cache", "maestro-test-result-aggregator"):
        assert name in proc.stderr


def test_check_against_nothing_is_an_environment_error() -> None:
    """`index.py check` where no index answers says how to start one, exit 3."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run(
        [*INDEX, "check", "--index-url", f"http://127.0.0.1:{port}/repository/pypi-group/simple"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert proc.returncode == 3
    assert proc.stderr.startswith("index: error: nothing answers at")
    assert "make index" in proc.stderr


def test_publish_dry_run_against_a_stopped_index_says_so(tmp_path: Path) -> None:
    """A dry run against an index that is not running says so, exit 3, and no upload story."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "maestro_toy-1.0.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "publish.py"), "--dist", str(dist), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(MAESTRO_INDEX_URL=f"http://127.0.0.1:{port}/repository/pypi-hosted/"),
    )
    assert proc.returncode == 3
    assert "is the index running?" in proc.stderr
    assert "make index" in proc.stderr
    assert "uploaded before this one" not in proc.stderr
