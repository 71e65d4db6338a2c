"""Journey results: per-step outcome, journey counts, a readable report, aggregator export."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._errors import StepError

__all__ = ["JourneyResult", "ResultStore", "StepResult", "StepStatus"]


class ResultStore(Protocol):
    """Where ``.store()`` puts results: a maestro-test-result-aggregator
    ``TestResultAggregator``, or anything with its ``store_result`` (this package never
    imports the aggregator: both sit on layer 2)."""

    def store_result(  # noqa: PLR0917 - the aggregator's documented positional order
        self,
        test_id: str,
        orchestration_id: str,
        category: str,
        status: str,
        duration: float,
        metadata: Mapping[str, Any] | None = None,
    ) -> object:
        """Store one result; ``status`` is the aggregator's status word."""
        ...


class StepStatus(enum.StrEnum):
    """What happened to one step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one step: index, action, selector used, status, duration (s), error."""

    index: int
    action: str
    status: StepStatus
    duration: float
    selector: str | None = None
    error: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "index": self.index,
            "action": self.action,
            "name": self.name,
            "selector": self.selector,
            "status": self.status.value,
            "duration": round(self.duration, 6),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class JourneyResult:
    """The outcome of a journey; ``bool(result)`` is whether every step passed."""

    name: str
    engine: str
    steps: tuple[StepResult, ...]
    duration: float
    started_at: str
    artifacts_dir: Path | None = None
    artifacts: tuple[Path, ...] = ()
    console: tuple[str, ...] = field(default=(), repr=False)

    @property
    def passed(self) -> bool:
        """Whether every step passed."""
        return all(step.status is StepStatus.PASSED for step in self.steps)

    def __bool__(self) -> bool:
        return self.passed

    def _count(self, status: StepStatus) -> int:
        return sum(1 for step in self.steps if step.status is status)

    @property
    def passed_count(self) -> int:
        """How many steps passed."""
        return self._count(StepStatus.PASSED)

    @property
    def failed_count(self) -> int:
        """How many steps failed."""
        return self._count(StepStatus.FAILED)

    @property
    def skipped_count(self) -> int:
        """How many steps were skipped after a failure."""
        return self._count(StepStatus.SKIPPED)

    @property
    def failures(self) -> tuple[StepResult, ...]:
        """The failed steps, in order."""
        return tuple(step for step in self.steps if step.status is StepStatus.FAILED)

    def report(self) -> str:
        """A human-readable, multi-line report."""
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"journey {self.name!r} on {self.engine}: {verdict} in {self.duration:.2f}s "
            f"({self.passed_count} passed, {self.failed_count} failed, "
            f"{self.skipped_count} skipped)"
        ]
        marks = {StepStatus.PASSED: "ok  ", StepStatus.FAILED: "FAIL", StepStatus.SKIPPED: "skip"}
        for step in self.steps:
            label = step.action + (f" {step.selector}" if step.selector else "")
            if step.name:
                label += f"  ({step.name})"
            lines.append(
                f"  [{marks[step.status]}] {step.index:>3} {label}  {step.duration * 1000:.0f}ms"
            )
            if step.error:
                lines.extend(f"         {line}" for line in step.error.splitlines())
        if self.artifacts_dir is not None:
            lines.append(f"  artifacts: {self.artifacts_dir}")
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise StepError with the report when the journey did not pass."""
        if not self.passed:
            raise StepError(self.report())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of the whole result."""
        return {
            "name": self.name,
            "engine": self.engine,
            "passed": self.passed,
            "started_at": self.started_at,
            "duration": round(self.duration, 6),
            "counts": {
                "passed": self.passed_count,
                "failed": self.failed_count,
                "skipped": self.skipped_count,
            },
            "artifacts_dir": str(self.artifacts_dir) if self.artifacts_dir else None,
            "artifacts": [str(p) for p in self.artifacts],
            "steps": [step.to_dict() for step in self.steps],
        }

    def store(
        self,
        aggregator: ResultStore,
        *,
        orchestration_id: str,
        category: str = "user_journey",
        test_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Store this journey as one result in a maestro-test-result-aggregator.

        ``aggregator`` is a ``TestResultAggregator`` (or anything with its ``store_result``);
        the status goes as the aggregator's status word, so this package never imports it.
        """
        status = "passed" if self.passed else "failed"
        meta: dict[str, Any] = {
            "engine": self.engine,
            "started_at": self.started_at,
            "counts": self.to_dict()["counts"],
            "steps": [step.to_dict() for step in self.steps],
        }
        if self.artifacts_dir is not None:
            meta["artifacts_dir"] = str(self.artifacts_dir)
        meta.update(metadata or {})
        aggregator.store_result(
            test_id=test_id or f"journey::{self.name}",
            orchestration_id=orchestration_id,
            category=category,
            status=status,
            duration=self.duration,
            metadata=meta,
        )
