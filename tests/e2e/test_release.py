"""End to end: build every distribution, serve it, install it as the guide says, use it.

This is what a service developer does: `pip install --index-url ... --trusted-host
localhost NAME==1.0.0` into a fresh environment (pip's own configuration ignored with
--isolated), then the guide's Step 4 verification one-liners, run from a folder outside
the source tree. Third-party dependencies come through the group path from the public
index, as they would through Nexus.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "docs" / "integration-guide.md").read_text(encoding="utf-8")
GUIDE_PORT = "28081"

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]


def _run(cmd: list[str], *, cwd: Path | None = None, timeout: float = 900) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "UV_", "VIRTUAL_ENV"))
    }
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder outside the source tree for everything this module makes.

    Not under pytest's ``tmp_path`` (mode 0700 for its owner): the audit logger's tests run
    the installed package as ``nobody`` too, so the fresh environment must be readable.
    """
    path = Path(tempfile.mkdtemp(prefix="maestro-e2e-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def dist(workdir: Path) -> Path:
    """Every member built and checked by tools/build.py (what `make build` runs)."""
    out = workdir / "dist"
    _run([sys.executable, str(REPO / "tools" / "build.py"), "--out", str(out)], cwd=REPO)
    return out


@pytest.fixture(scope="module")
def index(dist: Path, workdir: Path, start_index: Callable[..., Any]) -> Iterator[Any]:
    """The index serving dist/ on a free port, with the public index as upstream."""
    running = start_index("--root", str(dist), "--data-dir", str(workdir / "uploads"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def fresh_python(workdir: Path) -> Path:
    """A new virtual environment with nothing of ours in it."""
    target = workdir / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    return target / "bin" / "python"


def _pip(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "pip", "--isolated", "--disable-pip-version-check", *args]


def test_every_member_builds_into_a_wheel_and_an_sdist(
    dist: Path, workspace_members: dict[str, str]
) -> None:
    """dist/ holds one wheel and one sdist per member at its version, and nothing else."""
    expected = set()
    for name, version in workspace_members.items():
        stem = name.replace("-", "_")
        expected |= {f"{stem}-{version}-py3-none-any.whl", f"{stem}-{version}.tar.gz"}
    assert {p.name for p in dist.iterdir()} == expected


def test_install_every_member_the_guides_way(
    index: Any, fresh_python: Path, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """Method 1 for every member, then the guide's Step 4 one-liners, outside the source tree."""
    pins = [f"{name}=={version}" for name, version in sorted(workspace_members.items())]
    _run(
        _pip(
            fresh_python,
            "install",
            "--index-url",
            index.group,
            "--trusted-host",
            "localhost",
            *pins,
        )
    )
    listed = _run(_pip(fresh_python, "list", "--format=freeze"))
    for pin in pins:
        assert pin in listed
    checks = re.findall(r'^python -c "(.*)"$', GUIDE, re.M)
    ours = [
        c
        for c in checks
        if re.search(r"from (maestro_\w+) import", c).group(1).replace("_", "-")
        in workspace_members
    ]  # type: ignore[union-attr]
    assert ours, "the guide's Step 4 has no one-liner for our packages"
    outside = workdir / "elsewhere"
    outside.mkdir(exist_ok=True)
    for code in ours:
        out = _run([str(fresh_python), "-c", code], cwd=outside)
        assert out.strip() == "✅ OK", code
    where = _run(
        [str(fresh_python), "-c", "import maestro_resilience; print(maestro_resilience.__file__)"],
        cwd=outside,
    )
    assert "site-packages" in where
    assert str(REPO) not in where


def test_requirements_file_of_method_3(
    index: Any, fresh_python: Path, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """The guide's Method 3 requirements.txt, pointed at this index's port, installs."""
    block = re.search(r"```txt\n# requirements.txt\n(.*?)```", GUIDE, re.S)
    assert block is not None
    text = block.group(1).replace(f"localhost:{GUIDE_PORT}", f"localhost:{index.port}")
    wanted = [
        line
        for line in text.splitlines()
        if not re.match(r"maestro-", line) or line.split("[")[0].split("==")[0] in workspace_members
    ]
    requirements = workdir / "requirements.txt"
    requirements.write_text("\n".join(wanted) + "\n")
    _run(_pip(fresh_python, "install", "-r", str(requirements)))
    _run(
        [str(fresh_python), "-c", "import maestro_test_adapters, maestro_test_result_aggregator"],
        cwd=workdir,
    )


def test_method_2_pip_config_then_plain_install(index: Any, workdir: Path) -> None:
    """The guide's Method 2: `pip config set` twice, then a plain `pip install NAME==1.0.0`."""
    home = workdir / "method2-home"
    home.mkdir(exist_ok=True)
    target = workdir / "method2-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    block = re.search(r"# Configure pip to always use Nexus\n(.*?)```", GUIDE, re.S)
    assert block is not None
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "XDG_"))
        },
        "HOME": str(home),
        "PATH": f"{target / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for line in block.group(1).splitlines():
        if line.startswith("pip "):
            command = line.replace(f"localhost:{GUIDE_PORT}", f"localhost:{index.port}")
            proc = subprocess.run(
                command, shell=True, env=env, cwd=home, capture_output=True, text=True, timeout=600
            )
            assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    config = (home / ".config" / "pip" / "pip.conf").read_text()
    assert f"localhost:{index.port}/repository/pypi-group/simple" in config
    version = subprocess.run(
        [
            str(target / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('maestro-audit-logger'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=home,
    ).stdout.strip()
    assert version == "1.0.0"


def test_install_all_packages_block(
    index: Any, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """The guide's "Install All Packages" command installs every distribution we host."""
    block = re.search(r"### Install All Packages\n\n```bash\n(.*?)```", GUIDE, re.S)
    assert block is not None
    words = (
        block.group(1)
        .replace("\\\n", " ")
        .replace(f"localhost:{GUIDE_PORT}", f"localhost:{index.port}")
        .split()
    )
    assert words[:2] == ["pip", "install"]
    # Exactly as printed: every name of the guide is one we host.
    kept = words[2:]
    assert {w.split("[")[0] for w in kept if w.startswith("maestro-")} == set(workspace_members)
    target = workdir / "all-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    _run(_pip(target / "bin" / "python", "install", *kept))
    listed = _run(_pip(target / "bin" / "python", "list", "--format=freeze"))
    for name in workspace_members:
        assert f"{name}==1.0.0" in listed, name


def test_uv_installs_from_the_group_path(index: Any, workdir: Path) -> None:
    """uv resolves a member and its dependencies through the group URL."""
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    target = workdir / "uv-venv"
    _run([uv, "venv", "--no-config", "--python", sys.executable, str(target)])
    _run(
        [
            uv,
            "pip",
            "install",
            "--no-config",
            "--python",
            str(target / "bin" / "python"),
            "--index-url",
            index.group,
            "maestro-resilience==1.0.0",
            "maestro-core-logging==1.0.0",
        ]
    )
    _run(
        [str(target / "bin" / "python"), "-c", "import maestro_resilience, maestro_core_logging"],
        cwd=workdir,
    )


def test_builds_are_reproducible(workdir: Path, workspace_members: dict[str, str]) -> None:
    """Two builds of one commit give byte-identical wheels and sdists."""
    name = sorted(workspace_members)[0]
    epoch = (
        subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        or "315532800"
    )
    digests = []
    for attempt in ("a", "b"):
        out = workdir / f"repro-{attempt}"
        subprocess.run(
            [
                sys.executable,
                str(REPO / "tools" / "build.py"),
                "--package",
                name,
                "--out",
                str(out),
            ],
            cwd=REPO,
            env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
            check=True,
            capture_output=True,
        )
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()})
    assert len(digests[0]) == 2
    assert digests[0] == digests[1]


def test_a_broken_package_fails_the_build_and_is_named(workdir: Path) -> None:
    """A member whose metadata the backend rejects stops the build with its name and the reason."""
    workspace = workdir / "broken-ws"
    package = workspace / "packages" / "maestro-broken"
    (package / "src" / "maestro_broken").mkdir(parents=True)
    (package / "src" / "maestro_broken" / "__init__.py").write_text("")
    (package / "README.md").write_text("# broken\n")
    (workspace / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling>=1.27"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "maestro-broken"\nversion = "1.0.0"\nreadme = "README.md"\n'
        'license = "Not A Valid SPDX Expression"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/maestro_broken"]\n'
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "build.py"),
            "--workspace",
            str(workspace),
            "--out",
            str(workdir / "broken-dist"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "build failed: maestro-broken: uv build failed" in proc.stderr


def test_poetry_primary_source_of_method_4(
    index: Any, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """Poetry installs the guide's Method 4 dependencies with our group URL as primary source."""
    block = re.search(r"```toml\n(\[\[tool\.poetry\.source\]\].*?)```", GUIDE, re.S)
    assert block is not None
    fragment = block.group(1).replace(f"localhost:{GUIDE_PORT}", f"localhost:{index.port}")
    kept = [
        line
        for line in fragment.splitlines()
        if not line.startswith("maestro-") or line.split(" ")[0] in workspace_members
    ]
    project = workdir / "poetry-project"
    project.mkdir(exist_ok=True)
    (project / "pyproject.toml").write_text(
        "[tool.poetry]\npackage-mode = false\n\n" + "\n".join(kept) + "\n"
    )
    tool_env = workdir / "poetry-tool"
    venv.EnvBuilder(with_pip=True, clear=True).create(tool_env)
    subprocess.run(
        [str(tool_env / "bin" / "python"), "-m", "pip", "install", "--quiet", "poetry>=2.0"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "POETRY_"))},
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        # Rebuilt wheels keep their names; a shared cache would serve an older build's bytes.
        "POETRY_CACHE_DIR": str(workdir / "poetry-cache"),
        "POETRY_NO_INTERACTION": "1",
    }
    proc = subprocess.run(
        [str(tool_env / "bin" / "poetry"), "install"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    versions = subprocess.run(
        [
            str(project / ".venv" / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('maestro-resilience'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert versions.strip() == "1.0.0"


def test_shipped_wheels_pass_every_test(
    index: Any, fresh_python: Path, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """Every package's tests and the guide's examples pass against the installed wheels."""
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    requirements = workdir / "test-requirements.txt"
    exported = _run(
        [
            uv,
            "export",
            "--frozen",
            "--no-hashes",
            "--no-emit-workspace",
            "--only-group",
            "dev",
            "--only-group",
            "bench",
        ],
        cwd=REPO,
    )
    requirements.write_text(exported)
    extras = []
    for pyproject in sorted((REPO / "packages").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        names = ",".join(sorted(project.get("optional-dependencies", {})))
        extras.append(f"{project['name']}[{names}]=={workspace_members[project['name']]}")
    # Our wheels with every extra, and the test tools, all through the group path.
    _run(
        _pip(
            fresh_python,
            "install",
            "--index-url",
            index.group,
            "--trusted-host",
            "localhost",
            *extras,
            "-r",
            str(requirements),
            # The shared test contracts: a dev-only member, never published, so from source.
            str(REPO / "testing" / "maestro-testkit"),
        )
    )
    probe = (
        "import maestro_resilience, sys; "
        "assert 'site-packages' in maestro_resilience.__file__, maestro_resilience.__file__"
    )
    _run([str(fresh_python), "-c", probe], cwd=workdir)
    proc = subprocess.run(
        [
            str(fresh_python.parent / "pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(REPO),
            "-c",
            str(REPO / "pyproject.toml"),
            "tests/guide",
            "packages",
        ],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    failed = "\n".join(
        line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))
    )
    assert proc.returncode == 0, failed + "\n" + proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
    assert "could not import" not in proc.stdout, proc.stdout[-3000:]


def test_make_index_prints_a_short_banner_and_serves_every_name(
    tmp_path: Path, workspace_members: dict[str, str]
) -> None:
    """`make index` builds quietly, says Ready in a few lines, and `check` finds every member."""
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))},
        "MAESTRO_INDEX_PORT": str(port),
        "MAESTRO_INDEX_DATA": str(tmp_path / "uploads"),
    }
    proc = subprocess.Popen(
        ["make", "index"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops it" in line:
                break
        assert lines
        assert "Ctrl-C stops it" in lines[-1], "".join(lines)
        assert len(lines) <= 10, "".join(lines)
        check = subprocess.run(
            [
                sys.executable,
                str(REPO / "tools" / "index.py"),
                "check",
                "--index-url",
                f"http://localhost:{port}/repository/pypi-group/simple",
                *workspace_members,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stderr
        assert f"all {len(workspace_members)} names are on" in check.stdout
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
        proc.stdout.close()


def test_docker_after_block_installs_with_only_the_index_url_replaced(
    index: Any, workdir: Path
) -> None:
    """The guide's Docker "After" RUN line installs, its ARG defaults swapped for our index."""
    block = re.search(r"\*\*After\*\* \(using Nexus\):\n```dockerfile\n(.*?)```", GUIDE, re.S)
    assert block is not None
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", block.group(1), re.M))
    assert set(args) == {"PYPI_INDEX_URL", "PYPI_TRUSTED_HOST"}
    run = re.search(r"^RUN (pip install .*?)(?:\n\n|\Z)", block.group(1), re.M | re.S)
    assert run is not None
    words = run.group(1).replace("\\\n", " ").split()
    values = {"${PYPI_INDEX_URL}": index.group, "${PYPI_TRUSTED_HOST}": "localhost"}
    words = [values.get(word, word) for word in words]
    assert words[:2] == ["pip", "install"]
    target = workdir / "docker-after-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    _run(_pip(target / "bin" / "python", *words[1:]))
    listed = _run(_pip(target / "bin" / "python", "list", "--format=freeze"))
    for word in words[2:]:
        if word.startswith("maestro-"):
            name, version = word.split("==")
            assert f"{name.split('[')[0]}=={version}" in listed, word


def test_the_reference_service_installs_from_the_index_alone(
    index: Any, dist: Path, workdir: Path, workspace_members: dict[str, str]
) -> None:
    """A clean venv gets the orders service's dependencies from `make index` only, and its
    app imports none of the lazy extras it does not use (spec behaviour 10)."""
    target = workdir / "service-venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = target / "bin" / "python"
    report = workdir / "service-install.json"
    _run(
        _pip(
            python,
            "install",
            "--index-url",
            index.group,
            "--trusted-host",
            "localhost",
            "--report",
            str(report),
            str(REPO / "examples" / "reference-service"),
        )
    )
    installed = json.loads(report.read_text())["install"]
    built = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in dist.glob("*.whl")}
    ours = {}
    for item in installed:
        url = item["download_info"]["url"]
        name = item["metadata"]["name"]
        if name == "maestro-reference-service":
            continue
        # pip saw only our group URL; third-party files are the links PyPI's pages give it.
        if name.startswith("maestro-"):
            assert url.startswith(index.base), (name, url)  # hosted by us, never public
            ours[name] = url.rsplit("/", 1)[-1].split("#")[0]
            digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
            assert built.get(ours[name]) == digest, f"{name}: not the wheel we built"
    assert set(ours) == set(workspace_members)

    lazy = ("nats", "aio_pika", "redis", "psycopg", "asyncpg", "playwright", "selenium", "pandas")
    probe = (
        "import sys, reference_service.app\n"
        f"loaded = [m for m in {lazy!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "from reference_service.app import create_app\n"
        "create_app()\n"
        # A RabbitMQ broker loads aio_pika when it connects; NATS, browsers, pandas never.
        "loaded = [m for m in ('nats', 'playwright', 'selenium', 'pandas') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    run_dir = workdir / "service-run"
    run_dir.mkdir()
    shutil.copytree(REPO / "examples" / "reference-service" / "config", run_dir / "config")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "UV_", "VIRTUAL_ENV", "MAESTRO_"))
    }
    env.update(
        {
            "MAESTRO_BROKER__URL": "amqp://guest:guest@127.0.0.1:5672/",
            "MAESTRO_AUTH__HMAC_SECRET": secrets.token_urlsafe(48),
            "MAESTRO_HTTP__CURSOR_SECRET": secrets.token_urlsafe(32),
        }
    )
    proc = subprocess.run(
        [str(python), "-c", probe], cwd=run_dir, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
