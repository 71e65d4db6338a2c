"""The README's python blocks run as written, in order, sharing one namespace."""

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
    assert len(BLOCKS) >= 8


def test_readme_blocks_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Every python block of the README runs without error (later blocks use earlier names)."""
    module = types.ModuleType("readme")  # dataclasses look their module up in sys.modules
    sys.modules["readme"] = module
    try:
        for index, block in enumerate(BLOCKS):
            run_python_block(block, f"README.md block {index}", module.__dict__)
    finally:
        del sys.modules["readme"]
    out = capsys.readouterr().out
    assert "latency_seconds" in out  # the MetricNameError example printed its fix
    assert "pass" in out
