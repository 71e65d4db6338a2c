"""settings.sources(): which source gave each value."""

from __future__ import annotations

from pathlib import Path

import pytest
from maestro_core_config import (
    DatabaseSettings,
    MaestroSettings,
    MaestroSettingsConfigDict,
)

from .conftest import AppSettings, write


def test_every_leaf_field_has_a_source() -> None:
    """sources() lists every field, nested sections expanded, in declaration order."""
    settings = AppSettings()
    sources = settings.sources()
    assert list(sources)[:4] == [
        "environment",
        "service.name",
        "service.version",
        "service.instance_id",
    ]
    assert "db.password" in sources
    assert set(sources.values()) == {"default"}


def test_each_source_kind_is_labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """init, env, dotenv, secrets, yaml and default each get their documented label."""
    secrets = tmp_path / "secrets"
    write(secrets / "db__password", "pw")
    write(tmp_path / ".env", "MAESTRO_DB__USER=dotenv-user\n")
    write(tmp_path / "config" / "base.yaml", "db:\n  port: 5000\n  name: base\n")
    write(tmp_path / "config" / "production.yaml", "db:\n  name: prod\n")
    monkeypatch.setenv("MAESTRO_ENVIRONMENT", "production")
    monkeypatch.setenv("MAESTRO_DB__HOST", "db.internal")

    sources = AppSettings(workers=4, _secrets_dir=secrets).sources()

    assert sources["workers"] == "init"
    assert sources["environment"] == "env:MAESTRO_ENVIRONMENT"
    assert sources["db.host"] == "env:MAESTRO_DB__HOST"
    assert sources["db.user"] == "dotenv:.env"
    assert sources["db.password"] == f"secrets:{(secrets / 'db__password').resolve()}"
    assert sources["db.port"] == "yaml:config/base.yaml"
    assert sources["db.name"] == "yaml:config/production.yaml"
    assert sources["db.echo"] == "default"


def test_whole_section_as_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A section given as one JSON variable is credited to that variable, field by field."""
    monkeypatch.setenv("MAESTRO_DB", '{"host": "h", "port": 6000}')
    sources = AppSettings().sources()
    assert sources["db.host"] == "env:MAESTRO_DB"
    assert sources["db.port"] == "env:MAESTRO_DB"
    assert sources["db.name"] == "default"


def test_section_instance_passed_to_init() -> None:
    """A whole section passed as an argument credits all its fields to init."""
    sources = AppSettings(db=DatabaseSettings(host="x")).sources()
    assert sources["db.host"] == "init"
    assert sources["db.port"] == "init"


def test_toml_and_custom_prefix_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TOML files are labelled toml: and variables keep the class's own prefix."""

    class Orders(MaestroSettings):
        model_config = MaestroSettingsConfigDict(env_prefix="ORDERS_", secrets_dir=None)
        db: DatabaseSettings = DatabaseSettings()

    write(tmp_path / "config" / "base.toml", "[db]\nname = 'orders'\n")
    monkeypatch.setenv("orders_db__port", "7000")
    sources = Orders().sources()
    assert sources["db.name"] == "toml:config/base.toml"
    assert sources["db.port"] == "env:ORDERS_DB__PORT"


def test_later_dotenv_file_is_named(tmp_path: Path) -> None:
    """With several env files, the one that set the variable (the last) is named."""
    write(tmp_path / "a.env", "MAESTRO_WORKERS=1\nMAESTRO_DEBUG=true\n")
    write(tmp_path / "b.env", "MAESTRO_WORKERS=2\n")
    settings = AppSettings(_env_file=("a.env", "b.env"))
    assert settings.workers == 2
    assert settings.sources()["workers"] == "dotenv:b.env"
    assert settings.sources()["debug"] == "dotenv:a.env"


def test_custom_source_added_by_subclass() -> None:
    """A source added through settings_customise_sources is recorded under its class name."""
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

    class Fixed(PydanticBaseSettingsSource):
        def get_field_value(self, field: object, field_name: str) -> tuple[None, str, bool]:
            return None, field_name, False

        def __call__(self) -> dict[str, int]:
            return {"workers": 42}

    class WithFixed(AppSettings):  # type: ignore[misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            base = super().settings_customise_sources(
                settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
            )
            return (*base, Fixed(settings_cls))

    settings = WithFixed()
    assert settings.workers == 42
    assert settings.sources()["workers"] == "Fixed"


def test_url_variable_is_credited_for_the_parts_it_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_DB__URL is the source of host, port, password; a part variable beats it."""
    monkeypatch.setenv("MAESTRO_DB__URL", "postgresql://app:pw@db:6000/orders")
    monkeypatch.setenv("MAESTRO_DB__PORT", "7000")
    settings = AppSettings()
    assert (settings.db.host, settings.db.port) == ("db", 7000)
    sources = settings.sources()
    assert sources["db.host"] == "env:MAESTRO_DB__URL"
    assert sources["db.password"] == "env:MAESTRO_DB__URL"
    assert sources["db.port"] == "env:MAESTRO_DB__PORT"
    assert sources["db.pool_size"] == "default"
