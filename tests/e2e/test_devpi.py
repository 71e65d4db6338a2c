"""`make publish` against a real third-party index (devpi-server), then install from it.

A team that outgrows `make index` publishes to Nexus, Artifactory or devpi. This test
starts a real devpi-server on a free loopback port, creates a user and an index through
its HTTP API, runs `make publish` with the credentials in the environment, publishes again
(everything is skipped), and installs the guide's "Install All Packages" names from the
devpi index into a fresh virtual environment. The index is private (no ``root/pypi``
base: its mirror needs devpi to reach PyPI itself, which CI machines do not promise), so
the twelve names come from devpi with ``--no-deps`` and their third-party dependencies
from pip's default index in a second step, never the other way round.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Devpi:
    """A running devpi-server with one user and one private index (no PyPI mirror)."""

    base: str
    user: str
    password: str
    index: str

    @property
    def upload_url(self) -> str:
        return f"{self.base}/{self.user}/{self.index}/"

    @property
    def simple_url(self) -> str:
        return f"{self.base}/{self.user}/{self.index}/+simple/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devpi]:
    """devpi-server on 127.0.0.1, initialised in a temporary folder, stopped afterwards."""
    folder = tmp_path_factory.mktemp("devpi")
    server_dir = folder / "server"
    root_password = secrets.token_urlsafe(16)
    subprocess.run(
        [str(BIN / "devpi-init"), "--serverdir", str(server_dir), "--root-passwd", root_password],
        check=True,
        capture_output=True,
        timeout=300,
    )
    port = _free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(BIN / "devpi-server"),
            "--serverdir",
            str(server_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()
            try:
                if httpx.get(f"{base}/+api", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "devpi-server did not start within 180 s"
            time.sleep(0.25)
        server = Devpi(base, "uploader", secrets.token_urlsafe(16), "dev")
        headers = {"Accept": "application/json"}
        created = httpx.put(
            f"{base}/{server.user}", json={"password": server.password}, headers=headers
        )
        assert created.status_code == 201, created.text
        index = httpx.put(
            f"{base}/{server.user}/{server.index}",
            json={"bases": [], "volatile": False},
            headers=headers,
            auth=(server.user, server.password),
        )
        assert index.status_code == 200, index.text
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        log.close()


def _toy_dist(folder: Path) -> Path:
    """A folder with a tiny real wheel that is not on the index yet."""
    import zipfile

    folder.mkdir()
    name = f"maestro_toy_{secrets.token_hex(4)}"
    with zipfile.ZipFile(folder / f"{name}-1.0.0-py3-none-any.whl", "w") as zf:
        zf.writestr(f"{name}/__init__.py", "VALUE = 1\n")
        zf.writestr(
            f"{name}-1.0.0.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0.0\n",
        )
        zf.writestr(
            f"{name}-1.0.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{name}-1.0.0.dist-info/RECORD", "")
    return folder


def _publish(
    devpi: Devpi, password: str, *, make: bool = False, dist: Path = REPO / "dist"
) -> subprocess.CompletedProcess[str]:
    """`make publish` (build, then upload), or tools/publish.py on the dist/ it built."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "TWINE_"))},
        "MAESTRO_INDEX_URL": devpi.upload_url,
        "MAESTRO_INDEX_SIMPLE_URL": devpi.simple_url,
        "MAESTRO_INDEX_USERNAME": devpi.user,
        "MAESTRO_INDEX_PASSWORD": password,
    }
    command = (
        ["make", "publish"]
        if make
        else [sys.executable, str(REPO / "tools" / "publish.py"), "--dist", str(dist)]
    )
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def test_make_publish_to_devpi_and_install_every_name(
    devpi: Devpi, tmp_path: Path, workspace_members: dict[str, str]
) -> None:
    """`make publish` uploads every file once; wrong credentials are refused; pip installs it."""
    first = _publish(devpi, devpi.password, make=True)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    files = 2 * len(workspace_members)
    assert f"publish: uploaded {files} file(s) to {devpi.upload_url}" in first.stdout
    assert devpi.password not in first.stdout + first.stderr

    again = _publish(devpi, devpi.password)
    assert again.returncode == 0, again.stderr
    assert "publish: uploaded 0 file(s)" in again.stdout

    refused = _publish(devpi, "not-" + devpi.password, dist=_toy_dist(tmp_path / "toy"))
    assert refused.returncode == 1
    assert "-1.0.0-py3-none-any.whl failed to upload" in refused.stderr
    assert "not-" + devpi.password not in refused.stdout + refused.stderr

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import index as index_tool
    finally:
        sys.path.pop(0)
    names = index_tool.install_all_names()
    assert {n.split("[")[0] for n in names} == set(workspace_members)
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    ours = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "--isolated",
            "--disable-pip-version-check",
            "install",
            "--no-deps",
            "--index-url",
            devpi.simple_url,
            "--trusted-host",
            "127.0.0.1",
            *names,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=clean,
    )
    assert ours.returncode == 0, ours.stdout[-3000:] + ours.stderr[-3000:]
    # Their dependencies: the maestro names are installed, so pip only fetches the rest.
    deps = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "install", *names],
        capture_output=True,
        text=True,
        timeout=1200,
        env=clean,
    )
    assert deps.returncode == 0, deps.stdout[-3000:] + deps.stderr[-3000:]
    check = subprocess.run(
        [str(python), "-m", "pip", "check"], capture_output=True, text=True, env=clean
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        env=clean,
    ).stdout
    for requirement in names:
        name = requirement.split("[")[0]
        assert f"{name}=={workspace_members[name]}" in listed, name
