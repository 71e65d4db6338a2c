"""The README's python blocks run, in order, against the package as installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
BLOCKS = [
    body for tag, body in _FENCE.findall(README.read_text(encoding="utf-8")) if tag == "python"
]


def test_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    """README python block number *index* runs without error (earlier blocks run first)."""
    for body in BLOCKS[: index + 1]:
        exec(
            compile(body, f"README.md block {BLOCKS.index(body)}", "exec"), {"__name__": "__main__"}
        )
