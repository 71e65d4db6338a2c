"""``maestro-journey``: validate or run a journey file from the command line.

Exit status: 0 the journey passed, 1 it failed, 2 the file or arguments are invalid,
3 the environment cannot run it (no browser, engine extra missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ._errors import (
    BrowserNotFoundError,
    BrowserVersionMismatchError,
    JourneyFileError,
    JourneyValidationError,
    MissingExtraError,
)
from ._journey import Journey

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="maestro-journey", description="Run user journeys (JSON, YAML, Recorder) in Chromium."
    )
    parser.add_argument("--version", action="version", version=f"maestro-journey {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a journey file and print a report")
    run.add_argument("file", help="journey file: .json, .yaml/.yml, or a DevTools Recorder export")
    run.add_argument("--engine", choices=("playwright", "selenium"), default="playwright")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--timeout", type=float, default=10.0, help="default per-step timeout (s)")
    run.add_argument("--base-url", help="resolve relative navigate URLs against this")
    run.add_argument("--artifacts", default="maestro-artifacts", help="failure artifacts folder")
    run.add_argument("--continue-on-failure", action="store_true", help="run every step")
    run.add_argument(
        "--trace", choices=("off", "on", "retain-on-failure"), default="retain-on-failure"
    )
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    check = sub.add_parser("validate", help="validate a journey file without a browser")
    check.add_argument("file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``maestro-journey``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        journey = Journey.from_file(args.file)
    except (JourneyFileError, JourneyValidationError) as exc:
        print(f"maestro-journey: error: {args.file}: {exc}", file=sys.stderr)
        return 2
    except MissingExtraError as exc:
        print(f"maestro-journey: error: {exc}", file=sys.stderr)
        return 3
    if args.command == "validate":
        print(f"{args.file}: journey {journey.name!r} is valid ({len(journey)} steps)")
        return 0
    from ._tester import AdvancedWebTester

    try:
        tester = AdvancedWebTester(
            args.engine,
            headless=not args.headed,
            timeout=args.timeout,
            base_url=args.base_url,
            artifacts_dir=args.artifacts,
            continue_on_failure=args.continue_on_failure,
            trace=args.trace,
        )
        result = tester.sync.run_user_journey(journey)
    except JourneyValidationError as exc:
        print(f"maestro-journey: error: {args.file}: {exc}", file=sys.stderr)
        return 2
    except (MissingExtraError, BrowserNotFoundError, BrowserVersionMismatchError) as exc:
        print(f"maestro-journey: error: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.report())
    return 0 if result else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
