"""CacheSettings: what maestro-cache takes, read from MAESTRO_CACHE__*."""

from __future__ import annotations

import pytest
from maestro_core_config import CacheSettings, MaestroSettings, MaestroSettingsConfigDict
from pydantic import SecretStr, ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    cache: CacheSettings = CacheSettings()


def test_cache_defaults_are_the_embedded_ones() -> None:
    """With nothing configured: the in-process store, one hour, JSON, failing open, no L1."""
    section = CacheSettings()
    assert section.url.get_secret_value() == "memory://"
    assert section.default_ttl == 3600.0
    assert section.key_prefix == ""
    assert section.version is None
    assert section.max_size == 10000
    assert section.serializer == "json"
    assert section.signing_key is None
    assert section.fail_open is True
    assert section.local_ttl is None
    assert section.max_connections == 64
    assert section.socket_timeout == 0.5


def test_cache_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_CACHE__* variables fill the section."""
    monkeypatch.setenv("MAESTRO_CACHE__URL", "redis://:pw@cache:6379/2")
    monkeypatch.setenv("MAESTRO_CACHE__DEFAULT_TTL", "300")
    monkeypatch.setenv("MAESTRO_CACHE__KEY_PREFIX", "orders")
    monkeypatch.setenv("MAESTRO_CACHE__LOCAL_TTL", "30")
    monkeypatch.setenv("MAESTRO_CACHE__FAIL_OPEN", "false")
    section = _Settings().cache
    assert section.url.get_secret_value() == "redis://:pw@cache:6379/2"
    assert section.default_ttl == 300.0
    assert section.key_prefix == "orders"
    assert section.local_ttl == 30.0
    assert section.fail_open is False


def test_cache_url_and_signing_key_are_hidden() -> None:
    """The URL's password and the signing key never show in repr."""
    section = CacheSettings(
        url=SecretStr("redis://:hunter2@cache:6379/0"),
        serializer="pickle",
        signing_key=SecretStr("k" * 32),
    )
    assert "hunter2" not in repr(section)
    assert "k" * 32 not in repr(section)


@pytest.mark.parametrize(
    "bad",
    [
        {"default_ttl": 0},
        {"default_ttl": -1},
        {"max_size": 0},
        {"serializer": "yaml"},
        {"serializer": "pickle"},
        {"serializer": "pickle", "signing_key": "short"},
        {"socket_timeout": 0},
        {"unknown": 1},
    ],
)
def test_cache_rejects_bad_values(bad: dict[str, object]) -> None:
    """Zero TTLs, unknown serializers, unsigned pickle and unknown keys are errors."""
    with pytest.raises(ValidationError):
        CacheSettings.model_validate(bad)
