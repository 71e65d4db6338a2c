"""Shared fixtures: every test runs in an empty directory with no MAESTRO_* variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from maestro_core_config import (
    DatabaseSettings,
    MaestroSettings,
    MaestroSettingsConfigDict,
    ServiceSettings,
    clear_settings_cache,
)
from pydantic import SecretStr


class AppSettings(MaestroSettings):
    """The settings class most tests build: a few scalars and two sections."""

    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    service: ServiceSettings = ServiceSettings(name="orders")
    db: DatabaseSettings = DatabaseSettings()
    api_token: SecretStr | None = None
    workers: int = 2
    debug: bool = False


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty temporary directory, without MAESTRO_* variables or cached settings."""
    for name in list(os.environ):
        if name.upper().startswith(("MAESTRO_", "CFGTEST_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    clear_settings_cache()
    yield tmp_path
    clear_settings_cache()


def write(path: Path, text: str) -> Path:
    """Create `path` (and its parents) with `text`; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
