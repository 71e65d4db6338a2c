"""The exceptions of maestro-test-adapters, one family under one base class.

::

    MaestroTestAdaptersError
    ├── MissingExtraError (ImportError)          an engine whose extra is not installed
    ├── BrowserNotFoundError (FileNotFoundError) no Chromium / chromedriver on this machine
    ├── BrowserVersionMismatchError              Chromium and chromedriver majors disagree
    ├── BrowserLaunchError (RuntimeError)        headed without a display; not a browser
    ├── ConfigurationError (ValueError)          an unknown engine, trace mode or option
    ├── EventLoopError (RuntimeError)            a sync API called inside a running event loop
    ├── JourneyValidationError (ValueError)      a journey step is malformed (index + field)
    ├── JourneyFileError (ValueError)            a journey file cannot be read or parsed
    ├── StepError (AssertionError)               a journey step failed while running
    │   └── StepTimeoutError (TimeoutError)      ... because its wait ran out of time
    ├── JUnitXMLError (ValueError)               a JUnit XML report is unsafe or unreadable
    └── PytestRunError (RuntimeError)            pytest could not run or overran its timeout
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = [
    "BrowserNotFoundError",
    "BrowserVersionMismatchError",
    "ConfigurationError",
    "EventLoopError",
    "JUnitXMLError",
    "JourneyFileError",
    "JourneyValidationError",
    "MaestroTestAdaptersError",
    "MissingExtraError",
    "PytestRunError",
    "StepError",
    "StepTimeoutError",
]

DEBIAN_PACKAGES = "apt-get install chromium chromium-driver"


class MaestroTestAdaptersError(Exception):
    """Base class of every error raised by maestro-test-adapters."""


class MissingExtraError(MaestroTestAdaptersError, ImportError):
    """An engine or feature was used whose optional dependency is not installed.

    The family's one shape: ``MissingExtraError(feature, extra, module)``.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        self.install = f"pip install 'maestro-test-adapters[{extra}]'"
        super().__init__(f"{feature} needs the {extra} extra: {self.install}", name=module)


class BrowserNotFoundError(MaestroTestAdaptersError, FileNotFoundError):
    """No usable Chromium or chromedriver executable was found."""

    def __init__(self, what: str, tried: Sequence[str], hint: str) -> None:
        self.what = what
        self.tried = tuple(tried)
        lines = "\n".join(f"  - {path}" for path in self.tried) or "  (nothing)"
        super().__init__(
            f"no usable {what} found; tried, in order:\n{lines}\n{hint}\n"
            f"On Debian/Ubuntu install it with: {DEBIAN_PACKAGES}"
        )


class BrowserVersionMismatchError(MaestroTestAdaptersError):
    """The browser and the driver have different major versions."""

    def __init__(self, browser: str, browser_version: str, driver: str, driver_version: str):
        self.browser = browser
        self.browser_version = browser_version
        self.driver = driver
        self.driver_version = driver_version
        super().__init__(
            f"{browser} is version {browser_version} but {driver} is version {driver_version}; "
            "their major versions must match. Install both from the same source "
            f"({DEBIAN_PACKAGES}) or point MAESTRO_BROWSER__PATH and MAESTRO_BROWSER__DRIVER_PATH "
            "at a matching pair."
        )


class BrowserLaunchError(MaestroTestAdaptersError, RuntimeError):
    """The browser could not be started: a headed run without a display, or a binary that
    is not a Chromium browser. The message says which and how to fix it; the engine's own
    error is chained as ``__cause__``."""

    def __init__(self, engine: str, browser: str, reason: str, fix: str) -> None:
        self.engine = engine
        self.browser = browser
        super().__init__(f"{engine} could not start the browser {browser}: {reason}. {fix}")


def check_display(engine: str, browser: str, headless: bool) -> None:
    """Refuse a headed launch where no display exists (Linux/BSD), before any process starts."""
    import sys

    if headless or sys.platform in ("darwin", "win32"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise BrowserLaunchError(
        engine,
        browser,
        "a headed browser needs a display and neither DISPLAY nor WAYLAND_DISPLAY is set",
        "Run headless (the default), or give it a virtual screen: xvfb-run -a <your command>.",
    )


def launch_failed(engine: str, browser: str, exc: BaseException) -> BrowserLaunchError:
    """The package's error for an engine's launch failure (its first line as the reason)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = first.removeprefix("Message: ").strip()[:200]
    return BrowserLaunchError(
        engine,
        browser,
        f"the browser exited at start-up ({first})",
        "Is it a Chromium or Chrome binary? Point MAESTRO_BROWSER__PATH (or browser_path=) at "
        f"one, e.g. /usr/bin/chromium; on Debian/Ubuntu: {DEBIAN_PACKAGES}.",
    )


class EventLoopError(MaestroTestAdaptersError, RuntimeError):
    """A blocking API was called from inside a running asyncio event loop."""


class JourneyValidationError(MaestroTestAdaptersError, ValueError):
    """A journey step is malformed; ``index`` and ``field`` say where."""

    def __init__(self, index: int | None, field: str | None, message: str) -> None:
        self.index = index
        self.field = field
        where = "journey" if index is None else f"step {index}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


class JourneyFileError(MaestroTestAdaptersError, ValueError):
    """A journey file could not be read or parsed."""


class StepError(MaestroTestAdaptersError, AssertionError):
    """A journey step failed while running."""


class StepTimeoutError(StepError, TimeoutError):
    """A journey step waited for its element or condition longer than its timeout."""


class JUnitXMLError(MaestroTestAdaptersError, ValueError):
    """A JUnit XML report was unsafe (DOCTYPE / entities) or could not be parsed."""


class ConfigurationError(MaestroTestAdaptersError, ValueError):
    """An adapter or tester was configured with an unknown engine, mode or value."""


class PytestRunError(MaestroTestAdaptersError, RuntimeError):
    """The pytest subprocess could not be run, or overran its timeout."""
