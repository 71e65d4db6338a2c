"""The public namespace, and what `import maestro_test_result_aggregator` loads."""

from __future__ import annotations

import json
import subprocess
import sys

import maestro_test_result_aggregator as pkg


def test_all_matches_the_public_namespace() -> None:
    """__all__ has no duplicates and equals every public name the package exposes."""
    # "@py_*" names are pytest's assertion rewriting (the package holds a pytest plugin).
    public = {n for n in dir(pkg) if not n.startswith(("_", "@"))} | {"__version__"}
    assert len(set(pkg.__all__)) == len(pkg.__all__)
    assert set(pkg.__all__) == public


def test_version_is_the_one_source() -> None:
    """__version__ comes from _version.py."""
    from maestro_test_result_aggregator._version import __version__

    assert pkg.__version__ == __version__ == "1.0.0"


def test_errors_form_one_family() -> None:
    """Every exported exception derives from MaestroResultsError, with builtins where they fit."""
    errors = [getattr(pkg, n) for n in pkg.__all__ if n.endswith("Error")]
    assert all(issubclass(e, pkg.MaestroResultsError) for e in errors)
    assert issubclass(pkg.InvalidResultError, ValueError)
    assert issubclass(pkg.MissingExtraError, ImportError)
    assert issubclass(pkg.StoreUnavailableError, ConnectionError)


def test_import_loads_no_heavy_optional_module() -> None:
    """A fresh interpreter importing the package loads neither pandas, numpy nor psycopg."""
    code = (
        "import sys, json, maestro_test_result_aggregator; "
        "print(json.dumps(sorted(m for m in ('pandas', 'numpy', 'psycopg', 'psycopg_binary', "
        "'pytest') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
