"""The ``maestro-results`` command line.

    maestro-results [--db PATH_OR_URL] import FILES... [--run ID] [--category C]
    maestro-results summary RUN [--json]
    maestro-results trends [--category C] [--days N] [--json]
    maestro-results flaky [--category C] [--json]
    maestro-results report RUN [--format html|md|json|ctrf] [--output FILE]
    maestro-results purge --older-than DAYS

The store defaults to ``$MAESTRO_RESULTS__DB`` (a path or a postgresql:// URL), then
``maestro-results.db``. Exit status: 0 success, 1 a report file could not be imported
(the others were), 2 bad usage or input, 3 an environment error (the store cannot be
reached or opened, a file cannot be read). Errors go to stderr as
``maestro-results: error: <what and how to fix>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from typing import NoReturn

from ._aggregator import TestResultAggregator
from ._deprecation import getenv
from ._errors import (
    ConfigurationError,
    InvalidResultError,
    MaestroResultsError,
    ReportFileError,
    StoreError,
)
from ._version import __version__

PROG = "maestro-results"
OK, PROBLEM, USAGE, ENVIRONMENT = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse with the family's error prefix, also for subcommands."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{PROG}: error: {message}\n")


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def open_store(target: str) -> TestResultAggregator:
    """An aggregator for a path or a URL."""
    if "://" in target:
        return TestResultAggregator(db_url=target)
    return TestResultAggregator(db_path=target)


def _file_run_id(path: str) -> str:
    from ._importers import read_report

    if not path.lower().endswith(".json"):
        return ""  # only CTRF files name their run
    try:
        return read_report(path).run_id
    except MaestroResultsError:
        return ""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Import, query and report test results. Exit status: 0 ok, 1 a report "
        "could not be imported, 2 usage or input error, 3 store or file unavailable.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite path or postgresql:// URL "
        "(default: $MAESTRO_RESULTS__DB or maestro-results.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import JUnit XML, CTRF or pytest-json-report files")
    imp.add_argument("files", nargs="+")
    imp.add_argument(
        "--run", "--orchestration-id", dest="run", help="orchestration id (default: a new one)"
    )
    imp.add_argument("--category", help="category (default: each file's name)")
    imp.add_argument("--format", default="auto", choices=["auto", "junit", "ctrf", "pytest-json"])
    imp.add_argument("--commit", default=None)
    imp.add_argument("--branch", default=None)
    summary = sub.add_parser("summary", help="counts of one run")
    summary.add_argument("run")
    summary.add_argument("--json", action="store_true")
    trends = sub.add_parser("trends", help="pass rate and durations per day")
    trends.add_argument("--category")
    trends.add_argument("--days", type=int, default=30)
    trends.add_argument("--json", action="store_true")
    flaky = sub.add_parser("flaky", help="flaky and broken tests with their evidence")
    flaky.add_argument("--category")
    flaky.add_argument("--json", action="store_true")
    report = sub.add_parser("report", help="a report of one run")
    report.add_argument("run")
    report.add_argument("--format", default="html", choices=["html", "md", "json", "ctrf"])
    report.add_argument("--output", "-o", help="file to write (default: standard output)")
    report.add_argument("--no-charts", action="store_true")
    purge = sub.add_parser("purge", help="delete results older than N days")
    purge.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    if args.db is None:
        args.db = getenv("MAESTRO_RESULTS__DB", "MAESTRO_RESULTS_DB") or "maestro-results.db"
    if args.command == "import":
        for path in args.files:
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                _error(f"{path}: cannot read the file; check the path and its permissions")
                return ENVIRONMENT
    try:
        with open_store(args.db) as agg:
            if args.command == "import":
                default_run = f"import-{uuid.uuid4().hex[:12]}"
                failed = False
                for path in args.files:
                    try:
                        result = agg.import_file(
                            path,
                            orchestration_id=args.run or _file_run_id(path) or default_run,
                            category=args.category,
                            format=args.format,
                            commit=args.commit,
                            branch=args.branch,
                        )
                    except (ReportFileError, InvalidResultError) as exc:
                        _error(exc)
                        failed = True
                        continue
                    for warning in result.warnings:
                        print(f"maestro-results: warning: {warning}", file=sys.stderr)
                    print(
                        f"{path}: {result.format}, {result.tests} tests, {result.attempts} "
                        f"attempts -> {result.orchestration_id}",
                        file=out,
                    )
                return PROBLEM if failed else OK
            if args.command == "summary":
                s = agg.get_summary(args.run)
                if args.json:
                    print(json.dumps(s, indent=2), file=out)
                else:
                    rate = "n/a" if s["pass_rate"] is None else f"{s['pass_rate'] * 100:.1f}%"
                    print(
                        f"{args.run}: {s['total']} tests, {s['passed']} passed, {s['failed']} "
                        "failed, "
                        f"{s['error']} error, {s['timeout']} timeout, {s['skipped']} skipped, "
                        f"{s['cancelled']} cancelled, {s['flaky']} flaky; pass rate {rate}; "
                        f"{s['duration']:.2f}s",
                        file=out,
                    )
                return 0
            if args.command == "trends":
                t = agg.analyze_trends(args.category, args.days)
                if args.json:
                    print(json.dumps(t.to_dict(), indent=2), file=out)
                    return 0
                print(f"{t.direction}: {t.explanation}", file=out)
                print(
                    f"{'day':<12}{'total':>7}{'passed':>8}{'failing':>8}{'rate':>8}{'p50':>9}{'p95':>9}",
                    file=out,
                )
                for p in t.points:
                    rate = "n/a" if p.pass_rate is None else f"{p.pass_rate * 100:.1f}%"
                    failing = p.failed + p.error + p.timeout
                    print(
                        f"{p.day.isoformat():<12}{p.total:>7}{p.passed:>8}{failing:>8}{rate:>8}{p.duration_p50:>9.3f}{p.duration_p95:>9.3f}",
                        file=out,
                    )
                return 0
            if args.command == "flaky":
                verdicts = agg.flaky_tests(args.category)
                if args.json:
                    print(json.dumps([v.to_dict() for v in verdicts], indent=2), file=out)
                    return 0
                if not verdicts:
                    print("no flaky or broken tests", file=out)
                for v in verdicts:
                    print(f"{v.verdict:<7} {v.score:.2f}  {v.test_id}", file=out)
                    for reason in v.reasons:
                        print(f"        - {reason}", file=out)
                    print(f"        runs: {', '.join(v.evidence[:10])}", file=out)
                return 0
            if args.command == "report":
                rep = agg.generate_report(
                    args.run, include_charts=not args.no_charts, format=args.format
                )
                if args.output:
                    rep.save(args.output)
                    print(f"wrote {args.output}", file=out)
                else:
                    out.write(rep.content)
                return 0
            if args.command == "purge":
                print(f"deleted {agg.purge(older_than=args.older_than * 86400)} results", file=out)
                return 0
    except (ConfigurationError, InvalidResultError, ReportFileError) as exc:
        _error(exc)
        return USAGE
    except (StoreError, OSError) as exc:
        _error(exc)
        return ENVIRONMENT
    except MaestroResultsError as exc:
        _error(exc)
        return ENVIRONMENT
    return USAGE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
