"""The README's python blocks run as written (Redis blocks against the shared server)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from maestro_testkit import python_blocks, require_service, run_python_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    """README python block number `index` runs without error."""
    block = BLOCKS[index]
    if "redis_url" in block:
        require_service("redis")
    # A real module, so that dataclasses and typing can resolve the block's annotations.
    module = types.ModuleType("readme")
    sys.modules["readme"] = module
    try:
        run_python_block(block, f"README.md block {index}", module.__dict__)
    finally:
        del sys.modules["readme"]
    capsys.readouterr()
