"""AuthSettings: what maestro-core-auth's from_settings takes, read from MAESTRO_AUTH__*."""

from __future__ import annotations

import secrets

import pytest
from maestro_core_config import AuthSettings, MaestroSettings, MaestroSettingsConfigDict
from pydantic import SecretStr, ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    auth: AuthSettings = AuthSettings()


def test_auth_defaults_are_the_embedded_ones() -> None:
    """With nothing configured: no issuer or keys, 5-minute tokens, 30 s leeway, OWASP profile."""
    auth = AuthSettings()
    assert auth.issuer is None
    assert auth.audiences == ()
    assert auth.hmac_secret is None
    assert auth.access_ttl == 300.0
    assert auth.leeway == 30.0
    assert auth.password_profile == "owasp"
    assert auth.api_key_prefix == "mst"


def test_auth_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_AUTH__* variables fill the section; the secret stays a SecretStr."""
    secret = secrets.token_urlsafe(40)
    monkeypatch.setenv("MAESTRO_AUTH__ISSUER", "https://auth.example")
    monkeypatch.setenv("MAESTRO_AUTH__AUDIENCES", '["orders", "billing"]')
    monkeypatch.setenv("MAESTRO_AUTH__HMAC_SECRET", secret)
    monkeypatch.setenv("MAESTRO_AUTH__LEEWAY", "5")
    auth = _Settings().auth
    assert auth.issuer == "https://auth.example"
    assert auth.audiences == ("orders", "billing")
    assert isinstance(auth.hmac_secret, SecretStr)
    assert auth.hmac_secret.get_secret_value() == secret
    assert auth.leeway == 5.0
    assert secret not in repr(auth)


def test_auth_short_secret_is_refused_without_echoing_it() -> None:
    """An HMAC secret under 32 bytes is an error whose text does not contain the secret."""
    short = secrets.token_hex(8)
    with pytest.raises(ValidationError) as info:
        AuthSettings(hmac_secret=SecretStr(short))
    assert "32 bytes" in str(info.value)
    assert short not in str(info.value)


def test_auth_rejects_unknown_keys_and_bad_profiles() -> None:
    """A misspelt field or an unknown password profile is an error."""
    with pytest.raises(ValidationError):
        AuthSettings.model_validate({"isuer": "x"})
    with pytest.raises(ValidationError):
        AuthSettings.model_validate({"password_profile": "fast"})
