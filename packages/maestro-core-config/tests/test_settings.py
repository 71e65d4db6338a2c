"""The MaestroSettings base class: source order, names, environments, immutability."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from maestro_core_config import (
    ConfigSourceError,
    ConfigValidationError,
    DatabaseSettings,
    Environment,
    MaestroSettings,
    MaestroSettingsConfigDict,
)
from pydantic import SecretStr, ValidationError

from .conftest import AppSettings, write


def test_defaults_when_nothing_is_configured() -> None:
    """With no sources at all, every field has its declared default."""
    settings = AppSettings()
    assert settings.workers == 2
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.db.host == "localhost"


def test_source_order_highest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """init > env > .env > secrets > config files > defaults, each layer beating those below."""
    secrets = tmp_path / "secrets"
    write(secrets / "workers", "5")
    write(secrets / "debug", "true")
    write(tmp_path / "config" / "base.yaml", "workers: 6\ndebug: false\ndb:\n  name: fromfile\n")
    write(tmp_path / ".env", "MAESTRO_WORKERS=4\nMAESTRO_DB__NAME=fromdotenv\n")
    monkeypatch.setenv("MAESTRO_WORKERS", "3")

    assert AppSettings(workers=1, _secrets_dir=secrets).workers == 1
    built = AppSettings(_secrets_dir=secrets)
    assert built.workers == 3
    assert built.db.name == "fromdotenv"
    assert built.debug is True  # secrets beat the config file
    monkeypatch.delenv("MAESTRO_WORKERS")
    assert AppSettings(_secrets_dir=secrets).workers == 4
    (tmp_path / ".env").unlink()
    assert AppSettings(_secrets_dir=secrets).workers == 5
    assert AppSettings().workers == 6
    assert AppSettings().db.name == "fromfile"


def test_nested_env_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_DB__HOST sets db.host and leaves the section's other defaults alone."""
    monkeypatch.setenv("MAESTRO_DB__HOST", "db.internal")
    monkeypatch.setenv("MAESTRO_SERVICE__VERSION", "2.1.0")
    settings = AppSettings()
    assert settings.db.host == "db.internal"
    assert settings.db.port == 5432
    assert settings.service.name == "orders"  # the instance default is updated, not replaced
    assert settings.service.version == "2.1.0"


def test_env_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variable names match whatever their case, as pydantic-settings users expect."""
    monkeypatch.setenv("maestro_workers", "9")
    assert AppSettings().workers == 9


def test_prefix_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subclass's env_prefix replaces MAESTRO_ and other defaults are kept."""

    class Orders(MaestroSettings):
        model_config = MaestroSettingsConfigDict(env_prefix="ORDERS_")
        db: DatabaseSettings = DatabaseSettings()

    monkeypatch.setenv("ORDERS_DB__PORT", "6543")
    monkeypatch.setenv("MAESTRO_DB__PORT", "1111")
    settings = Orders()
    assert settings.db.port == 6543
    assert Orders.model_config.get("env_nested_delimiter") == "__"


def test_nested_secret_file_fills_a_section_field(tmp_path: Path) -> None:
    """A file named db__password in the secrets directory sets db.password, stripped."""
    secrets = tmp_path / "secrets"
    write(secrets / "db__password", "s3cret\n")
    write(secrets / "api_token", "tok")
    settings = AppSettings(_secrets_dir=secrets)
    assert settings.db.password is not None
    assert settings.db.password.get_secret_value() == "s3cret"
    assert settings.api_token == SecretStr("tok")


def test_missing_secrets_directory_is_not_an_error(tmp_path: Path) -> None:
    """The default /run/secrets may be absent: no error and no warning."""

    class Plain(MaestroSettings):
        workers: int = 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Plain(_secrets_dir=tmp_path / "absent").workers == 1  # type: ignore[call-arg]
        assert Plain().workers == 1


def test_secrets_directory_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    """A secrets_dir pointing at a file is refused with a clear error from our family."""
    not_a_dir = write(tmp_path / "secrets", "x")
    with pytest.raises(ConfigSourceError, match="directory"):
        AppSettings(_secrets_dir=not_a_dir)


def test_settings_are_frozen() -> None:
    """Built settings and their sections reject assignment."""
    settings = AppSettings()
    with pytest.raises(ValidationError):
        settings.workers = 3
    with pytest.raises(ValidationError):
        settings.db.host = "elsewhere"


def test_environment_selects_the_overlay_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAESTRO_ENVIRONMENT=production reads config/production.yaml over config/base.yaml."""
    write(tmp_path / "config" / "base.yaml", "workers: 2\ndb:\n  host: base\n  port: 1000\n")
    write(tmp_path / "config" / "production.yaml", "db:\n  host: prod\n")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "Production")
    settings = AppSettings()
    assert settings.environment is Environment.PRODUCTION
    assert (settings.db.host, settings.db.port) == ("prod", 1000)


def test_environment_from_base_file_selects_the_overlay(tmp_path: Path) -> None:
    """With no other source naming it, the base file's environment key picks the overlay."""
    write(tmp_path / "config" / "base.yaml", "environment: staging\nworkers: 2\n")
    write(tmp_path / "config" / "staging.yaml", "workers: 8\n")
    settings = AppSettings()
    assert settings.environment is Environment.STAGING
    assert settings.workers == 8


def test_unknown_environment_is_an_error_naming_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown environment name fails validation and lists the valid names, no fallback."""
    write(tmp_path / "config" / "base.yaml", "workers: 2\n")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "prod")
    with pytest.raises(ConfigValidationError) as caught:
        AppSettings()
    (error,) = caught.value.errors
    assert error.field == "environment"
    assert error.source == "env:MAESTRO_ENVIRONMENT"
    assert "'production'" in error.message


def test_config_dir_argument_and_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """_config_dir= beats MAESTRO_CONFIG_DIR, which beats the class's config_dir."""
    write(tmp_path / "a" / "base.yaml", "workers: 10\n")
    write(tmp_path / "b" / "base.yaml", "workers: 20\n")
    write(tmp_path / "config" / "base.yaml", "workers: 30\n")
    assert AppSettings().workers == 30
    monkeypatch.setenv("MAESTRO_CONFIG_DIR", str(tmp_path / "b"))
    assert AppSettings().workers == 20
    assert AppSettings(_config_dir=tmp_path / "a").workers == 10


def test_config_dir_none_disables_files(tmp_path: Path) -> None:
    """config_dir=None in model_config means no configuration files are read."""

    class NoFiles(MaestroSettings):
        model_config = MaestroSettingsConfigDict(config_dir=None)
        workers: int = 1

    write(tmp_path / "config" / "base.yaml", "workers: 7\n")
    assert NoFiles().workers == 1


def test_unknown_key_in_a_file_is_an_error(tmp_path: Path) -> None:
    """A typo in a configuration file is reported with the file that holds it."""
    write(tmp_path / "config" / "base.yaml", "wrokers: 3\n")
    with pytest.raises(ConfigValidationError) as caught:
        AppSettings()
    (error,) = caught.value.errors
    assert error.field == "wrokers"
    assert error.source == "yaml:config/base.yaml"
    assert error.value is None  # an unknown key may be a misspelt secret


def test_invalid_json_in_a_complex_variable_is_a_source_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A section given as one malformed JSON variable raises ConfigSourceError naming it."""
    monkeypatch.setenv("MAESTRO_DB", "{not json")
    with pytest.raises(ConfigSourceError, match='"db"'):
        AppSettings()


def test_model_validate_still_works_without_sources() -> None:
    """model_validate builds from a mapping; sources() marks given fields as init."""
    settings = AppSettings.model_validate({"workers": 4})
    assert settings.workers == 4
    assert settings.sources()["workers"] == "init"
    assert settings.sources()["debug"] == "default"


def test_load_sets_file_locations(tmp_path: Path) -> None:
    """load(config_dir=, env_file=, secrets_dir=) is the typed way to move the files."""
    write(tmp_path / "cfg" / "base.yaml", "workers: 3\ndb:\n  name: from-cfg\n")
    write(tmp_path / "prod.env", "MAESTRO_WORKERS=4\n")
    write(tmp_path / "sec" / "db__user", "svc")
    settings = AppSettings.load(
        config_dir=tmp_path / "cfg", env_file="prod.env", secrets_dir=tmp_path / "sec", debug=True
    )
    assert (settings.workers, settings.db.name, settings.db.user) == (4, "from-cfg", "svc")
    assert settings.debug is True
    assert AppSettings.load().workers == 2


def test_missing_secrets_directory_can_be_required(tmp_path: Path) -> None:
    """secrets_dir_missing='error' turns an absent secrets directory into an error."""

    class Strict(MaestroSettings):
        model_config = MaestroSettingsConfigDict(secrets_dir_missing="error")

    with pytest.raises(ConfigSourceError, match="does not exist"):
        Strict(_secrets_dir=tmp_path / "absent")  # type: ignore[call-arg]


def test_environment_names() -> None:
    """Environment has the four names, parses any case, and rejects anything else."""
    assert [e.value for e in Environment] == ["development", "test", "staging", "production"]
    assert Environment("STAGING") is Environment.STAGING
    assert str(Environment.PRODUCTION) == "production"
    with pytest.raises(ValueError, match="'prod' is not a valid Environment"):
        Environment("prod")
