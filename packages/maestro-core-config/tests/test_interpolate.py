"""`${VAR}` / `${VAR:-default}` interpolation, examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_core_config import ConfigFileError, InterpolationError, interpolate

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
PLAIN = st.text(alphabet=st.characters(blacklist_characters="$"), max_size=30)


def test_variable_is_replaced() -> None:
    """${HOST} becomes the variable's value inside surrounding text."""
    assert interpolate("http://${HOST}:80", {"HOST": "example"}) == "http://example:80"


def test_default_used_when_unset_or_empty() -> None:
    """${VAR:-d} gives d when VAR is unset or empty, like a POSIX shell."""
    assert interpolate("${A:-dflt}", {}) == "dflt"
    assert interpolate("${A:-dflt}", {"A": ""}) == "dflt"
    assert interpolate("${A:-dflt}", {"A": "set"}) == "set"
    assert interpolate("${A:-}", {}) == ""


def test_unset_without_default_raises() -> None:
    """${VAR} with VAR unset raises InterpolationError naming VAR and how to fix it."""
    with pytest.raises(InterpolationError, match=r"MISSING is not set.*:-default"):
        interpolate("${MISSING}", {}, path="f.yaml", key="a.b")


def test_empty_variable_without_default_is_kept_empty() -> None:
    """${VAR} with VAR set to the empty string gives the empty string, not an error."""
    assert interpolate("x${A}y", {"A": ""}) == "xy"


def test_escape_gives_literal_reference() -> None:
    """$${VAR} is the literal text ${VAR}; a lone $ stays as it is."""
    assert interpolate("$${HOME} costs $5", {"HOME": "/root"}) == "${HOME} costs $5"


@pytest.mark.parametrize("text", ["${}", "${1ABC}", "${A-B}", "${unclosed"])
def test_malformed_reference_raises(text: str) -> None:
    """A ${ that does not start a valid reference is an error, not literal text."""
    with pytest.raises(ConfigFileError, match="malformed reference"):
        interpolate(text, {})


@given(PLAIN)
def test_text_without_dollar_is_unchanged(text: str) -> None:
    """Strings without $ come back identical."""
    assert interpolate(text, {}) == text


@given(NAMES, PLAIN, PLAIN, PLAIN)
def test_reference_is_replaced_by_its_value(name: str, before: str, value: str, after: str) -> None:
    """Any set variable's value lands exactly where its reference was."""
    assert interpolate(f"{before}${{{name}}}{after}", {name: value}) == before + value + after


@given(NAMES, PLAIN.filter(lambda s: "}" not in s), PLAIN)
def test_default_applies_exactly_when_unset(name: str, default: str, value: str) -> None:
    """${VAR:-default} is the value when set and non-empty, else the default."""
    text = f"${{{name}:-{default}}}"
    assert interpolate(text, {}) == default
    assert interpolate(text, {name: value}) == (value or default)


@given(NAMES, PLAIN)
def test_escaped_reference_is_never_expanded(name: str, value: str) -> None:
    """$${VAR} stays literal even when VAR is set."""
    assert interpolate(f"$${{{name}}}", {name: value}) == f"${{{name}}}"
