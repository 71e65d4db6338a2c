"""Selectors: one string syntax for both engines, and a list of them as alternatives.

``css=`` (the default), ``xpath=`` / ``xpath/`` / a leading ``//``, ``text=`` / ``text/``,
``role=button[name="Log in"]``, ``aria/Log in`` (Chrome DevTools Recorder), ``testid=`` /
``data-testid=``, ``pierce/`` (CSS through open shadow roots), and ``shadow/#host >> #inner``
(a path of CSS selectors, each inside the previous element's shadow root: the Recorder's
shadow paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Selector", "parse_selector", "xpath_literal"]

SelectorKind = Literal["css", "xpath", "text", "role", "aria", "pierce", "shadow"]
SHADOW_SEPARATOR = " >> "

_ROLE = re.compile(r'^(?P<role>[a-z]+)\s*(?:\[\s*name\s*=\s*(?P<q>["\'])(?P<name>.*)(?P=q)\s*\])?$')
_ARIA = re.compile(
    r'^(?P<name>.*?)\s*(?:\[\s*role\s*=\s*(?P<q>["\'])(?P<role>[a-z]+)(?P=q)\s*\])?$'
)
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Selector:
    """One parsed selector; ``raw`` is what the journey said."""

    kind: SelectorKind
    value: str
    raw: str
    role: str | None = None

    def __str__(self) -> str:
        return self.raw

    @property
    def parts(self) -> tuple[str, ...]:
        """The CSS selectors of a shadow path, outermost first (one part for other kinds)."""
        if self.kind == "shadow":
            return tuple(part.strip() for part in self.value.split(SHADOW_SEPARATOR.strip()))
        return (self.value,)

    def to_xpath(self) -> str | None:
        """An XPath 1.0 expression for the text / role / aria kinds (None for css, pierce)."""
        if self.kind == "xpath":
            return self.value
        if self.kind == "text":
            needle = xpath_literal(self.value.lower())
            text = f"translate(normalize-space(.), '{_UPPER}', '{_LOWER}')"
            child = f"translate(normalize-space(.), '{_UPPER}', '{_LOWER}')"
            value = f"translate(normalize-space(@value), '{_UPPER}', '{_LOWER}')"
            # As Playwright's text engine: the innermost element with the text, or a
            # button-like <input> whose value has it.
            return (
                f"//body//*[not(self::script or self::style)][contains({text}, {needle})]"
                f"[not(*[contains({child}, {needle})])]"
                f" | //body//input[@type='submit' or @type='button' or @type='reset']"
                f"[contains({value}, {needle})]"
            )
        if self.kind == "role":
            return _role_xpath(self.role or "", self.value or None)
        if self.kind == "aria":
            if self.role:
                return _role_xpath(self.role, self.value, exact=True)
            name = xpath_literal(self.value)
            return (
                f"//*[@aria-label={name} or @title={name} or @alt={name} or @placeholder={name}"
                " or ((self::button or self::a or self::summary or self::option"
                f" or self::h1 or self::h2 or self::h3 or @role) and normalize-space(.)={name})"
                f" or (self::input and (@type='submit' or @type='button') and @value={name})"
                f" or @id=//label[normalize-space(.)={name}]/@for]"
            )
        return None


_ROLE_TESTS = {
    "button": "self::button or (self::input and (@type='button' or @type='submit' or "
    "@type='reset' or @type='image'))",
    "link": "self::a[@href]",
    "textbox": "self::textarea or (self::input and (not(@type) or @type='text' or "
    "@type='email' or @type='tel' or @type='url' or @type='search' or @type='password'))",
    "checkbox": "self::input[@type='checkbox']",
    "radio": "self::input[@type='radio']",
    "combobox": "self::select",
    "heading": "self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6",
    "listitem": "self::li",
    "img": "self::img",
    "option": "self::option",
}


def _role_xpath(role: str, name: str | None, *, exact: bool = False) -> str:
    test = f"@role={xpath_literal(role)}"
    if role in _ROLE_TESTS:
        test = f"{_ROLE_TESTS[role]} or {test}"
    xpath = f"//*[{test}]"
    if name is None:
        return xpath
    if exact:
        needle = xpath_literal(name)
        parts = [
            f"normalize-space(.)={needle}",
            f"@aria-label={needle}",
            f"@value={needle}",
            f"@placeholder={needle}",
            f"@title={needle}",
            f"@alt={needle}",
            f"@id=//label[normalize-space(.)={needle}]/@for",
        ]
    else:
        needle = xpath_literal(name.lower())
        low = f"'{_UPPER}', '{_LOWER}'"
        parts = [
            f"contains(translate(normalize-space({attr}), {low}), {needle})"
            for attr in (".", "@aria-label", "@value", "@placeholder", "@title", "@alt")
        ]
        parts.append(f"@id=//label[contains(translate(normalize-space(.), {low}), {needle})]/@for")
    return f"{xpath}[{' or '.join(parts)}]"


def xpath_literal(text: str) -> str:
    """Quote ``text`` as an XPath 1.0 string literal, whatever quotes it contains."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    pieces = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{piece}'" for piece in pieces) + ")"


def parse_selector(raw: str) -> Selector:
    """Parse one selector string; raise ValueError when it is empty or malformed."""
    text = raw.strip()
    if not text:
        raise ValueError("a selector must not be empty")
    prefixes: tuple[tuple[str, SelectorKind], ...] = (
        ("css=", "css"),
        ("xpath=", "xpath"),
        ("xpath/", "xpath"),
    )
    for prefix, kind in prefixes:
        if text.startswith(prefix):
            return _non_empty(Selector(kind, text[len(prefix) :], raw))
    if text.startswith(("//", "(//", "./")):
        return Selector("xpath", text, raw)
    for prefix in ("text=", "text/"):
        if text.startswith(prefix):
            value = text[len(prefix) :]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return _non_empty(Selector("text", value, raw))
    if text.startswith("role="):
        match = _ROLE.match(text[5:].strip())
        if match is None:
            raise ValueError(f'malformed role selector {raw!r}; write role=button[name="Log in"]')
        return Selector("role", match["name"] or "", raw, role=match["role"])
    if text.startswith("aria/"):
        match = _ARIA.match(text[5:])
        if match is None or not match["name"]:
            raise ValueError(f"malformed aria selector {raw!r}; write aria/Accessible name")
        return Selector("aria", match["name"], raw, role=match["role"])
    for prefix in ("testid=", "data-testid="):
        if text.startswith(prefix):
            value = text[len(prefix) :].strip("\"'")
            return _non_empty(Selector("css", f'[data-testid="{value}"]', raw))
    if text.startswith("pierce/"):
        return _non_empty(Selector("pierce", text[7:], raw))
    if text.startswith("shadow/"):
        selector = _non_empty(Selector("shadow", text[7:], raw))
        if not all(selector.parts):
            raise ValueError(f"shadow path {raw!r} has an empty part; write shadow/#host >> #inner")
        return selector
    return Selector("css", text, raw)


def _non_empty(selector: Selector) -> Selector:
    if not selector.value.strip():
        raise ValueError(f"selector {selector.raw!r} has nothing after its prefix")
    return selector
