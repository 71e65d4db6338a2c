"""HTTPSettings fields for maestro-core-api: trusted proxies, cursor secret, docs switch."""

from __future__ import annotations

import secrets

import pytest
from maestro_core_config import HTTPSettings, MaestroSettings, MaestroSettingsConfigDict
from pydantic import SecretStr, ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    http: HTTPSettings = HTTPSettings()


def test_http_api_defaults() -> None:
    """With nothing configured: no trusted proxy, no cursor secret, docs decided by environment."""
    http = HTTPSettings()
    assert http.trusted_proxies == ()
    assert http.cursor_secret is None
    assert http.docs is None


def test_http_api_fields_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_HTTP__* fill the new fields; the cursor secret stays a SecretStr out of repr."""
    secret = secrets.token_urlsafe(24)
    monkeypatch.setenv("MAESTRO_HTTP__TRUSTED_PROXIES", '["10.0.0.0/8", "127.0.0.1"]')
    monkeypatch.setenv("MAESTRO_HTTP__CURSOR_SECRET", secret)
    monkeypatch.setenv("MAESTRO_HTTP__DOCS", "false")
    http = _Settings().http
    assert http.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert isinstance(http.cursor_secret, SecretStr)
    assert http.cursor_secret.get_secret_value() == secret
    assert http.docs is False
    assert secret not in repr(http)


def test_http_short_cursor_secret_is_refused_without_echoing_it() -> None:
    """A cursor secret under 16 bytes is an error whose text does not contain the secret."""
    short = secrets.token_hex(4)
    with pytest.raises(ValidationError) as info:
        HTTPSettings(cursor_secret=SecretStr(short))
    assert "16 bytes" in str(info.value)
    assert short not in str(info.value)
