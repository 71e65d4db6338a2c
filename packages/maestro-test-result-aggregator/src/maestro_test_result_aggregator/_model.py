"""Statuses, test identities and the stored result record, with the validation rules."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ._errors import InvalidResultError

#: Longest message / trace / output kept in the store; longer text keeps its head and tail.
MAX_LOG_CHARS = 16_384

#: An exception type that means a time-out (``TimeoutError``, ``ReadTimeout``...).
TIMEOUT_TYPE = re.compile(r"time(d)?[\s_-]?out", re.I)
#: A failure message that means a time-out (pytest-timeout, jest, mocha, go test).
TIMEOUT_MESSAGE = re.compile(
    r"^\W*(Failed:\s*)?Timeout\b|test timed out|timed out after|Exceeded timeout of", re.I
)
_EXCEPTION_PREFIX = re.compile(r"^\W*([A-Za-z_][\w.]*)\s*:")


class ResultStatus(StrEnum):
    """The normalised outcome of one test attempt.

    The raw status written by the source tool is kept beside it (``TestResult.raw_status``).
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"

    @classmethod
    def parse(cls, value: ResultStatus | str) -> ResultStatus:
        """Map a status word from any common tool (``"pass"``, ``"xfailed"``...) to a member.

        Raises ``InvalidResultError`` for a word no tool uses.
        """
        if isinstance(value, ResultStatus):
            return value
        exact = _SYNONYMS.get(value) if isinstance(value, str) else None
        if exact is not None:
            return exact
        if not isinstance(value, str):
            raise InvalidResultError(
                f"status must be a ResultStatus or a string, not {type(value).__name__}"
            )
        key = re.sub(r"[\s_\-]+", "", value.strip().lower())
        try:
            return _SYNONYMS[key]
        except KeyError:
            known = ", ".join(sorted(m.value for m in cls))
            raise InvalidResultError(
                f"unknown status {value!r}: use one of {known} (or a common synonym such as "
                "'pass', 'failure', 'skip', 'timedout', 'canceled')"
            ) from None

    @property
    def is_failure(self) -> bool:
        """True for the outcomes that count against the pass rate (failed, error, timeout)."""
        return self in _FAILING


_FAILING = frozenset({ResultStatus.FAILED, ResultStatus.ERROR, ResultStatus.TIMEOUT})

_SYNONYMS: dict[str, ResultStatus] = {}
for _status, _words in {
    ResultStatus.PASSED: "passed pass ok success successful succeeded xpassed xpass fixed",
    ResultStatus.FAILED: "failed fail failure failures assertionfailed",
    ResultStatus.ERROR: "error errored errors broken crashed crash",
    ResultStatus.SKIPPED: "skipped skip pending ignored ignore disabled notrun xfailed xfail "
    "todo excluded notexecuted inconclusive deselected",
    ResultStatus.TIMEOUT: "timeout timedout timeouted",
    ResultStatus.CANCELLED: "cancelled canceled aborted interrupted other stopped",
}.items():
    for _word in _words.split():
        _SYNONYMS[_word] = _status


@dataclass(frozen=True, slots=True)
class TestIdentity:
    """What makes two results "the same test" across runs: class (or file), name, parameters.

    ``suite`` is kept for display but is not part of ``key``: suite names often carry
    timestamps or host names, which would split one test's history into many.
    """

    __test__ = False  # not a pytest test class

    name: str
    class_name: str = ""
    parameters: str = ""
    suite: str = ""

    @property
    def key(self) -> str:
        """The stable ``test_id``: ``class::name[parameters]`` (``name[...]`` without a class)."""
        name = self.name + (f"[{self.parameters}]" if self.parameters else "")
        return f"{self.class_name}::{name}" if self.class_name else name

    @classmethod
    def from_name(cls, name: str, class_name: str = "", suite: str = "") -> TestIdentity:
        """Split pytest-style ``test_x[a-b]`` parameters off a test name."""
        cut = name.find("[")
        if cut > 0 and name[-1] == "]" and len(name) - cut > 2:
            return cls(name[:cut], class_name, name[cut + 1 : -1], suite)
        return cls(name, class_name, "", suite)


@dataclass(frozen=True, slots=True)
class TestResult:
    """One stored attempt of one test in one orchestration (run)."""

    __test__ = False  # not a pytest test class

    test_id: str
    orchestration_id: str
    category: str
    status: ResultStatus
    duration: float
    metadata: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    is_final: bool = True
    raw_status: str = ""
    message: str = ""
    trace: str = ""
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    suite: str = ""
    class_name: str = ""
    name: str = ""
    parameters: str = ""
    commit: str = ""
    branch: str = ""

    @property
    def identity(self) -> TestIdentity:
        """The test's identity (falls back to ``test_id`` as the name)."""
        return TestIdentity(self.name or self.test_id, self.class_name, self.parameters, self.suite)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (timestamps as ISO 8601 UTC)."""
        return {
            "test_id": self.test_id,
            "orchestration_id": self.orchestration_id,
            "category": self.category,
            "status": self.status.value,
            "raw_status": self.raw_status,
            "duration": self.duration,
            "attempt": self.attempt,
            "is_final": self.is_final,
            "message": self.message,
            "trace": self.trace,
            "recorded_at": format_ts(self.recorded_at),
            "suite": self.suite,
            "class_name": self.class_name,
            "name": self.name,
            "parameters": self.parameters,
            "commit": self.commit,
            "branch": self.branch,
            "metadata": dict(self.metadata),
        }


def failure_status(
    exception_type: str, message: str, default: ResultStatus | None = None
) -> ResultStatus:
    """The one status mapping of a failed attempt, for every ingestion path.

    A time-out exception type (the ``type`` attribute, or the ``Name:`` that starts the
    message, as pytest writes it) or a time-out message is ``TIMEOUT``; anything else is
    ``default`` (``FAILED`` unless given, e.g. ``ERROR`` for a JUnit ``<error>``).
    """
    head = message[:200]
    name = exception_type.rsplit(".", 1)[-1]
    if not name:
        match = _EXCEPTION_PREFIX.match(head)
        name = match.group(1).rsplit(".", 1)[-1] if match else ""
    if (name and TIMEOUT_TYPE.search(name)) or TIMEOUT_MESSAGE.search(head):
        return ResultStatus.TIMEOUT
    return default if default is not None else ResultStatus.FAILED


def truncate(text: str, limit: int = MAX_LOG_CHARS) -> str:
    """Keep the head and tail of ``text`` when it is longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    half = max(limit // 2 - 40, 1)
    cut = len(text) - 2 * half
    return f"{text[:half]}\n… [{cut} characters truncated] …\n{text[-half:]}"


def format_ts(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    """Inverse of ``format_ts``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def check_text(value: object, what: str, *, required: bool = True) -> str:
    """Return ``value`` as a stripped-of-nothing string, rejecting empty required ids."""
    if type(value) is str and (not required or value.strip()) and "\x00" not in value:
        return value
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidResultError(f"{what} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise InvalidResultError(f"{what} must be a non-empty string")
    if "\x00" in value:
        raise InvalidResultError(f"{what} must not contain NUL characters")
    return value


def check_duration(value: object) -> float:
    """Return ``value`` as seconds, rejecting negatives, NaN, infinities and non-numbers."""
    if type(value) is float and 0.0 <= value < math.inf:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidResultError(
            f"duration must be a number of seconds, not {type(value).__name__}"
        )
    seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise InvalidResultError(f"duration must be a finite number of seconds, not {value!r}")
    if seconds < 0:
        raise InvalidResultError(f"duration must not be negative, got {value!r}")
    return seconds


_ENCODE = json.JSONEncoder(allow_nan=False, separators=(",", ":"), sort_keys=True).encode


def dump_metadata(metadata: object) -> str:
    """Serialise metadata to JSON text, rejecting anything that is not a JSON object."""
    if metadata is None:
        return "{}"
    if not isinstance(metadata, Mapping):
        raise InvalidResultError(
            f"metadata must be a mapping (a JSON object), not {type(metadata).__name__}"
        )
    try:
        return _ENCODE(metadata)
    except (TypeError, ValueError) as exc:
        raise InvalidResultError(
            f"metadata must be JSON-serialisable (str keys; str, number, bool, None, list, "
            f"dict values; no NaN): {exc}"
        ) from None
