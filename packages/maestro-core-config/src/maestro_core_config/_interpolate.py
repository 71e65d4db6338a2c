"""`${VAR}` and `${VAR:-default}` interpolation of configuration file values.

Only string values are interpolated, after the file is parsed, so a variable can never
change a file's structure. The rules follow POSIX shells and Docker Compose:

- ``${VAR}``: the value of VAR; an unset VAR is an error (`InterpolationError`).
- ``${VAR:-default}``: the value of VAR, or ``default`` when VAR is unset or empty.
- ``$${VAR}``: the literal text ``${VAR}``.
- A ``$`` not followed by ``{`` is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._errors import ConfigFileError, InterpolationError

__all__ = ["interpolate", "interpolate_tree"]

_TOKEN = re.compile(
    r"\$\$\{"  # escaped: literal "${"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\$\{)"
)


def interpolate(
    text: str,
    environ: Mapping[str, str],
    *,
    path: str | Path = "<string>",
    key: str = "<value>",
) -> str:
    """Return `text` with every `${VAR}` reference replaced from `environ`.

    `path` and `key` only name the place in error messages.
    """
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if match.group("bad") is not None:
            raise ConfigFileError(
                path,
                f"{key} has a malformed reference near {text[match.start() :][:20]!r};"
                " write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), or $${ for a"
                " literal ${",
            )
        name = match.group("name")
        if name is None:
            return "${"
        default = match.group("default")
        value = environ.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            raise InterpolationError(path, key, name)
        return value

    return _TOKEN.sub(replace, text)


def interpolate_tree(
    data: Any,
    environ: Mapping[str, str],
    *,
    path: str | Path,
    on_value: Callable[[tuple[str, ...], str], None] | None = None,
    _key: tuple[str, ...] = (),
) -> Any:
    """Interpolate every string inside nested dicts and lists; return the new structure.

    `on_value(key_path, raw_text)` is called for every leaf string before interpolation, so
    callers can tell literal values from values that come from the environment.
    """
    if isinstance(data, str):
        result = interpolate(data, environ, path=path, key=".".join(_key) or "<root>")
        if on_value is not None:
            on_value(_key, data)
        return result
    if isinstance(data, dict):
        return {
            k: interpolate_tree(v, environ, path=path, on_value=on_value, _key=(*_key, str(k)))
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [
            interpolate_tree(v, environ, path=path, on_value=on_value, _key=(*_key, str(i)))
            for i, v in enumerate(data)
        ]
    return data
