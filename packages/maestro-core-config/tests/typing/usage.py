"""Typed usage examples of maestro-core-config; mypy --strict checks them, nothing runs them."""

from __future__ import annotations

from typing import assert_type

from maestro_core_config import (
    BrokerSettings,
    ConfigFileError,
    ConfigValidationError,
    DatabaseSettings,
    Environment,
    FieldError,
    HTTPSettings,
    LoggingSettings,
    MaestroSettings,
    MaestroSettingsConfigDict,
    RedisSettings,
    SecretURL,
    ServiceSettings,
    deep_merge,
    get_settings,
    interpolate,
    reload,
)
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(env_prefix="ORDERS_", config_dir="deploy/config")

    service: ServiceSettings = ServiceSettings(name="orders")
    logging: LoggingSettings = LoggingSettings()
    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    broker: BrokerSettings = BrokerSettings()
    http: HTTPSettings = HTTPSettings()
    api_token: SecretStr | None = None


class WithExtraSource(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return super().settings_customise_sources(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )


def cached() -> Settings:
    settings: Settings = get_settings(Settings)
    fresh: Settings = reload(Settings)
    return settings if settings.environment is Environment.PRODUCTION else fresh


def provenance(settings: Settings) -> dict[str, str]:
    sources: dict[str, str] = settings.sources()
    return sources


def urls(settings: Settings) -> list[str]:
    db_url: SecretURL = settings.db.url
    port: int | None = settings.broker.effective_port
    return [str(db_url), db_url.get_secret_value(), str(settings.redis.url), str(port)]


def errors() -> list[str]:
    try:
        Settings.load(config_dir="elsewhere", env_file=".env.test", api_token="t")
    except ConfigValidationError as exc:
        found: tuple[FieldError, ...] = exc.errors
        return [f"{e.field} from {e.source}: {e.message}" for e in found]
    except ConfigFileError as exc:
        return [f"{exc.path}:{exc.line}: {exc.reason}"]
    return []


def helpers() -> str:
    merged: dict[str, object] = deep_merge({"a": 1}, {"b": {"c": 2}})
    return interpolate("${HOME:-/root}", {}) + str(merged)


def environment_names() -> list[str]:
    return [env.value for env in Environment] + [str(Environment("Production"))]


def use_new_apis() -> None:
    from maestro_core_config import ConfigFileError, ConfigurationError, MaestroConfigError

    class Strict(MaestroSettings):
        model_config = MaestroSettingsConfigDict(unknown_variables="error")

    assert issubclass(ConfigurationError, MaestroConfigError)
    try:
        Strict()
    except ConfigFileError as exc:
        assert_type(exc.unreadable, bool)
    section = LoggingSettings(extra_redact_keys=("pin",), format="logfmt")
    assert_type(section.extra_redact_keys, tuple[str, ...])
