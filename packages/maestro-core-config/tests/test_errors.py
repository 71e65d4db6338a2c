"""Validation errors: collected, attributed to their source, and never leaking secrets."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from maestro_core_config import (
    ConfigValidationError,
    FieldError,
    MaestroConfigError,
    MaestroSettings,
    ServiceSettings,
)
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from .conftest import AppSettings, write


class Strict(MaestroSettings):
    """A class with a required field and a constrained secret."""

    service: ServiceSettings
    api_key: SecretStr = Field(min_length=20)
    workers: int = 1


def test_all_errors_are_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bad value of one build is listed in one exception, each with its source."""
    write(tmp_path / "config" / "base.yaml", "db:\n  port: 99999\n")
    monkeypatch.setenv("MAESTRO_WORKERS", "many")
    monkeypatch.setenv("MAESTRO_DEBUG", "perhaps")
    with pytest.raises(ConfigValidationError) as caught:
        AppSettings()
    by_field = {e.field: e for e in caught.value.errors}
    assert set(by_field) == {"workers", "debug", "db.port"}
    assert by_field["workers"].source == "env:MAESTRO_WORKERS"
    assert by_field["workers"].value == "'many'"
    assert "valid integer" in by_field["workers"].message
    assert by_field["db.port"].source == "yaml:config/base.yaml"
    assert "less than or equal to 65535" in by_field["db.port"].message
    assert str(caught.value).startswith("3 configuration errors in AppSettings:")


def test_missing_required_value_says_how_to_set_it() -> None:
    """A missing required field is reported with the variable that would set it."""
    with pytest.raises(ConfigValidationError) as caught:
        Strict(api_key="x" * 20)  # type: ignore[arg-type, call-arg]
    (error,) = caught.value.errors
    assert error == FieldError(
        field="service",
        source="missing",
        message="Field required; set MAESTRO_SERVICE or service in a configuration file",
        type="missing",
    )


def test_nested_missing_value_names_the_nested_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing field inside a section names the MAESTRO_SECTION__FIELD variable."""
    monkeypatch.setenv("MAESTRO_SERVICE__VERSION", "1.0")
    with pytest.raises(ConfigValidationError, match=r"set MAESTRO_SERVICE__NAME or service\.name"):
        Strict(api_key="x" * 20)  # type: ignore[arg-type, call-arg]


def test_secret_value_never_appears_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected secret is named but its value is in no message, arg, repr or traceback."""
    monkeypatch.setenv("MAESTRO_API_KEY", "tooShortSecretValue")
    monkeypatch.setenv("MAESTRO_SERVICE__NAME", "orders")
    with pytest.raises(ConfigValidationError) as caught:
        Strict()  # type: ignore[call-arg]
    (error,) = caught.value.errors
    assert error.field == "api_key"
    assert error.source == "env:MAESTRO_API_KEY"
    assert error.value is None
    rendered = "".join(traceback.format_exception(caught.value))
    for text in (str(caught.value), repr(caught.value), repr(caught.value.errors), rendered):
        assert "tooShortSecretValue" not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_secret_looking_names_are_hidden_even_when_not_secretstr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain int field called *_token still has its bad value withheld."""

    class Odd(MaestroSettings):
        refresh_token_count: int = 1

    monkeypatch.setenv("MAESTRO_REFRESH_TOKEN_COUNT", "abc-secret")
    with pytest.raises(ConfigValidationError) as caught:
        Odd()
    assert "abc-secret" not in str(caught.value)


def test_long_values_are_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    """An echoed non-secret value is cut to a readable length."""
    monkeypatch.setenv("MAESTRO_WORKERS", "9" * 30 + "x" * 100)
    with pytest.raises(ConfigValidationError) as caught:
        AppSettings()
    value = caught.value.errors[0].value
    assert value is not None
    assert len(value) <= 60
    assert value.endswith("...")


def test_error_family() -> None:
    """ConfigValidationError is both a MaestroConfigError and a ValueError."""
    assert issubclass(ConfigValidationError, MaestroConfigError)
    assert issubclass(ConfigValidationError, ValueError)


def test_secret_not_in_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    """repr(), model_dump_json() and str() of built settings mask secrets."""
    monkeypatch.setenv("MAESTRO_DB__PASSWORD", "pw-7f3a")
    monkeypatch.setenv("MAESTRO_API_TOKEN", "tok-9c1d")
    settings = AppSettings()
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.db.url)):
        assert "pw-7f3a" not in text
        assert "tok-9c1d" not in text
    assert "**********" in settings.model_dump_json()


def test_pydantic_settings_debug_log_shows_no_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PYDANTIC_SETTINGS_DEBUG logs which keys each source gave, never their values."""
    monkeypatch.setenv("PYDANTIC_SETTINGS_DEBUG", "1")
    monkeypatch.setenv("MAESTRO_DB__PASSWORD", "pw-in-env-5521")
    with caplog.at_level("DEBUG", logger="pydantic_settings"):
        AppSettings()
    assert "pw-in-env-5521" not in caplog.text
    if hasattr(BaseSettings, "_settings_log_debug"):  # pydantic-settings >= 2.15 logs states
        assert "db.password" in caplog.text


def test_bad_url_in_environment_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed MAESTRO_DB__URL is reported against db with its source, never shown."""
    monkeypatch.setenv("MAESTRO_DB__URL", "postgresql://app:pw-0x77@db:notaport/orders")
    with pytest.raises(ConfigValidationError) as caught:
        AppSettings()
    (error,) = caught.value.errors
    assert error.field == "db"
    assert "url is not a valid URL" in error.message
    assert error.source == "env:MAESTRO_DB__URL"
    assert "pw-0x77" not in str(caught.value)


def test_missing_secret_points_to_the_secrets_directory() -> None:
    """A missing required secret is not suggested for a configuration file."""

    class NeedsKey(MaestroSettings):
        api_key: SecretStr

    with pytest.raises(ConfigValidationError) as caught:
        NeedsKey()  # type: ignore[call-arg]
    (error,) = caught.value.errors
    assert error.message == (
        "Field required; set MAESTRO_API_KEY or add the file api_key to the secrets directory"
    )
