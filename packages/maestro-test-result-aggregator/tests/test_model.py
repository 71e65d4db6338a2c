"""Statuses, identities and the validation rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_test_result_aggregator import InvalidResultError, ResultStatus, TestIdentity
from maestro_test_result_aggregator._model import check_duration, dump_metadata, truncate


def test_status_has_the_values_teams_store() -> None:
    """ResultStatus has passed, failed, error, skipped, timeout and cancelled as plain strings."""
    assert {s.value for s in ResultStatus} == {
        "passed",
        "failed",
        "error",
        "skipped",
        "timeout",
        "cancelled",
    }
    assert ResultStatus.PASSED == "passed"  # a str enum


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("PASS", ResultStatus.PASSED),
        ("ok", ResultStatus.PASSED),
        ("failure", ResultStatus.FAILED),
        ("Errored", ResultStatus.ERROR),
        ("broken", ResultStatus.ERROR),
        ("xfailed", ResultStatus.SKIPPED),
        ("pending", ResultStatus.SKIPPED),
        ("timed_out", ResultStatus.TIMEOUT),
        ("timedOut", ResultStatus.TIMEOUT),
        ("canceled", ResultStatus.CANCELLED),
        ("interrupted", ResultStatus.CANCELLED),
    ],
)
def test_status_words_from_common_tools_are_mapped(word: str, expected: ResultStatus) -> None:
    """Status words used by pytest, jest, Playwright, CTRF and others map to one member."""
    assert ResultStatus.parse(word) is expected


def test_unknown_status_word_is_a_clear_error() -> None:
    """A word no tool uses raises InvalidResultError listing the valid statuses."""
    with pytest.raises(InvalidResultError, match=r"unknown status 'maybe'.*passed"):
        ResultStatus.parse("maybe")


@given(st.sampled_from(list(ResultStatus)), st.sampled_from([str.upper, str.lower, str.title]))
def test_parse_is_case_insensitive_and_idempotent(status: ResultStatus, case: object) -> None:
    """Parsing a member's value in any case, or a member itself, gives that member."""
    assert ResultStatus.parse(case(status.value)) is status  # type: ignore[operator]
    assert ResultStatus.parse(ResultStatus.parse(status.value)) is status


def test_is_failure_covers_failed_error_and_timeout() -> None:
    """Only failed, error and timeout count against the pass rate."""
    assert {s for s in ResultStatus if s.is_failure} == {
        ResultStatus.FAILED,
        ResultStatus.ERROR,
        ResultStatus.TIMEOUT,
    }


def test_identity_splits_pytest_parameters() -> None:
    """``test_x[a-b]`` becomes name test_x with parameters a-b, and the key restores it."""
    identity = TestIdentity.from_name("test_x[a-b]", "tests.test_mod")
    assert (identity.name, identity.parameters) == ("test_x", "a-b")
    assert identity.key == "tests.test_mod::test_x[a-b]"
    assert TestIdentity.from_name("plain").key == "plain"


@given(
    st.text(min_size=1).filter(lambda s: not s.endswith("]")),
    st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=20),
)
def test_identity_key_round_trips(name: str, params: str) -> None:
    """Splitting a name with parameters and rebuilding the key gives back the original name."""
    full = f"{name}[{params}]"
    identity = TestIdentity.from_name(full, "C")
    assert identity.key == f"C::{full}"


def test_suite_is_not_part_of_the_key() -> None:
    """Suites named with timestamps do not split a test's history."""
    a = TestIdentity.from_name("t", "C", suite="Suite-20250101")
    b = TestIdentity.from_name("t", "C", suite="Suite-20250102")
    assert a.key == b.key


@given(st.text(max_size=3000), st.integers(min_value=100, max_value=2000))
def test_truncate_bounds_length_and_keeps_head_and_tail(text: str, limit: int) -> None:
    """Truncated text stays near the limit and starts and ends like the original."""
    out = truncate(text, limit)
    if len(text) <= limit:
        assert out == text
    else:
        assert len(out) <= limit + 60
        half = limit // 2 - 40
        assert out.startswith(text[:half])
        assert out.endswith(text[-half:])
        assert "characters truncated" in out


@pytest.mark.parametrize("bad", [-0.001, math.nan, math.inf, "1.0", None, True])
def test_bad_durations_are_rejected(bad: object) -> None:
    """Negative, NaN, infinite, boolean and non-numeric durations raise InvalidResultError."""
    with pytest.raises(InvalidResultError, match="duration"):
        check_duration(bad)


@pytest.mark.parametrize("bad", [[1, 2], {"x": object()}, {"x": math.nan}, "text", {1: {2: set()}}])
def test_metadata_must_be_a_json_object(bad: object) -> None:
    """Metadata that is not a JSON object (or holds NaN or objects) is rejected."""
    with pytest.raises(InvalidResultError, match="metadata"):
        dump_metadata(bad)
