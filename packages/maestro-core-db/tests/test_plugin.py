"""The pytest plugin: inert until configured; then db, db_session(_sync) rolled back per test,
and fresh_database clones."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _pytest.fixtures import FixtureLookupError
from maestro_testkit import assert_light_import, require_service

INNER = """
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PBase(DeclarativeBase):
    pass


class Note(PBase):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


async def test_a_commit_inside_the_test(db_session):
    db_session.add(Note(id=1, body="a"))
    await db_session.commit()
    assert (await db_session.scalar(select(Note.body))) == "a"


async def test_b_the_commit_was_rolled_back(db_session):
    assert (await db_session.scalar(select(Note.body))) is None


def test_c_sync_commit(db_session_sync):
    db_session_sync.add(Note(id=2, body="b"))
    db_session_sync.commit()
    assert db_session_sync.scalar(select(Note.body)) == "b"


def test_d_sync_rolled_back(db_session_sync):
    assert db_session_sync.scalar(select(Note.body)) is None


def test_e_fresh_database_takes_ddl(fresh_database):
    fresh_database.sync.execute_query("create table extra (n integer)")
    assert fresh_database.sync.execute_query("select count(*) as n from notes") == [{"n": 0}]


def test_f_the_template_is_untouched(db):
    assert db.sync.execute_query("select count(*) as n from notes") == [{"n": 0}]
    names = db.sync.execute_query("select 1 as one")
    assert names == [{"one": 1}]
"""


def run_inner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on the inner test file in a fresh interpreter."""
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_TEST_DB__URL"}
    env["PYTHONPATH"] = str(tmp_path)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-W",
            "error",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            *args,
            str(tmp_path / "test_inner.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


def test_plugin_is_inert_without_a_url(request: pytest.FixtureRequest) -> None:
    """Unconfigured (this very session), the plugin registers no fixtures and loads no driver."""
    if os.environ.get("MAESTRO_TEST_DB__URL"):
        pytest.skip("MAESTRO_TEST_DB__URL is set: the plugin is configured in this session")
    assert request.config.pluginmanager.get_plugin("maestro_core_db_fixtures") is None
    with pytest.raises(FixtureLookupError):
        request.getfixturevalue("db_session")
    assert_light_import(
        "maestro_core_db.testing", ["alembic", "psycopg", "aiosqlite", "maestro_core_db._fixtures"]
    )


def test_sqlite_clone_copies_the_schema(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On SQLite the test database is a temporary file and a clone is a copy of it."""
    from maestro_core_db import DatabaseManager, _fixtures

    _fixtures.SETTINGS["url"] = "sqlite:///unused.db"
    try:
        template = DatabaseManager(_fixtures.new_database(tmp_path_factory))
        template.sync.execute_query("create table notes (n integer)")
        template.sync.shutdown()
        clone = DatabaseManager(_fixtures.new_database(tmp_path_factory, template=template))
        assert clone.sync.execute_query("select count(*) as n from notes") == [{"n": 0}]
        clone.sync.shutdown()
        assert clone.url != template.url
    finally:
        _fixtures.SETTINGS["url"] = None


@pytest.mark.slow
def test_plugin_fixtures_on_postgresql(tmp_path: Path) -> None:
    """On PostgreSQL: the same, fresh_database is a TEMPLATE clone, and nothing is left over."""
    url = require_service("postgres").url
    result = run_inner(tmp_path, "--db-url", url, "--db-models", "test_inner:PBase")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
