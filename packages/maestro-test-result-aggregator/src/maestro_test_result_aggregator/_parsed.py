"""What every importer produces: attempts in order, plus warnings and run-level facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._model import ResultStatus, TestIdentity


@dataclass(slots=True)
class ParsedAttempt:
    """One attempt of one test read from a report file (attempts of a test are in order)."""

    identity: TestIdentity
    status: ResultStatus
    raw_status: str
    duration: float
    message: str = ""
    trace: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedReport:
    """The content of one report file, before it is stored."""

    path: str
    format: str
    attempts: list[ParsedAttempt] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit: str = ""
    branch: str = ""
    run_id: str = ""
    #: A repeat-after-failure warning was given for this file (given once).
    retry_warned: bool = False

    @property
    def tests(self) -> int:
        """Distinct tests (a test retried three times counts once)."""
        return len({a.identity.key for a in self.attempts})
