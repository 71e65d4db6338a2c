"""The README's python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_readme_has_python_examples() -> None:
    """The README carries at least three python examples."""
    assert len(_blocks()) >= 3


def test_readme_python_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of the README runs, in order, in a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    for var in ("MAESTRO_AUDIT__HMAC_KEY", "MAESTRO_AUDIT__ED25519_KEY"):
        monkeypatch.delenv(var, raising=False)
    for i, block in enumerate(_blocks()):
        exec(compile(block, f"README.md block {i + 1}", "exec"), {"__name__": f"readme_{i}"})
    assert (tmp_path / "audit.csv").exists()
    assert (tmp_path / "alice.json").exists()
