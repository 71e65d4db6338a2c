"""Questions about a settings class's fields: where is a field, is it a secret."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo

__all__ = ["field_at", "is_secret_path", "leaf_paths", "models_in", "secret_looking"]

_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api_?key|private_?key|credential|auth|cookie|dsn|url",
    re.IGNORECASE,
)


def secret_looking(name: str) -> bool:
    """Whether a key's name suggests it holds a secret (`password`, `api_key`, ...)."""
    return _SECRET_NAME.search(name) is not None


def _walk_types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _walk_types(arg)


def _annotation_is_secret(annotation: Any) -> bool:
    return any(
        isinstance(tp, type) and issubclass(tp, (SecretStr, SecretBytes))
        for tp in _walk_types(annotation)
    )


def models_in(annotation: Any) -> list[type[BaseModel]]:
    return [
        tp for tp in _walk_types(annotation) if isinstance(tp, type) and issubclass(tp, BaseModel)
    ]


def field_at(model: type[BaseModel], path: Sequence[str]) -> FieldInfo | None:
    """The field a dotted path names inside `model` (through nested models), or None."""
    current: list[type[BaseModel]] = [model]
    found: FieldInfo | None = None
    for part in path:
        found = None
        for candidate in current:
            info = candidate.model_fields.get(part)
            if info is None:
                info = next((f for f in candidate.model_fields.values() if f.alias == part), None)
            if info is not None:
                found = info
                break
        if found is None:
            return None
        current = models_in(found.annotation)
    return found


def is_secret_path(model: type[BaseModel], path: Sequence[str]) -> bool:
    """Whether the field at `path` is typed as a secret (`SecretStr`, `SecretBytes`)."""
    info = field_at(model, path)
    return info is not None and _annotation_is_secret(info.annotation)


def leaf_paths(instance: BaseModel, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every leaf field of a built model, nested models expanded, in declaration order."""
    for name in type(instance).model_fields:
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            yield from leaf_paths(value, (*prefix, name))
        else:
            yield (*prefix, name)
