"""The per-package contracts: public namespace, light import, version from metadata."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterable
from types import ModuleType


def assert_public_namespace(module: ModuleType) -> None:
    """``__all__`` is sorted, unique, and equals the non-underscore names plus ``__version__``.

    Submodules (``maestro_x.plugin``) are not part of the namespace check.
    """
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{module.__name__}.__all__ is not sorted"
    assert len(exported) == len(set(exported)), f"{module.__name__}.__all__ repeats a name"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    missing = public - set(exported)
    extra = set(exported) - public - {"__version__"}
    assert not missing, f"public but not in __all__: {sorted(missing)}"
    assert not extra, f"in __all__ but not defined: {sorted(extra)}"


def assert_light_import(module: str, forbidden: Iterable[str]) -> None:
    """``import <module>`` in a fresh interpreter loads none of ``forbidden`` (or submodules)."""
    names = sorted(set(forbidden))
    code = (
        f"import sys, {module}\n"
        f"bad = {names!r}\n"
        "hit = sorted(m for m in sys.modules for b in bad if m == b or m.startswith(b + '.'))\n"
        "print(','.join(hit))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip()
    assert loaded == "", f"import {module} loaded heavy modules: {loaded}"


def package_version(distribution: str) -> str:
    """The installed version of a distribution (tests never spell a version literally)."""
    return importlib.metadata.version(distribution)
