"""The README opens with the two commands and lists every distribution."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    """The first code block is `make index` then `make test`."""
    first = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make index", "make test"]
    assert README.index("```bash") < README.index("## ")


def test_readme_table_lists_every_member(workspace_members: dict[str, str]) -> None:
    """Each workspace member has a row linking to its own README, and no row is a ghost."""
    rows = dict(re.findall(r"^\| \[([a-z-]+)\]\((packages/[a-z-]+/README\.md)\)", README, re.M))
    assert set(rows) == set(workspace_members)
    for name, link in rows.items():
        assert link == f"packages/{name}/README.md"
        assert (REPO / link).is_file(), link


def test_makefile_and_ci_agree_on_the_test_command() -> None:
    """.ci/run runs `make test`, the README's test command."""
    assert "make test" in (REPO / ".ci" / "run").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^index: ", makefile, re.M)
    assert re.search(r"^test: ", makefile, re.M)
