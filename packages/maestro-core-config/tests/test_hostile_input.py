"""Hostile input: URL credentials in files, malformed JSON in variables, misspelt variables."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from maestro_core_config import (
    CacheSettings,
    ConfigFileError,
    ConfigSourceError,
    ConfigValidationError,
    MaestroSettingsConfigDict,
)

from .conftest import AppSettings, write


def _password() -> str:
    """A password made at test time (no credential literal in the repository)."""
    import secrets

    return "pw" + secrets.token_hex(6)


class WithDsn(AppSettings):  # type: ignore[misc]
    """A class with URL-shaped values under keys not called url."""

    database_url: str = ""
    replicas: tuple[str, ...] = ()


@pytest.mark.parametrize(
    "line",
    [
        "database_url: postgresql://app:{pw}@db/orders",
        "replicas: ['postgresql://app:{pw}@replica/orders']",
        "db:\n  url: postgresql://app:{pw}@db/orders",
    ],
)
def test_a_credential_in_any_url_of_a_file_is_refused(tmp_path: Path, line: str) -> None:
    """A password inside any URL-shaped value of a settings file is refused, never echoed."""
    pw = _password()
    write(tmp_path / "config" / "base.yaml", line.format(pw=pw) + "\n")
    with pytest.raises(
        ConfigFileError, match="must not be written in a configuration file"
    ) as info:
        WithDsn()
    assert pw not in str(info.value)


def test_a_url_without_password_or_by_reference_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL naming only a user, or a ${VAR} reference, is accepted."""
    monkeypatch.setenv("CFGTEST_DSN", f"postgresql://app:{_password()}@db/orders")
    write(
        tmp_path / "config" / "base.yaml",
        "database_url: ${CFGTEST_DSN}\nreplicas: ['postgresql://app@replica/orders']\n",
    )
    settings = WithDsn()
    assert settings.replicas == ("postgresql://app@replica/orders",)


def test_echoed_values_mask_url_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad value echoed in an error shows its URL with the password masked."""
    pw = _password()

    class Strict(AppSettings):  # type: ignore[misc]
        callback: int = 0

    monkeypatch.setenv("MAESTRO_CALLBACK", f"https://hook:{pw}@example.org/x")
    with pytest.raises(ConfigValidationError) as info:
        Strict()
    assert pw not in str(info.value)
    assert "https://hook:***@example.org/x" in str(info.value)


@pytest.mark.parametrize(
    ("variable", "value", "shape"),
    [
        ("MAESTRO_DB", '{"host": "db",}', "JSON object"),
        ("MAESTRO_DB__READ_REPLICA_URLS", '["postgresql://r1/db",', "JSON list"),
    ],
)
def test_bad_json_in_a_nested_variable_names_it_the_position_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, shape: str
) -> None:
    """Malformed JSON in a variable names the variable, the position and how to write it."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigSourceError) as info:
        AppSettings()
    message = str(info.value)
    assert f"{variable} is not valid JSON" in message
    assert "line 1 column" in message
    assert shape in message
    assert "no trailing comma" in message
    assert value not in message  # the value may hold a secret


def test_a_misspelt_variable_warns_with_did_you_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_WROKERS (read by nothing) warns 'did you mean MAESTRO_WORKERS?' by default."""
    monkeypatch.setenv("MAESTRO_WROKERS", "4")
    with pytest.warns(UserWarning, match=r"unknown variable MAESTRO_WROKERS; did you mean"):
        settings = AppSettings()
    assert settings.workers == 2


def test_a_misspelt_field_of_a_section_is_an_error_with_did_you_mean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MAESTRO_DB__HOTS (an unknown key of a known section) is an error naming the fix."""
    monkeypatch.setenv("MAESTRO_DB__HOTS", "db.internal")
    with pytest.raises(ConfigValidationError, match=r"did you mean MAESTRO_DB__HOST\?"):
        AppSettings()


def test_a_misspelt_key_in_a_file_gets_did_you_mean(tmp_path: Path) -> None:
    """A YAML typo is an error that suggests the known key."""
    write(tmp_path / "config" / "base.yaml", "wrokers: 4\n")
    with pytest.raises(ConfigValidationError, match=r"did you mean workers\?"):
        AppSettings()


def test_unrelated_maestro_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A MAESTRO_* variable meant for something else (a tool's) is not reported."""
    monkeypatch.setenv("MAESTRO_INDEX_URL", "http://127.0.0.1:8080/simple")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AppSettings()


def test_strict_mode_makes_a_misspelt_variable_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """With unknown_variables='error' a misspelt variable is a ConfigValidationError."""

    class StrictSettings(AppSettings):  # type: ignore[misc]
        model_config = MaestroSettingsConfigDict(unknown_variables="error")

    monkeypatch.setenv("MAESTRO_WROKERS", "4")
    with pytest.raises(ConfigValidationError, match=r"did you mean MAESTRO_WORKERS\?") as info:
        StrictSettings()
    assert info.value.errors[0].source == "env:MAESTRO_WROKERS"
    assert info.value.errors[0].type == "unknown_variable"


def test_a_bad_unknown_variables_mode_is_a_configuration_error() -> None:
    """unknown_variables accepts warn, error or ignore; anything else names them."""
    from maestro_core_config import ConfigurationError

    class Odd(AppSettings):  # type: ignore[misc]
        model_config = MaestroSettingsConfigDict(unknown_variables="shout")  # type: ignore[typeddict-item]

    with pytest.raises(ConfigurationError, match="'warn', 'error' or 'ignore'"):
        Odd()


class WithCache(AppSettings):  # type: ignore[misc]
    """A class whose cache.url is a secret field (it may carry a password)."""

    cache: CacheSettings = CacheSettings()


@pytest.mark.parametrize("url", ["memory://", "redis://cache:6379/0", "rediss://cache/1"])
def test_a_secret_url_field_may_hold_an_address_without_credentials(
    tmp_path: Path, url: str
) -> None:
    """cache.url is secret because of passwords; a bare address in a file is not a secret."""
    write(tmp_path / "config" / "base.yaml", f"cache:\n  url: {url}\n")
    assert WithCache().cache.url.get_secret_value() == url


@pytest.mark.parametrize(
    "url",
    [
        "redis://:{pw}@cache:6379/0",
        "redis://app:{pw}@cache:6379/0",
        "redis://cache:6379/0?password={pw}",
        "redis://{pw}@cache:6379/0",
        "{pw}",
    ],
)
def test_a_secret_field_with_anything_more_than_an_address_is_refused(
    tmp_path: Path, url: str
) -> None:
    """Userinfo, a query, or a value that is not a URL stay refused in a file, never echoed."""
    pw = _password()
    write(tmp_path / "config" / "base.yaml", f"cache:\n  url: '{url.format(pw=pw)}'\n")
    with pytest.raises(ConfigFileError, match=r"cache\.url is a secret") as info:
        WithCache()
    assert pw not in str(info.value)
