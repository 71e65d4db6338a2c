"""``maestro-monitoring``: the command line (``prepare-multiproc DIR``, ``compact DIR PID``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._errors import MaestroMonitoringError
from ._version import __version__

__all__ = ["main"]

PROG = "maestro-monitoring"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: {message}\n")
        raise SystemExit(2)


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Maestro monitoring tools.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    prep = sub.add_parser(
        "prepare-multiproc",
        help="create or empty a PROMETHEUS_MULTIPROC_DIR before the workers start",
    )
    prep.add_argument("directory")
    compact = sub.add_parser(
        "mark-dead", help="compact a dead worker's metric files into the archives"
    )
    compact.add_argument("directory")
    compact.add_argument("pid", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 usage, 3 environment)."""
    args = _parser().parse_args(argv)
    from ._multiprocess import mark_process_dead, prepare_multiproc

    try:
        if args.command == "prepare-multiproc":
            removed = prepare_multiproc(args.directory)
            print(f"{args.directory}: ready ({removed} old metric files removed)")
        else:
            done = mark_process_dead(args.pid, args.directory)
            print(f"{args.directory}: compacted {done} files of pid {args.pid}")
    except MaestroMonitoringError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"{PROG}: error: {args.directory}: {exc.strerror or exc}\n")
        return 3
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
