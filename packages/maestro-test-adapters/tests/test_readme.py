"""The README's python blocks run, against the loopback site instead of 127.0.0.1:8000."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
APP = "http://127.0.0.1:8000"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_readme_has_python_blocks() -> None:
    """The README shows runnable python examples."""
    assert len(BLOCKS) >= 6


@pytest.mark.browser
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(
    index: int, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each README python block runs as written, only the app URL pointing at loopback."""
    block = BLOCKS[index]
    if (
        "maestro_test_result_aggregator" in block
        and importlib.util.find_spec("maestro_test_result_aggregator") is None
    ):
        pytest.skip("maestro-test-result-aggregator is not installed (optional integration)")
    monkeypatch.chdir(tmp_path)  # files and artifacts the examples write stay in tmp
    code = compile(
        block.replace(APP, site), f"README block {index}", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    namespace: dict[str, object] = {"__name__": "readme"}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


def test_readme_actions_table_lists_every_action() -> None:
    """Every action the validator accepts has a row in the README's actions table."""
    from maestro_test_adapters import ACTIONS

    text = README.read_text(encoding="utf-8")
    table = text[text.index("| action | fields") : text.index("Every step also takes")]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    listed = set(re.findall(r"`([a-z_]+)`", " ".join(rows)))
    missing = sorted((set(ACTIONS) | {"uncheck", "right_click"}) - listed)
    assert not missing, f"README actions table lacks {missing}"
