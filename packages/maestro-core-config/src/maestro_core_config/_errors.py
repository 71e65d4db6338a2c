"""The error family of maestro-core-config.

Every error this package raises on purpose derives from `MaestroConfigError`::

    MaestroConfigError(Exception)
    ├── ConfigurationError(MaestroConfigError, ValueError)
    │       a bad argument to this package (an unknown `unknown_variables` mode, ...)
    ├── ConfigValidationError(MaestroConfigError, ValueError)
    │       every invalid or missing value of one build, collected; `.errors` lists them
    └── ConfigSourceError(MaestroConfigError, ValueError)
        │   a source could not be read (a value that is not valid JSON for a nested field, ...)
        └── ConfigFileError(ConfigSourceError)
            │   a YAML/TOML file is unreadable, malformed (`.path`, `.line`) or not a mapping
            └── InterpolationError(ConfigFileError)
                    `${VAR}` names a variable that is unset and has no `:-default`

Messages name what was wrong and how to fix it. They never contain the value of a secret
field: a value is only echoed for fields that are neither `SecretStr`-typed nor
secret-looking by name, and never for keys a model does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ConfigFileError",
    "ConfigSourceError",
    "ConfigValidationError",
    "ConfigurationError",
    "FieldError",
    "InterpolationError",
    "MaestroConfigError",
]


class MaestroConfigError(Exception):
    """Base class of every error raised by maestro-core-config."""


class ConfigurationError(MaestroConfigError, ValueError):
    """A bad argument given to maestro-core-config itself (not a bad configuration value)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid value: which field, which source gave it, what was expected."""

    field: str
    """Dotted path of the field, e.g. ``db.port``; ``(settings)`` for whole-model errors."""
    source: str
    """Provenance label of the bad value, e.g. ``env:MAESTRO_DB__PORT``, or ``missing``."""
    message: str
    """What was expected, in pydantic's words (``Input should be a valid integer``)."""
    type: str
    """pydantic's machine-readable error type (``int_parsing``, ``missing``, ...)."""
    value: str | None = None
    """``repr`` of the offending value (shortened), or None when it must not be shown."""

    def __str__(self) -> str:
        got = f", got {self.value}" if self.value is not None else ""
        return f"{self.field}: {self.message} [source: {self.source}{got}]"


class ConfigValidationError(MaestroConfigError, ValueError):
    """The configuration is invalid; every problem of the build is listed in `errors`."""

    def __init__(self, settings_name: str, errors: tuple[FieldError, ...]) -> None:
        self.settings_name = settings_name
        self.errors = errors
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        lines = [f"{count} configuration {noun} in {settings_name}:"]
        lines.extend(f"  {error}" for error in errors)
        super().__init__("\n".join(lines))


class ConfigSourceError(MaestroConfigError, ValueError):
    """A configuration source could not be read."""


class ConfigFileError(ConfigSourceError):
    """A configuration file is unreadable, malformed or has the wrong shape."""

    def __init__(
        self, path: str | Path, reason: str, line: int | None = None, *, unreadable: bool = False
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        self.unreadable = unreadable
        """True when the file or directory could not be read at all (an environment problem)."""
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


class InterpolationError(ConfigFileError):
    """A `${VAR}` reference names an unset variable and gives no default."""

    def __init__(self, path: str | Path, key: str, variable: str) -> None:
        self.variable = variable
        self.key = key
        super().__init__(
            path,
            f"{key} references ${{{variable}}} but the environment variable {variable} is not "
            f"set; set it, or give a default with ${{{variable}:-default}}",
        )
