"""The README's python blocks run as written."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from maestro_testkit import python_blocks, run_python_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """README python block number `index` runs without error (as a real module: dataclasses)."""
    module = types.ModuleType("readme")
    monkeypatch.setitem(sys.modules, "readme", module)
    run_python_block(BLOCKS[index], f"README.md block {index}", vars(module))
