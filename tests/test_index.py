"""The index server: the Nexus paths, uploads with credentials, no dependency confusion."""

from __future__ import annotations

import http.client
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def status(url: str) -> tuple[int, str]:
    """GET without following redirects: (status, Location header or body start)."""
    parts = urllib.request.urlparse(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", parts.path)
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, response.getheader("Location") or body


class FakeUpstream:
    """A stand-in for the public index on loopback that offers any name at 99.0.0."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                name = self.path.strip("/").split("/")[-1]
                stem = name.replace("-", "_")
                wheel = f"{stem}-99.0.0-py3-none-any.whl"
                body = f'<a href="/files/{wheel}">{wheel}</a>'
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A fake public index on loopback."""
    fake = FakeUpstream()
    yield fake
    fake.close()


@pytest.fixture
def toy_dist(tmp_path: Path) -> Path:
    """A folder with a tiny real wheel of a maestro-named project."""
    import zipfile

    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / "maestro_toy-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("maestro_toy/__init__.py", "VALUE = 1\n")
        zf.writestr(
            "maestro_toy-1.0.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: maestro-toy\nVersion: 1.0.0\n",
        )
        zf.writestr(
            "maestro_toy-1.0.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("maestro_toy-1.0.0.dist-info/RECORD", "")
    return dist


def test_group_serves_hosted_names_and_redirects_others(
    index_factory: Callable[..., Any], toy_dist: Path, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """The group path lists our file and sends a third-party name to the upstream index."""
    index = index_factory(
        "--root", str(toy_dist), "--data-dir", str(tmp_path / "data"), "--upstream", upstream.url
    )
    code, body = status(f"{index.group}/maestro-toy/")
    assert code == 200
    assert "maestro_toy-1.0.0-py3-none-any.whl" in body
    code, location = status(f"{index.group}/six/")
    assert code in (302, 303)
    assert location == f"{upstream.url}/six/"


def test_private_names_never_reach_upstream(
    index_factory: Callable[..., Any], toy_dist: Path, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """A maestro-* name we do not host is a 404 on the group path and upstream is never asked."""
    index = index_factory(
        "--root", str(toy_dist), "--data-dir", str(tmp_path / "data"), "--upstream", upstream.url
    )
    for name in ("maestro-audit-logger", "Maestro_Audit.Logger", "maestro-nothing"):
        code, _ = status(f"{index.group}/{name}/")
        assert code in (301, 404), name
    code, _ = status(f"{index.group}/maestro-audit-logger/")
    assert code == 404
    assert not [r for r in upstream.requests if "maestro" in r.lower()]


def test_install_through_group_never_takes_the_public_maestro_name(
    index_factory: Callable[..., Any], toy_dist: Path, upstream: FakeUpstream, tmp_path: Path
) -> None:
    """pip through the group installs our 1.0.0 although the 'public' index offers 99.0.0."""
    index = index_factory(
        "--root", str(toy_dist), "--data-dir", str(tmp_path / "data"), "--upstream", upstream.url
    )
    target = tmp_path / "target"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--isolated",
            "install",
            "--no-deps",
            "--target",
            str(target),
            "--index-url",
            index.group,
            "--trusted-host",
            "localhost",
            "maestro-toy",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "maestro_toy-1.0.0.dist-info").is_dir()
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--isolated",
            "download",
            "--no-deps",
            "-d",
            str(tmp_path / "dl"),
            "--index-url",
            index.group,
            "--trusted-host",
            "localhost",
            "maestro-audit-logger",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode != 0
    assert not [r for r in upstream.requests if "maestro" in r.lower()]


def test_uploads_need_the_credentials_from_the_environment(
    index_factory: Callable[..., Any], toy_dist: Path, tmp_path: Path, tools: Callable[[str], Any]
) -> None:
    """Wrong credentials are refused with the index's answer; right ones upload; a re-run skips."""
    secret = os.urandom(8).hex()
    creds = {"MAESTRO_INDEX_USERNAME": "uploader", "MAESTRO_INDEX_PASSWORD": secret}
    index = index_factory(
        "--root", str(tmp_path / "empty"), "--data-dir", str(tmp_path / "data"), env=creds
    )
    publish = [sys.executable, str(REPO / "tools" / "publish.py"), "--dist", str(toy_dist)]
    env = {**os.environ, **creds, "MAESTRO_INDEX_URL": index.hosted}

    wrong = subprocess.run(
        publish, capture_output=True, text=True, env={**env, "MAESTRO_INDEX_PASSWORD": "not-it"}
    )
    assert wrong.returncode == 1
    assert "maestro_toy-1.0.0-py3-none-any.whl failed" in wrong.stderr
    assert "403" in wrong.stderr
    assert "not-it" not in wrong.stdout + wrong.stderr

    dry = subprocess.run([*publish, "--dry-run"], capture_output=True, text=True, env=env)
    assert dry.returncode == 0
    assert "would upload maestro_toy-1.0.0-py3-none-any.whl" in dry.stdout
    assert not (tmp_path / "data" / "maestro_toy-1.0.0-py3-none-any.whl").exists()

    good = subprocess.run(publish, capture_output=True, text=True, env=env)
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "data" / "maestro_toy-1.0.0-py3-none-any.whl").exists()
    assert secret not in good.stdout + good.stderr

    again = subprocess.run(publish, capture_output=True, text=True, env=env)
    assert again.returncode == 0
    assert "skip    maestro_toy-1.0.0-py3-none-any.whl" in again.stdout


def test_uploads_are_refused_without_configured_credentials(
    index_factory: Callable[..., Any], toy_dist: Path, tmp_path: Path
) -> None:
    """With no MAESTRO_INDEX_* credentials on the server, every upload is refused."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_INDEX_")}
    index = index_factory(
        "--root", str(tmp_path / "empty"), "--data-dir", str(tmp_path / "data"), env=env
    )
    assert "uploads disabled" in "".join(index.output)
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "publish.py"), "--dist", str(toy_dist)],
        capture_output=True,
        text=True,
        env={
            **env,
            "MAESTRO_INDEX_URL": index.hosted,
            "MAESTRO_INDEX_USERNAME": "",
            "MAESTRO_INDEX_PASSWORD": "",
        },
    )
    assert proc.returncode == 1
    assert not list((tmp_path / "data").iterdir())


def test_group_path_is_read_only(
    index_factory: Callable[..., Any], toy_dist: Path, tmp_path: Path
) -> None:
    """A POST to the group repository is a 405 that points at the hosted one."""
    index = index_factory("--root", str(toy_dist), "--data-dir", str(tmp_path / "data"))
    request = urllib.request.Request(index.group.rsplit("/", 1)[0] + "/", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    info.value.close()
    assert info.value.code == 405


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    """Serving on a port already taken exits 2 with a message naming the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                str(REPO / "tools" / "index.py"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "d"),
                "--root",
                str(tmp_path / "r"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert f"port {port}" in proc.stderr
    assert "already in use" in proc.stderr


def test_ctrl_c_stops_the_server_cleanly(index_factory: Callable[..., Any], tmp_path: Path) -> None:
    """SIGINT ends the foreground server with exit status 0 and a last line."""
    index = index_factory("--root", str(tmp_path / "r"), "--data-dir", str(tmp_path / "d"))
    assert "pip install --index-url http://localhost:" in "".join(index.output)
    index.process.send_signal(signal.SIGINT)
    out, _ = index.process.communicate(timeout=15)
    index.process.stdout.close()  # type: ignore[union-attr]
    assert index.process.returncode == 0
    assert "stopped" in out


def test_unknown_path_says_what_is_served(
    index_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """A path outside the two repositories is a 404 that names them."""
    index = index_factory("--root", str(tmp_path / "r"), "--data-dir", str(tmp_path / "d"))
    code, body = status(f"{index.base}/nexus/")
    assert code == 404
    assert "/repository/pypi-group/simple/" in body


def test_name_normalisation(tools: Callable[[str], Any]) -> None:
    """Project names are compared in their PEP 503 form."""
    index = tools("index")
    assert index.normalize("Maestro_Audit.Logger") == "maestro-audit-logger"
    assert index.normalize("maestro--x") == "maestro-x"


def test_sigterm_twice_stops_without_a_traceback(
    index_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """SIGTERM stops the server; a second one during shutdown prints no traceback."""
    index = index_factory("--root", str(tmp_path / "r"), "--data-dir", str(tmp_path / "d"))
    index.process.send_signal(signal.SIGTERM)
    index.process.send_signal(signal.SIGTERM)
    out, _ = index.process.communicate(timeout=15)
    index.process.stdout.close()  # type: ignore[union-attr]
    assert index.process.returncode == 0
    assert "Traceback" not in out


def test_uv_publish_needs_the_same_credentials(
    index_factory: Callable[..., Any], toy_dist: Path, tmp_path: Path
) -> None:
    """`uv publish` to the hosted path fails with wrong credentials and works with right ones."""
    import shutil

    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    secret = os.urandom(8).hex()
    creds = {"MAESTRO_INDEX_USERNAME": "uploader", "MAESTRO_INDEX_PASSWORD": secret}
    index = index_factory(
        "--root", str(tmp_path / "empty"), "--data-dir", str(tmp_path / "data"), env=creds
    )
    wheel = str(toy_dist / "maestro_toy-1.0.0-py3-none-any.whl")
    base = [uv, "publish", "--no-config", "--publish-url", index.hosted, wheel]
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_PUBLISH_")}
    wrong = subprocess.run(
        base,
        capture_output=True,
        text=True,
        env={**env, "UV_PUBLISH_USERNAME": "uploader", "UV_PUBLISH_PASSWORD": "not-it"},
        timeout=120,
    )
    assert wrong.returncode != 0
    assert "403" in wrong.stdout + wrong.stderr
    assert not (tmp_path / "data" / "maestro_toy-1.0.0-py3-none-any.whl").exists()
    right = subprocess.run(
        base,
        capture_output=True,
        text=True,
        env={**env, "UV_PUBLISH_USERNAME": "uploader", "UV_PUBLISH_PASSWORD": secret},
        timeout=120,
    )
    assert right.returncode == 0, right.stdout + right.stderr
    assert (tmp_path / "data" / "maestro_toy-1.0.0-py3-none-any.whl").exists()


def _blocked_writing(pid: int) -> bool:
    """True when the process sleeps inside a write to a full pipe."""
    try:
        return "pipe_write" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc/PID/wchan")
def test_sigterm_while_the_banner_is_written_stops_cleanly(tmp_path: Path) -> None:
    """A SIGTERM that arrives while "Ready" is being written is handled: a clean stop, exit 0.

    The index's stdout is a one-page pipe that the test fills first, so the server blocks
    inside the banner's write until the test drains it; the test signals it right there,
    every time. Before the fix the handlers were installed after the banner and this
    signal killed the process (return code -15) on every run.
    """
    import fcntl

    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    for attempt in range(3):
        read_end, write_end = os.pipe()
        try:
            fcntl.fcntl(write_end, set_pipe_size, 4096)
            os.write(write_end, b"." * 4096)  # full: the banner's write must block
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO / "tools" / "index.py"),
                    "serve",
                    "--port",
                    str(port),
                    "--root",
                    str(tmp_path / f"r{attempt}"),
                    "--data-dir",
                    str(tmp_path / f"d{attempt}"),
                ],
                stdout=write_end,
                stderr=subprocess.DEVNULL,
            )
            os.close(write_end)
            write_end = -1
            deadline = time.monotonic() + 60
            while not _blocked_writing(proc.pid):
                assert proc.poll() is None, "index exited before writing its banner"
                assert time.monotonic() < deadline, "index never reached its banner"
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            chunks = []
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
            proc.wait(timeout=30)
        finally:
            os.close(read_end)
            if write_end != -1:
                os.close(write_end)
        output = b"".join(chunks).decode(errors="replace")
        assert proc.returncode == 0, f"attempt {attempt}: killed by the signal ({proc.returncode})"
        assert "index: stopped" in output
        assert "Traceback" not in output


def test_sigterm_the_instant_ready_is_read_stops_cleanly(
    index_factory: Callable[..., Any], tmp_path: Path
) -> None:
    """SIGTERM sent the moment the "Ready" line is read stops the index cleanly, every time."""
    for attempt in range(10):
        index = index_factory(
            "--root", str(tmp_path / f"r{attempt}"), "--data-dir", str(tmp_path / f"d{attempt}")
        )
        index.process.send_signal(signal.SIGTERM)
        out, _ = index.process.communicate(timeout=15)
        assert index.process.returncode == 0, f"attempt {attempt}: {index.process.returncode}"
        assert "index: stopped" in out
