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


def test_the_variable_table_is_generated_and_current() -> None:
    """The README's MAESTRO_* table is what tools/envvars.py renders from the settings now."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "envvars.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_variable_a_package_reads_is_in_the_table() -> None:
    """Each MAESTRO_* name in the shipped sources has a row (or is a documented example)."""
    # The typo core-config's docs use to show "did you mean", and a tool's variable it names.
    examples = {"MAESTRO_DB__HOTS", "MAESTRO_INDEX_URL"}
    table = README[README.index("<!-- envvars:start") : README.index("<!-- envvars:end")]
    missing = set()
    for source in (REPO / "packages").glob("*/src/**/*.py"):
        for name in re.findall(r"MAESTRO_[A-Z0-9_]+", source.read_text(encoding="utf-8")):
            if name.endswith("_") or name in examples:
                continue  # a prefix being built, not a variable
            if f"`{name}`" not in table:
                missing.add(f"{name} ({source.relative_to(REPO)})")
    assert not missing, sorted(missing)
