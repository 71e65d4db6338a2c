"""Old async names still work, warn once with DeprecationWarning and name the new spelling."""

from __future__ import annotations

import warnings

import pytest
from maestro_test_adapters import AdvancedWebTester, PlaywrightAdapter, PytestAdapter


@pytest.mark.parametrize(
    ("owner", "old", "new"),
    [
        (PlaywrightAdapter, "launch_async", "alaunch"),
        (PlaywrightAdapter, "async_page", "apage"),
        (PytestAdapter, "run_async", "arun"),
        (AdvancedWebTester, "run_user_journey_sync", "sync.run_user_journey"),
    ],
)
def test_old_name_is_a_documented_alias(owner: type, old: str, new: str) -> None:
    """The alias exists, says it is deprecated and names its replacement."""
    alias = getattr(owner, old)
    assert "Deprecated alias" in (alias.__doc__ or "")
    assert new in (alias.__doc__ or "")


def test_alias_warns_once_and_still_works(tmp_path: object) -> None:
    """A call through the old name warns the first time only, and does what the new one does."""
    tester = AdvancedWebTester("selenium")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            with pytest.raises(Exception, match="relative"):
                tester.run_user_journey_sync([{"action": "navigate", "url": "no-scheme"}])
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1
    assert "sync.run_user_journey()" in str(deprecations[0].message)
