"""maestro-db: Alembic migrations with the URL from the environment, under a lock.

Exit codes: 0 ok, 1 the check found a problem, 2 usage or input error, 3 environment error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ._errors import ConnectionError, DatabaseConfigError, MaestroDBError, MigrationError
from ._version import __version__

PROG = "maestro-db"
URL_VARIABLE = "MAESTRO_DB__URL"


class _Usage(Exception):
    """A usage error: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Database migrations (Alembic) for Maestro services. The URL comes from "
        f"--url or {URL_VARIABLE}, never from alembic.ini.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--url", help=f"database URL (default: ${URL_VARIABLE})")
    parser.add_argument(
        "-d", "--directory", default="migrations", help="migrations directory (default: migrations)"
    )
    parser.add_argument(
        "--models", help="your models' Base or MetaData as 'package.module:Base' (autogenerate)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("init", help="create the migrations directory (env.py, versions/)")
    revision = sub.add_parser("revision", help="create a new revision")
    revision.add_argument("-m", "--message", required=True, help="what the revision does")
    revision.add_argument(
        "--autogenerate", action="store_true", help="compare --models with the database"
    )
    upgrade = sub.add_parser("upgrade", help="upgrade (under the migration lock)")
    upgrade.add_argument("target", nargs="?", default="head")
    downgrade = sub.add_parser("downgrade", help="downgrade to a revision, -1 or base")
    downgrade.add_argument("target")
    sub.add_parser("current", help="print the current revision(s)")
    sub.add_parser("check", help="exit 1 unless at head and the models match the schema")
    sub.add_parser(
        "roundtrip",
        help="on a scratch database: each revision up, down, up, comparing reflected schemas",
    )
    return parser


def _fail(code: int, message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except _Usage as exc:
        return _fail(2, str(exc))
    except DatabaseConfigError as exc:
        return _fail(2, str(exc))
    except ConnectionError as exc:
        return _fail(3, f"{exc} (is the database running and the URL right?)")
    except MigrationError as exc:
        return _fail(1, str(exc))
    except MaestroDBError as exc:
        return _fail(3, str(exc))
    except OSError as exc:
        return _fail(3, str(exc))


def _dispatch(args: argparse.Namespace) -> int:
    from ._migrations import init_directory

    if args.command == "init":
        path = init_directory(args.directory)
        print(f"created {path}/env.py, {path}/script.py.mako and {path}/versions/")
        return 0
    if not os.path.isfile(os.path.join(args.directory, "env.py")):
        raise _Usage(f"no migrations in {args.directory}: run '{PROG} init {args.directory}' first")
    url = args.url or os.environ.get(URL_VARIABLE)
    if not url:
        raise _Usage(f"no database URL: pass --url or set {URL_VARIABLE}")
    from ._manager import DatabaseManager
    from ._migrations import MigrationManager
    from .migrations import load_metadata

    metadata = load_metadata(args.models) if args.models else None
    db = DatabaseManager(url)
    try:
        migrations = MigrationManager(db, args.directory, metadata=metadata)
        code: int = _COMMANDS[args.command](args, migrations)
        return code
    finally:
        db.sync.shutdown()


def _revision(args: argparse.Namespace, migrations: Any) -> int:
    from alembic import command

    if args.autogenerate and migrations.metadata is None:
        raise _Usage("--autogenerate needs --models package.module:Base")
    with migrations.db.sync.engine.begin() as conn:
        script = command.revision(
            migrations.sync.config(conn), message=args.message, autogenerate=args.autogenerate
        )
    scripts = script if isinstance(script, list) else [script]
    for item in scripts:
        if item is not None:
            print(f"created revision {item.revision}: {item.path}")
    return 0


def _upgrade(args: argparse.Namespace, migrations: Any) -> int:
    state = migrations.sync.upgrade(args.target)
    print(f"at {', '.join(state.current) or 'base'} (head: {', '.join(state.heads)})")
    return 0


def _downgrade(args: argparse.Namespace, migrations: Any) -> int:
    state = migrations.sync.downgrade(args.target)
    print(f"at {', '.join(state.current) or 'base'}")
    return 0


def _current(args: argparse.Namespace, migrations: Any) -> int:
    state = migrations.sync.status()
    label = " (head)" if state.at_head else ""
    print(f"{', '.join(state.current) or 'base'}{label}")
    return 0


def _check(args: argparse.Namespace, migrations: Any) -> int:
    state = migrations.sync.status()
    if not state.at_head:
        print(
            f"not at head: current {', '.join(state.current) or 'base'}, "
            f"head {', '.join(state.heads)}; run '{PROG} upgrade'"
        )
        return 1
    if migrations.metadata is not None:
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        with migrations.db.sync.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, migrations.metadata)
        if diffs:
            print("the models differ from the schema; create a revision with --autogenerate:")
            for diff in diffs:
                print(f"  {diff}")
            return 1
    print(f"ok: at head {', '.join(state.heads)}")
    return 0


def _roundtrip(args: argparse.Namespace, migrations: Any) -> int:
    from alembic.script import ScriptDirectory

    from ._migrations import schema_differences, schema_snapshot

    script = ScriptDirectory.from_config(migrations.sync.config())
    order = [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]
    engine = migrations.db.sync.engine

    def snapshot() -> dict[str, Any]:
        with engine.connect() as conn:
            return schema_snapshot(conn)

    migrations.sync.downgrade("base")
    before = snapshot()
    problems: list[str] = []
    for revision in order:
        migrations.sync.upgrade(revision)
        after = snapshot()
        migrations.sync.downgrade("-1")
        problems += [
            f"{revision} downgrade does not restore the schema: {d}"
            for d in schema_differences(before, snapshot())
        ]
        if problems:
            break  # upgrading again over a half-restored schema would only fail
        migrations.sync.upgrade(revision)
        problems += [
            f"{revision} upgrade again differs: {d}" for d in schema_differences(after, snapshot())
        ]
        before = snapshot()
        if problems:
            break
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"ok: {len(order)} revision(s) up, down and up again with identical schemas")
    return 0


_COMMANDS: dict[str, Any] = {
    "revision": _revision,
    "upgrade": _upgrade,
    "downgrade": _downgrade,
    "current": _current,
    "check": _check,
    "roundtrip": _roundtrip,
}


if __name__ == "__main__":  # pragma: no cover - python -m maestro_core_db._cli
    sys.exit(main())
