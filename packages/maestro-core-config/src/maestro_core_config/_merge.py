"""Deep merge of configuration mappings (the layering of base and environment files)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["deep_merge"]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `override` laid on top; neither argument is modified.

    Mappings present on both sides merge key by key, recursively; any other value
    (scalars, lists, None) in `override` replaces the one in `base` whole, as dynaconf and
    Helm do: merging lists element-wise would make a removed item impossible to express.
    """
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        elif isinstance(value, Mapping):
            merged[key] = deep_merge({}, value)
        else:
            merged[key] = value
    return merged
