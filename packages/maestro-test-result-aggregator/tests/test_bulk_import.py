"""The SQLite bulk path of import_file: whole batches per statement, stored by a writer thread."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from maestro_test_result_aggregator import ReportFileError, TestResultAggregator, _importers, _store
from maestro_test_result_aggregator._schema import MIGRATIONS, RESULT_COLUMNS
from maestro_test_result_aggregator._store import ImportBatches, Writer, statement_sizes

_TEXTS = [
    "plain",
    'quotes " and \\ backslashes / slashes',
    "tab\tnew\nline\rcarriage \x01\x1f controls",
    "unicode é ß 漢字 and an emoji 🎉 and \u2028 separators",
    "",
]


def _report(path: Path, cases: int) -> Path:
    """Passes, failures with odd text, output, skips, a TestNG retry and a repeat after a pass."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<testsuites><testsuite name="s">\n')
        for i in range(cases):
            text = _TEXTS[i % len(_TEXTS)].replace("&", "&amp;").replace("<", "&lt;")
            text = text.replace("\x01", "").replace("\x1f", "")  # not allowed in XML 1.0
            attr = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
            attr = attr.replace("\r", "&#13;")
            head = f'<testcase classname="pkg.C{i % 3}" name="t{i}[{text[:3]}]" time="{i / 7:.6f}"'
            if i % 5 == 1:
                body = f'<failure message="{attr}" type="E">{text}</failure>'
            elif i % 5 == 2:
                body = f"<system-out>{text * 3}</system-out>"
            elif i % 5 == 3:
                body = f'<skipped message="{attr}"/>'
            else:
                body = ""
            fh.write(f"{head}>{body}</testcase>\n" if body else f"{head}/>\n")
            if i % 11 == 1:  # failed, then rerun (TestNG style): attempt 2 of the same test
                fh.write(f"{head}/>\n")
            if i % 13 == 0:  # passed, then run again: another invocation (#2)
                fh.write(f"{head}/>\n")
        fh.write("</testsuite></testsuites>\n")
    return path


def _rows(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            f"SELECT id, {', '.join(RESULT_COLUMNS)} FROM maestro_results ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def _import_twice(db: Path, report: Path, *, bulk: bool) -> list[tuple[Any, ...]]:
    with TestResultAggregator(db_path=db) as agg:
        assert agg._store.backend.json_batches  # type: ignore[attr-defined]
        agg._store.backend.json_batches = bulk  # type: ignore[attr-defined]
        agg.import_file(report, orchestration_id="run", category="c", commit="abc")
        agg.import_file(report, orchestration_id="run", category="c", commit="abc")
        agg.import_file(report, orchestration_id="other", category="c", branch="main")
    return _rows(db)


@pytest.mark.parametrize("batch_size", [2, 7, 5_000])
def test_bulk_import_stores_the_same_rows_as_the_row_by_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    """Same ids, attempts, is_final and values (text, floats) with and without the bulk path,
    for retries inside a batch, across batches and into a run that already has rows."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", batch_size)
    report = _report(tmp_path / "r.xml", 60)
    clock_free = {"recorded_at"}  # each import reads the clock
    stamp = 1 + RESULT_COLUMNS.index("recorded_at")
    bulk = _import_twice(tmp_path / "bulk.db", report, bulk=True)
    rows = _import_twice(tmp_path / "rows.db", report, bulk=False)
    assert len(bulk) == len(rows) > 3 * 60
    for got, want in zip(bulk, rows, strict=True):
        assert got[:stamp] + got[stamp + 1 :] == want[:stamp] + want[stamp + 1 :], clock_free
    attempts = {(r[1], r[2], r[3]): r[4] for r in bulk}
    finals = [key for key, final in attempts.items() if final]
    assert len(finals) == len({(run, test) for run, test, _ in attempts})  # one final each
    assert max(r[3] for r in bulk) == 4  # a TestNG retry imported twice: attempts 1-4


def test_bulk_batches_are_stored_by_another_thread_while_parsing_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store work of import_file runs on a writer thread, not the importing one."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 10)
    threads: set[str] = set()
    original = ImportBatches.store

    def store(self: ImportBatches, *args: Any) -> None:
        threads.add(threading.current_thread().name)
        original(self, *args)

    monkeypatch.setattr(ImportBatches, "store", store)
    report = _report(tmp_path / "r.xml", 100)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        result = agg.import_file(report, orchestration_id="run")
        assert agg.get_summary("run")["total"] == result.tests
    assert threads == {"maestro-import-writer"}
    assert not [t for t in threading.enumerate() if t.name == "maestro-import-writer"]


def test_malformed_tail_after_queued_batches_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches already handed to the writer are rolled back with the rest; no thread is left."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 10)
    path = tmp_path / "r.xml"
    text = _report(path, 300).read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 200] + "<testcase <<", encoding="utf-8")
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        with pytest.raises(ReportFileError, match="malformed XML"):
            agg.import_file(path, orchestration_id="run")
        assert agg.get_summary("run")["total"] == 0
        result = agg.import_file(_report(tmp_path / "ok.xml", 5), orchestration_id="run")
        assert agg.get_summary("run")["total"] == result.tests == 6  # t0 runs twice
    assert not [t for t in threading.enumerate() if t.name == "maestro-import-writer"]


def test_a_writer_error_reaches_the_importer_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in the writer thread is raised by import_file; the transaction rolls back."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 10)
    original = ImportBatches.store
    calls = 0

    def store(self: ImportBatches, *args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        original(self, *args)

    monkeypatch.setattr(ImportBatches, "store", store)
    with TestResultAggregator(db_path=tmp_path / "s.db") as agg:
        with pytest.raises(sqlite3.OperationalError, match="simulated"):
            agg.import_file(_report(tmp_path / "r.xml", 200), orchestration_id="run")
        assert agg.get_summary("run")["total"] == 0


def test_writer_runs_work_in_order_and_skips_work_after_an_error() -> None:
    """Writer: order kept, first error raised at submit or finish, later work skipped."""
    done: list[int] = []
    writer = Writer()
    for i in range(20):
        writer.submit(functools.partial(done.append, i))
    writer.finish()
    assert done == list(range(20))

    def boom() -> None:
        raise ValueError("boom")

    writer = Writer()
    writer.submit(boom)
    writer.submit(lambda: done.append(99))
    with pytest.raises(ValueError, match="boom"):
        writer.finish()
    assert 99 not in done


def test_the_trend_index_orders_one_time_by_id(tmp_path: Path) -> None:
    """Rows of one import (same category and time) sit in id order in the trend index, so a
    bulk import appends to it; a store made by schema 1 gets the new index and keeps its rows."""
    old = tmp_path / "v1.db"
    with TestResultAggregator(db_path=old, _migrations=MIGRATIONS[:1]) as agg:
        agg.store_result("t", "o", "c", "passed", 1)
    for path in (old, tmp_path / "new.db"):
        with TestResultAggregator(db_path=path) as agg:
            agg.store_result("u", "o", "c", "failed", 2)
            assert agg.get_summary("o")["total"] == (2 if path == old else 1)
        conn = sqlite3.connect(path)
        columns = [
            r[2] for r in conn.execute("PRAGMA index_info(ix_maestro_results_category_time)")
        ]
        versions = [r[0] for r in conn.execute("SELECT version FROM maestro_results_schema")]
        conn.close()
        assert columns == ["category", "recorded_at", "id", "is_final", "status", "duration"]
        assert versions == [1, 2]


def test_a_new_store_has_8k_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """New stores use 8 KiB pages (cheaper bulk inserts); an existing database is unchanged."""
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("VACUUM")
    conn.close()
    for path, size in ((tmp_path / "new.db", 8192), (old, 4096)):
        with TestResultAggregator(db_path=path) as agg:
            agg.store_result("t", "o", "c", "passed", 1)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA page_size").fetchone()[0] == size
        conn.close()


def test_a_test_id_met_again_in_a_later_batch_is_numbered_like_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two testcases the parser keeps apart but that share a test_id ('a::b' + 'c' and 'a' +
    'b::c'), in different batches: the batch of new tests is refused by the unique index and
    stored the general way, as attempts 1 and 2, the same as the row-by-row path."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 2)
    report = tmp_path / "r.xml"
    report.write_text(
        "<testsuite name='s'>"
        '<testcase classname="a::b" name="c"/><testcase classname="x" name="1"/>'
        '<testcase classname="x" name="2"/><testcase classname="a" name="b::c"/>'
        '<testcase classname="x" name="3"/><testcase classname="x" name="4"/>'
        "</testsuite>"
    )
    got = []
    for bulk in (True, False):
        db = tmp_path / f"{bulk}.db"
        with TestResultAggregator(db_path=db) as agg:
            agg._store.backend.json_batches = bulk  # type: ignore[attr-defined]
            agg.import_file(report, orchestration_id="run", category="c")
        got.append([(r[2], r[3], r[4], r[14]) for r in _rows(db)])
    assert got[0] == got[1]
    assert got[0][0] == ("a::b::c", 1, 0, "a::b")
    assert got[0][3] == ("a::b::c", 2, 1, "a")


def test_statement_sizes_are_the_most_then_powers_of_two() -> None:
    """A batch goes in as full statements, then powers of two: few distinct statements."""
    assert statement_sizes(4096, 4096) == [4096]
    assert statement_sizes(5000, 2048) == [2048, 2048, 512, 256, 128, 8]
    assert statement_sizes(7, 4) == [4, 2, 1]
    assert statement_sizes(0, 4) == []


@pytest.mark.parametrize("limit", [None, 40])
def test_a_batch_over_several_statements_is_refused_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int | None
) -> None:
    """A batch of new tests split over several statements (by the row cap, or by a small
    limit on bound values) whose repeat of an earlier batch's test is in its last statement:
    the earlier statements are undone too, so the rows match the row-by-row path."""
    monkeypatch.setattr(_importers, "BATCH_SIZE", 7)
    if limit is None:
        monkeypatch.setattr(_store, "MAX_STATEMENT_ROWS", 2)
    report = tmp_path / "r.xml"
    cases = [f'<testcase classname="x" name="{i}"/>' for i in range(12)]
    cases[12 - 1] = '<testcase classname="a" name="b::c"/>'  # the 2nd batch's last row
    report.write_text(
        "<testsuite name='s'>"
        + '<testcase classname="a::b" name="c"/>'
        + "".join(cases)
        + "</testsuite>"
    )
    got = []
    for bulk in (True, False):
        db = tmp_path / f"{bulk}.db"
        with TestResultAggregator(db_path=db) as agg:
            agg._store.backend.json_batches = bulk  # type: ignore[attr-defined]
            if limit is not None:
                agg._store.backend._conn().setlimit(  # type: ignore[attr-defined]
                    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit
                )
            agg.import_file(report, orchestration_id="run", category="c")
        got.append([(r[0], r[2], r[3], r[4], r[14]) for r in _rows(db)])
    assert got[0] == got[1]
    assert len(got[0]) == 13
    assert [r[1:] for r in got[0] if r[1] == "a::b::c"] == [
        ("a::b::c", 1, 0, "a::b"),
        ("a::b::c", 2, 1, "a"),
    ]
