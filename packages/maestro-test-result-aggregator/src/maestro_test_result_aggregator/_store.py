"""Validation into rows, and the SQL the aggregator runs (identical on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from itertools import chain
from typing import Any

from ._backends import Backend, Row
from ._errors import InvalidResultError
from ._model import (
    MAX_LOG_CHARS,
    ResultStatus,
    TestResult,
    check_duration,
    check_text,
    dump_metadata,
    format_ts,
    parse_ts,
    truncate,
)
from ._schema import RESULT_COLUMNS, RESULTS, RUNS

_INSERT = (
    f"INSERT INTO {RESULTS} ({', '.join(RESULT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RESULT_COLUMNS)})"
)
#: ``insert_import``'s column order: ``import_rows``'s row, then run, attempt, is_final.
_IMPORT_COLUMNS = (
    "test_id",
    "category",
    "status",
    "raw_status",
    "duration",
    "recorded_at",
    "message",
    "trace",
    "metadata",
    "suite",
    "class_name",
    "name",
    "parameters",
    "commit_sha",
    "branch",
    "orchestration_id",
    "attempt",
    "is_final",
)
_INSERT_IMPORT = (
    f"INSERT INTO {RESULTS} ({', '.join(_IMPORT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _IMPORT_COLUMNS)})"
)
_UPSERT_RUN = (
    f"INSERT INTO {RUNS} (orchestration_id, created_at, commit_sha, branch) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (orchestration_id) DO UPDATE SET "
    f"commit_sha = CASE WHEN {RUNS}.commit_sha = '' THEN excluded.commit_sha "
    f"ELSE {RUNS}.commit_sha END, "
    f"branch = CASE WHEN {RUNS}.branch = '' THEN excluded.branch "
    f"ELSE {RUNS}.branch END"
)
_SELECT = f"SELECT {', '.join(RESULT_COLUMNS)} FROM {RESULTS}"


def _insert_json(repeats: bool) -> str:
    # One statement per batch: SQLite reads the rows from a JSON array of arrays (one per
    # row, ``import_values``'s order, plus the occurrence within the batch and whether it is
    # the test's last there when the batch repeats a test). The SELECT reads the results
    # table (the attempt subquery), so SQLite computes it into a transient table before the
    # first row goes in: the subquery sees only rows stored before this batch, and the rows
    # go in in array order.
    extra, final = (" + j.value->>11", "j.value->>12") if repeats else ("", "1")
    fields = ", ".join(
        ["j.value->>0", ":category", "j.value->>1", "j.value->>2", "j.value->>3", ":stamp"]
        + [f"j.value->>{i}" for i in range(4, 11)]
        + [":commit", ":branch", ":run"]
    )
    return (
        f"INSERT INTO {RESULTS} ({', '.join(_IMPORT_COLUMNS)}) SELECT {fields}, "
        f"COALESCE((SELECT MAX(r.attempt) FROM {RESULTS} AS r WHERE r.orchestration_id = :run "
        f"AND r.test_id = j.value->>0), 0) + 1{extra}, {final} FROM json_each(:payload) AS j"
    )


_INSERT_JSON = _insert_json(False)
_INSERT_JSON_REPEATS = _insert_json(True)
#: Values each row of ``_insert_new_sql`` binds: an ``import_values`` row.
_ROW_VALUES = 11
#: Rows per ``_insert_new_sql`` statement at most (a power of two; fewer when SQLite allows
#: fewer bound values): one statement per full batch of ``BATCH_SIZE`` attempts.
MAX_STATEMENT_ROWS = 4_096


@cache  # called with powers of two only, so a few statements at most
def _insert_new_sql(rows: int) -> str:
    # A batch of tests new to the run: every row is attempt 1 and final. The rows are bound
    # values of one multi-row VALUES (binding is a C loop; the statement then runs with the
    # GIL released), not a JSON array: SQLite parses a JSON row again for each ``->>``,
    # which cost about three quarters of the statement. No attempt subquery, so no
    # transient table either; a test stored earlier makes the unique index refuse it.
    # The run's own values are the first five parameters (the select list comes first).
    fields = ["column1", "?", "column2", "column3", "column4", "?"]
    fields += [f"column{i}" for i in range(5, _ROW_VALUES + 1)]
    fields += ["?", "?", "?", "1", "1"]
    row = f"({', '.join('?' * _ROW_VALUES)})"
    return (
        f"INSERT INTO {RESULTS} ({', '.join(_IMPORT_COLUMNS)}) SELECT {', '.join(fields)} "
        f"FROM (VALUES {', '.join([row] * rows)})"
    )


def statement_sizes(rows: int, most: int) -> list[int]:
    """Rows per ``_insert_new_sql`` statement for ``rows`` rows: ``most`` (a power of two) while
    that many remain, then the powers of two of the rest, so few distinct statements exist."""
    sizes = [most] * (rows // most)
    rest = rows % most
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


_RUN_HAS_ROWS = f"SELECT EXISTS (SELECT 1 FROM {RESULTS} WHERE orchestration_id = ?)"
#: After a batch: the earlier final attempt of every test the batch gave a new attempt is
#: no longer final. The scan covers the batch's rows only (ids after ``:before``); CROSS JOIN
#: keeps them the outer loop (the planner would otherwise walk every earlier row).
_RETIRE_FINALS = (
    f"UPDATE {RESULTS} SET is_final = 0 WHERE id IN (SELECT o.id FROM {RESULTS} AS n "
    f"CROSS JOIN {RESULTS} AS o ON o.orchestration_id = n.orchestration_id "
    "AND o.test_id = n.test_id "
    "WHERE n.id > :before AND n.attempt > 1 AND o.id <= :before AND o.is_final = 1)"
)
_ENCODE_BATCH = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, separators=(",", ":")
).encode
_PURGE_CHUNK = 5_000


@dataclass(slots=True)
class PendingResult:
    """A validated result waiting for its attempt number (assigned inside the transaction)."""

    orchestration_id: str
    test_id: str
    category: str
    status: str
    raw_status: str
    duration: float
    recorded_at: str
    message: str
    trace: str
    metadata: str
    suite: str
    class_name: str
    name: str
    parameters: str
    commit: str
    branch: str

    def to_result(self, attempt: int, is_final: bool) -> TestResult:
        """The ``TestResult`` this row becomes once stored."""
        return to_result(self.row(attempt, is_final))

    def row(self, attempt: int, is_final: bool) -> tuple[Any, ...]:
        """The insert parameters, in ``RESULT_COLUMNS`` order."""
        return (
            self.orchestration_id,
            self.test_id,
            attempt,
            int(is_final),
            self.category,
            self.status,
            self.raw_status,
            self.duration,
            self.recorded_at,
            self.message,
            self.trace,
            self.metadata,
            self.suite,
            self.class_name,
            self.name,
            self.parameters,
            self.commit,
            self.branch,
        )


def validate(  # noqa: PLR0917 - mirrors store_result's documented order
    test_id: object,
    orchestration_id: object,
    category: object,
    status: object,
    duration: object,
    metadata: object = None,
    *,
    raw_status: str | None = None,
    message: str | None = None,
    trace: str | None = None,
    recorded_at: datetime | None = None,
    suite: str | None = None,
    class_name: str | None = None,
    name: str | None = None,
    parameters: str | None = None,
    commit: str | None = None,
    branch: str | None = None,
    now: datetime | None = None,
) -> PendingResult:
    """Check one result and turn it into a ``PendingResult``; raise ``InvalidResultError``."""
    if isinstance(status, ResultStatus):
        normalised = status
        raw = raw_status if raw_status is not None else status.value
    elif isinstance(status, str):
        normalised = ResultStatus.parse(status)
        raw = raw_status if raw_status is not None else status
    else:
        raise InvalidResultError(
            f"status must be a ResultStatus or a string, not {type(status).__name__}"
        )
    moment = recorded_at or now or datetime.now(UTC)
    if not isinstance(moment, datetime):
        raise InvalidResultError(f"recorded_at must be a datetime, not {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise InvalidResultError(
            "recorded_at is a naive datetime; attach a timezone, e.g. datetime.now(UTC) "
            "(a naive time is ambiguous, so it is not guessed)"
        )
    stamp = _stamp(moment)
    return PendingResult(
        orchestration_id=check_text(orchestration_id, "orchestration_id"),
        test_id=check_text(test_id, "test_id"),
        category=check_text(category, "category"),
        status=normalised.value,
        raw_status=_optional(raw, "raw_status"),
        duration=check_duration(duration),
        recorded_at=stamp,
        message=truncate(_optional(message, "message")),
        trace=truncate(_optional(trace, "trace")),
        metadata="{}"
        if not metadata and isinstance(metadata, dict | None)
        else dump_metadata(metadata),
        suite=_optional(suite, "suite"),
        class_name=_optional(class_name, "class_name"),
        name=_optional(name, "name"),
        parameters=_optional(parameters, "parameters"),
        commit=_optional(commit, "commit"),
        branch=_optional(branch, "branch"),
    )


_STATUS_VALUE = {status: status.value for status in ResultStatus}
_INF = float("inf")


def import_rows(
    batch: Sequence[Any],
    *,
    run: str,
    category: str,
    stamp: str,
    commit: str,
    branch: str,
) -> list[tuple[Any, ...]] | None:
    """Rows for ``Store.insert_import`` from an importer's attempts, or None.

    The fast path of ``validate`` for a batch of ``ParsedAttempt`` objects of one run: the
    same checks and the same stored values, done per batch where they can be (one NUL scan
    over each text column, the run's own fields checked once). None means something in the
    batch needs ``validate`` itself (which then raises the precise error, or agrees).
    Each row is ``(test_id, category, status, raw_status, duration, recorded_at, message,
    trace, metadata, suite, class_name, name, parameters, commit, branch)``.
    """
    values = import_values(batch, run=run, category=category, commit=commit, branch=branch)
    if values is None:
        return None
    return [(v[0], category, v[1], v[2], v[3], stamp, *v[4:], commit, branch) for v in values]


def import_values(
    batch: Sequence[Any], *, run: str, category: str, commit: str, branch: str
) -> list[tuple[Any, ...]] | None:
    """``import_rows`` without the columns shared by the whole run, or None.

    Each row is ``(test_id, status, raw_status, duration, message, trace, metadata, suite,
    class_name, name, parameters)``: what ``Store.insert_import_batch`` sends per row.
    """
    for value in (run, category):
        if type(value) is not str or not value.strip() or "\x00" in value:
            return None
    for value in (commit, branch):
        if type(value) is not str or "\x00" in value:
            return None
    status_value, limit, encode = _STATUS_VALUE, MAX_LOG_CHARS, dump_metadata
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    try:
        for a in batch:
            identity = a.identity
            duration = a.duration
            message = a.message
            trace = a.trace
            metadata = a.metadata
            if (
                type(duration) is not float
                or not 0.0 <= duration < _INF
                or type(metadata) is not dict
                or type(message) is not str
                or type(trace) is not str
            ):
                return None
            if len(message) > limit:
                message = truncate(message, limit)
            if len(trace) > limit:
                trace = truncate(trace, limit)
            append(
                (
                    identity.key,
                    status_value[a.status],
                    a.raw_status,
                    duration,
                    message,
                    trace,
                    encode(metadata) if metadata else "{}",
                    identity.suite,
                    identity.class_name,
                    identity.name,
                    identity.parameters,
                )
            )
        # Every text column at once: a non-string makes join raise; NUL is refused.
        for column in (0, 2, 4, 5, 7, 8, 9, 10):
            if "\x00" in "".join([row[column] for row in rows]):
                return None
        if not all(row[0].strip() for row in rows):
            return None
    except (KeyError, TypeError, InvalidResultError):
        return None
    return rows


def _optional(value: object, what: str) -> str:
    if value is None or value == "":
        return ""
    return check_text(value, what, required=False)


@lru_cache(maxsize=64)
def _stamp(moment: datetime) -> str:
    # A batch shares one clock reading; format it once.
    return format_ts(moment)


def to_result(row: Row) -> TestResult:
    """Build a ``TestResult`` from a row selected with ``_SELECT``."""
    return TestResult(
        orchestration_id=row[0],
        test_id=row[1],
        attempt=int(row[2]),
        is_final=bool(row[3]),
        category=row[4],
        status=ResultStatus(row[5]),
        raw_status=row[6],
        duration=float(row[7]),
        recorded_at=parse_ts(row[8]),
        message=row[9],
        trace=row[10],
        metadata=json.loads(row[11]),
        suite=row[12],
        class_name=row[13],
        name=row[14],
        parameters=row[15],
        commit=row[16],
        branch=row[17],
    )


class Store:
    """The SQL of the aggregator over one ``Backend``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    # -- writes ---------------------------------------------------------------------------

    def insert(self, pending: Sequence[PendingResult]) -> list[tuple[int, bool]]:
        """Store ``pending`` in one transaction; return each row's (attempt, is_final).

        A test already present in the same orchestration gets the next attempt number and
        becomes the final attempt; results of one test within ``pending`` are attempts in order.
        """
        if not pending:
            return []
        with self.backend.transaction() as cur:
            return self.insert_into(cur, pending)

    @contextmanager
    def streaming(self) -> Iterator[Any]:
        """One transaction for many batches: yields the cursor for ``insert_into`` /
        ``insert_import``; all or nothing.

        Attempt numbers continue across batches (earlier batches are visible inside the
        transaction), so a retry in the next batch is the next attempt of its test.
        """
        with self.backend.transaction() as cur:
            yield cur

    def insert_into(self, cur: Any, pending: Sequence[PendingResult]) -> list[tuple[int, bool]]:
        """``insert`` inside an open transaction."""
        runs: dict[str, tuple[str, str, str]] = {}
        keys: dict[str, set[str]] = {}
        for p in pending:
            if p.orchestration_id not in runs:
                runs[p.orchestration_id] = (p.recorded_at, p.commit, p.branch)
            keys.setdefault(p.orchestration_id, set()).add(p.test_id)
        if self.backend.dialect == "postgresql":
            for orch in sorted(runs):
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (orch,))
        cur.executemany(_UPSERT_RUN, [(orch, *values) for orch, values in runs.items()])
        existing: dict[tuple[str, str], int] = {}
        for orch, tests in keys.items():
            existing.update(self._max_attempts(cur, orch, tests))
        last: dict[tuple[str, str], int] = {}
        for index, p in enumerate(pending):
            last[(p.orchestration_id, p.test_id)] = index
        counters = dict(existing)
        rows = []
        out = []
        for index, p in enumerate(pending):
            key = (p.orchestration_id, p.test_id)
            attempt = counters.get(key, 0) + 1
            counters[key] = attempt
            final = last[key] == index
            rows.append(p.row(attempt, final))
            out.append((attempt, final))
        if existing:
            cur.executemany(
                f"UPDATE {RESULTS} SET is_final = 0 WHERE orchestration_id = ? "
                "AND test_id = ? AND is_final = 1",
                list(existing),
            )
        cur.executemany(_INSERT, rows)
        return out

    def insert_import(
        self,
        cur: Any,
        rows: Sequence[Any],
        *,
        run: str,
        created_at: str,
        commit: str,
        branch: str,
    ) -> None:
        """``insert_into`` for rows of one run made by ``import_rows`` (same attempt rules)."""
        if not rows:
            return
        if self.backend.dialect == "postgresql":
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (run,))
        cur.execute(_UPSERT_RUN, (run, created_at, commit, branch))
        test_ids = [row[0] for row in rows]
        distinct = set(test_ids)
        existing = self._max_attempts(cur, run, distinct)
        if not existing and len(distinct) == len(test_ids):  # the common case: all new
            tail = (run, 1, 1)
            full = [row + tail for row in rows]
        else:
            last = {tid: index for index, tid in enumerate(test_ids)}
            counters = {tid: attempt for (_, tid), attempt in existing.items()}
            full = []
            for index, row in enumerate(rows):
                tid = row[0]
                attempt = counters.get(tid, 0) + 1
                counters[tid] = attempt
                full.append((*row, run, attempt, int(last[tid] == index)))
            if existing:
                cur.executemany(
                    f"UPDATE {RESULTS} SET is_final = 0 WHERE orchestration_id = ? "
                    "AND test_id = ? AND is_final = 1",
                    list(existing),
                )
        cur.executemany(_INSERT_IMPORT, full)

    def json_batches(self) -> bool:
        """Whether ``ImportBatches`` can store batches here (SQLite with JSON ``->>``)."""
        return bool(getattr(self.backend, "json_batches", False))

    @staticmethod
    def _max_attempts(cur: Any, orch: str, tests: set[str]) -> dict[tuple[str, str], int]:
        # Chunks of IN lists (an index lookup each), never a scan of the whole run: a
        # streamed import calls this once per batch while the run grows.
        out: dict[tuple[str, str], int] = {}
        names = sorted(tests)
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            found = cur.execute(
                f"SELECT test_id, MAX(attempt) FROM {RESULTS} WHERE orchestration_id = ? "
                f"AND test_id IN ({', '.join('?' for _ in chunk)}) GROUP BY test_id",
                (orch, *chunk),
            )
            out.update({(orch, t): int(a) for t, a in found})
        return out

    def purge(self, cutoff: datetime) -> int:
        """Delete results recorded before ``cutoff`` (in short transactions); return the count."""
        stamp = format_ts(cutoff)
        total = 0
        while True:
            with self.backend.transaction() as cur:
                ids = cur.execute(
                    f"SELECT id FROM {RESULTS} WHERE recorded_at < ? LIMIT {_PURGE_CHUNK}",
                    (stamp,),
                )
                if ids:
                    cur.executemany(f"DELETE FROM {RESULTS} WHERE id = ?", ids)
            total += len(ids)
            if len(ids) < _PURGE_CHUNK:
                break
        with self.backend.transaction() as cur:
            cur.execute(
                f"DELETE FROM {RUNS} WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM "
                f"{RESULTS} r WHERE r.orchestration_id = {RUNS}.orchestration_id)",
                (stamp,),
            )
        return total

    # -- reads ----------------------------------------------------------------------------

    def results(
        self,
        *,
        category: str | None = None,
        orchestration_id: str | None = None,
        test_id: str | None = None,
        since: datetime | None = None,
        final_only: bool = True,
        statuses: Iterable[ResultStatus] | None = None,
        limit: int | None = None,
    ) -> list[TestResult]:
        """Results matching every given filter, oldest first."""
        where, params = _filters(category, orchestration_id, test_id, since, final_only)
        if statuses is not None:
            values = [ResultStatus.parse(s).value for s in statuses]
            where.append(f"status IN ({', '.join('?' for _ in values)})")
            params.extend(values)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [to_result(r) for r in self.backend.query(sql, params)]

    def status_counts(
        self, orchestration_id: str
    ) -> tuple[dict[str, tuple[int, int]], int, float, int]:
        """Final outcomes per status (count, retried), attempts, duration, passed-after-failing."""
        rows = self.backend.query(
            f"SELECT status, COUNT(*), SUM(CASE WHEN attempt > 1 THEN 1 ELSE 0 END) "
            f"FROM {RESULTS} WHERE orchestration_id = ? AND is_final = 1 GROUP BY status",
            (orchestration_id,),
        )
        totals = self.backend.query(
            f"SELECT COUNT(*), COALESCE(SUM(duration), 0) FROM {RESULTS} "
            "WHERE orchestration_id = ?",
            (orchestration_id,),
        )
        flaky = self.backend.query(
            f"SELECT COUNT(*) FROM {RESULTS} f WHERE f.orchestration_id = ? AND f.is_final = 1 "
            "AND f.status = 'passed' AND f.attempt > 1 AND EXISTS (SELECT 1 FROM "
            f"{RESULTS} p WHERE p.orchestration_id = f.orchestration_id AND "
            "p.test_id = f.test_id AND p.is_final = 0 AND p.status IN ('failed', 'error', "
            "'timeout'))",
            (orchestration_id,),
        )
        counts = {str(s): (int(n), int(r or 0)) for s, n, r in rows}
        return counts, int(totals[0][0]), float(totals[0][1]), int(flaky[0][0])

    def day_rows(self, category: str | None, since: datetime) -> list[Row]:
        """(day, status, duration) of final attempts since ``since``, in time order.

        With a category the covering index (category, recorded_at, is_final, status,
        duration) answers it without touching the table, already in time order.
        """
        where, params = _filters(category, None, None, since, True)
        return self.backend.query(
            f"SELECT substr(recorded_at, 1, 10), status, duration FROM {RESULTS} "
            f"WHERE {' AND '.join(where)} ORDER BY recorded_at",
            params,
        )

    def recent_runs(self, category: str | None, limit: int) -> list[Row]:
        """(orchestration_id, created_at, commit, branch) of the latest runs, newest first."""
        if category is None:
            return self.backend.query(
                f"SELECT orchestration_id, created_at, commit_sha, branch FROM {RUNS} "
                f"ORDER BY created_at DESC, orchestration_id DESC LIMIT {int(limit)}"
            )
        # Walk runs newest first and keep those holding the category (cheap: indexed probe).
        return self.backend.query(
            f"SELECT orchestration_id, created_at, commit_sha, branch FROM {RUNS} u "
            f"WHERE EXISTS (SELECT 1 FROM {RESULTS} r WHERE r.orchestration_id = "
            "u.orchestration_id AND r.category = ?) "
            f"ORDER BY created_at DESC, orchestration_id DESC LIMIT {int(limit)}",
            (category,),
        )

    def attempts_of_runs(self, runs: Sequence[str], category: str | None) -> list[Row]:
        """(orchestration_id, test_id, attempt, is_final, status) of every attempt in ``runs``."""
        if not runs:
            return []
        sql = (
            f"SELECT orchestration_id, test_id, attempt, is_final, status FROM {RESULTS} "
            f"WHERE orchestration_id IN ({', '.join('?' for _ in runs)})"
        )
        params: list[Any] = list(runs)
        if category is not None:
            sql += " AND category = ?"
            params.append(category)
        return self.backend.query(sql + " ORDER BY orchestration_id, test_id, attempt", params)

    def run_info(self, orchestration_id: str) -> Row | None:
        """(created_at, commit, branch) of one run, or None when the run is unknown."""
        rows = self.backend.query(
            f"SELECT created_at, commit_sha, branch FROM {RUNS} WHERE orchestration_id = ?",
            (orchestration_id,),
        )
        return rows[0] if rows else None

    def categories(self, orchestration_id: str) -> list[str]:
        """The categories present in one run."""
        rows = self.backend.query(
            f"SELECT DISTINCT category FROM {RESULTS} WHERE orchestration_id = ? ORDER BY 1",
            (orchestration_id,),
        )
        return [str(r[0]) for r in rows]


def _filters(
    category: str | None,
    orchestration_id: str | None,
    test_id: str | None,
    since: datetime | None,
    final_only: bool,
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("category", category),
        ("orchestration_id", orchestration_id),
        ("test_id", test_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(format_ts(since))
    if final_only:
        where.append("is_final = 1")
    return where, params


def pending_from(
    item: TestResult | Mapping[str, Any], index: int, defaults: Mapping[str, Any], now: datetime
) -> PendingResult:
    """Validate one element of a ``store_results`` batch (a ``TestResult`` or a mapping)."""
    if isinstance(item, TestResult):
        fields: Mapping[str, Any] = {
            **item.to_dict(),
            "status": item.status,
            "recorded_at": item.recorded_at,
        }
        unknown: set[str] = set()
    elif isinstance(item, Mapping):
        fields = item
        unknown = item.keys() - _ACCEPTED
    else:
        raise InvalidResultError(
            f"result #{index} must be a TestResult or a mapping, not {type(item).__name__}"
        )
    if unknown:
        names = ", ".join(sorted(unknown))
        raise InvalidResultError(f"result #{index} has unknown fields: {names}")
    get = fields.get
    try:
        return validate(
            get("test_id"),
            get("orchestration_id") or defaults.get("orchestration_id"),
            get("category") or defaults.get("category"),
            get("status"),
            get("duration"),
            get("metadata"),
            raw_status=get("raw_status") or None,
            message=get("message"),
            trace=get("trace"),
            recorded_at=get("recorded_at"),
            suite=get("suite"),
            class_name=get("class_name"),
            name=get("name") or get("test_id"),
            parameters=get("parameters"),
            commit=get("commit") or defaults.get("commit"),
            branch=get("branch") or defaults.get("branch"),
            now=now,
        )
    except InvalidResultError as exc:
        raise InvalidResultError(f"result #{index} ({get('test_id')!r}): {exc}") from None


_ACCEPTED_KEYS = (
    "test_id",
    "orchestration_id",
    "category",
    "status",
    "duration",
    "metadata",
    "raw_status",
    "message",
    "trace",
    "recorded_at",
    "suite",
    "class_name",
    "name",
    "parameters",
    "commit",
    "branch",
    "attempt",
    "is_final",
)


_ACCEPTED = frozenset(_ACCEPTED_KEYS)


class ImportBatches:
    """The batches of one import, each stored by one statement (SQLite).

    ``encode`` (on the importing thread) marks the rows of a batch that repeats a test;
    ``store`` runs the statements, which do the per-row work inside SQLite with the GIL
    released, so a writer thread stores one batch while the next is parsed. A batch of
    tests new to the run binds its rows to one multi-row ``VALUES``; any other batch is
    numbered by a statement reading a JSON array (``->>``).
    Attempt numbers, ``is_final`` and the stored values are those of ``Store.insert_import``.
    """

    __slots__ = ("_cur", "_empty_runs", "_last_id", "_numbering", "_run")

    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self._last_id: int | None = None
        self._run: tuple[str, str, str, str] | None = None
        #: Run -> it had no rows when this import began storing it.
        self._empty_runs: dict[str, bool] = {}
        #: A batch repeated a test of an earlier batch: number attempts from now on.
        self._numbering = False

    @staticmethod
    def encode(values: Sequence[tuple[Any, ...]]) -> tuple[Sequence[tuple[Any, ...]], bool]:
        """(rows, whether the batch repeats a test) for ``store``: ``values`` itself, or
        with a repeat each row gains its occurrence in the batch and whether it is the last."""
        ids = [v[0] for v in values]
        if len(set(ids)) == len(ids):
            return values, False
        seen: dict[str, int] = {}
        last = {tid: index for index, tid in enumerate(ids)}
        rows = []
        for index, v in enumerate(values):
            tid = v[0]
            occurrence = seen.get(tid, 0)
            seen[tid] = occurrence + 1
            rows.append((*v, occurrence, int(last[tid] == index)))
        return rows, True

    def store(  # noqa: PLR0917 - one batch's facts, in the statement's parameter order
        self,
        rows: Sequence[tuple[Any, ...]],
        repeats: bool,
        run: str,
        category: str,
        stamp: str,
        commit: str,
        branch: str,
    ) -> None:
        """Store one batch of ``run`` (from ``encode``) inside the open transaction."""
        cur = self._cur
        facts = (run, stamp, commit, branch)
        if facts != self._run:
            cur.execute(_UPSERT_RUN, facts)
            self._run = facts
        empty = self._empty_runs.get(run)
        if empty is None:
            empty = self._empty_runs[run] = not cur.execute(_RUN_HAS_ROWS, (run,))[0][0]
        if empty and not repeats and not self._numbering:
            # The common case: no test of the batch is in the run yet, so each row is attempt
            # 1. If one is (stored by an earlier batch of this import: a retry across a batch
            # boundary), the unique index refuses the statement, which SQLite undoes alone;
            # the batch then goes the general way, as do the import's later batches.
            try:
                self._last_id = self._insert_new(rows, (category, stamp, commit, branch, run))
            except sqlite3.IntegrityError:
                self._numbering = True
            else:
                return
        if self._last_id is None:
            self._last_id = int(cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {RESULTS}")[0][0])
        before = self._last_id
        # named parameters: numbered ones (?1) with a sequence are deprecated from 3.12
        params = {
            "run": run,
            "category": category,
            "stamp": stamp,
            "commit": commit,
            "branch": branch,
            "payload": _ENCODE_BATCH(rows),
        }
        self._last_id = cur.insert(_INSERT_JSON_REPEATS if repeats else _INSERT_JSON, params)
        cur.execute(_RETIRE_FINALS, {"before": before})

    def _insert_new(self, rows: Sequence[tuple[Any, ...]], facts: tuple[str, ...]) -> int:
        """Insert new tests' rows as attempt 1 (all or none); return the last row id."""
        cur = self._cur
        most = MAX_STATEMENT_ROWS
        while most > 1 and most * _ROW_VALUES + len(facts) > cur.max_parameters:
            most //= 2
        sizes = statement_sizes(len(rows), most)
        if len(sizes) == 1:
            return int(cur.insert(_insert_new_sql(sizes[0]), [*facts, *chain.from_iterable(rows)]))
        # Several statements: a refusal of a later one must undo the earlier ones too.
        cur.execute("SAVEPOINT maestro_import_batch")
        try:
            start = 0
            for size in sizes:
                part = rows[start : start + size]
                start += size
                last = cur.insert(_insert_new_sql(size), [*facts, *chain.from_iterable(part)])
        except BaseException:
            cur.execute("ROLLBACK TO maestro_import_batch")
            cur.execute("RELEASE maestro_import_batch")
            raise
        cur.execute("RELEASE maestro_import_batch")
        return int(last)

    def forget(self) -> None:
        """Rows went in another way (``Store.insert_into``): read the last id again."""
        self._last_id = None
        self._run = None


class Writer:
    """Store work run in order on one thread while the importing thread goes on parsing.

    The queue is short (``depth`` batches), so memory stays bounded: a parser that gets
    ahead waits. The first error of the writer is raised to the importing thread (at its
    next ``submit`` or at ``finish``); work after it is skipped, as is all work once the
    import is ``abandon``-ed. Either way the thread has ended before the transaction ends.
    """

    __slots__ = ("_queue", "_stop", "_thread", "error")

    def __init__(self, depth: int = 2) -> None:
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue(depth)
        self._stop = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="maestro-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        get = self._queue.get
        while (work := get()) is not None:
            if self.error is None and not self._stop:
                try:
                    work()
                except BaseException as exc:  # handed to the importing thread
                    self.error = exc

    def submit(self, work: Callable[[], object]) -> None:
        """Queue ``work`` (waits while the queue is full); raise the writer's error if any."""
        if self.error is not None:
            raise self.error
        self._queue.put(work)

    def finish(self) -> None:
        """Wait for the queued work; raise the writer's error if any."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Skip the queued work and wait for the thread to end."""
        self._stop = True
        self._queue.put(None)
        self._thread.join()
