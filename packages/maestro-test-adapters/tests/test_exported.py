"""The public namespace, and what ``import maestro_test_adapters`` loads."""

from __future__ import annotations

import maestro_test_adapters
from maestro_test_adapters import advanced_web_testing
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_public_namespace() -> None:
    """__all__ lists exactly the public names the package exposes, sorted."""
    assert_public_namespace(maestro_test_adapters)


def test_version_is_the_one_source() -> None:
    """__version__ (from _version.py) is the installed distribution's version."""
    assert maestro_test_adapters.__version__ == package_version("maestro-test-adapters")


def test_guide_submodule_exports_the_tester() -> None:
    """advanced_web_testing exposes the same AdvancedWebTester the package does."""
    assert advanced_web_testing.AdvancedWebTester is maestro_test_adapters.AdvancedWebTester
    assert set(advanced_web_testing.__all__) <= set(dir(advanced_web_testing))


def test_import_loads_no_browser_library() -> None:
    """Importing the package (and the guide's submodule) loads neither selenium nor playwright."""
    heavy = {"selenium", "playwright", "yaml", "greenlet"}
    assert_light_import("maestro_test_adapters", heavy)
    assert_light_import("maestro_test_adapters.advanced_web_testing", heavy)
