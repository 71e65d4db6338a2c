"""Every distribution carries the metadata the workspace promises, and layers point downwards."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECTS = sorted((REPO / "packages").glob("*/pyproject.toml"))
LAYERS = {
    "maestro-resilience": 0,
    "maestro-core-config": 0,
    "maestro-core-logging": 0,
    "maestro-monitoring": 1,
    "maestro-cache": 1,
    "maestro-core-db": 1,
    "maestro-core-messaging": 1,
    "maestro-core-auth": 1,
    "maestro-audit-logger": 1,
    "maestro-core-api": 2,
    "maestro-test-result-aggregator": 2,
    "maestro-test-adapters": 2,
}


def _project(pyproject: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return data


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_metadata_follows_the_workspace_rules(pyproject: Path) -> None:
    """Name = folder, one version source, >=3.11, README, SPDX licence, the two classifiers."""
    folder = pyproject.parent
    project = _project(pyproject)
    assert project["name"] == folder.name
    assert project["name"] in LAYERS, "a new distribution needs its layer in ARCHITECTURE.md"
    assert project["dynamic"] == ["version"]
    version_file = folder / "src" / folder.name.replace("-", "_") / "_version.py"
    assert re.fullmatch(r'__version__ = "1\.0\.0"\n', version_file.read_text(encoding="utf-8"))
    assert project["requires-python"] == ">=3.11"
    assert project["readme"] == "README.md"
    assert project["license"] == "LicenseRef-Maestro-Proprietary"
    assert project["license-files"] == ["LICENSE"]
    assert {"Typing :: Typed", "Private :: Do Not Upload"} <= set(project["classifiers"])
    assert (version_file.parent / "py.typed").is_file()
    assert (folder / "CHANGELOG.md").read_text(encoding="utf-8").count("## [Unreleased]") == 1


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_dependencies_are_ranges_not_pins(pyproject: Path) -> None:
    """No runtime or extra dependency is pinned with ==."""
    project = _project(pyproject)
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    for requirement in requirements:
        assert "==" not in requirement, f"{pyproject.parent.name}: {requirement}"


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_layers_point_downwards_and_imports_are_declared(pyproject: Path) -> None:
    """A package depends only on lower layers, and imports only siblings it declares."""
    folder = pyproject.parent
    project = _project(pyproject)
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    declared = {_name(r) for r in requirements if _name(r).startswith("maestro-")}
    own_layer = LAYERS[project["name"]]
    for sibling in declared - {project["name"]}:
        assert LAYERS[sibling] < own_layer, f"{project['name']} (layer {own_layer}) -> {sibling}"
    own_module = project["name"].replace("-", "_")
    for source in (folder / "src").rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top.startswith("maestro_") and top != own_module:
                    assert top.replace("_", "-") in declared, f"{source}: imports {top} undeclared"
