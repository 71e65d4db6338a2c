"""Shared fixtures: an audit directory per test and an injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    """A fresh directory path for one audit log."""
    return tmp_path / "audit"


@pytest.fixture
def clock() -> FakeClock:
    """A fake UTC clock starting 2026-03-01 12:00."""
    return FakeClock()


def _records(directory: Path) -> list[dict[str, Any]]:
    out = []
    for seg in sorted(directory.glob("audit-*.jsonl")):
        out += [orjson.loads(line) for line in seg.read_bytes().splitlines()]
    return out


@pytest.fixture
def records() -> Callable[[Path], list[dict[str, Any]]]:
    """A function: audit directory -> every stored record, in file order."""
    return _records
