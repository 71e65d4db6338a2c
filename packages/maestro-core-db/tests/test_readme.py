"""The README's python blocks run as written, in order, in an empty directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from maestro_testkit import python_blocks

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples() -> None:
    """The README carries runnable python examples."""
    assert len(BLOCKS) >= 7


RUNNER = """
import sys, types
from pathlib import Path
from maestro_core_db._cli import main
from maestro_testkit import python_blocks, run_python_block

assert main(["init"]) == 0  # the README's `maestro-db init` step
module = types.ModuleType("readme")  # SQLAlchemy resolves Mapped[...] via sys.modules
sys.modules["readme"] = module
for index, block in enumerate(python_blocks(Path(sys.argv[1]))):
    run_python_block(block, f"README.md block {index}", module.__dict__)
"""


def test_readme_blocks_run_in_order(tmp_path: Path) -> None:
    """Every python block runs, one after the other, sharing names like a reader's session.

    In a fresh interpreter, as a reader's would be: the README declares ``orders`` on the
    shared ``Base.metadata``, and so may any other code loaded in this test process.
    """
    env = {k: v for k, v in os.environ.items() if k != "ORDERS_DB_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(README)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "maestro.db").exists()
    assert (tmp_path / "orders.db").exists()
