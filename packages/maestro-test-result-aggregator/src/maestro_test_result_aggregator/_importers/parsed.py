"""What every importer produces: attempts in order, plus warnings and run-level facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maestro_test_result_aggregator._model import ResultStatus, TestIdentity


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
    """The content of one report file, before it is stored.

    With a ``sink``, attempts leave in batches of ``batch_size`` while the file is read
    (parse, store, forget): ``attempts`` then holds only the unsent tail, and
    ``attempt_count`` / ``tests`` count everything read.
    """

    path: str
    format: str
    attempts: list[ParsedAttempt] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit: str = ""
    branch: str = ""
    run_id: str = ""
    #: A repeat-after-failure warning was given for this file (given once).
    retry_warned: bool = False
    sink: Callable[[ParsedReport, list[ParsedAttempt]], None] | None = None
    batch_size: int = 5_000
    #: Attempts handed to the sink so far.
    sent: int = 0
    #: Batches handed to the sink so far.
    batches: int = 0
    #: Distinct tests, when the reader counts them as it goes (None: count ``attempts``).
    distinct: int | None = None

    def flush(self, *, final: bool = False) -> None:
        """Hand full batches (and with ``final`` the rest) to the sink."""
        sink = self.sink
        if sink is None:
            return
        attempts = self.attempts
        size = self.batch_size
        while len(attempts) >= size or (final and attempts):
            batch = attempts[:size]
            del attempts[:size]
            self.sent += len(batch)
            self.batches += 1
            sink(self, batch)

    @property
    def attempt_count(self) -> int:
        """Every attempt read from the file (sent to the sink or still held)."""
        return self.sent + len(self.attempts)

    @property
    def tests(self) -> int:
        """Distinct tests (a test retried three times counts once)."""
        if self.distinct is not None:
            return self.distinct
        return len({a.identity.key for a in self.attempts})
