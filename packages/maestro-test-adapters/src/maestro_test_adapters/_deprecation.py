"""Old public names kept as aliases: each warns once, naming its replacement."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["deprecated_alias"]

P = ParamSpec("P")
R = TypeVar("R")


def deprecated_alias(new: Callable[P, R], old_name: str, new_name: str) -> Callable[P, R]:
    """``new`` under its old name: the first call warns with DeprecationWarning."""
    warned = False

    @functools.wraps(new)
    def alias(*args: P.args, **kwargs: P.kwargs) -> R:
        nonlocal warned
        if not warned:
            warned = True
            warnings.warn(
                f"{old_name} is deprecated and will be removed in 2.0; use {new_name}",
                DeprecationWarning,
                stacklevel=2,
            )
        return new(*args, **kwargs)

    alias.__doc__ = f"Deprecated alias of ``{new_name}`` (warns once)."
    return alias
