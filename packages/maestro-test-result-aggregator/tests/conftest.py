"""Shared fixtures: the real report files, stores on SQLite and PostgreSQL, an injectable clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from maestro_test_result_aggregator import TestResultAggregator
from maestro_testkit import require_service

DATA = Path(__file__).resolve().parent / "data"
PG_ADMIN_URL = os.environ.get(
    "MAESTRO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def shared_fixtures(kind: str) -> list[Path]:
    """The real report files of one kind (junit or ctrf) kept in tests/data/<kind>."""
    folder = DATA / kind
    files = sorted(p for p in folder.glob("*") if p.suffix in (".xml", ".json"))
    assert files, f"{folder} holds no report files"
    return files


class Clock:
    """A settable UTC clock for the aggregator (no sleeping in tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """A fixed clock at 2026-03-15 12:00 UTC."""
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite store path."""
    return tmp_path / "results.db"


@pytest.fixture
def agg(db_path: Path, clock: Clock) -> Iterator[TestResultAggregator]:
    """An aggregator on a fresh SQLite file with the fixed clock."""
    with TestResultAggregator(db_path=db_path, clock=clock) as aggregator:
        yield aggregator


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL admin URL, or a skip (a failure on CI) when the server is unreachable."""
    import psycopg

    require_service("postgres")
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
        pass
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """A uniquely named database for this test session, dropped at the end."""
    import psycopg

    name = f"maestro_results_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, so each test starts from an empty store."""
    import psycopg

    schema = f"s_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
