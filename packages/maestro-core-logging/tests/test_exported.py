"""The public namespace, and what importing the package costs."""

from __future__ import annotations

import maestro_core_logging
from maestro_testkit import assert_light_import, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ lists exactly the public (non-underscore, non-module) names, once each, sorted."""
    public = {
        name
        for name, value in vars(maestro_core_logging).items()
        if not name.startswith("_") and type(value).__name__ != "module"
    }
    assert set(maestro_core_logging.__all__) == public | {"__version__"}
    names = maestro_core_logging.__all__
    assert len(set(names)) == len(names)
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, Classes, then functions.
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )


def test_version_is_the_package_version() -> None:
    """__version__ is the single version string of the distribution."""
    assert maestro_core_logging.__version__ == package_version("maestro-core-logging")


def test_import_loads_no_heavy_module() -> None:
    """`import maestro_core_logging` in a fresh interpreter loads no structlog, OTel or asyncio."""
    assert_light_import(
        "maestro_core_logging",
        [
            "structlog",
            "opentelemetry",
            "asyncio",
            "rich",
            "httpx",
            "starlette",
            "pygments",
            "orjson",
            "uvicorn",
        ],
    )


def test_errors_form_one_family() -> None:
    """Every exported error derives from MaestroLoggingError, with builtins where they fit."""
    m = maestro_core_logging
    assert issubclass(m.ConfigurationError, (m.MaestroLoggingError, ValueError))
    assert issubclass(m.InvalidLevelError, m.ConfigurationError)
    assert issubclass(m.MissingExtraError, m.MaestroLoggingError)
    assert issubclass(m.MissingExtraError, ImportError)
