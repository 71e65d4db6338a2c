"""The family rules of docs/CONVENTIONS.md that a machine can check, across every package.

Error families, the one MissingExtraError shape, the async naming rule, seconds not
milliseconds, and the command-line rules. A new package is checked the moment it exists.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECTS = sorted((REPO / "packages").glob("*/pyproject.toml"))
DISTRIBUTIONS = [p.parent.name for p in PYPROJECTS]

# Old public names kept for compatibility: each warns once with DeprecationWarning and
# names its replacement (CHANGELOGs say so). Only these may break the naming rule.
DEPRECATED_NAMES: dict[str, str] = {
    "call_async": "acall",
    "acquire_async": "aacquire",
    "launch_async": "alaunch",
    "async_page": "apage",
    "run_async": "arun",
    "run_user_journey_sync": "sync",
}


# Old keyword parameters kept for compatibility (they warn); each beside its replacement.
DEPRECATED_PARAMETERS: dict[str, str] = {"batch_interval_ms": "batch_interval"}


def _project(distribution: str) -> dict[str, Any]:
    pyproject = REPO / "packages" / distribution / "pyproject.toml"
    data: dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return data


def _module(distribution: str) -> ModuleType:
    return importlib.import_module(distribution.replace("-", "_"))


def _exported(module: ModuleType) -> dict[str, Any]:
    return {name: getattr(module, name) for name in module.__all__ if name != "__version__"}


def _base_error(module: ModuleType) -> type[BaseException]:
    bases = [
        obj
        for name, obj in _exported(module).items()
        if isinstance(obj, type)
        and issubclass(obj, Exception)
        and re.fullmatch(r"Maestro\w+Error", name)
    ]
    assert len(bases) == 1, f"{module.__name__}: one Maestro<Name>Error base, found {bases}"
    return bases[0]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_every_exported_exception_is_in_the_family(distribution: str) -> None:
    """One Maestro<Name>Error base per package; every exported exception derives from it."""
    module = _module(distribution)
    base = _base_error(module)
    for name, obj in _exported(module).items():
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, base), f"{distribution}: {name} is not a {base.__name__}"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_bad_arguments_raise_configuration_error(distribution: str) -> None:
    """ConfigurationError is exported, in the family and a ValueError."""
    module = _module(distribution)
    error = getattr(module, "ConfigurationError", None)
    assert isinstance(error, type), f"{distribution} exports no ConfigurationError"
    assert issubclass(error, _base_error(module))
    assert issubclass(error, ValueError)


@pytest.mark.parametrize(
    "distribution",
    [d for d in DISTRIBUTIONS if _project(d).get("optional-dependencies")],
)
def test_missing_extra_error_has_the_one_shape_and_message(distribution: str) -> None:
    """MissingExtraError(feature, extra, module) is an ImportError with the family's message."""
    module = _module(distribution)
    error = getattr(module, "MissingExtraError", None)
    assert isinstance(error, type), f"{distribution} has extras but no MissingExtraError"
    assert issubclass(error, ImportError)
    assert issubclass(error, _base_error(module))
    extra = sorted(_project(distribution)["optional-dependencies"])[0]
    instance = error("Doing the thing", extra, "some_module")
    assert str(instance) == (
        f"Doing the thing needs the {extra} extra: pip install '{distribution}[{extra}]'"
    )
    assert instance.name == "some_module"


def _public_members(module: ModuleType) -> list[tuple[str, str, Any]]:
    """(owner, name, object) for the exported names and the public attributes of classes."""
    found: list[tuple[str, str, Any]] = []
    for name, obj in _exported(module).items():
        found.append((module.__name__, name, obj))
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for attr, value in vars(obj).items():
                if not attr.startswith("_"):
                    found.append((f"{module.__name__}.{name}", attr, value))
    return found


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_async_twins_follow_the_naming_rule(distribution: str) -> None:
    """No public name ends in _async/_sync or starts with async_, except deprecated aliases."""
    bad = [
        f"{owner}.{name}"
        for owner, name, _ in _public_members(_module(distribution))
        if re.search(r"(_async|_sync)$|^async_", name) and name not in DEPRECATED_NAMES
    ]
    assert not bad, f"rename (a-prefix or .sync twin) and keep a deprecated alias: {bad}"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_deprecated_aliases_have_their_replacement(distribution: str) -> None:
    """Every deprecated alias a package still carries sits beside the new name it points to."""
    for owner, name, _ in _public_members(_module(distribution)):
        if name in DEPRECATED_NAMES:
            siblings = {n for o, n, _ in _public_members(_module(distribution)) if o == owner}
            assert DEPRECATED_NAMES[name] in siblings, f"{owner}.{name} without its replacement"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_durations_are_seconds(distribution: str) -> None:
    """No public function or method takes a *_ms keyword: durations are seconds."""
    bad = []
    for owner, name, obj in _public_members(_module(distribution)):
        target = obj.__init__ if isinstance(obj, type) else obj
        if isinstance(target, staticmethod | classmethod):
            target = target.__func__
        if not callable(target):
            continue
        try:
            parameters = inspect.signature(target).parameters
        except (TypeError, ValueError):
            continue
        for parameter in parameters:
            if not parameter.endswith("_ms"):
                continue
            replacement = DEPRECATED_PARAMETERS.get(parameter)
            if replacement is None or replacement not in parameters:
                bad.append(f"{owner}.{name}({parameter})")
    assert not bad, bad


def _scripts() -> list[tuple[str, str]]:
    found = []
    for distribution in DISTRIBUTIONS:
        for script in _project(distribution).get("scripts", {}):
            found.append((distribution, script))
    return found


@pytest.mark.parametrize(("distribution", "script"), _scripts())
def test_command_line_tools_follow_the_rules(distribution: str, script: str) -> None:
    """maestro-<noun>: --version and --help exit 0; a bad option exits 2 with the one prefix."""
    assert script.startswith("maestro-")
    path = Path(sys.executable).parent / script
    assert path.exists(), f"{script} is not installed in this environment"
    version = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    from importlib.metadata import version as dist_version

    assert dist_version(distribution) in version.stdout
    helped = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0
    assert script in helped.stdout
    wrong = subprocess.run(
        [str(path), "--no-such-option-anywhere"], capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2
    assert f"{script}: error:" in wrong.stderr


def _private_imports(package_dir: Path) -> dict[str, set[str]]:
    """module -> the modules of the same package it imports (TYPE_CHECKING blocks excluded)."""
    import ast

    edges: dict[str, set[str]] = {}
    for file in package_dir.rglob("*.py"):
        parts = list(file.relative_to(package_dir.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        if is_init:
            parts = parts[:-1]
        module = ".".join(parts)
        tree = ast.parse(file.read_text(encoding="utf-8"))
        typing_only = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in typing_only or not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = parts if is_init else parts[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            if target != module:
                found.add(target)
        edges[module] = found
    return edges


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_private_modules_do_not_import_each_other_in_a_cycle(distribution: str) -> None:
    """No two private modules import each other, directly or through others (lazy imports too)."""
    package = REPO / "packages" / distribution / "src" / distribution.replace("-", "_")
    edges = _private_imports(package)
    root = package.name
    graph = {m: {t for t in ts if t in edges and t != root} for m, ts in edges.items() if m != root}
    cycles: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in graph.get(node, ()):
            if nxt == start:
                cycles.add(tuple(sorted(path)))
            elif nxt not in path:
                walk(start, nxt, [*path, nxt])

    for module in graph:
        walk(module, module, [module])
    assert not cycles, f"import cycles: {sorted(cycles)}"
