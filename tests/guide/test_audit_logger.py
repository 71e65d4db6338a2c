"""The integration guide's maestro-audit-logger examples run verbatim against the package.

Each ```python block of the section runs in a fresh temporary working directory. The
"Migration from Local Code" block imports ``src.libraries.audit_logger`` on its BEFORE line,
the old in-repository module that cannot exist here; for that block only its AFTER line
(``from maestro_audit_logger import AuditLogger``) is run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = "maestro-audit-logger"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the example inside an empty temporary working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_section_has_the_two_documented_blocks(guide_blocks: Callable[..., list[str]]) -> None:
    """The section carries the basic usage block and the migration block."""
    blocks = guide_blocks(PACKAGE)
    assert len(blocks) == 2
    assert "AuditLogger(output_dir=" in blocks[0]
    assert "from src.libraries.audit_logger import AuditLogger" in blocks[1]


def test_basic_usage_block_runs_verbatim(
    guide_blocks: Callable[..., list[str]], in_tmp: Path
) -> None:
    """The basic usage block logs one event and writes both exports, which hold that event."""
    namespace: dict[str, object] = {"__name__": "guide_audit_basic"}
    exec(compile(guide_blocks(PACKAGE)[0], "guide: audit basic usage", "exec"), namespace)
    exported = json.loads((in_tmp / "audit_2025.json").read_text())
    assert [r["event_type"] for r in exported] == ["user.login"]
    assert exported[0]["user_id"] == "user123"
    assert exported[0]["details"] == {"ip": "192.168.1.1"}
    csv_text = (in_tmp / "audit_2025.csv").read_text()
    assert "user.login" in csv_text
    assert "user123" in csv_text
    from maestro_audit_logger import verify

    assert verify(in_tmp / "audit_logs")


def test_migration_block_after_line_imports_the_logger(
    guide_blocks: Callable[..., list[str]], in_tmp: Path
) -> None:
    """The AFTER line of the migration block imports AuditLogger from the package."""
    block = guide_blocks(PACKAGE)[1]
    after = [line for line in block.splitlines() if line.startswith("from maestro_audit_logger")]
    assert after == ["from maestro_audit_logger import AuditLogger"]
    namespace: dict[str, object] = {}
    exec(compile(after[0], "guide: audit migration AFTER", "exec"), namespace)
    from maestro_audit_logger import AuditLogger

    assert namespace["AuditLogger"] is AuditLogger
