"""The error family: one base class, builtins where they fit, messages that say what to do."""

from __future__ import annotations

import pytest
from maestro_test_adapters import (
    BrowserNotFoundError,
    BrowserVersionMismatchError,
    ConfigurationError,
    EventLoopError,
    JourneyFileError,
    JourneyValidationError,
    JUnitXMLError,
    MaestroTestAdaptersError,
    MissingExtraError,
    PytestRunError,
    StepError,
    StepTimeoutError,
)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (MissingExtraError, ImportError),
        (BrowserNotFoundError, FileNotFoundError),
        (ConfigurationError, ValueError),
        (EventLoopError, RuntimeError),
        (JourneyValidationError, ValueError),
        (JourneyFileError, ValueError),
        (StepError, AssertionError),
        (StepTimeoutError, TimeoutError),
        (JUnitXMLError, ValueError),
        (PytestRunError, RuntimeError),
        (BrowserVersionMismatchError, MaestroTestAdaptersError),
    ],
)
def test_every_error_is_in_the_family(error: type[Exception], builtin: type[Exception]) -> None:
    """Each error subclasses the package base class and the builtin that fits it."""
    assert issubclass(error, MaestroTestAdaptersError)
    assert issubclass(error, builtin)


def test_missing_extra_names_the_pip_command() -> None:
    """MissingExtraError(feature, extra, module) says which extra to install, in the family form."""
    error = MissingExtraError("The playwright engine", "playwright", "playwright")
    assert str(error) == (
        "The playwright engine needs the playwright extra: "
        "pip install 'maestro-test-adapters[playwright]'"
    )
    assert error.name == "playwright"


def test_validation_error_names_step_and_field() -> None:
    """JourneyValidationError carries and prints the step index and the field."""
    error = JourneyValidationError(3, "selector", "missing")
    assert (error.index, error.field) == (3, "selector")
    assert str(error) == "step 3, field 'selector': missing"


def test_not_found_lists_paths_and_debian_packages() -> None:
    """BrowserNotFoundError lists every path tried and the apt-get line."""
    error = BrowserNotFoundError("chromedriver", ["/a", "/b"], "hint")
    assert "/a" in str(error)
    assert "/b" in str(error)
    assert "apt-get install chromium chromium-driver" in str(error)
    assert error.tried == ("/a", "/b")
