"""Trends, run comparison, slowest tests and explainable flaky / broken verdicts (pure Python)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, Literal

_FAIL = frozenset({"failed", "error", "timeout"})


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of already sorted values; 0 when empty."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    frac = pos - low
    return float(sorted_values[low] * (1 - frac) + sorted_values[high] * frac)


def pass_rate(passed: int, failing: int) -> float | None:
    """Passed / (passed + failed + error + timeout); None when nothing ran to an outcome."""
    ran = passed + failing
    return passed / ran if ran else None


@dataclass(frozen=True, slots=True)
class DayTrend:
    """One day of one category: counts of final outcomes, pass rate and duration percentiles."""

    day: date
    total: int
    passed: int
    failed: int
    error: int
    skipped: int
    timeout: int
    cancelled: int
    pass_rate: float | None
    duration_p50: float
    duration_p95: float
    #: Most tests failed that day (an infrastructure outage, not the code).
    outage: bool = False


#: A day is an outage when at least this share of at least ``_OUTAGE_MIN_TESTS`` failed.
_OUTAGE_RATIO = 0.5
_OUTAGE_MIN_TESTS = 10


@dataclass(frozen=True, slots=True)
class TrendAnalysis:
    """Per-day trend over a window, with a plain-words verdict and the numbers behind it."""

    category: str | None
    days: int
    start: date
    end: date
    points: tuple[DayTrend, ...]
    pass_rate: float | None
    pass_rate_change: float | None
    duration_p95_change: float | None
    direction: Literal["improving", "degrading", "stable", "no data"]
    explanation: str
    #: Days where most tests failed (infrastructure outages), oldest first.
    outage_days: tuple[date, ...] = ()

    @property
    def total(self) -> int:
        """Final outcomes counted over the window."""
        return sum(p.total for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        out["points"] = [{**asdict(p), "day": p.day.isoformat()} for p in self.points]
        out["outage_days"] = [d.isoformat() for d in self.outage_days]
        return out

    def to_dataframe(self) -> Any:
        """The per-day points as a pandas DataFrame (needs the ``[analytics]`` extra)."""
        from ._frames import dataframe

        return dataframe(self.points)


def build_trends(
    rows: Iterable[Sequence[Any]], category: str | None, days: int, today: date
) -> TrendAnalysis:
    """Fold (day, status, duration) rows, in time order, into a ``TrendAnalysis``."""
    start = today - timedelta(days=days - 1)
    points = []
    for day, group in groupby(rows, key=itemgetter(0)):
        items = list(group)
        c = Counter(map(itemgetter(1), items))
        values = sorted(map(itemgetter(2), items))
        failing = c["failed"] + c["error"] + c["timeout"]
        judged = c["passed"] + failing
        points.append(
            DayTrend(
                day=date.fromisoformat(day),
                total=len(items),
                passed=c["passed"],
                failed=c["failed"],
                error=c["error"],
                skipped=c["skipped"],
                timeout=c["timeout"],
                cancelled=c["cancelled"],
                pass_rate=pass_rate(c["passed"], failing),
                duration_p50=percentile(values, 50),
                duration_p95=percentile(values, 95),
                outage=judged >= _OUTAGE_MIN_TESTS and failing / judged >= _OUTAGE_RATIO,
            )
        )
    passed = sum(p.passed for p in points)
    failing = sum(p.failed + p.error + p.timeout for p in points)
    overall = pass_rate(passed, failing)
    rate_change, p95_change = _halves(points)
    direction: Literal["improving", "degrading", "stable", "no data"]
    if not points:
        direction, why = "no data", f"no results in the last {days} days"
    elif rate_change is None or len(points) < 2:
        direction = "stable"
        why = f"{len(points)} day(s) of data: too few to compare the two halves of the window"
    elif rate_change <= -0.02:
        direction = "degrading"
        why = (
            f"pass rate fell {abs(rate_change) * 100:.1f} points from the first half "
            "of the window to the second"
        )
    elif rate_change >= 0.02:
        direction = "improving"
        why = (
            f"pass rate rose {rate_change * 100:.1f} points from the first half "
            "of the window to the second"
        )
    else:
        direction = "stable"
        why = f"pass rate moved {rate_change * 100:+.1f} points between the halves of the window"
    outages = tuple(p.day for p in points if p.outage)
    if outages and direction in ("degrading", "improving"):
        without, _ = _halves([p for p in points if not p.outage])
        days_text = ", ".join(d.isoformat() for d in outages)
        if without is not None and abs(without) < 0.02:
            what = "one infrastructure outage day" if len(outages) == 1 else "outage days"
            why += (
                f"; driven by {what} ({days_text}: most tests failed); without it the pass "
                f"rate moved {without * 100:+.1f} points"
            )
        else:
            why += f"; outage days in the window: {days_text}"
    if p95_change is not None and points:
        why += f"; p95 duration changed {p95_change:+.3f}s"
    return TrendAnalysis(
        category,
        days,
        start,
        today,
        tuple(points),
        overall,
        rate_change,
        p95_change,
        direction,
        why,
        outages,
    )


def _halves(points: Sequence[DayTrend]) -> tuple[float | None, float | None]:
    if len(points) < 2:
        return None, None
    mid = len(points) // 2
    first, second = points[:mid], points[mid:]

    def rate(part: Sequence[DayTrend]) -> float | None:
        return pass_rate(
            sum(p.passed for p in part), sum(p.failed + p.error + p.timeout for p in part)
        )

    a, b = rate(first), rate(second)
    rate_change = None if a is None or b is None else b - a
    p95a = sum(p.duration_p95 for p in first) / len(first)
    p95b = sum(p.duration_p95 for p in second) / len(second)
    return rate_change, p95b - p95a


@dataclass(frozen=True, slots=True)
class RunComparison:
    """What changed between a base run and a head run (final outcomes)."""

    base: str
    head: str
    new_failures: tuple[str, ...]
    fixed: tuple[str, ...]
    still_failing: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def compare(base: str, head: str, a: dict[str, str], b: dict[str, str]) -> RunComparison:
    """Compare final statuses by test id (``a`` = base run, ``b`` = head run)."""
    new = sorted(t for t, s in b.items() if s in _FAIL and a.get(t) == "passed")
    fixed = sorted(t for t, s in b.items() if s == "passed" and a.get(t) in _FAIL)
    still = sorted(t for t, s in b.items() if s in _FAIL and a.get(t) in _FAIL)
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    return RunComparison(
        base, head, tuple(new), tuple(fixed), tuple(still), tuple(added), tuple(removed)
    )


@dataclass(frozen=True, slots=True)
class SlowTest:
    """A test and its duration statistics over the runs considered."""

    test_id: str
    mean: float
    max: float
    runs: int


@dataclass(frozen=True, slots=True)
class FlakyVerdict:
    """Why a test is called flaky or broken: the score, the reasons and the runs behind them."""

    test_id: str
    verdict: Literal["flaky", "broken"]
    score: float
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    runs_considered: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FlakinessOptions:
    """The knobs of flaky / broken classification (defaults follow Trunk / BuildPulse practice)."""

    window: int = 30
    flip_threshold: float = 0.3
    min_runs: int = 5
    broken_runs: int = 3
    infra_failure_ratio: float = 0.5
    infra_min_tests: int = 10


@dataclass(slots=True)
class _Timeline:
    runs: list[tuple[str, str, str, bool]] = field(default_factory=list)
    # (orchestration_id, commit, final status, failed-then-passed within the run)


def classify(
    runs: Sequence[tuple[str, str]],
    attempts: Iterable[Sequence[Any]],
    options: FlakinessOptions,
) -> tuple[list[FlakyVerdict], list[str]]:
    """Verdicts for every test that is flaky or broken, and the runs left out as infrastructure.

    ``runs`` are (orchestration_id, commit) oldest first; ``attempts`` are rows of
    (orchestration_id, test_id, attempt, is_final, status) ordered by run, test, attempt.
    """
    finals: dict[str, dict[str, str]] = {}
    retried: dict[str, set[str]] = {}
    failed_before: set[tuple[str, str]] = set()
    for orch, test_id, _attempt, is_final, status in attempts:
        if is_final:
            finals.setdefault(orch, {})[test_id] = status
            if status == "passed" and (orch, test_id) in failed_before:
                retried.setdefault(test_id, set()).add(orch)
        elif status in _FAIL:
            failed_before.add((orch, test_id))
    excluded: list[str] = []
    for orch, _commit in runs:
        outcome = [s for s in finals.get(orch, {}).values() if s == "passed" or s in _FAIL]
        failing = sum(1 for s in outcome if s in _FAIL)
        if (
            len(outcome) >= options.infra_min_tests
            and failing / len(outcome) >= options.infra_failure_ratio
        ):
            excluded.append(orch)
    skip = set(excluded)
    timelines: dict[str, _Timeline] = {}
    for orch, commit in runs:
        if orch in skip:
            continue
        for test_id, status in finals.get(orch, {}).items():
            if status != "passed" and status not in _FAIL:
                continue
            flake = orch in retried.get(test_id, set())
            timelines.setdefault(test_id, _Timeline()).runs.append((orch, commit, status, flake))
    verdicts = [v for t, line in timelines.items() if (v := _judge(t, line, options))]
    verdicts.sort(key=lambda v: (v.verdict != "broken", -v.score, v.test_id))
    return verdicts, excluded


def _judge(test_id: str, line: _Timeline, options: FlakinessOptions) -> FlakyVerdict | None:
    runs = line.runs
    n = len(runs)
    k = options.broken_runs
    history_note = ""
    if n >= k and all(status in _FAIL for _, _, status, _ in runs[-k:]):
        streak = 0
        for _, _, status, _ in reversed(runs):
            if status not in _FAIL:
                break
            streak += 1
        tail = tuple(orch for orch, _, _, _ in runs[-streak:])
        prior_flips, longest = _flip_history(runs[: n - streak])
        prior = n - streak
        if (
            prior >= options.min_runs
            and prior_flips / (prior - 1) >= options.flip_threshold
            and streak <= longest + k
        ):
            # More of the same: a test that flipped all along and now failed a few times.
            history_note = (
                f"failed the last {streak} runs, but flipped {prior_flips} times in the {prior} "
                f"runs before (failing streaks up to {longest}): flaky, not broken"
            )
    if history_note == "" and n >= k and all(status in _FAIL for _, _, status, _ in runs[-k:]):
        return FlakyVerdict(
            test_id,
            "broken",
            round(streak / n, 4),
            (f"failed in each of the last {streak} runs (of {n} considered)",),
            tail,
            n,
        )
    reasons: list[str] = []
    evidence: list[str] = []
    scores: list[float] = []
    if history_note:
        reasons.append(history_note)
        evidence.extend(orch for orch, _, status, _ in runs if status in _FAIL)
        scores.append(0.5)
    retry_runs = [orch for orch, _, _, flake in runs if flake]
    if retry_runs:
        reasons.append(f"passed on retry after a failed attempt in {len(retry_runs)} run(s)")
        evidence.extend(retry_runs)
        scores.append(len(retry_runs) / n)
    by_commit: dict[str, list[tuple[str, str]]] = {}
    for orch, commit, status, _ in runs:
        if commit:
            by_commit.setdefault(commit, []).append((orch, status))
    for commit, seen in by_commit.items():
        statuses = {s in _FAIL for _, s in seen}
        if len(statuses) == 2:
            reasons.append(f"both passed and failed on commit {commit[:12]}")
            evidence.extend(orch for orch, _ in seen if orch not in evidence)
            scores.append(len(seen) / n)
    if n >= options.min_runs:
        outcomes = [status in _FAIL for _, _, status, _ in runs]
        flips = [i for i in range(1, n) if outcomes[i] != outcomes[i - 1]]
        rate = len(flips) / (n - 1)
        if rate >= options.flip_threshold:
            reasons.append(
                f"flipped between pass and fail {len(flips)} times in {n} runs "
                f"(flip rate {rate:.2f} >= {options.flip_threshold:.2f})"
            )
            evidence.extend(runs[i][0] for i in flips if runs[i][0] not in evidence)
            scores.append(rate)
    if not reasons:
        return None
    return FlakyVerdict(
        test_id,
        "flaky",
        round(min(1.0, max(scores)), 4),
        tuple(reasons),
        tuple(dict.fromkeys(evidence)),
        n,
    )


def _flip_history(runs: Sequence[tuple[str, str, str, bool]]) -> tuple[int, int]:
    """Flips between pass and fail, and the longest failing streak, of a run history."""
    flips = longest = streak = 0
    previous: bool | None = None
    for _, _, status, _ in runs:
        failing = status in _FAIL
        if previous is not None and failing != previous:
            flips += 1
        streak = streak + 1 if failing else 0
        longest = max(longest, streak)
        previous = failing
    return flips, longest


def utc_today(now: datetime | None) -> date:
    """Today's date in UTC (``now`` injectable for tests)."""
    return (now or datetime.now(UTC)).astimezone(UTC).date()
