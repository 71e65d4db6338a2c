"""Failure categories: ordered regex rules on message and trace, first match wins (Allure-style).

The default rules follow ReportPortal's defect types: system issue, automation bug,
product bug, and "to investigate" for whatever no rule explains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ._model import ResultStatus, TestResult

FAILING = frozenset({ResultStatus.FAILED, ResultStatus.ERROR, ResultStatus.TIMEOUT})


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One rule: a failing result whose message or trace matches belongs to ``name``.

    ``message`` and ``trace`` are regular expressions searched (not anchored) in the result's
    message and trace; a rule with both needs both to match; a rule with neither matches any
    result whose status is in ``statuses``.
    """

    name: str
    defect_type: str
    message: str | None = None
    trace: str | None = None
    statuses: frozenset[ResultStatus] = FAILING
    _compiled: tuple[re.Pattern[str] | None, re.Pattern[str] | None] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        flags = re.I | re.S
        object.__setattr__(
            self,
            "_compiled",
            (
                re.compile(self.message, flags) if self.message else None,
                re.compile(self.trace, flags) if self.trace else None,
            ),
        )

    def matches(self, result: TestResult) -> bool:
        """Whether ``result`` falls in this category."""
        if result.status not in self.statuses:
            return False
        msg, trace = self._compiled
        if msg is not None and not msg.search(result.message[:4096]):
            return False
        return trace is None or bool(trace.search(result.trace[:16384]))


DEFAULT_RULES: tuple[CategoryRule, ...] = (
    CategoryRule(
        "Timeouts",
        "system_issue",
        statuses=frozenset({ResultStatus.TIMEOUT}),
    ),
    CategoryRule(
        "Infrastructure and network",
        "system_issue",
        message=r"connection ?(refused|reset|aborted)|ConnectionError|"
        r"ECONNREFUSED|ECONNRESET|ENOTFOUND|"
        r"name or service not known|name resolution|50[234] |Service Unavailable|Bad Gateway|"
        r"OutOfMemory|MemoryError|No space left on device|Too many open files|"
        r"OperationalError|Timeout|timed out|deadline exceeded",
    ),
    CategoryRule(
        "Test code and environment",
        "automation_bug",
        message=r"NoSuchElement|StaleElementReference|ElementNotInteractable|element not found|"
        r"locator|selector|fixture '.*' not found|ImportError|ModuleNotFoundError|NameError|"
        r"AttributeError|TypeError|SyntaxError|ReferenceError|is not a function|undefined: |"
        r"cannot find symbol|build failed|Test suite failed to run",
    ),
    CategoryRule(
        "Product defects",
        "product_bug",
        message=r"assert|expected|toBe|toEqual|ComparisonFailure|Failed asserting|should|mismatch",
    ),
    CategoryRule(
        "Product defects",
        "product_bug",
        trace=r"AssertionError|assert |Assert\.|expect\(",
    ),
    CategoryRule("To investigate", "to_investigate"),
)


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """The failing results that one category explains."""

    name: str
    defect_type: str
    results: tuple[TestResult, ...]

    @property
    def count(self) -> int:
        """How many failing results fell in this category."""
        return len(self.results)


def categorize(
    results: Iterable[TestResult], rules: Sequence[CategoryRule] = DEFAULT_RULES
) -> list[FailureGroup]:
    """Group the failing results by the first matching rule, largest group first."""
    groups: dict[tuple[str, str], list[TestResult]] = {}
    for result in results:
        if result.status not in FAILING:
            continue
        rule = next((r for r in rules if r.matches(result)), None)
        key = (rule.name, rule.defect_type) if rule else ("To investigate", "to_investigate")
        groups.setdefault(key, []).append(result)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0][0]))
    return [FailureGroup(name, defect, tuple(items)) for (name, defect), items in ordered]
