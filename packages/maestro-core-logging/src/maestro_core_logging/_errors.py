"""The errors maestro-core-logging raises.

Hierarchy::

    MaestroLoggingError                  base of every error raised here
    ├── ConfigurationError (ValueError)  a configure_logging() argument is invalid
    │   └── InvalidLevelError            an unknown log level name or number
    └── MissingExtraError (ImportError)  an optional extra is not installed
"""

from __future__ import annotations


class MaestroLoggingError(Exception):
    """Base class of every error raised by maestro-core-logging."""


class ConfigurationError(MaestroLoggingError, ValueError):
    """An argument to ``configure_logging()`` (or the middleware) is invalid."""


class InvalidLevelError(ConfigurationError):
    """A log level is neither a known level name nor a known level number."""

    def __init__(self, level: object, valid: tuple[str, ...], *, source: str = "level") -> None:
        self.level = level
        self.valid = valid
        super().__init__(
            f"unknown log level {level!r} for {source}; "
            f"use one of {', '.join(valid)} (any case) or their numeric values"
        )


class MissingExtraError(MaestroLoggingError, ImportError):
    """An optional dependency is needed; the message names the extra to install.

    The family's one shape: ``MissingExtraError(feature, extra, module)``.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        self.install = f"pip install 'maestro-core-logging[{extra}]'"
        super().__init__(f"{feature} needs the {extra} extra: {self.install}", name=module)
