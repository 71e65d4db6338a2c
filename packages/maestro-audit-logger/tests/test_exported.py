"""The public namespace and the import footprint."""

from __future__ import annotations

import subprocess
import sys

import maestro_audit_logger
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ lists exactly the public names of the package, each once."""
    public = {n for n in dir(maestro_audit_logger) if not n.startswith("_")}
    assert set(maestro_audit_logger.__all__) == public | {"__version__"}
    assert len(maestro_audit_logger.__all__) == len(set(maestro_audit_logger.__all__))
    assert_public_namespace(maestro_audit_logger)


def test_version_is_the_single_source() -> None:
    """__version__ comes from _version.py."""
    from maestro_audit_logger._version import __version__

    assert (
        maestro_audit_logger.__version__ == __version__ == package_version("maestro-audit-logger")
    )


def test_import_does_not_load_the_signing_extra() -> None:
    """Importing the package in a fresh interpreter does not import cryptography."""
    code = (
        "import sys, maestro_audit_logger; "
        "print(any(m.startswith('cryptography') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert_light_import("maestro_audit_logger", ["cryptography"])


def test_errors_share_one_family() -> None:
    """Every exported error derives from MaestroAuditError, with builtins where they fit."""
    m = maestro_audit_logger
    for name in m.__all__:
        obj = getattr(m, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, m.MaestroAuditError), name
    assert issubclass(m.AuditStorageError, OSError)
    assert issubclass(m.InvalidEventError, ValueError)
    assert issubclass(m.MissingExtraError, ImportError)
