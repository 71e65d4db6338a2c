"""The public namespace: __all__ is exactly what the package exposes, and importing is light."""

from __future__ import annotations

import subprocess
import sys

import maestro_core_config


def test_all_matches_public_namespace() -> None:
    """__all__ lists every public name of the package and nothing else, sorted."""
    public = {name for name in dir(maestro_core_config) if not name.startswith("_")}
    assert set(maestro_core_config.__all__) - {"__version__"} == public
    assert maestro_core_config.__all__ == sorted(maestro_core_config.__all__)


def test_version_is_the_single_source() -> None:
    """__version__ comes from _version.py."""
    from maestro_core_config._version import __version__

    assert maestro_core_config.__version__ == __version__ == "1.0.0"


def test_import_is_light() -> None:
    """`import maestro_core_config` loads neither yaml nor tomllib nor the CLI."""
    code = (
        "import sys, maestro_core_config\n"
        "print(sorted(m for m in ('yaml', 'tomllib', 'maestro_core_config._cli') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
