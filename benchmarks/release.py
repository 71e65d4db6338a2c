"""Release pipeline timings: build, index start-up, install from the index.

    python benchmarks/release.py

Prints the wall time of building every member (what `make build` runs), the time from
starting the index to its first answered request, and the time to install every member
from the index into a fresh venv with a warm pip cache (one install first warms it).
Aims (2 cores): build + start within 60 s, start-up under 1 s, install under 30 s warm.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def members() -> list[str]:
    """Distribution names of the workspace members."""
    return sorted(p.parent.name for p in (REPO / "packages").glob("*/pyproject.toml"))


def time_build(out: Path) -> float:
    """Seconds to build and check every member into out."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "build.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def start_index(dist: Path, data: Path) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start the index; return it, its port and the seconds until it answered."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tools" / "index.py"),
            "serve",
            "--port",
            str(port),
            "--root",
            str(dist),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}/repository/pypi-group/simple/"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
            break
        except OSError:
            if time.perf_counter() - started > 30:
                proc.kill()
                raise SystemExit("the index did not answer within 30 s") from None
            time.sleep(0.01)
    return proc, port, time.perf_counter() - started


def time_install(port: int, target: Path, names: list[str]) -> float:
    """Seconds to pip-install every member (pinned) into a new venv."""
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    cmd = [
        str(target / "bin" / "python"),
        "-m",
        "pip",
        "--isolated",
        "--disable-pip-version-check",
        "install",
        "--quiet",
        "--index-url",
        f"http://localhost:{port}/repository/pypi-group/simple",
        "--trusted-host",
        "localhost",
        *[f"{n}==1.0.0" for n in names],
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    """Run the three measurements and print them beside their aims."""
    names = members()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        build_s = time_build(tmp / "dist")
        proc, port, start_s = start_index(tmp / "dist", tmp / "data")
        try:
            time_install(port, tmp / "warm", names)  # fills pip's cache
            install_s = time_install(port, tmp / "venv", names)
        finally:
            proc.terminate()
            proc.wait(10)
    built = len(names)
    print(f"members: {built} ({', '.join(names)})")
    print(f"build (all members, checks included): {build_s:6.1f} s")
    print(f"index start-up to first answer:       {start_s:6.2f} s   aim < 1 s")
    print(f"build + start-up:                     {build_s + start_s:6.1f} s   aim < 60 s")
    print(f"install all members, warm pip cache:  {install_s:6.1f} s   aim < 30 s")
    if built < 12:
        print(f"note: {built} of the twelve distributions exist; the aims are for twelve")


if __name__ == "__main__":
    main()
