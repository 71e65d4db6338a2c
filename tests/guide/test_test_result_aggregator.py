"""The integration guide's maestro-test-result-aggregator examples, run verbatim.

The blocks run in order in one namespace, in a temporary working directory (the guide
writes ``test_results.db`` into the current directory). The Migration block's BEFORE line
imports ``services.core.test_result_aggregator``, the users' old local code, which cannot
exist here; only its AFTER line runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = "maestro-test-result-aggregator"
AFTER = "from maestro_test_result_aggregator import TestResultAggregator"


@pytest.fixture
def namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """An empty module namespace with the working directory in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    return {"__name__": "guide"}


def test_section_has_the_expected_blocks(guide_blocks: Callable[..., list[str]]) -> None:
    """The section has the basic, advanced and migration python blocks this test runs."""
    blocks = guide_blocks(PACKAGE)
    assert len(blocks) == 3
    assert "TestResultAggregator(db_path=" in blocks[0]
    assert "analyze_trends" in blocks[1]
    assert "generate_report" in blocks[1]
    assert AFTER in blocks[2]
    assert "from services.core" in blocks[2]


def test_guide_blocks_run_verbatim(
    guide_blocks: Callable[..., list[str]],
    namespace: dict[str, object],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Basic usage prints the summary, the analytics block runs on its results, AFTER imports."""
    basic, advanced, migration = guide_blocks(PACKAGE)
    exec(compile(basic, "guide:basic", "exec"), namespace)
    assert capsys.readouterr().out.splitlines() == ["Total tests: 1", "Passed: 1", "Failed: 0"]
    assert (tmp_path / "test_results.db").exists()
    exec(compile(advanced, "guide:advanced", "exec"), namespace)
    trends = namespace["trends"]
    report = namespace["report"]
    assert trends.total == 1  # type: ignore[attr-defined]
    assert "<svg" in report.content
    assert "orch_001" in report.content
    after = [line for line in migration.splitlines() if line.strip() == AFTER]
    assert after == [AFTER]
    exec(compile(after[0], "guide:migration-after", "exec"), namespace)
    from maestro_test_result_aggregator import TestResultAggregator

    assert namespace["TestResultAggregator"] is TestResultAggregator
    namespace["aggregator"].close()  # type: ignore[attr-defined]
