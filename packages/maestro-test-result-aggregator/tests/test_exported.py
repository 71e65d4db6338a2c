"""The public namespace, and what `import maestro_test_result_aggregator` loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import maestro_test_result_aggregator as pkg
from maestro_testkit import assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ has no duplicates and equals every public name the package exposes."""
    # "@py_*" names are pytest's assertion rewriting (the package holds a pytest plugin).
    public = {n for n in dir(pkg) if not n.startswith(("_", "@"))} | {"__version__"}
    assert len(set(pkg.__all__)) == len(pkg.__all__)
    assert set(pkg.__all__) == public
    assert_public_namespace(pkg)


def test_version_is_the_one_source() -> None:
    """__version__ comes from _version.py."""
    from maestro_test_result_aggregator._version import __version__

    assert pkg.__version__ == __version__ == package_version("maestro-test-result-aggregator")


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


def test_every_fixture_names_its_origin_and_licence() -> None:
    """Each file under tests/data is listed in a SOURCES.tsv beside it with a licence."""
    data = Path(__file__).resolve().parent / "data"
    for folder in (data, data / "junit", data / "ctrf"):
        rows = (folder / "SOURCES.tsv").read_text().splitlines()
        header, *entries = (row.split("\t") for row in rows)
        assert header == ["file", "repository", "commit", "path", "license"]
        listed = {e[0]: e[4] for e in entries}
        files = {p.name for p in folder.iterdir() if p.suffix in (".xml", ".json")}
        assert files == set(listed), folder
        assert all(listed.values()), folder
    for source in data.parent.rglob("*.py"):
        assert "shared" + "/fixtures" not in source.read_text(), source
