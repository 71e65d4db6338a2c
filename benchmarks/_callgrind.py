"""Instructions a server executes per request, counted by valgrind's callgrind.

Shared by the benchmarks that need a throughput bound independent of the machine's load
(``api.py --instructions``, ``monitoring.py --callgrind``): the caller starts its server
under :func:`valgrind_prefix`, then :func:`instructions_per_request` sends warm-up GETs on
one keep-alive connection, zeroes the counters, sends the measured GETs, dumps the counters,
stops the server and divides callgrind's total by the number of requests.
"""

from __future__ import annotations

import glob
import http.client
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["available", "instructions_per_request", "valgrind_prefix", "wait_for_port"]


def available() -> bool:
    """True when valgrind and callgrind_control are on PATH (Debian package valgrind)."""
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


def valgrind_prefix(out: str) -> tuple[str, ...]:
    """The command prefix that runs a program under callgrind, writing dumps to *out*.N."""
    return ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}")


def wait_for_port(server: subprocess.Popen[bytes], port: int, timeout: float, what: str) -> None:
    """Wait until *server* accepts connections on *port* (valgrind starts slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"{what} did not start under valgrind") from None
            time.sleep(0.25)


def instructions_per_request(
    server: subprocess.Popen[bytes],
    port: int,
    out: str,
    requests: int,
    *,
    path: str = "/ping",
    warmup: int = 300,
) -> float:
    """Callgrind's instruction count (Ir) per ``GET path`` of the running *server*; the
    server is stopped on return."""
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def get(count: int) -> None:
            for _ in range(count):
                client.request("GET", path)
                response = client.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}")

        get(warmup)
        pid = str(server.pid)
        subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
        get(requests)
        subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=120)
    dumped = [f for f in glob.glob(out + ".*") if f.rsplit(".", 1)[1].isdigit()]
    if not dumped:
        raise RuntimeError("callgrind wrote no dump")
    summary = re.search(r"^summary:\s+(\d+)", Path(min(dumped)).read_text(), re.MULTILINE)
    if summary is None:
        raise RuntimeError("no summary line in the callgrind dump")
    return int(summary.group(1)) / requests
