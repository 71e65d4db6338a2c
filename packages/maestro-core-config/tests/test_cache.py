"""get_settings caching, explicit reload, and the cache's thread safety."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from maestro_core_config import (
    ConfigValidationError,
    MaestroSettings,
    clear_settings_cache,
    get_settings,
    reload,
)

from .conftest import AppSettings, write


def test_same_instance_until_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_settings builds once; later changes to the environment need reload()."""
    first = get_settings(AppSettings)
    monkeypatch.setenv("MAESTRO_WORKERS", "7")
    assert get_settings(AppSettings) is first
    assert first.workers == 2
    fresh = reload(AppSettings)
    assert fresh.workers == 7
    assert get_settings(AppSettings) is fresh


def test_classes_are_cached_separately() -> None:
    """A subclass has its own cached instance."""

    class Child(AppSettings):  # type: ignore[misc]
        pass

    assert type(get_settings(Child)) is Child
    assert type(get_settings(AppSettings)) is AppSettings


def test_failed_reload_keeps_the_previous_settings(tmp_path: Path) -> None:
    """reload() with an invalid configuration raises and leaves the cached instance in place."""
    good = get_settings(AppSettings)
    write(tmp_path / "config" / "base.yaml", "workers: lots\n")
    with pytest.raises(ConfigValidationError):
        reload(AppSettings)
    assert get_settings(AppSettings) is good


def test_failed_first_build_caches_nothing(tmp_path: Path) -> None:
    """A build that fails is retried by the next get_settings call."""
    config = write(tmp_path / "config" / "base.yaml", "workers: lots\n")
    with pytest.raises(ConfigValidationError):
        get_settings(AppSettings)
    config.write_text("workers: 3\n", encoding="utf-8")
    assert get_settings(AppSettings).workers == 3


def test_clear_settings_cache_forgets_everything() -> None:
    """After clear_settings_cache() the next get_settings builds a new instance."""
    first = get_settings(AppSettings)
    clear_settings_cache()
    assert get_settings(AppSettings) is not first


def test_concurrent_first_calls_build_once() -> None:
    """Threads racing on the first get_settings share one instance built once."""
    builds: list[int] = []

    class Counted(MaestroSettings):
        workers: int = 1

        def model_post_init(self, context: object, /) -> None:
            builds.append(1)

    barrier = threading.Barrier(8)
    seen: list[Counted] = []

    def worker() -> None:
        barrier.wait()
        seen.append(get_settings(Counted))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert all(s is seen[0] for s in seen)
