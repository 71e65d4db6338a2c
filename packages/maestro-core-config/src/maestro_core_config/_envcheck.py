"""Environment variables the settings class does not know, and malformed JSON in them."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator, Mapping

from pydantic import BaseModel

from ._errors import FieldError
from ._introspect import models_in

__all__ = ["json_problem", "known_variables", "unknown_variables"]


def _inputs(model: type[BaseModel]) -> list[str]:
    """Input keys a section accepts besides its fields (validators turn them into fields)."""
    extra = []
    if hasattr(model, "expand_url"):
        extra.append("url")  # URL sections take their parts as one url
    if model.__name__ == "LoggingSettings":
        extra.append("redact_keys")  # its deprecated name, read with a warning
    return extra


def _names(model: type[BaseModel], prefix: str, delimiter: str) -> Iterator[str]:
    for extra in _inputs(model):
        yield f"{prefix}{extra}"
    for name, info in model.model_fields.items():
        variable = f"{prefix}{name}"
        yield variable
        if isinstance(info.alias, str):
            yield f"{prefix}{info.alias}"
        if delimiter:
            for nested in models_in(info.annotation):
                yield from _names(nested, f"{variable}{delimiter}", delimiter)


def known_variables(model: type[BaseModel], prefix: str, delimiter: str) -> set[str]:
    """Every variable name (upper case) that sets a field of ``model`` or one of its sections."""
    names = {n.upper() for n in _names(model, prefix, delimiter)}
    names.add(f"{prefix}CONFIG_DIR".upper())
    return names


def unknown_variables(
    model: type[BaseModel],
    prefix: str,
    delimiter: str,
    environ: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """The ``prefix``-named variables ``model`` does not know that look meant for it.

    A variable is reported when it is close to a known name (a typo) or names a known
    section (``MAESTRO_DB__HOTS``); others (``MAESTRO_INDEX_URL`` for a tool) are left alone.
    """
    if not prefix:
        return []
    environ = os.environ if environ is None else environ
    upper_prefix = prefix.upper()
    known = known_variables(model, prefix, delimiter)
    sections = {
        f"{prefix}{name}{delimiter}".upper()
        for name, info in model.model_fields.items()
        if delimiter and models_in(info.annotation)
    }
    found: list[FieldError] = []
    for variable in sorted(environ):
        upper = variable.upper()
        if not upper.startswith(upper_prefix) or upper in known:
            continue
        # Compare what follows the prefix: the shared prefix would make anything look close.
        tails = {name[len(upper_prefix) :]: name for name in known}
        match = difflib.get_close_matches(upper[len(upper_prefix) :], tails, n=1, cutoff=0.8)
        close = [tails[match[0]]] if match else []
        in_section = any(upper.startswith(section) for section in sections)
        if not close and not in_section:
            continue
        if close:
            hint = f"did you mean {close[0]}?"
        else:
            section = next(s for s in sections if upper.startswith(s))
            fields = sorted(k for k in known if k.startswith(section))
            hint = "its section knows " + ", ".join(fields)
        path = upper[len(upper_prefix) :].lower().replace(delimiter, ".") if delimiter else upper
        found.append(
            FieldError(
                field=path,
                source=f"env:{variable}",
                message=f"unknown variable {variable}; {hint}",
                type="unknown_variable",
            )
        )
    return found


def json_problem(
    model: type[BaseModel], prefix: str, delimiter: str, cause: BaseException | None
) -> str | None:
    """Name the variable holding malformed JSON, the position and the fix; None if not that."""
    error = cause
    while error is not None and not isinstance(error, json.JSONDecodeError):
        error = error.__cause__ or error.__context__
    if error is None:
        return None
    known = known_variables(model, prefix, delimiter)
    for variable, value in sorted(os.environ.items()):
        if variable.upper() not in known:
            continue
        text = value.strip()
        if not text.startswith(("{", "[")):
            continue
        try:
            json.loads(text)
        except json.JSONDecodeError as bad:
            shape = (
                'a JSON object such as {"host": "db", "port": 5432}'
                if text.startswith("{")
                else 'a JSON list such as ["a", "b"]'
            )
            return (
                f"{variable} is not valid JSON: {bad.msg} at line {bad.lineno} column "
                f"{bad.colno} (character {bad.pos}); write {shape}: strings in double "
                "quotes, no trailing comma; or set the fields one by one "
                f"({variable}{delimiter}<FIELD>)"
            )
    return (
        f"a variable holds invalid JSON: {error.msg} at line {error.lineno} column "
        f"{error.colno} (character {error.pos}); check the .env file: strings in double "
        "quotes, no trailing comma"
    )
