"""``make demo``'s launcher: it is ready only once shutdown is wired, and a SIGTERM at any
moment, including the instant "ready" is printed, stops both uvicorn children."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from maestro_testkit import free_port

from .conftest import CONFIG, wait_until


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start_demo(workdir: Path, port: int) -> subprocess.Popen[str]:
    shutil.copytree(CONFIG, workdir / "config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_")}
    return subprocess.Popen(
        [sys.executable, "-m", "reference_service.demo"],
        cwd=workdir,
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigterm_the_instant_the_demo_is_ready_stops_both_children(tmp_path: Path) -> None:
    """The launcher is signalled as soon as its "ready" line is read: exit 0, "demo:
    stopped", and neither the service nor the pricing stub is left listening."""
    port = free_port()
    demo = _start_demo(tmp_path, port)
    assert demo.stdout is not None
    lines: list[str] = []
    pricing_port = 0
    try:
        for line in demo.stdout:
            lines.append(line)
            if "orders is ready on" in line:
                pricing_port = int(line.rsplit(":", 1)[1])
                demo.send_signal(signal.SIGTERM)
                break
        else:
            raise AssertionError("the demo never said it was ready:\n" + "".join(lines))
        rest, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, "".join(lines) + rest
    assert "demo: stopped" in rest
    assert "Traceback" not in "".join(lines) + rest
    wait_until(lambda: not _accepts(port), 10, f"the service on :{port} to stop")
    wait_until(lambda: not _accepts(pricing_port), 10, f"the pricing stub on :{pricing_port}")


def test_sigterm_during_start_up_leaves_no_child_behind(tmp_path: Path) -> None:
    """A SIGTERM before the service is ready (children starting) still stops both."""
    port = free_port()
    demo = _start_demo(tmp_path, port)
    try:
        wait_until(lambda: _accepts(port) or demo.poll() is not None, 30, "the service port")
        demo.send_signal(signal.SIGTERM)
        out, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, out
    assert "demo: stopped" in out
    wait_until(lambda: not _accepts(port), 10, f"the service on :{port} to stop")
