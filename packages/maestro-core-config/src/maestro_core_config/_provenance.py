"""Which source gave each value: recorded while settings build, labelled on demand.

Recording is cheap (a reference to each source and the dict it returned); the labels
(`env:MAESTRO_DB__HOST`, `secrets:/run/secrets/db__password`, ...) are only computed when
someone asks, so provenance costs almost nothing on the construction path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic.fields import FieldInfo
from pydantic_settings import (
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
)
from pydantic_settings.sources import NestedSecretsSettingsSource

from ._sections import expand_urls

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

__all__ = ["BuildRecord", "Describable", "RecordingSource"]


@runtime_checkable
class Describable(Protocol):
    """A source that can name where it found the value at a path."""

    def describe(self, path: tuple[str, ...]) -> str: ...


class BuildRecord:
    """What one settings build used: its options and each source's output, highest first."""

    __slots__ = ("config_dir", "layers")

    def __init__(self, config_dir: str | Path | None = None) -> None:
        self.config_dir = config_dir
        self.layers: list[tuple[object, Mapping[str, Any]]] = []

    def source_of(self, path: tuple[str, ...]) -> str:
        """The label of the highest-priority source that gave the value at `path`."""
        for source, state in self.layers:
            given_as = _provided_as(state, path)
            if given_as is not None:
                return _label(source, given_as)
        return "default"


# Fields a section can take from a `url` key (DatabaseSettings, RedisSettings).
_URL_PARTS = frozenset(
    {"driver", "host", "port", "name", "user", "username", "password", "db", "ssl", "query"}
)


def _provided_as(state: Mapping[str, Any], path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The key path under which `state` gives the value at `path`, or None."""
    node: Any = state
    for depth, part in enumerate(path):
        if not isinstance(node, Mapping):
            # A non-mapping value above the leaf (a model instance, a whole JSON object given
            # as one variable) replaces the whole subtree when sources are merged.
            return path[:depth]
        if part not in node:
            if depth == len(path) - 1 and part in _URL_PARTS and "url" in node:
                return (*path[:depth], "url")
            return None
        node = node[part]
    return path


class RecordingSource(PydanticBaseSettingsSource):
    """Wraps a source so that what it returns is kept in a `BuildRecord`."""

    def __init__(
        self, inner: PydanticBaseSettingsSource | Callable[[], dict[str, Any]], record: BuildRecord
    ) -> None:
        settings_cls: type[BaseSettings] = getattr(inner, "settings_cls")  # noqa: B009
        super().__init__(settings_cls)
        self.inner = inner
        self.record = record
        # pydantic-settings keys each source's output by this name (see settings_sources_data)
        self.__name__ = getattr(inner, "__name__", type(inner).__name__)

    def _set_current_state(self, state: dict[str, Any]) -> None:
        if isinstance(self.inner, PydanticBaseSettingsSource):
            self.inner._set_current_state(state)

    def _set_settings_sources_data(self, states: dict[str, dict[str, Any]]) -> None:
        if isinstance(self.inner, PydanticBaseSettingsSource):
            self.inner._set_settings_sources_data(states)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if isinstance(self.inner, PydanticBaseSettingsSource):
            return self.inner.get_field_value(field, field_name)
        return None, field_name, False  # pragma: no cover - plain callables have no fields

    def __call__(self) -> dict[str, Any]:
        state = self.inner()
        # Provenance keeps the raw output (it names the `url` key that gave a part).
        self.record.layers.append((self.inner, state))
        expanded = expand_urls(self.settings_cls, state)
        return state if expanded is state else dict(expanded)

    def __repr__(self) -> str:
        return f"RecordingSource({self.inner!r})"


def _label(source: object, path: tuple[str, ...]) -> str:
    if isinstance(source, InitSettingsSource):
        return "init"
    if isinstance(source, Describable):
        return source.describe(path)
    if isinstance(source, DotEnvSettingsSource):
        name = _variable(source, path)
        return f"dotenv:{_dotenv_file(source, name)}"
    if isinstance(source, NestedSecretsSettingsSource):
        name = _variable(source, path)
        return f"secrets:{_secret_file(source.secrets_paths, name, source.case_sensitive)}"
    if isinstance(source, EnvSettingsSource):
        name = _variable(source, path)
        return f"env:{name}" if name else "env"
    if isinstance(source, SecretsSettingsSource):
        paths = [Path(p) for p in getattr(source, "secrets_paths", [])]
        return f"secrets:{_secret_file(paths, source.env_prefix + path[0], source.case_sensitive)}"
    return type(source).__name__


def _variable(source: EnvSettingsSource, path: tuple[str, ...]) -> str | None:
    """The variable (or secret file) name that gave `path`: the longest one that is set."""
    delimiter = source.env_nested_delimiter or ""
    for depth in range(len(path), 0, -1):
        if depth > 1 and not delimiter:
            continue
        name = source.env_prefix + delimiter.join(path[:depth])
        key = name if source.case_sensitive else name.lower()
        if key in source.env_vars:
            return name if source.case_sensitive else name.upper()
    if delimiter:
        # A whole section: name every variable that went into it.
        stem = source.env_prefix + delimiter.join(path) + delimiter
        stem = stem if source.case_sensitive else stem.lower()
        names = sorted(k for k in source.env_vars if k.startswith(stem))
        if names:
            return ", ".join(n if source.case_sensitive else n.upper() for n in names)
    return None


def _dotenv_file(source: DotEnvSettingsSource, name: str | None) -> str:
    files = source.env_file
    if files is None:
        return "?"
    candidates = [files] if isinstance(files, str | Path) else list(files)
    if len(candidates) == 1 or name is None:
        return str(candidates[-1])
    wanted = name if source.case_sensitive else name.lower()
    for candidate in reversed(candidates):  # the last file that sets a variable wins
        try:
            values = DotEnvSettingsSource._static_read_env_file(
                Path(candidate), case_sensitive=source.case_sensitive
            )
        except OSError:
            continue
        if wanted in values:
            return str(candidate)
    return str(candidates[-1])


def _secret_file(directories: list[Path], name: str | None, case_sensitive: bool) -> str:
    if name is None:
        return str(directories[-1]) if directories else "?"
    for directory in reversed(directories):  # the last directory wins, as in pydantic-settings
        exact = directory / name
        if exact.is_file():
            return str(exact)
        if not case_sensitive and directory.is_dir():
            for entry in directory.iterdir():
                if entry.name.lower() == name.lower():
                    return str(entry)
    return str(directories[-1] / name) if directories else name
