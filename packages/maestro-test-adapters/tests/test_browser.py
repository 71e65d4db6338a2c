"""Offline browser resolution: argument, then environment, then the system; never a download."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from maestro_test_adapters import (
    BrowserInstall,
    BrowserNotFoundError,
    BrowserVersionMismatchError,
    find_browser,
    find_chromedriver,
)
from maestro_test_adapters._browser import chromium_flags, executable_version


def fake_executable(path: Path, version_line: str) -> Path:
    """Write a shell script that prints a version line, as chromium/chromedriver do."""
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_explicit_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit browser path is used even when the environment names another."""
    mine = fake_executable(tmp_path / "chrome", "Chromium 156.0.1.2")
    other = fake_executable(tmp_path / "other", "Chromium 156.0.1.2")
    monkeypatch.setenv("MAESTRO_BROWSER__PATH", str(other))
    assert find_browser(mine) == str(mine)


def test_environment_comes_before_the_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAESTRO_BROWSER__PATH and MAESTRO_BROWSER__DRIVER_PATH are used before system paths."""
    browser = fake_executable(tmp_path / "chrome", "Chromium 156.0.1.2")
    driver = fake_executable(tmp_path / "driver", "ChromeDriver 156.0.1.2 (abc)")
    monkeypatch.setenv("MAESTRO_BROWSER__PATH", str(browser))
    monkeypatch.setenv("MAESTRO_BROWSER__DRIVER_PATH", str(driver))
    assert find_browser() == str(browser)
    assert find_chromedriver() == str(driver)


def test_the_1_0_variable_names_still_work_and_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAESTRO_BROWSER_PATH / MAESTRO_CHROMEDRIVER are read with a DeprecationWarning."""
    import maestro_test_adapters._browser as browser_module

    monkeypatch.setattr(browser_module, "_warned", set())
    browser = fake_executable(tmp_path / "chrome", "Chromium 156.0.1.2")
    driver = fake_executable(tmp_path / "driver", "ChromeDriver 156.0.1.2 (abc)")
    monkeypatch.delenv("MAESTRO_BROWSER__PATH", raising=False)
    monkeypatch.delenv("MAESTRO_BROWSER__DRIVER_PATH", raising=False)
    monkeypatch.setenv("MAESTRO_BROWSER_PATH", str(browser))
    monkeypatch.setenv("MAESTRO_CHROMEDRIVER", str(driver))
    with pytest.warns(DeprecationWarning, match="set MAESTRO_BROWSER__PATH instead"):
        assert find_browser() == str(browser)
    with pytest.warns(DeprecationWarning, match="set MAESTRO_BROWSER__DRIVER_PATH instead"):
        assert find_chromedriver() == str(driver)


def test_missing_explicit_path_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    """A wrong explicit path raises instead of silently using another browser."""
    with pytest.raises(BrowserNotFoundError) as info:
        find_browser(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(info.value)


def test_missing_browser_fails_fast_listing_every_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing installed the error lists every place that was tried."""
    monkeypatch.delenv("MAESTRO_BROWSER__DRIVER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("maestro_test_adapters._browser._DRIVER_CANDIDATES", (str(tmp_path / "x"),))
    with pytest.raises(BrowserNotFoundError) as info:
        find_chromedriver()
    message = str(info.value)
    assert "$MAESTRO_BROWSER__DRIVER_PATH (not set)" in message
    assert str(tmp_path / "x") in message
    assert "chromedriver on PATH" in message
    assert "apt-get install chromium chromium-driver" in message


def test_major_version_mismatch_is_reported(tmp_path: Path) -> None:
    """A browser and driver whose major versions differ raise BrowserVersionMismatchError."""
    browser = fake_executable(tmp_path / "chrome", "Chromium 156.0.8078.108 built on Debian")
    driver = fake_executable(tmp_path / "driver", "ChromeDriver 120.0.6099.71 (abc)")
    with pytest.raises(BrowserVersionMismatchError) as info:
        BrowserInstall.detect(browser, driver)
    assert "156.0.8078.108" in str(info.value)
    assert "120.0.6099.71" in str(info.value)


def test_matching_versions_are_detected(tmp_path: Path) -> None:
    """Matching majors pass, and the versions are reported."""
    browser = fake_executable(tmp_path / "chrome", "Chromium 156.0.8078.108")
    driver = fake_executable(tmp_path / "driver", "ChromeDriver 156.0.8078.99 (abc)")
    install = BrowserInstall.detect(browser, driver)
    assert (install.browser_version, install.driver_version) == ("156.0.8078.108", "156.0.8078.99")


def test_unknown_version_output_is_tolerated(tmp_path: Path) -> None:
    """An executable that prints no version yields '' and no mismatch error."""
    silent = fake_executable(tmp_path / "silent", "hello")
    assert executable_version(str(silent)) == ""
    driver = fake_executable(tmp_path / "driver", "ChromeDriver 120.0.0.1")
    assert BrowserInstall.detect(silent, driver).driver == str(driver)


def test_flags_disable_network_noise_and_sandbox_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch flags disable background networking, and add --no-sandbox only as root."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    flags = chromium_flags(headless=True, window_size=(800, 600))
    assert {"--headless=new", "--no-sandbox", "--disable-background-networking"} <= set(flags)
    assert "--window-size=800,600" in flags
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--no-sandbox" not in chromium_flags(headless=False)
    assert "--headless=new" not in chromium_flags(headless=False)
