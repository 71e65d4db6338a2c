"""The README's python blocks run as written (in order, sharing one namespace)."""

from __future__ import annotations

from pathlib import Path

from maestro_testkit import python_blocks, run_python_block

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples for every part of the guide."""
    assert len(python_blocks(README)) >= 9


def test_readme_blocks_run() -> None:
    """Every python block of the README runs without error, top to bottom."""
    namespace: dict[str, object] = {"__name__": "readme"}
    for index, block in enumerate(python_blocks(README)):
        run_python_block(block, f"README.md block {index}", namespace)
