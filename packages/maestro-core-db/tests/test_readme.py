"""The README's python blocks run as written, in order, in an empty directory."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from maestro_core_db._cli import main
from maestro_testkit import python_blocks, run_python_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 7


def test_readme_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every python block runs, one after the other, sharing names like a reader's session."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERS_DB_URL", raising=False)
    assert main(["init"]) == 0  # the README's `maestro-db init` step
    module = types.ModuleType("readme")  # SQLAlchemy resolves Mapped[...] via sys.modules
    monkeypatch.setitem(sys.modules, "readme", module)
    namespace: dict[str, Any] = module.__dict__
    for index, block in enumerate(BLOCKS):
        run_python_block(block, f"README.md block {index}", namespace)
    capsys.readouterr()
    assert (tmp_path / "maestro.db").exists()
    assert (tmp_path / "orders.db").exists()
