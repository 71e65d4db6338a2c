"""The README's python blocks run as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from maestro_testkit import python_blocks, run_python_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    """README python block number `index` runs without error."""
    run_python_block(BLOCKS[index], f"README.md block {index}")
    capsys.readouterr()
