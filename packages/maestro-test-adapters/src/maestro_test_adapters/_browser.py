"""Find the system Chromium and chromedriver offline, and build their launch flags.

Nothing here ever downloads a browser or a driver: the order is the explicit argument,
then ``MAESTRO_BROWSER_PATH`` / ``MAESTRO_CHROMEDRIVER``, then well-known system paths
and ``PATH``. Selenium is always handed the driver path so Selenium Manager never runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from ._errors import BrowserNotFoundError, BrowserVersionMismatchError

__all__ = ["BrowserInstall", "chromium_flags", "find_browser", "find_chromedriver"]

BROWSER_ENV = "MAESTRO_BROWSER__PATH"
DRIVER_ENV = "MAESTRO_BROWSER__DRIVER_PATH"
# 1.0 spellings, still read (with a DeprecationWarning once) when the new one is not set.
_OLD_ENV = {BROWSER_ENV: "MAESTRO_BROWSER_PATH", DRIVER_ENV: "MAESTRO_CHROMEDRIVER"}
_warned: set[str] = set()


def _from_env(name: str) -> str | None:
    """The variable's value, falling back to its deprecated 1.0 name."""
    value = os.environ.get(name)
    if value:
        return value
    old = _OLD_ENV[name]
    value = os.environ.get(old)
    if value and old not in _warned:
        _warned.add(old)
        warnings.warn(
            f"{old} is deprecated and will be ignored in 2.0; set {name} instead",
            DeprecationWarning,
            stacklevel=4,
        )
    return value or None


_BROWSER_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/snap/bin/chromium",
)
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
_DRIVER_NAMES = ("chromedriver",)

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(\d+)")
_version_cache: dict[tuple[str, float], str] = {}


def _usable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _resolve(
    what: str,
    explicit: str | os.PathLike[str] | None,
    *,
    env: str,
    candidates: tuple[str, ...],
    names: tuple[str, ...],
    hint: str,
) -> str:
    tried: list[str] = []
    if explicit is not None:
        path = os.fspath(explicit)
        if _usable(path):
            return path
        tried.append(f"{path} (argument)")
        # An explicit choice that does not exist is an error, never a silent fallback.
        raise BrowserNotFoundError(what, tried, hint)
    from_env = _from_env(env)
    if from_env:
        if _usable(from_env):
            return from_env
        tried.append(f"{from_env} (${env})")
        raise BrowserNotFoundError(what, tried, hint)
    tried.append(f"${env} (not set)")
    for path in candidates:
        if _usable(path):
            return path
        tried.append(path)
    for name in names:
        found = shutil.which(name)
        if found and _usable(found):
            return found
        tried.append(f"{name} on PATH")
    raise BrowserNotFoundError(what, tried, hint)


def find_browser(explicit: str | os.PathLike[str] | None = None) -> str:
    """Return the path of a Chromium/Chrome executable, or raise BrowserNotFoundError."""
    return _resolve(
        "Chromium browser",
        explicit,
        env=BROWSER_ENV,
        candidates=_BROWSER_CANDIDATES,
        names=_BROWSER_NAMES,
        hint=f"Pass browser_path=... or set {BROWSER_ENV} to a Chromium executable.",
    )


def find_chromedriver(explicit: str | os.PathLike[str] | None = None) -> str:
    """Return the path of a chromedriver executable, or raise BrowserNotFoundError."""
    return _resolve(
        "chromedriver",
        explicit,
        env=DRIVER_ENV,
        candidates=_DRIVER_CANDIDATES,
        names=_DRIVER_NAMES,
        hint=f"Pass driver_path=... or set {DRIVER_ENV} to a chromedriver executable.",
    )


def executable_version(path: str) -> str:
    """Return the dotted version an executable prints for ``--version`` ('' if none)."""
    key = (path, os.stat(path).st_mtime)
    if key in _version_cache:
        return _version_cache[key]
    try:
        proc = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    match = _VERSION.search(proc.stdout) or _VERSION.search(proc.stderr)
    version = match.group(0) if match else ""
    _version_cache[key] = version
    return version


def check_versions(browser: str, driver: str) -> None:
    """Raise BrowserVersionMismatchError when browser and driver majors disagree."""
    browser_version = executable_version(browser)
    driver_version = executable_version(driver)
    if not browser_version or not driver_version:
        return  # unknown version: let the driver report its own, more precise, error
    if browser_version.split(".")[0] != driver_version.split(".")[0]:
        raise BrowserVersionMismatchError(browser, browser_version, driver, driver_version)


@dataclass(frozen=True, slots=True)
class BrowserInstall:
    """A resolved browser (and optionally driver) pair with their versions."""

    browser: str
    driver: str | None
    browser_version: str
    driver_version: str | None

    @classmethod
    def detect(
        cls,
        browser_path: str | os.PathLike[str] | None = None,
        driver_path: str | os.PathLike[str] | None = None,
        *,
        need_driver: bool = True,
    ) -> BrowserInstall:
        """Resolve the browser (and driver) offline and check that their majors agree."""
        browser = find_browser(browser_path)
        driver = find_chromedriver(driver_path) if need_driver else None
        if driver is not None:
            check_versions(browser, driver)
        return cls(
            browser=browser,
            driver=driver,
            browser_version=executable_version(browser),
            driver_version=executable_version(driver) if driver is not None else None,
        )


def running_as_root() -> bool:
    """Whether this process runs as root (Chromium then needs --no-sandbox)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def chromium_flags(*, headless: bool, window_size: tuple[int, int] | None = None) -> list[str]:
    """Return the flags every Chromium we start gets (profile dir excluded)."""
    flags = [
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--metrics-recording-only",
    ]
    if headless:
        flags.append("--headless=new")
    if running_as_root():
        flags.append("--no-sandbox")
    if window_size is not None:
        flags.append(f"--window-size={window_size[0]},{window_size[1]}")
    return flags


def new_profile_dir() -> Path:
    """Create a fresh, empty Chromium profile directory."""
    return Path(tempfile.mkdtemp(prefix="maestro-chromium-"))
