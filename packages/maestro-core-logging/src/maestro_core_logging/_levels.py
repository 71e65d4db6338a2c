"""Log level names, numbers and their validation."""

from __future__ import annotations

import logging

from ._errors import InvalidLevelError

NAME_TO_LEVEL: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "notset": logging.NOTSET,
}
# Aliases the standard library accepts; accepted here too but not advertised.
_ALIASES: dict[str, int] = {"warn": logging.WARNING, "fatal": logging.CRITICAL}
VALID_LEVEL_NAMES: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")

# Method name of a bound logger (or lower-cased stdlib level name) -> canonical level name.
METHOD_TO_LEVEL_NAME: dict[str, str] = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "err": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
    "notset": "notset",
}


def parse_level(level: str | int, *, source: str = "level") -> int:
    """Return the numeric level for *level*, or raise InvalidLevelError naming it."""
    if isinstance(level, bool):
        raise InvalidLevelError(level, VALID_LEVEL_NAMES, source=source)
    if isinstance(level, int):
        if level in NAME_TO_LEVEL.values():
            return level
        raise InvalidLevelError(level, VALID_LEVEL_NAMES, source=source)
    if isinstance(level, str):
        key = level.strip().lower()
        number = NAME_TO_LEVEL.get(key, _ALIASES.get(key))
        if number is not None:
            return number
    raise InvalidLevelError(level, VALID_LEVEL_NAMES, source=source)


def level_name(number: int) -> str:
    """Return the canonical lower-case name of a numeric level (custom levels as 'level N')."""
    for name, value in NAME_TO_LEVEL.items():
        if value == number:
            return name
    return logging.getLevelName(number).lower()
