"""Import the optional engines lazily, with an error naming the extra to install."""

from __future__ import annotations

import asyncio
import importlib
from types import ModuleType

from ._errors import EventLoopError, MissingExtraError

__all__ = ["forbid_running_loop", "require"]


def require(extra: str, module: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError naming ``[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and not module.startswith(exc.name.split(".")[0]):
            raise  # a broken dependency of the engine itself: show the real error
        raise MissingExtraError(
            f"The {extra} engine", extra, module.split(".", maxsplit=1)[0]
        ) from None


def forbid_running_loop(what: str, instead: str) -> None:
    """Raise EventLoopError when called from inside a running asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise EventLoopError(
        f"{what} blocks and cannot run inside a running asyncio event loop; use {instead} instead"
    )
