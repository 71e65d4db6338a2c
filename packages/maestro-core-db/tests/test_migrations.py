"""MigrationManager and the maestro-db CLI on every engine: locked upgrades, status, check,
roundtrip."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from maestro_core_db import (
    DatabaseManager,
    MigrationError,
    MigrationManager,
    MigrationStatus,
)
from maestro_core_db._cli import main
from maestro_testkit import package_version

FIRST = '''
"""widgets"""
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widgets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    op.create_table("migration_runs", sa.Column("n", sa.Integer, nullable=False))
    op.execute("insert into migration_runs (n) values (1)")
    {pause}


def downgrade() -> None:
    op.drop_table("migration_runs")
    op.drop_table("widgets")
'''

SECOND = '''
"""widget colour"""
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.add_column(sa.Column("colour", sa.String(20), nullable=True))


def downgrade() -> None:
    {downgrade}
'''

GOOD_DOWN = 'with op.batch_alter_table("widgets") as batch:\n        batch.drop_column("colour")'


def write_migrations(root: Path, *, pause: float = 0.0, downgrade: str = GOOD_DOWN) -> Path:
    """A migrations directory with revisions a1 (widgets) and b2 (widgets.colour)."""
    location = root / "migrations"
    assert main(["-d", str(location), "init"]) == 0
    pause_code = f"import time; time.sleep({pause})" if pause else "pass"
    (location / "versions" / "a1_widgets.py").write_text(FIRST.replace("{pause}", pause_code))
    (location / "versions" / "b2_colour.py").write_text(SECOND.replace("{downgrade}", downgrade))
    return location


async def test_upgrade_status_and_downgrade(fresh_url: str, tmp_path: Path) -> None:
    """upgrade('head') applies every revision, status() says at head, downgrade goes back."""
    location = write_migrations(tmp_path)
    db = DatabaseManager(fresh_url)
    try:
        migrations = MigrationManager(db, location)
        before = await migrations.status()
        assert before == MigrationStatus(current=(), heads=("b2",), at_head=False)
        state = await migrations.upgrade("head")
        assert state == MigrationStatus(current=("b2",), heads=("b2",), at_head=True)
        assert await db.execute_query("select n from migration_runs") == [{"n": 1}]
        assert (await migrations.run_migrations("head")).at_head  # the original name; a no-op
        assert await db.execute_query("select n from migration_runs") == [{"n": 1}]
        health = await db.health()
        assert health.migrations is not None
        assert health.migrations.at_head
        down = await migrations.downgrade("a1")
        assert down.current == ("a1",)
        assert not (await db.health()).ok  # not at head: /readyz should say so
    finally:
        await db.shutdown()


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A MigrationManager on a directory without env.py says to run maestro-db init."""
    db = DatabaseManager(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(MigrationError, match="maestro-db init"):
        MigrationManager(db, tmp_path / "nowhere").sync.status()


@pytest.mark.slow
def test_three_processes_upgrade_once(pg_url: str, tmp_path: Path) -> None:
    """Three processes calling upgrade('head') at once on PostgreSQL: exactly one migrates."""
    location = write_migrations(tmp_path, pause=0.5)
    code = textwrap.dedent(
        """
        import asyncio, sys
        from maestro_core_db import DatabaseManager, MigrationManager

        async def run() -> None:
            db = DatabaseManager(sys.argv[1])
            migrations = MigrationManager(db, sys.argv[2])
            print("ready", flush=True)
            sys.stdin.readline()  # start together
            state = await migrations.upgrade("head")
            await db.shutdown()
            print(state.at_head)

        asyncio.run(run())
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url, str(location)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    outputs = [p.communicate("go\n", timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["True", "True", "True"]
    db = DatabaseManager(pg_url)
    assert db.sync.execute_query("select count(*) as n from migration_runs") == [{"n": 1}]
    db.sync.shutdown()


def test_three_runners_at_once_migrate_once(fresh_url: str, tmp_path: Path) -> None:
    """Three managers (threads) calling upgrade('head') at once: the lock lets one migrate."""
    import threading

    location = write_migrations(tmp_path, pause=0.2)
    managers = [DatabaseManager(fresh_url) for _ in range(3)]
    barrier = threading.Barrier(3)
    states: list[MigrationStatus] = []
    errors: list[BaseException] = []

    def run(db: DatabaseManager) -> None:
        migrations = MigrationManager(db, location)
        barrier.wait()
        try:
            states.append(migrations.sync.upgrade("head"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in managers:
        db.sync.shutdown()
    assert errors == []
    assert [s.at_head for s in states] == [True, True, True]
    db = DatabaseManager(fresh_url)
    assert db.sync.execute_query("select count(*) as n from migration_runs") == [{"n": 1}]
    db.sync.shutdown()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run maestro-db in-process; (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version; a bad command exits 2 with the error prefix."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"maestro-db {package_version('maestro-core-db')}"
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "maestro-db: error: " in capsys.readouterr().err


def test_cli_needs_a_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --url or MAESTRO_DB__URL the CLI exits 2 naming both."""
    monkeypatch.delenv("MAESTRO_DB__URL", raising=False)
    location = write_migrations(tmp_path)
    capsys.readouterr()
    code, _, err = run_cli(capsys, "-d", str(location), "current")
    assert code == 2
    assert err.startswith("maestro-db: error: ")
    assert "MAESTRO_DB__URL" in err


def test_cli_unreachable_database_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database that does not answer is an environment error: exit 3."""
    from maestro_testkit import free_port

    location = write_migrations(tmp_path)
    capsys.readouterr()
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    code, _, err = run_cli(capsys, "--url", url, "-d", str(location), "current")
    assert code == 3
    assert err.startswith("maestro-db: error: ")


def test_cli_upgrade_current_check(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """check exits 1 before upgrade and 0 after; current names the revision."""
    location = write_migrations(tmp_path)
    monkeypatch.setenv("MAESTRO_DB__URL", fresh_url)
    d = ["-d", str(location)]
    capsys.readouterr()
    code, out, _ = run_cli(capsys, *d, "check")
    assert (code, "not at head" in out) == (1, True)
    assert run_cli(capsys, *d, "upgrade")[0] == 0
    code, out, _ = run_cli(capsys, *d, "current")
    assert (code, out.strip()) == (0, "b2 (head)")
    assert run_cli(capsys, *d, "check")[0] == 0
    assert run_cli(capsys, *d, "downgrade", "base")[0] == 0
    assert run_cli(capsys, *d, "current")[1].strip() == "base"


def test_cli_check_finds_model_drift_and_autogenerates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """check exits 1 when the models differ; revision --autogenerate writes the fix."""
    (tmp_path / "drift_models.py").write_text(
        textwrap.dedent(
            """
            import sqlalchemy as sa

            metadata = sa.MetaData()
            widgets = sa.Table(
                "widgets", metadata,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("name", sa.String(50), nullable=False),
                sa.Column("colour", sa.String(20), nullable=True),
                sa.Column("size", sa.Integer, nullable=True),
            )
            migration_runs = sa.Table(
                "migration_runs", metadata, sa.Column("n", sa.Integer, nullable=False)
            )
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    location = write_migrations(tmp_path)
    monkeypatch.setenv("MAESTRO_DB__URL", f"sqlite:///{tmp_path / 'drift.db'}")
    d = ["-d", str(location), "--models", "drift_models:metadata"]
    capsys.readouterr()
    assert run_cli(capsys, *d, "upgrade")[0] == 0
    code, out, _ = run_cli(capsys, *d, "check")
    assert code == 1
    assert "size" in out
    code, out, _ = run_cli(capsys, *d, "revision", "--autogenerate", "-m", "size")
    assert code == 0
    assert "created revision" in out
    assert run_cli(capsys, *d, "upgrade")[0] == 0
    assert run_cli(capsys, *d, "check")[0] == 0


def test_cli_roundtrip_passes_on_good_migrations(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """roundtrip: each revision up, down, up with identical reflected schemas -> exit 0."""
    location = write_migrations(tmp_path)
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "--url", fresh_url, "-d", str(location), "roundtrip")
    assert code == 0, out
    assert "2 revision(s)" in out


def test_cli_roundtrip_names_what_a_bad_downgrade_leaves(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A downgrade that forgets to drop a column makes roundtrip exit 1 naming it."""
    location = write_migrations(tmp_path, downgrade="pass")
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "--url", fresh_url, "-d", str(location), "roundtrip")
    assert code == 1
    assert "b2 downgrade does not restore the schema: column widgets.colour is left over" in out
