"""The PostgreSQL backend, for real, against the server on 127.0.0.1:5432."""

from __future__ import annotations

import threading

import pytest
from maestro_test_result_aggregator import (
    InvalidResultError,
    ResultStatus,
    SchemaVersionError,
    StoreUnavailableError,
    TestResultAggregator,
)
from maestro_test_result_aggregator._schema import MIGRATIONS, Migration

from .conftest import DATA, Clock

pytestmark = pytest.mark.service


def test_same_api_on_postgres(pg_url: str, clock: Clock) -> None:
    """store_result, retries, summary, queries, trends and flaky verdicts work on PostgreSQL."""
    with TestResultAggregator(db_url=pg_url, clock=clock) as agg:
        agg.store_result(
            test_id="test_login",
            orchestration_id="orch_001",
            category="auth_tests",
            status=ResultStatus.PASSED,
            duration=1.23,
            metadata={"browser": "chrome"},
        )
        agg.store_result("t2", "orch_001", "auth_tests", "failed", 0.5, message="assert x")
        agg.store_result("t2", "orch_001", "auth_tests", "passed", 0.4)
        summary = agg.get_summary("orch_001")
        assert (summary["total"], summary["passed"], summary["failed"], summary["flaky"]) == (
            2,
            2,
            0,
            1,
        )
        assert [r.test_id for r in agg.get_results_by_category("auth_tests")] == [
            "test_login",
            "t2",
        ]
        assert agg.get_results_by_category("auth_tests")[0].metadata == {"browser": "chrome"}
        assert agg.analyze_trends("auth_tests", 30).points[0].total == 2
        assert [v.test_id for v in agg.flaky_tests()] == ["t2"]
        assert "Test results orch_001" in agg.generate_report("orch_001").content


def test_bulk_and_import_are_atomic_on_postgres(pg_url: str) -> None:
    """A bad batch stores nothing; a file import stores everything in one transaction."""
    with TestResultAggregator(db_url=pg_url) as agg:
        with pytest.raises(InvalidResultError):
            agg.store_results(
                [
                    {"test_id": "a", "status": "passed", "duration": 1},
                    {"test_id": "b", "status": "nope", "duration": 1},
                ],
                orchestration_id="o",
                category="c",
            )
        assert agg.get_summary("o")["total"] == 0
        agg.import_file(DATA / "pytest-json-report.json", orchestration_id="o")
        assert agg.get_summary("o")["total"] == 6
        assert agg.purge(older_than=0) == 6


def test_concurrent_writers_on_postgres(pg_url: str) -> None:
    """Threads with their own connections lose no write and number retries without gaps."""
    agg = TestResultAggregator(db_url=pg_url)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                agg.store_result(f"t{n}-{i}", "o", "c", "passed", 0.1)
                agg.store_result("shared", "o", "c", "failed", 0.1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    shared = [
        r.attempt for r in agg.get_results("o", include_retries=True) if r.test_id == "shared"
    ]
    assert sorted(shared) == list(range(1, 81))
    assert agg.get_summary("o")["total"] == 81
    agg.close()


def test_migrations_on_postgres(pg_url: str) -> None:
    """A newer migration applies to an existing PostgreSQL store; an unknown version is refused."""
    with TestResultAggregator(db_url=pg_url) as agg:
        agg.store_result("t", "o", "c", "passed", 1)
    newer = (
        *MIGRATIONS,
        Migration(
            MIGRATIONS[-1].version + 1,
            "owner",
            ("ALTER TABLE maestro_results ADD COLUMN owner TEXT NOT NULL DEFAULT ''",),
        ),
    )
    with TestResultAggregator(db_url=pg_url, _migrations=newer) as agg:
        assert agg.get_summary("o")["total"] == 1
    with pytest.raises(SchemaVersionError):
        TestResultAggregator(db_url=pg_url)


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    """A refused connection raises StoreUnavailableError and the message hides the password."""
    with pytest.raises(StoreUnavailableError) as info:
        TestResultAggregator(db_url="postgresql://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(info.value)
    assert "***" in str(info.value)
    assert isinstance(info.value, ConnectionError)
