"""SQLite storage: the guide's API, attempts, validation, concurrency, schema and retention."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import threading
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from maestro_test_result_aggregator import (
    ConfigurationError,
    InvalidResultError,
    NotAStoreError,
    ResultStatus,
    SchemaVersionError,
    StoreError,
    TestResult,
    TestResultAggregator,
)
from maestro_test_result_aggregator._schema import MIGRATIONS, Migration

from .conftest import DATA, Clock


def test_guide_flow_stores_and_summarises(agg: TestResultAggregator) -> None:
    """store_result with the guide's keywords is visible in the category query and the summary."""
    agg.store_result(
        test_id="test_login",
        orchestration_id="orch_001",
        category="auth_tests",
        status=ResultStatus.PASSED,
        duration=1.23,
        metadata={"browser": "chrome", "env": "staging"},
    )
    results = agg.get_results_by_category("auth_tests")
    assert [r.test_id for r in results] == ["test_login"]
    assert results[0].metadata == {"browser": "chrome", "env": "staging"}
    assert results[0].duration == 1.23
    summary = agg.get_summary(orchestration_id="orch_001")
    assert (summary["total"], summary["passed"], summary["failed"]) == (1, 1, 0)
    assert summary["pass_rate"] == 1.0


def test_store_result_returns_the_stored_record(agg: TestResultAggregator, clock: Clock) -> None:
    """The returned TestResult carries the attempt number, raw status and UTC timestamp."""
    stored = agg.store_result("t", "o", "c", "FAIL", 0.5, None, message="boom")
    assert stored.status is ResultStatus.FAILED
    assert stored.raw_status == "FAIL"
    assert stored.attempt == 1
    assert stored.is_final
    assert stored.recorded_at == clock.now
    assert agg.get_results("o") == [stored]


def test_a_retried_test_is_one_test_with_two_attempts(agg: TestResultAggregator) -> None:
    """Failed then passed in one run counts once (passed, flaky) with both attempts kept."""
    agg.store_result("t1", "run", "c", ResultStatus.FAILED, 1.0, {})
    second = agg.store_result("t1", "run", "c", ResultStatus.PASSED, 2.0, {})
    agg.store_result("t2", "run", "c", ResultStatus.PASSED, 1.0, {})
    assert second.attempt == 2
    summary = agg.get_summary("run")
    assert summary["total"] == 2
    assert summary["passed"] == 2
    assert summary["failed"] == 0
    assert summary["attempts"] == 3
    assert summary["retried"] == 1
    assert summary["flaky"] == 1
    assert summary["duration"] == 4.0
    history = agg.get_results("run", include_retries=True)
    assert [(r.test_id, r.attempt, r.is_final) for r in history] == [
        ("t1", 1, False),
        ("t1", 2, True),
        ("t2", 1, True),
    ]


def test_summary_counts_every_status(agg: TestResultAggregator) -> None:
    """Each status has its own count and the pass rate ignores skipped and cancelled."""
    for i, status in enumerate(ResultStatus):
        agg.store_result(f"t{i}", "o", "c", status, 0.1)
    s = agg.get_summary("o")
    assert all(s[k] == 1 for k in ("passed", "failed", "error", "skipped", "timeout", "cancelled"))
    assert s["total"] == 6
    assert s["pass_rate"] == pytest.approx(1 / 4)


def test_summary_of_an_unknown_run_is_all_zero(agg: TestResultAggregator) -> None:
    """An orchestration with no results has zero counts and no pass rate."""
    s = agg.get_summary("nothing")
    assert s["total"] == 0
    assert s["pass_rate"] is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_id": ""}, "test_id"),
        ({"test_id": "   "}, "test_id"),
        ({"orchestration_id": ""}, "orchestration_id"),
        ({"category": ""}, "category"),
        ({"duration": -1}, "negative"),
        ({"duration": math.nan}, "finite"),
        ({"status": "sorta"}, "unknown status"),
        ({"status": 3}, "status"),
        ({"metadata": {"k": {1, 2}}}, "JSON"),
        ({"metadata": ["not", "a", "dict"]}, "mapping"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_stored(
    agg: TestResultAggregator, kwargs: dict[str, Any], match: str
) -> None:
    """Empty ids, bad durations, unknown statuses and non-JSON metadata raise and store nothing."""
    good: dict[str, Any] = {
        "test_id": "t",
        "orchestration_id": "o",
        "category": "c",
        "status": "passed",
        "duration": 1.0,
        "metadata": {},
    }
    with pytest.raises(InvalidResultError, match=match):
        agg.store_result(**{**good, **kwargs})
    assert agg.get_summary("o")["total"] == 0


def test_bulk_store_is_all_or_nothing(agg: TestResultAggregator) -> None:
    """One bad item in store_results stores nothing and the error names the item."""
    items: list[dict[str, Any]] = [
        {"test_id": f"t{i}", "status": "passed", "duration": 0.1} for i in range(5)
    ]
    items.append({"test_id": "bad", "status": "passed", "duration": -2})
    with pytest.raises(InvalidResultError, match=r"result #5 \('bad'\)"):
        agg.store_results(items, orchestration_id="o", category="c")
    assert agg.get_summary("o")["total"] == 0
    assert agg.store_results(items[:5], orchestration_id="o", category="c") == 5
    assert agg.get_summary("o")["passed"] == 5


def test_bulk_store_accepts_test_results_and_orders_attempts(agg: TestResultAggregator) -> None:
    """TestResult items and mappings mix; repeats of a test in one batch become attempts."""
    first = TestResult("x", "o", "c", ResultStatus.FAILED, 1.0)
    batch: list[TestResult | dict[str, Any]] = [
        first,
        {
            "test_id": "x",
            "orchestration_id": "o",
            "category": "c",
            "status": "passed",
            "duration": 1,
        },
    ]
    agg.store_results(batch)
    rows = agg.get_results("o", include_retries=True)
    assert [(r.attempt, r.status, r.is_final) for r in rows] == [
        (1, ResultStatus.FAILED, False),
        (2, ResultStatus.PASSED, True),
    ]


def test_bulk_store_rejects_unknown_fields(agg: TestResultAggregator) -> None:
    """A mapping with a misspelt field is refused instead of silently dropping it."""
    with pytest.raises(InvalidResultError, match="unknown fields: durration"):
        agg.store_results(
            [{"test_id": "t", "status": "passed", "durration": 1}],
            orchestration_id="o",
            category="c",
        )


def test_store_uses_wal_and_a_busy_timeout(db_path: Path) -> None:
    """The SQLite file is in WAL mode so readers never block the writer."""
    with TestResultAggregator(db_path=db_path) as agg:
        agg.store_result("t", "o", "c", "passed", 1)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_concurrent_threads_lose_no_write(db_path: Path) -> None:
    """Eight threads storing into one store through one aggregator keep every result."""
    agg = TestResultAggregator(db_path=db_path)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                agg.store_result(f"t{n}-{i}", "o", "c", "passed", 0.01)
            agg.store_results(
                [{"test_id": f"b{n}-{i}", "status": "failed", "duration": 1} for i in range(50)],
                orchestration_id="o",
                category="c",
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = agg.get_summary("o")
    assert (s["passed"], s["failed"]) == (400, 400)
    agg.close()


_WRITER = """
import sys
from maestro_test_result_aggregator import TestResultAggregator
path, n = sys.argv[1], sys.argv[2]
with TestResultAggregator(db_path=path) as agg:
    for i in range(40):
        agg.store_result(f"p{n}-{i}", "o", "c", "passed", 0.01)
        agg.store_result("shared", "o", "c", "failed", 0.01)
"""


def test_concurrent_processes_lose_no_write(db_path: Path) -> None:
    """Four processes writing the same file (and retrying one shared test) lose nothing."""
    TestResultAggregator(db_path=db_path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(db_path), str(n)]) for n in range(4)
    ]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    with TestResultAggregator(db_path=db_path) as agg:
        s = agg.get_summary("o")
        assert s["passed"] == 160
        assert s["failed"] == 1
        shared = [r for r in agg.get_results("o", include_retries=True) if r.test_id == "shared"]
        assert sorted(r.attempt for r in shared) == list(range(1, 161))
        assert sum(r.is_final for r in shared) == 1


def test_a_file_that_is_not_a_database_is_named_in_the_error(tmp_path: Path) -> None:
    """Opening a random file raises NotAStoreError naming the file."""
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NotAStoreError, match=r"notes\.db"):
        TestResultAggregator(db_path=bad)


def test_a_corrupt_database_is_named_in_the_error(tmp_path: Path) -> None:
    """A store whose pages are damaged raises NotAStoreError naming the file."""
    path = tmp_path / "store.db"
    with TestResultAggregator(db_path=path) as agg:
        agg.store_results(
            [{"test_id": f"t{i}", "status": "passed", "duration": 1} for i in range(500)],
            orchestration_id="o",
            category="c",
        )
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[:100] = b"\x00" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(NotAStoreError, match=r"store\.db"):
        TestResultAggregator(db_path=path)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    """A SQLite file with foreign tables and no schema table is not taken over."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAStoreError, match=r"app\.db.*users"):
        TestResultAggregator(db_path=path)


def test_a_directory_or_missing_parent_is_a_clear_error(tmp_path: Path) -> None:
    """db_path pointing at a directory or into a missing directory raises StoreError."""
    with pytest.raises(NotAStoreError, match="directory"):
        TestResultAggregator(db_path=tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        TestResultAggregator(db_path=tmp_path / "nope" / "r.db")


def test_exactly_one_of_path_and_url(tmp_path: Path) -> None:
    """Giving neither or both of db_path and db_url is refused; other URL schemes too."""
    with pytest.raises(StoreError, match="exactly one"):
        TestResultAggregator()
    with pytest.raises(StoreError, match="exactly one"):
        TestResultAggregator(db_path=tmp_path / "a.db", db_url="postgresql://x/y")
    with pytest.raises(StoreError, match="postgresql://"):
        TestResultAggregator(db_url="mysql://host/db")


def test_sqlite_url_opens_a_file(tmp_path: Path) -> None:
    """db_url='sqlite:///path' is the same store as db_path=path."""
    with TestResultAggregator(db_url=f"sqlite:///{tmp_path / 'u.db'}") as agg:
        agg.store_result("t", "o", "c", "passed", 1)
    with TestResultAggregator(db_path=tmp_path / "u.db") as agg:
        assert agg.get_summary("o")["total"] == 1


def test_a_store_from_an_older_version_is_migrated_keeping_data(tmp_path: Path) -> None:
    """Opening a 1.0 store with a newer migration list applies it and keeps every result."""
    path = tmp_path / "old.db"
    with TestResultAggregator(db_path=path) as agg:
        agg.store_result("t", "o", "c", "passed", 1)
    newer = (
        *MIGRATIONS,
        Migration(
            MIGRATIONS[-1].version + 1,
            "add an owner column",
            ("ALTER TABLE maestro_results ADD COLUMN owner TEXT NOT NULL DEFAULT ''",),
        ),
    )
    with TestResultAggregator(db_path=path, _migrations=newer) as agg:
        assert agg.get_summary("o")["passed"] == 1
        agg.store_result("t2", "o", "c", "failed", 1)
    conn = sqlite3.connect(path)
    versions = [r[0] for r in conn.execute("SELECT version FROM maestro_results_schema ORDER BY 1")]
    columns = [r[1] for r in conn.execute("PRAGMA table_info(maestro_results)")]
    conn.close()
    assert versions == [*(m.version for m in MIGRATIONS), MIGRATIONS[-1].version + 1]
    assert "owner" in columns


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    """A store whose schema version is unknown asks the user to upgrade."""
    path = tmp_path / "new.db"
    TestResultAggregator(db_path=path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO maestro_results_schema VALUES (99, 'x', '9.9')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="upgrade"):
        TestResultAggregator(db_path=path)


def test_indexes_serve_summary_and_trend_queries(agg: TestResultAggregator) -> None:
    """The summary and trends queries use an index instead of scanning the table."""
    backend = agg._store.backend
    plan = backend.query(
        "EXPLAIN QUERY PLAN SELECT status, COUNT(*) FROM maestro_results WHERE orchestration_id "
        "= ? AND is_final = 1 GROUP BY status",
        ("o",),
    )
    assert "USING INDEX" in " ".join(str(r) for r in plan)
    plan = backend.query(
        "EXPLAIN QUERY PLAN SELECT substr(recorded_at, 1, 10), status, duration FROM "
        "maestro_results WHERE category = ? AND recorded_at >= ? AND is_final = 1 "
        "ORDER BY recorded_at",
        ("c", "2026"),
    )
    text = " ".join(str(r) for r in plan)
    assert "COVERING INDEX ix_maestro_results_category_time" in text
    assert "TEMP B-TREE" not in text


def test_purge_deletes_old_results_only(agg: TestResultAggregator, clock: Clock) -> None:
    """purge(older_than=...) removes results older than that age and keeps the rest."""
    agg.store_result("old", "o1", "c", "passed", 1)
    clock.advance(days=40)
    agg.store_result("new", "o2", "c", "passed", 1)
    assert agg.purge(older_than=timedelta(days=30)) == 1
    assert [r.test_id for r in agg.get_results_by_category("c")] == ["new"]
    assert agg.get_summary("o1")["total"] == 0
    clock.advance(seconds=90)
    assert agg.purge(older_than=120) == 0  # seconds: "new" is 90 s old
    assert agg.purge(older_than=60) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"older_than": -1}, "finite number of seconds >= 0"),
        ({"older_than": float("nan")}, "finite number of seconds >= 0"),
        ({"older_than": float("inf")}, "finite number of seconds >= 0"),
        ({"older_than": timedelta(days=-1)}, "finite number of seconds >= 0"),
        ({"older_than": "90d"}, "seconds .a number. or a timedelta"),
        ({}, "needs older_than="),
        ({"older_than": 1, "older_than_days": 1}, "not both"),
    ],
)
def test_purge_refuses_bad_ages(
    agg: TestResultAggregator, kwargs: dict[str, object], message: str
) -> None:
    """A bad age is a ConfigurationError naming it, and nothing is deleted."""
    agg.store_result("kept", "o1", "c", "passed", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ConfigurationError, match=message):
            agg.purge(**kwargs)  # type: ignore[arg-type]
    assert [r.test_id for r in agg.get_results_by_category("c")] == ["kept"]


def test_purge_older_than_days_is_a_deprecated_alias(
    agg: TestResultAggregator, clock: Clock
) -> None:
    """purge(N) still means N days, and warns once."""
    agg.store_result("old", "o1", "c", "passed", 1)
    clock.advance(days=40)
    with pytest.warns(DeprecationWarning, match=r"purge\(older_than="):
        assert agg.purge(30) == 1


def test_category_query_filters(agg: TestResultAggregator, clock: Clock) -> None:
    """get_results_by_category filters by run, age and retries, oldest first."""
    agg.store_result("a", "o1", "c", "failed", 1)
    agg.store_result("a", "o1", "c", "passed", 1)
    clock.advance(days=10)
    agg.store_result("b", "o2", "c", "passed", 1)
    agg.store_result("z", "o2", "other", "passed", 1)
    assert [r.test_id for r in agg.get_results_by_category("c")] == ["a", "b"]
    assert len(agg.get_results_by_category("c", include_retries=True)) == 3
    assert [r.test_id for r in agg.get_results_by_category("c", days=5)] == ["b"]
    assert [r.test_id for r in agg.get_results_by_category("c", orchestration_id="o1")] == ["a"]
    assert len(agg.get_results_by_category("c", limit=1)) == 1
    assert [r.attempt for r in agg.get_test_history("a")] == [1, 2]


def test_closed_store_refuses_work(db_path: Path) -> None:
    """Using an aggregator after close() raises StoreError."""
    agg = TestResultAggregator(db_path=db_path)
    agg.close()
    with pytest.raises(StoreError, match="closed"):
        agg.get_summary("o")


async def test_async_callers_get_the_same_api(agg: TestResultAggregator) -> None:
    """The a-prefixed methods store and summarise from async code without blocking the loop."""
    stored = await agg.astore_result("t", "o", "c", "failed", 1.0, message="m")
    assert stored.message == "m"
    assert (
        await agg.astore_results(
            [{"test_id": "u", "status": "passed", "duration": 1}],
            orchestration_id="o",
            category="c",
        )
        == 1
    )
    imported = await agg.aimport_file(DATA / "pytest-json-report.json", orchestration_id="o2")
    assert imported.tests == 6
    summary = await agg.aget_summary("o")
    assert (summary["total"], summary["failed"]) == (2, 1)


def test_close_closes_the_connections_other_threads_opened(db_path: Path) -> None:
    """Each thread gets its own SQLite connection; close() closes all of them, not only its own."""
    agg = TestResultAggregator(db_path=db_path)
    workers = [
        threading.Thread(target=agg.store_result, args=(f"t{n}", "o", "c", "passed", 0.01))
        for n in range(3)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    opened = list(agg._store.backend._all)  # type: ignore[attr-defined]
    assert len(opened) == 4  # the opening thread's, then one per worker
    agg.close()
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("select 1")
