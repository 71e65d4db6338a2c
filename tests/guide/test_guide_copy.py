"""The committed integration guide is the users' text, byte for byte.

The guide is the contract with service developers; this repository carries its own copy
(a fresh clone has nothing beside it). Its digest is pinned here, so any edit to the
user's text fails this test; what the repository needs to add lives beside it, in
docs/integration-guide-notes.md.
"""

import hashlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "integration-guide.md"
NOTES = REPO / "docs" / "integration-guide-notes.md"
GUIDE_SHA256 = "8eff8f8552760fd4a0fbdce238a3346f8bf092b7605d4d20544154f80a5d6b87"


def test_guide_copy_is_the_users_text_verbatim() -> None:
    """docs/integration-guide.md has the digest of the guide as the users received it."""
    assert hashlib.sha256(GUIDE.read_bytes()).hexdigest() == GUIDE_SHA256


def test_notes_beside_the_guide_name_the_sections_they_correct() -> None:
    """The repository's notes exist, link the guide, and cite only headings the guide has."""
    notes = NOTES.read_text(encoding="utf-8")
    assert "(integration-guide.md" in notes
    headings = {
        h.strip() for h in re.findall(r"^#+ (.+)$", GUIDE.read_text(encoding="utf-8"), re.M)
    }
    cited = re.findall(r"guide's \*\*(.+?)\*\*", notes)
    assert cited, "the notes cite the guide's sections in bold"
    for heading in cited:
        assert heading in headings, heading


def test_every_package_section_has_python_examples(guide_blocks) -> None:  # type: ignore[no-untyped-def]
    """The four Week 1 sections each carry python examples for the tests to run."""
    for name in (
        "maestro-audit-logger",
        "maestro-test-adapters",
        "maestro-resilience",
        "maestro-test-result-aggregator",
    ):
        assert guide_blocks(name), name
