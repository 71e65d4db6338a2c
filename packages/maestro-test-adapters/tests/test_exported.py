"""The public namespace, and what ``import maestro_test_adapters`` loads."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import maestro_test_adapters
from maestro_test_adapters import advanced_web_testing


def test_all_matches_public_namespace() -> None:
    """__all__ lists exactly the public names the package exposes."""
    public = {
        name
        for name, value in vars(maestro_test_adapters).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.add("__version__")
    assert set(maestro_test_adapters.__all__) == public
    assert maestro_test_adapters.__all__ == sorted(maestro_test_adapters.__all__)


def test_version_is_the_one_source() -> None:
    """__version__ comes from _version.py and is 1.0.0."""
    assert maestro_test_adapters.__version__ == "1.0.0"


def test_guide_submodule_exports_the_tester() -> None:
    """advanced_web_testing exposes the same AdvancedWebTester the package does."""
    assert advanced_web_testing.AdvancedWebTester is maestro_test_adapters.AdvancedWebTester
    assert set(advanced_web_testing.__all__) <= set(dir(advanced_web_testing))


def test_import_loads_no_browser_library() -> None:
    """Importing the package (and the guide's submodule) loads neither selenium nor playwright."""
    code = (
        "import json, sys, maestro_test_adapters, maestro_test_adapters.advanced_web_testing;"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('selenium', 'playwright', 'yaml', 'greenlet'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
