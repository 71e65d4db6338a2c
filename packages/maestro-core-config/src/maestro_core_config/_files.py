"""YAML and TOML configuration files: `base` deep-merged with the environment's file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from ._environment import Environment
from ._errors import ConfigFileError
from ._interpolate import interpolate_tree
from ._introspect import is_secret_path
from ._merge import deep_merge

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

__all__ = ["ConfigFileSettingsSource", "load_file", "mask_url_credentials"]

_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
_TOML_LINE = re.compile(r"line (\d+)")


class ConfigFileSettingsSource(PydanticBaseSettingsSource):
    """Reads `{config_dir}/base.*` and `{config_dir}/{environment}.*` (YAML or TOML).

    The environment is the value the higher-priority sources chose for the `environment`
    field (init arguments, environment variables, `.env`, secrets), else the `environment`
    key of the base file, else the field's default. String values are interpolated
    (`${VAR}`, `${VAR:-default}`) from `environ` (the process environment by default).

    A literal value for a `SecretStr` field, or a `url` with a password in it, is refused:
    secrets belong in the environment or the secrets directory, not in files kept in a
    repository. Reference them instead (`password: ${DB_PASSWORD}`).
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        config_dir: str | os.PathLike[str] | None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(settings_cls)
        self.config_dir = Path(config_dir) if config_dir is not None else None
        self.environ = environ if environ is not None else os.environ
        self.files: list[Path] = []
        """The files read by the last call, lowest priority first."""
        self._origins: dict[tuple[str, ...], str] = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Not used: this source returns its whole mapping from `__call__`."""
        return None, field_name, False

    def describe(self, path: tuple[str, ...]) -> str:
        """The file (`yaml:config/production.yaml`) that gave the value at `path`."""
        for depth in range(len(path), 0, -1):
            label = self._origins.get(path[:depth])
            if label is not None:
                return label
        return "file"

    def __call__(self) -> dict[str, Any]:
        directory = self.config_dir
        if directory is None or not directory.exists():
            return {}
        if not directory.is_dir():
            raise ConfigFileError(
                directory, "the configuration directory is not a directory", unreadable=True
            )
        self.files = []
        self._origins = {}
        data: dict[str, Any] = {}
        base = self._find(directory, "base")
        if base is not None:
            data = self._layer(data, base)
        environment = self._environment(data)
        if environment is not None:
            overlay = self._find(directory, environment)
            if overlay is not None:
                data = self._layer(data, overlay)
        return data

    def _environment(self, base_data: Mapping[str, Any]) -> str | None:
        chosen: Any = self.current_state.get("environment")
        if chosen is None:
            chosen = base_data.get("environment")
        if chosen is None:
            field = self.settings_cls.model_fields.get("environment")
            chosen = field.default if field is not None else None
        if chosen is None:
            return None
        try:
            return Environment(chosen).value
        except ValueError:
            # Not a known environment: validation of the `environment` field reports it,
            # with the source that gave it, together with every other error.
            return None

    @staticmethod
    def _find(directory: Path, stem: str) -> Path | None:
        found = [directory / f"{stem}{suffix}" for suffix in _SUFFIXES]
        found = [path for path in found if path.exists()]
        if len(found) > 1:
            names = ", ".join(path.name for path in found)
            raise ConfigFileError(directory, f"both {names} exist; keep one file per environment")
        return found[0] if found else None

    def _layer(self, data: dict[str, Any], path: Path) -> dict[str, Any]:
        raw = load_file(path)
        label = f"{_SUFFIXES[path.suffix]}:{path}"
        literal_secrets: list[str] = []

        def note(key: tuple[str, ...], raw: str) -> None:
            if "${" in raw:
                return  # a reference: the secret itself lives in the environment
            if _has_password(raw):
                # Any URL-shaped value with a password in it, whatever its key is called
                # (database_url, dsn, replicas[0]).
                literal_secrets.append(".".join(key))
            elif is_secret_path(self.settings_cls, key) and not _is_bare_url(raw):
                # A secret field; a URL with no credential in it (memory://,
                # redis://cache:6379/0) is an address, not a secret, and may be written.
                literal_secrets.append(".".join(key))

        loaded = interpolate_tree(raw, self.environ, path=path, on_value=note)
        if literal_secrets:
            raise ConfigFileError(
                path,
                f"{', '.join(literal_secrets)} is a secret and must not be written in a "
                "configuration file; set it in the environment or the secrets directory, or "
                "reference a variable (password: ${DB_PASSWORD})",
            )
        self.files.append(path)
        self._record(loaded, (), label)
        return deep_merge(data, loaded)

    def _record(self, node: Mapping[str, Any], prefix: tuple[str, ...], label: str) -> None:
        for key, value in node.items():
            path = (*prefix, str(key))
            self._origins[path] = label
            if isinstance(value, Mapping):
                self._record(value, path, label)

    def __repr__(self) -> str:
        return f"ConfigFileSettingsSource(config_dir={self.config_dir!r})"


_URL_WITH_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]*)@")


def _has_password(value: str) -> bool:
    """Whether ``value`` holds a URL with a password (``scheme://user:PW@host``), anywhere."""
    for match in _URL_WITH_USERINFO.finditer(value):
        if ":" in match.group("userinfo"):
            return True
    if "://" not in value:
        return False
    try:
        return urlsplit(value.strip()).password is not None
    except ValueError:
        return False


def _is_bare_url(value: str) -> bool:
    """Whether ``value`` is one URL with no userinfo, query or fragment (nothing secret)."""
    text = value.strip()
    if "://" not in text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme) and "@" not in parts.netloc and not parts.query and not parts.fragment


def mask_url_credentials(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""

    def mask(match: re.Match[str]) -> str:
        user, colon, _ = match.group("userinfo").partition(":")
        return f"{match.group('scheme')}{user}{':***' if colon else ''}@"

    return _URL_WITH_USERINFO.sub(mask, text)


def load_file(path: Path) -> dict[str, Any]:
    """Parse one YAML or TOML file into a mapping; every failure is a `ConfigFileError`."""
    kind = _SUFFIXES.get(path.suffix)
    if kind is None:
        raise ConfigFileError(path, "unsupported file type; use .yaml, .yml or .toml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(path, f"not valid UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ConfigFileError(
            path,
            f"cannot read the file ({exc.strerror or exc}); check it exists and is readable",
            unreadable=True,
        ) from None
    data = _parse_yaml(path, text) if kind == "yaml" else _parse_toml(path, text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            path,
            "the top level must be a mapping of setting names to values, "
            f"not a {type(data).__name__}",
        )
    return data


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml  # only when a YAML file is actually read

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigFileError(path, f"malformed YAML: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(path, f"malformed YAML: {exc}") from None


def _parse_toml(path: Path, text: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise ConfigFileError(path, f"malformed TOML: {exc}", line=line) from None
