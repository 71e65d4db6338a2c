"""Selector strings: the prefixes both engines understand, and XPath quoting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_test_adapters import parse_selector
from maestro_test_adapters._selectors import xpath_literal


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("#login", "css", "#login"),
        ("css=.a > b", "css", ".a > b"),
        ("//button[1]", "xpath", "//button[1]"),
        ("xpath=//a", "xpath", "//a"),
        ('xpath///*[@id="x"]', "xpath", '//*[@id="x"]'),
        ("text=Log in", "text", "Log in"),
        ('text="Log in"', "text", "Log in"),
        ("text/Log in", "text", "Log in"),
        ("testid=submit", "css", '[data-testid="submit"]'),
        ("data-testid=submit", "css", '[data-testid="submit"]'),
        ("pierce/#inner", "pierce", "#inner"),
        ("aria/User name", "aria", "User name"),
    ],
)
def test_prefixes_select_the_kind(raw: str, kind: str, value: str) -> None:
    """Each prefix maps to its selector kind and strips itself from the value."""
    selector = parse_selector(raw)
    assert (selector.kind, selector.value, selector.raw) == (kind, value, raw)


def test_role_selector_with_and_without_name() -> None:
    """role=button[name="Log in"] carries role and name; role=link carries only the role."""
    named = parse_selector('role=button[name="Log in"]')
    assert (named.kind, named.role, named.value) == ("role", "button", "Log in")
    bare = parse_selector("role=link")
    assert (bare.role, bare.value) == ("link", "")


def test_aria_selector_with_role() -> None:
    """A Recorder aria selector may name a role in brackets."""
    selector = parse_selector('aria/Submit[role="button"]')
    assert (selector.kind, selector.value, selector.role) == ("aria", "Submit", "button")


@pytest.mark.parametrize("raw", ["", "   ", "css=", "text=", "role=Button!", "aria/"])
def test_malformed_selectors_are_refused(raw: str) -> None:
    """Empty and malformed selectors raise ValueError."""
    with pytest.raises(ValueError, match="selector"):
        parse_selector(raw)


@given(st.text(alphabet=st.sampled_from("ab'\" "), max_size=12))
def test_xpath_literal_round_trips_any_quotes(text: str) -> None:
    """xpath_literal produces a literal whose pieces rebuild the original text."""
    literal = xpath_literal(text)
    if literal.startswith("concat("):
        inner = literal[len("concat(") : -1]
        pieces = [p.strip() for p in inner.split(", ")]
        rebuilt = "".join(p[1:-1] for p in pieces)
    else:
        assert literal[0] == literal[-1]
        rebuilt = literal[1:-1]
    assert rebuilt == text
