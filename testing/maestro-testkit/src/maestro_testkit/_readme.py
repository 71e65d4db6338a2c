"""Run the ```python blocks of a README (or any Markdown file) exactly as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def python_blocks(markdown: Path | str) -> list[str]:
    """The ```python fenced blocks of a Markdown file, in order."""
    return _BLOCK.findall(Path(markdown).read_text(encoding="utf-8"))


def run_python_block(code: str, name: str, namespace: dict[str, Any] | None = None) -> None:
    """Execute one block as a module named ``readme``; an ``await`` at top level runs on a loop."""
    import ast

    scope: dict[str, Any] = {"__name__": "readme"} if namespace is None else namespace
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compiled = compile(code, name, "exec", flags=flags)
    result = eval(compiled, scope)  # the README is ours: run as documentation
    if result is not None:  # a coroutine: the block used top-level await
        import asyncio

        asyncio.run(result)
