"""`MaestroSettings`: pydantic-settings with layered files, secrets, provenance, one error."""

from __future__ import annotations

import difflib
import logging
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import PrivateAttr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from pydantic_settings.sources import DefaultSettingsSource, NestedSecretsSettingsSource

from ._envcheck import json_problem, unknown_variables
from ._environment import Environment
from ._errors import ConfigSourceError, ConfigurationError, ConfigValidationError, FieldError
from ._files import ConfigFileSettingsSource, mask_url_credentials
from ._introspect import field_at, is_secret_path, leaf_paths, models_in, secret_looking
from ._provenance import BuildRecord, RecordingSource

__all__ = ["MaestroSettings", "MaestroSettingsConfigDict"]

# The record of the build in progress in this thread / task; set by MaestroSettings.__init__.
_BUILD: ContextVar[BuildRecord | None] = ContextVar("maestro_config_build", default=None)


class _SecretsDirSource(NestedSecretsSettingsSource):
    """pydantic-settings' nested secrets source, skipping all work when there are no files.

    Without the shortcut an absent /run/secrets (every developer machine) would still cost
    a full pass over the fields, as much as reading the environment.
    """

    def __call__(self) -> dict[str, Any]:
        if not self.env_vars:
            return {}
        return super().__call__()


class MaestroSettingsConfigDict(SettingsConfigDict, total=False):
    """`SettingsConfigDict` plus the keys maestro-core-config adds."""

    config_dir: str | Path | None
    """Directory of ``base.yaml`` and ``{environment}.yaml`` (or ``.toml``); None: no files."""
    unknown_variables: Literal["warn", "error", "ignore"]
    """A ``MAESTRO_*`` variable the class does not know but that looks meant for it (a typo:
    ``MAESTRO_DB__HOTS``): ``"warn"`` (the default) with a "did you mean", ``"error"``
    (strict mode: a `ConfigValidationError`) or ``"ignore"``."""


class MaestroSettings(BaseSettings):
    """Base class of a service's settings.

    Sources, highest priority first:

    1. arguments given to the constructor;
    2. environment variables, ``MAESTRO_`` prefix, ``__`` between nested names
       (``MAESTRO_DB__HOST``);
    3. the ``.env`` file (same names);
    4. the secrets directory, ``/run/secrets``: one file per value, named after the field
       without prefix (``db__password``); a missing directory is fine;
    5. ``config/base.yaml`` deep-merged with ``config/{environment}.yaml`` (or ``.toml``),
       with ``${VAR}`` / ``${VAR:-default}`` interpolation;
    6. the defaults declared on the class.

    The configuration directory can be changed per call (`load` or ``_config_dir=``), by the
    ``{prefix}CONFIG_DIR`` environment variable, or in ``model_config``. Built settings are
    frozen; `sources()` tells where each value came from. Any invalid or missing value raises
    one `ConfigValidationError` listing them all.
    """

    model_config = MaestroSettingsConfigDict(
        env_prefix="MAESTRO_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        secrets_dir="/run/secrets",
        config_dir="config",
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,
        # MAESTRO_SERVICE__VERSION alone updates a section whose default is an instance,
        # instead of replacing it with a half-filled one.
        nested_model_default_partial_update=True,
    )

    environment: Environment = Environment.DEVELOPMENT

    _provenance: BuildRecord | None = PrivateAttr(default=None)

    def __init__(self, *, _config_dir: str | os.PathLike[str] | None = None, **values: Any) -> None:
        record = BuildRecord(os.fspath(_config_dir) if _config_dir is not None else None)
        token = _BUILD.set(record)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # `from None`: pydantic's own error shows every input, secrets included.
            raise _collect(exc, record, type(self)) from None
        except SettingsError as exc:
            prefix, delimiter = _env_names(type(self))
            problem = json_problem(type(self), prefix, delimiter, exc)
            raise ConfigSourceError(f"{type(self).__name__}: {problem or exc}") from exc
        finally:
            _BUILD.reset(token)
        self._provenance = record
        _check_unknown_variables(type(self))

    @classmethod
    def load(
        cls,
        *,
        config_dir: str | os.PathLike[str] | None = None,
        env_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        secrets_dir: str | os.PathLike[str] | None = None,
        **values: Any,
    ) -> Self:
        """Build with other file locations than the class declares; None keeps the class's.

        The typed spelling of ``cls(_config_dir=..., _env_file=..., _secrets_dir=...)``:
        type checkers do not know ``_config_dir`` (nor, without the pydantic mypy plugin,
        the other two). `values` are init arguments, the highest-priority source.
        """
        options: dict[str, Any] = dict(values)
        if config_dir is not None:
            options["_config_dir"] = config_dir
        if env_file is not None:
            options["_env_file"] = env_file
        if secrets_dir is not None:
            options["_secrets_dir"] = secrets_dir
        return cls(**options)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The documented order; override and call `super()` to add a source of your own."""
        config = settings_cls.model_config
        secrets = _SecretsDirSource(
            file_secret_settings,
            secrets_dir_missing=config.get("secrets_dir_missing") or "ok",
            secrets_prefix=config.get("secrets_prefix") or "",
        )
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            secrets,
            ConfigFileSettingsSource(settings_cls, _config_dir(settings_cls)),
        )

    @classmethod
    def _settings_build_values(
        cls, sources: tuple[PydanticBaseSettingsSource, ...], init_kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        record = _BUILD.get()
        if record is not None:
            # Defaults stay unwrapped: pydantic-settings looks for them as the last source.
            sources = tuple(
                s if isinstance(s, DefaultSettingsSource) else RecordingSource(s, record)
                for s in sources
            )
        return super()._settings_build_values(sources, init_kwargs)

    @classmethod
    def _settings_log_debug(cls, states: dict[str, dict[str, Any]]) -> None:
        # pydantic-settings' PYDANTIC_SETTINGS_DEBUG output logs every value, secrets
        # included; ours logs which keys each source gave, never a value.
        lines = [f"Resolving settings for {cls.__name__!r} (highest priority first):"]
        lines.extend(f"  {name}: {sorted(_keys(state))}" for name, state in states.items())
        logging.getLogger("pydantic_settings").debug("\n".join(lines))

    def sources(self) -> dict[str, str]:
        """For every field (dotted, nested sections expanded), the source of its value.

        Labels: ``init``, ``env:MAESTRO_DB__HOST``, ``dotenv:.env``,
        ``secrets:/run/secrets/db__password``, ``yaml:config/production.yaml``,
        ``toml:config/base.toml``, ``default``.
        """
        record = self._provenance
        result: dict[str, str] = {}
        for path in leaf_paths(self):
            if record is not None:
                result[".".join(path)] = record.source_of(path)
            else:  # built by model_validate / model_construct: no sources were read
                result[".".join(path)] = "init" if path[0] in self.model_fields_set else "default"
        return result


def _env_names(settings_cls: type[BaseSettings]) -> tuple[str, str]:
    config = settings_cls.model_config
    return str(config.get("env_prefix") or ""), str(config.get("env_nested_delimiter") or "")


def _check_unknown_variables(settings_cls: type[BaseSettings]) -> None:
    mode = settings_cls.model_config.get("unknown_variables", "warn")
    if mode not in ("warn", "error", "ignore"):
        raise ConfigurationError(
            f"unknown_variables must be 'warn', 'error' or 'ignore', got {mode!r}"
        )
    if mode == "ignore":
        return
    prefix, delimiter = _env_names(settings_cls)
    problems = unknown_variables(settings_cls, prefix, delimiter)
    if not problems:
        return
    if mode == "error":
        raise ConfigValidationError(settings_cls.__name__, tuple(problems))
    for problem in problems:
        warnings.warn(
            f"{settings_cls.__name__}: {problem.message} (set unknown_variables='error' in "
            "model_config to make this an error, 'ignore' to silence it)",
            UserWarning,
            stacklevel=4,
        )


def _keys(state: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in state.items():
        if isinstance(value, Mapping) and value:
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _config_dir(settings_cls: type[BaseSettings]) -> str | Path | None:
    record = _BUILD.get()
    if record is not None and record.config_dir is not None:
        return record.config_dir
    config = settings_cls.model_config
    prefix = str(config.get("env_prefix") or "")
    from_env = os.environ.get(f"{prefix}CONFIG_DIR") or (
        os.environ.get(f"{prefix}CONFIG_DIR".upper()) if not config.get("case_sensitive") else None
    )
    if from_env:
        return from_env
    configured: str | Path | None = config.get("config_dir", "config")  # type: ignore[assignment]
    return configured


def _collect(
    exc: ValidationError, record: BuildRecord, settings_cls: type[BaseSettings]
) -> ConfigValidationError:
    config = settings_cls.model_config
    prefix = str(config.get("env_prefix") or "")
    delimiter = str(config.get("env_nested_delimiter") or "")
    errors: list[FieldError] = []
    for error in exc.errors(include_url=False, include_context=False):
        path = tuple(str(part) for part in error["loc"])
        field = ".".join(path) or "(settings)"
        kind = error["type"]
        message = error["msg"]
        if kind == "missing":
            source = "missing"
            nameable = bool(delimiter) or len(path) == 1
            variable = prefix + delimiter.join(path) if nameable else ""
            if not config.get("case_sensitive"):
                variable = variable.upper()
            hint = f"set {variable} or " if variable else "set "
            if is_secret_path(settings_cls, path):
                secret_file = "__".join(path) if delimiter else field
                message = f"{message}; {hint}add the file {secret_file} to the secrets directory"
            else:
                message = f"{message}; {hint}{field} in a configuration file"
            shown = None
        else:
            source = record.source_of(path) if path else "(settings)"
            known = field_at(settings_cls, path) is not None
            hidden = (
                not known
                or kind == "extra_forbidden"
                or is_secret_path(settings_cls, path)
                or any(secret_looking(part) for part in path)
            )
            if kind == "extra_forbidden" and path:
                message = f"{message}{_did_you_mean(settings_cls, path, source, prefix, delimiter)}"
            value = error.get("input")
            # Only scalars are echoed: a mapping or list may hold a secret at any depth.
            scalar = value is None or isinstance(value, str | int | float | bool)
            shown = None if hidden or not scalar else _short_repr(value)
        errors.append(FieldError(field, source, message, kind, shown))
    return ConfigValidationError(settings_cls.__name__, tuple(errors))


def _did_you_mean(
    settings_cls: type[BaseSettings],
    path: tuple[str, ...],
    source: str,
    prefix: str,
    delimiter: str,
) -> str:
    """ "; did you mean X?" for an unknown key close to a field of the same section."""
    parent = field_at(settings_cls, path[:-1]) if len(path) > 1 else None
    if len(path) > 1 and parent is None:
        return ""
    models = models_in(parent.annotation) if parent is not None else [settings_cls]
    names = [name for model in models for name in model.model_fields]
    close = difflib.get_close_matches(path[-1].lower(), names, n=1, cutoff=0.6)
    if not close:
        return ""
    if source.startswith("env:") and delimiter:
        return f"; did you mean {(prefix + delimiter.join((*path[:-1], close[0]))).upper()}?"
    return f"; did you mean {'.'.join((*path[:-1], close[0]))}?"


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(mask_url_credentials(value) if isinstance(value, str) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
