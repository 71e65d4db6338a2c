"""``TestResultAggregator``: the one object users hold."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from . import _importers
from ._analytics import (
    FlakinessOptions,
    FlakyVerdict,
    RunComparison,
    SlowTest,
    TrendAnalysis,
    build_trends,
    classify,
    compare,
    pass_rate,
    utc_today,
)
from ._backends import Backend, SQLiteBackend
from ._categories import DEFAULT_RULES, CategoryRule, FailureGroup, categorize
from ._deprecation import warn_once
from ._errors import ConfigurationError, InvalidResultError, ReportFileError, StoreError
from ._importers import read_report
from ._importers.ctrf import to_ctrf
from ._importers.parsed import ParsedAttempt, ParsedReport
from ._model import ResultStatus, TestResult, format_ts
from ._report import Report, build_report
from ._schema import MIGRATIONS, RESULTS, Migration
from ._store import (
    ImportBatches,
    Store,
    Writer,
    import_rows,
    import_values,
    pending_from,
    validate,
)

ReportFormat = Literal["html", "md", "markdown", "json", "ctrf"]


class RunSummary(TypedDict):
    """Final outcomes of one orchestration (a retried test counts once, by its last attempt)."""

    orchestration_id: str
    total: int
    passed: int
    failed: int
    error: int
    skipped: int
    timeout: int
    cancelled: int
    attempts: int
    retried: int
    flaky: int
    duration: float
    pass_rate: float | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``import_file`` stored: counts, the format detected, and any warnings."""

    path: str
    format: str
    orchestration_id: str
    tests: int
    attempts: int
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: Batches the file was stored in (parse, store, forget).
    batches: int = 0


class TestResultAggregator:
    """Stores test results from every runner and answers questions about them.

    SQLite by default (``db_path``, WAL mode, safe for many threads and processes) or
    PostgreSQL (``db_url="postgresql://..."``, needs the ``[postgres]`` extra); the API is
    the same. Use it as a context manager or call ``close()``.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        db_url: str | None = None,
        busy_timeout: float = 30.0,
        category_rules: Sequence[CategoryRule] = DEFAULT_RULES,
        flakiness: FlakinessOptions | None = None,
        clock: Callable[[], datetime] | None = None,
        _migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        if (db_path is None) == (db_url is None):
            raise StoreError(
                "give exactly one of db_path (SQLite file) or db_url (postgresql://...)"
            )
        backend: Backend
        if db_url is not None:
            if db_url.startswith("sqlite:///"):
                backend = SQLiteBackend(
                    db_url.removeprefix("sqlite:///"),
                    busy_timeout=busy_timeout,
                    migrations=_migrations,
                )
            elif db_url.startswith(("postgresql://", "postgres://")):
                from ._backends.postgres import PostgresBackend

                backend = PostgresBackend(db_url, migrations=_migrations)
            else:
                raise StoreError(
                    "db_url must start with postgresql:// (or sqlite:/// for a file); "
                    f"got a URL starting {db_url.split(':', 1)[0]!r}"
                )
        else:
            assert db_path is not None
            backend = SQLiteBackend(db_path, busy_timeout=busy_timeout, migrations=_migrations)
        self._store = Store(backend)
        self._rules = tuple(category_rules)
        self._flaky = flakiness or FlakinessOptions()
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))

    @property
    def location(self) -> str:
        """The SQLite path or the PostgreSQL URL (password hidden)."""
        return self._store.backend.name

    def __enter__(self) -> TestResultAggregator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connections."""
        self._store.backend.close()

    def _now(self) -> datetime:
        now = self._clock()
        if now.utcoffset() is None:
            raise ConfigurationError(
                "clock= returned a naive datetime; it must return an aware UTC datetime "
                "(attach a timezone, e.g. datetime.now(UTC))"
            )
        return now

    # -- writing --------------------------------------------------------------------------

    def store_result(  # noqa: PLR0917 - the guide's documented positional order
        self,
        test_id: str,
        orchestration_id: str,
        category: str,
        status: ResultStatus | str,
        duration: float,
        metadata: Mapping[str, Any] | None = None,
        *,
        raw_status: str | None = None,
        message: str | None = None,
        trace: str | None = None,
        recorded_at: datetime | None = None,
        commit: str | None = None,
        branch: str | None = None,
    ) -> TestResult:
        """Store one result; storing the same test again in the same run records a retry.

        ``status`` is a ``ResultStatus`` or a common status word (kept as ``raw_status``);
        ``duration`` is in seconds. Raises ``InvalidResultError`` and stores nothing when an
        id is empty, the duration is negative or not finite, the status is unknown, or the
        metadata is not a JSON object.
        """
        pending = validate(
            test_id,
            orchestration_id,
            category,
            status,
            duration,
            metadata,
            raw_status=raw_status,
            message=message,
            trace=trace,
            recorded_at=recorded_at,
            commit=commit,
            branch=branch,
            name=test_id,
            now=self._now(),
        )
        ((attempt, final),) = self._store.insert([pending])
        return pending.to_result(attempt, final)

    def store_results(
        self,
        results: Iterable[TestResult | Mapping[str, Any]],
        *,
        orchestration_id: str | None = None,
        category: str | None = None,
        commit: str | None = None,
        branch: str | None = None,
    ) -> int:
        """Store many results in one transaction; return how many were stored.

        Each item is a ``TestResult`` or a mapping with ``store_result``'s keyword names;
        the keyword arguments here fill fields the items leave empty. Every item is
        validated first: one bad item raises ``InvalidResultError`` and nothing is stored.
        """
        defaults = {
            k: v
            for k, v in (
                ("orchestration_id", orchestration_id),
                ("category", category),
                ("commit", commit),
                ("branch", branch),
            )
            if v is not None
        }
        now = self._now()
        pending = [pending_from(item, i, defaults, now) for i, item in enumerate(results)]
        self._store.insert(pending)
        return len(pending)

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        orchestration_id: str | None = None,
        category: str | None = None,
        format: str = "auto",
        commit: str | None = None,
        branch: str | None = None,
    ) -> ImportResult:
        """Import a JUnit XML, CTRF or pytest-json-report file in one transaction.

        ``orchestration_id`` defaults to the run id the file names (CTRF ``runId``);
        ``category`` defaults to the file's stem. A malformed or unsafe file raises a
        ``ReportFileError`` subclass naming the file (and line / column) and stores nothing.
        Declared totals that disagree with the test cases become ``warnings``.
        """
        now = self._now()
        cat = category or Path(path).stem
        name = os.fspath(path)

        stamp = format_ts(now)
        store = self._store
        # Parse, store, forget: batches go into one transaction as the file is read. On
        # SQLite a writer thread stores each batch with one statement (SQLite releases the
        # GIL while it works) while this thread parses the next one.
        with store.streaming() as cur:
            batches = ImportBatches(cur) if store.json_batches() else None
            writer = Writer() if batches is not None else None

            def store_batch(report: ParsedReport, batch: list[ParsedAttempt]) -> None:
                run = orchestration_id or report.run_id
                if not run:
                    raise InvalidResultError(
                        f"{path}: give orchestration_id (the file names no run id)"
                    )
                run_commit, run_branch = commit or report.commit, branch or report.branch
                if batches is not None and writer is not None:
                    values = import_values(
                        batch, run=run, category=cat, commit=run_commit, branch=run_branch
                    )
                    if values is not None:
                        encoded, repeats = batches.encode(values)
                        writer.submit(
                            functools.partial(
                                batches.store,
                                encoded,
                                repeats,
                                run,
                                cat,
                                stamp,
                                run_commit,
                                run_branch,
                            )
                        )
                        return
                else:
                    rows = import_rows(
                        batch,
                        run=run,
                        category=cat,
                        stamp=stamp,
                        commit=run_commit,
                        branch=run_branch,
                    )
                    if rows is not None:
                        store.insert_import(
                            cur,
                            rows,
                            run=run,
                            created_at=stamp,
                            commit=run_commit,
                            branch=run_branch,
                        )
                        return
                # Something in the batch needs the general checks: they name the test and field.
                pending = []
                first = report.sent - len(batch)
                for index, a in enumerate(batch, first):
                    try:
                        pending.append(
                            validate(
                                a.identity.key,
                                run,
                                cat,
                                a.status,
                                a.duration,
                                a.metadata,
                                raw_status=a.raw_status,
                                message=a.message,
                                trace=a.trace,
                                suite=a.identity.suite,
                                class_name=a.identity.class_name,
                                name=a.identity.name,
                                parameters=a.identity.parameters,
                                commit=run_commit,
                                branch=run_branch,
                                now=now,
                            )
                        )
                    except InvalidResultError as exc:
                        raise ReportFileError(
                            f"test #{index} ({a.identity.key!r}) cannot be stored: {exc}",
                            path=str(path),
                        ) from None
                if not pending:
                    return
                if batches is not None and writer is not None:

                    def general() -> None:
                        batches.forget()
                        store.insert_into(cur, pending)

                    writer.submit(general)
                else:
                    store.insert_into(cur, pending)

            try:
                report = read_report(
                    name, format, report_sink=store_batch, batch_size=_importers.BATCH_SIZE
                )
                if writer is not None:
                    writer.finish()
            except Exception:
                if writer is None:
                    raise
                writer.abandon()
                if writer.error is None:
                    raise
                # The writer failed on an earlier batch than the one that stopped the
                # parser: report what a one-thread import would have met first.
                raise writer.error from None
            except BaseException:
                if writer is not None:
                    writer.abandon()
                raise
            run_id = orchestration_id or report.run_id
            if not run_id:
                raise InvalidResultError(
                    f"{path}: give orchestration_id (the file names no run id)"
                )
        return ImportResult(
            str(path),
            report.format,
            run_id,
            report.tests,
            report.attempt_count,
            tuple(report.warnings),
            report.batches,
        )

    def purge(
        self,
        older_than_days: float | None = None,
        *,
        older_than: float | timedelta | None = None,
    ) -> int:
        """Delete results recorded more than ``older_than`` ago (seconds or a ``timedelta``);
        return the count. ``older_than_days`` is the deprecated spelling, in days."""
        if older_than_days is not None:
            if older_than is not None:
                raise ConfigurationError("give older_than= or older_than_days, not both")
            warn_once("TestResultAggregator.purge(older_than_days)", "purge(older_than=...)")
            if isinstance(older_than_days, bool) or not isinstance(older_than_days, int | float):
                raise ConfigurationError(
                    f"older_than_days must be a number of days, got {older_than_days!r}"
                )
            older_than = float(older_than_days) * 86400
        if older_than is None:
            raise ConfigurationError(
                "purge needs older_than= (seconds or a timedelta), "
                "e.g. purge(older_than=timedelta(days=90))"
            )
        if isinstance(older_than, timedelta):
            older_than = older_than.total_seconds()
        if isinstance(older_than, bool) or not isinstance(older_than, int | float):
            raise ConfigurationError(
                f"older_than must be seconds (a number) or a timedelta, got {older_than!r}"
            )
        if not 0 <= older_than < float("inf"):
            raise ConfigurationError(
                f"older_than must be a finite number of seconds >= 0, got {older_than}"
            )
        return self._store.purge(self._now() - timedelta(seconds=older_than))

    # -- reading --------------------------------------------------------------------------

    def get_results_by_category(
        self,
        category: str,
        *,
        orchestration_id: str | None = None,
        days: float | None = None,
        include_retries: bool = False,
        limit: int | None = None,
    ) -> list[TestResult]:
        """Results of one category, oldest first (final attempts unless ``include_retries``)."""
        since = self._now() - timedelta(days=days) if days is not None else None
        return self._store.results(
            category=category,
            orchestration_id=orchestration_id,
            since=since,
            final_only=not include_retries,
            limit=limit,
        )

    def get_results(
        self,
        orchestration_id: str,
        *,
        include_retries: bool = False,
        statuses: Iterable[ResultStatus | str] | None = None,
    ) -> list[TestResult]:
        """Results of one orchestration (final attempts unless ``include_retries``)."""
        parsed = None if statuses is None else [ResultStatus.parse(s) for s in statuses]
        return self._store.results(
            orchestration_id=orchestration_id, final_only=not include_retries, statuses=parsed
        )

    def get_test_history(self, test_id: str, *, days: float | None = None) -> list[TestResult]:
        """Every attempt of one test across runs, oldest first."""
        since = self._now() - timedelta(days=days) if days is not None else None
        return self._store.results(test_id=test_id, since=since, final_only=False)

    def get_summary(self, orchestration_id: str) -> RunSummary:
        """Counts of final outcomes for one run, plus attempts, retries, flaky and pass rate."""
        counts, attempts, duration, flaky = self._store.status_counts(orchestration_id)
        by = {s.value: counts.get(s.value, (0, 0)) for s in ResultStatus}
        passed = by["passed"][0]
        failing = by["failed"][0] + by["error"][0] + by["timeout"][0]
        return RunSummary(
            orchestration_id=orchestration_id,
            total=sum(n for n, _ in by.values()),
            passed=passed,
            failed=by["failed"][0],
            error=by["error"][0],
            skipped=by["skipped"][0],
            timeout=by["timeout"][0],
            cancelled=by["cancelled"][0],
            attempts=attempts,
            retried=sum(r for _, r in by.values()),
            flaky=flaky,
            duration=round(duration, 6),
            pass_rate=pass_rate(passed, failing),
        )

    # -- analytics (base install; DataFrames need [analytics]) ----------------------------

    def analyze_trends(self, category: str | None = None, days: int = 30) -> TrendAnalysis:
        """Pass rate, outcome counts and duration p50 / p95 per UTC day over ``days`` days."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidResultError("days must be a positive whole number")
        today = utc_today(self._now())
        start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), UTC)
        return build_trends(self._store.day_rows(category, start), category, days, today)

    def compare_runs(self, base: str, head: str) -> RunComparison:
        """New failures, fixed tests, still failing, added and removed between two runs."""
        a = {r.test_id: r.status.value for r in self._store.results(orchestration_id=base)}
        b = {r.test_id: r.status.value for r in self._store.results(orchestration_id=head)}
        return compare(base, head, a, b)

    def slowest_tests(
        self,
        orchestration_id: str | None = None,
        *,
        category: str | None = None,
        days: float = 30,
        limit: int = 10,
    ) -> list[SlowTest]:
        """The slowest tests of one run, or by mean duration over ``days`` days."""
        where = ["is_final = 1"]
        params: list[Any] = []
        if orchestration_id is not None:
            where.append("orchestration_id = ?")
            params.append(orchestration_id)
        else:
            where.append("recorded_at >= ?")
            from ._model import format_ts

            params.append(format_ts(self._now() - timedelta(days=days)))
        if category is not None:
            where.append("category = ?")
            params.append(category)
        rows = self._store.backend.query(
            f"SELECT test_id, AVG(duration), MAX(duration), COUNT(*) FROM {RESULTS} "
            f"WHERE {' AND '.join(where)} GROUP BY test_id "
            f"ORDER BY AVG(duration) DESC, test_id LIMIT {int(limit)}",
            params,
        )
        return [SlowTest(str(t), float(m), float(x), int(n)) for t, m, x, n in rows]

    def failure_categories(self, orchestration_id: str) -> list[FailureGroup]:
        """The run's failing results grouped by the category rules, largest group first."""
        failing = self._store.results(
            orchestration_id=orchestration_id,
            statuses=(ResultStatus.FAILED, ResultStatus.ERROR, ResultStatus.TIMEOUT),
        )
        return categorize(failing, self._rules)

    def flaky_tests(
        self, category: str | None = None, *, options: FlakinessOptions | None = None
    ) -> list[FlakyVerdict]:
        """Flaky and broken tests over the last runs, broken first, each with its evidence.

        Runs where most tests failed (infrastructure) are left out; see ``FlakinessOptions``.
        """
        return self._flaky_analysis(category, options)[0]

    def _flaky_analysis(
        self, category: str | None, options: FlakinessOptions | None
    ) -> tuple[list[FlakyVerdict], list[str]]:
        opts = options or self._flaky
        runs = list(reversed(self._store.recent_runs(category, opts.window)))
        ids = [r[0] for r in runs]
        rows = self._store.attempts_of_runs(ids, category)
        return classify([(r[0], r[2]) for r in runs], rows, opts)

    def results_dataframe(
        self,
        *,
        category: str | None = None,
        orchestration_id: str | None = None,
        days: float | None = None,
        include_retries: bool = False,
    ) -> Any:
        """Matching results as a pandas DataFrame (needs the ``[analytics]`` extra)."""
        from ._frames import _pandas, dataframe

        _pandas()
        since = self._now() - timedelta(days=days) if days is not None else None
        return dataframe(
            self._store.results(
                category=category,
                orchestration_id=orchestration_id,
                since=since,
                final_only=not include_retries,
            )
        )

    def export_ctrf(self, orchestration_id: str) -> dict[str, Any]:
        """The run as a CTRF 1.0 document (retries as ``retryAttempts``)."""
        info = self._store.run_info(orchestration_id)
        results = self._store.results(orchestration_id=orchestration_id, final_only=False)
        return to_ctrf(
            results,
            orchestration_id=orchestration_id,
            commit=info[1] if info else "",
            branch=info[2] if info else "",
        )

    def generate_report(
        self,
        orchestration_id: str,
        include_charts: bool = True,
        *,
        format: ReportFormat = "html",
        days: int = 30,
        max_chars: int | None = None,
        output: str | os.PathLike[str] | None = None,
    ) -> Report:
        """A report of one run: html (self-contained), md (fits a PR comment), json or ctrf.

        Returns a ``Report``; ``output`` also writes it to that path.
        """
        report = build_report(
            self,
            orchestration_id,
            include_charts=include_charts,
            format=format,
            days=days,
            max_chars=max_chars,
        )
        if output is not None:
            report.save(output)
        return report

    # -- async callers: the same calls on a worker thread, the event loop never blocks --------

    async def astore_result(  # noqa: PLR0917 - mirrors store_result
        self,
        test_id: str,
        orchestration_id: str,
        category: str,
        status: ResultStatus | str,
        duration: float,
        metadata: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> TestResult:
        """``store_result`` for async code (runs in a worker thread)."""
        return await asyncio.to_thread(
            functools.partial(
                self.store_result,
                test_id,
                orchestration_id,
                category,
                status,
                duration,
                metadata,
                **options,
            )
        )

    async def astore_results(
        self, results: Iterable[TestResult | Mapping[str, Any]], **defaults: Any
    ) -> int:
        """``store_results`` for async code (runs in a worker thread)."""
        items = list(results)
        return await asyncio.to_thread(functools.partial(self.store_results, items, **defaults))

    async def aimport_file(self, path: str | os.PathLike[str], **options: Any) -> ImportResult:
        """``import_file`` for async code (runs in a worker thread)."""
        return await asyncio.to_thread(functools.partial(self.import_file, path, **options))

    async def aget_summary(self, orchestration_id: str) -> RunSummary:
        """``get_summary`` for async code (runs in a worker thread)."""
        return await asyncio.to_thread(self.get_summary, orchestration_id)

    def run_categories(self, orchestration_id: str) -> list[str]:
        """The categories present in one run."""
        return self._store.categories(orchestration_id)
