"""maestro-core-config: typed, layered service configuration on pydantic-settings.

Sources (highest first): init arguments, environment variables, ``.env``, the secrets
directory, ``config/base.yaml`` + ``config/{environment}.yaml``, defaults.
"""

from ._cache import clear_settings_cache, get_settings, reload
from ._environment import Environment
from ._errors import (
    ConfigFileError,
    ConfigSourceError,
    ConfigurationError,
    ConfigValidationError,
    FieldError,
    InterpolationError,
    MaestroConfigError,
)
from ._files import ConfigFileSettingsSource
from ._interpolate import interpolate
from ._merge import deep_merge
from ._secret_url import SecretURL
from ._sections import (
    AuthSettings,
    BrokerSettings,
    CacheSettings,
    DatabaseSettings,
    HTTPSettings,
    LoggingSettings,
    MonitoringSettings,
    RedisSettings,
    Section,
    ServiceSettings,
)
from ._settings import MaestroSettings, MaestroSettingsConfigDict
from ._version import __version__

__all__ = [
    "AuthSettings",
    "BrokerSettings",
    "CacheSettings",
    "ConfigFileError",
    "ConfigFileSettingsSource",
    "ConfigSourceError",
    "ConfigValidationError",
    "ConfigurationError",
    "DatabaseSettings",
    "Environment",
    "FieldError",
    "HTTPSettings",
    "InterpolationError",
    "LoggingSettings",
    "MaestroConfigError",
    "MaestroSettings",
    "MaestroSettingsConfigDict",
    "MonitoringSettings",
    "RedisSettings",
    "SecretURL",
    "Section",
    "ServiceSettings",
    "__version__",
    "clear_settings_cache",
    "deep_merge",
    "get_settings",
    "interpolate",
    "reload",
]
