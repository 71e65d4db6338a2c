"""The public namespace is exactly __all__, and importing the package stays light."""

from __future__ import annotations

import maestro_resilience
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ lists exactly the non-underscore names, plus __version__, sorted."""
    assert_public_namespace(maestro_resilience)


def test_every_public_object_comes_from_the_package() -> None:
    """Public classes say they belong to maestro_resilience's modules."""
    for name in maestro_resilience.__all__:
        obj = getattr(maestro_resilience, name)
        module = getattr(obj, "__module__", None)
        if isinstance(obj, type):
            assert module is not None
            assert module.startswith("maestro_resilience"), name


def test_import_does_not_load_asyncio_or_heavy_modules() -> None:
    """A fresh interpreter importing the package loads neither asyncio nor anything heavy."""
    assert_light_import(
        "maestro_resilience",
        [
            "asyncio",
            "concurrent.futures.thread",
            "concurrent.futures.process",
            "multiprocessing",
            "ssl",
            "ctypes",
            "redis",
            "numpy",
            "pandas",
            "structlog",
        ],
    )


def test_version() -> None:
    """The version is the installed distribution's."""
    assert maestro_resilience.__version__ == package_version("maestro-resilience")


def test_timeout_error_shadows_the_builtin_compatibly() -> None:
    """'from maestro_resilience import TimeoutError' still catches asyncio and socket timeouts."""
    assert issubclass(maestro_resilience.TimeoutError, TimeoutError)
