"""Fixtures that pull code blocks out of the integration guide, so its examples run as tests.

The guide (docs/integration-guide.md, the users' text kept byte for byte) is
the contract with our users: every ```python block in a package's section must run
verbatim against what we ship. `guide_blocks("maestro-resilience")` returns the python
blocks of the section whose heading names that package, in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "integration-guide.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def section(text: str, package: str) -> str:
    """Return the text of the '### N. <package>' section of the guide."""
    match = re.search(
        rf"^### \d+\. {re.escape(package)}\n(.*?)(?=^### |^## |\Z)", text, re.M | re.S
    )
    if match is None:
        raise LookupError(f"the guide has no '### N. {package}' section")
    return match.group(1)


def blocks(text: str, lang: str = "python") -> list[str]:
    """Return the fenced code blocks of one language, in order."""
    return [body for tag, body in _FENCE.findall(text) if tag == lang]


@pytest.fixture(scope="session")
def guide_text() -> str:
    """The integration guide as committed in docs/."""
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def guide_blocks(guide_text: str) -> Callable[..., list[str]]:
    """A function: package name (and language) -> that section's code blocks."""

    def get(package: str, lang: str = "python") -> list[str]:
        return blocks(section(guide_text, package), lang)

    return get
