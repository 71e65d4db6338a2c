"""The public namespace is exactly __all__, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import maestro_resilience


def test_all_matches_the_public_namespace() -> None:
    """__all__ lists exactly the non-underscore names, plus __version__, sorted."""
    public = {
        name
        for name in vars(maestro_resilience)
        if not name.startswith("_") and not isinstance(getattr(maestro_resilience, name), type(sys))
    }
    assert set(maestro_resilience.__all__) == public | {"__version__"}
    assert list(maestro_resilience.__all__) == sorted(maestro_resilience.__all__)


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
    code = (
        "import sys, maestro_resilience; "
        "heavy = {'asyncio', 'concurrent.futures.thread', 'concurrent.futures.process', "
        "'multiprocessing', 'ssl', 'numpy', 'pandas', 'structlog'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_version() -> None:
    """The version comes from _version.py."""
    assert maestro_resilience.__version__ == "1.0.0"


def test_timeout_error_shadows_the_builtin_compatibly() -> None:
    """'from maestro_resilience import TimeoutError' still catches asyncio and socket timeouts."""
    assert issubclass(maestro_resilience.TimeoutError, TimeoutError)
