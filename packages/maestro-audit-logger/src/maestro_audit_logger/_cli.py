"""``maestro-audit verify | export | tail | stats DIR``.

Exit status: 0 when the log verifies, 1 when it does not (the command's other output is
still produced), 2 for a usage or input error, 3 for an environment error (a file or
directory that cannot be read or written). Errors go to stderr as
``maestro-audit: error: <what and how to fix>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import orjson

from maestro_audit_logger._checkpoint import (
    KEY_ID_ENV,
    Ed25519Verifier,
    HmacSigner,
    Verifier,
    _env,
    _key_bytes,
)
from maestro_audit_logger._errors import (
    AuditCorruptionError,
    ConfigurationError,
    InvalidEventError,
    MaestroAuditError,
)
from maestro_audit_logger._export import export
from maestro_audit_logger._reader import iter_records
from maestro_audit_logger._storage import list_segments
from maestro_audit_logger._verify import VerifyResult, verify
from maestro_audit_logger._version import __version__

OK, NOT_VERIFIED, ERROR, ENVIRONMENT = 0, 1, 2, 3
PROG = "maestro-audit"


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. 2026-01-01T00:00Z")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with the family's error prefix, also for subcommands."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ERROR, f"{PROG}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Verify, export, tail and summarise a maestro-audit-logger directory. "
        "Exit status 0 only when the log verifies, 1 when it does not, 2 for a usage or "
        "input error, 3 when a file cannot be read or written.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "directory",
            type=Path,
            help="the AuditLogger output_dir (verify also takes one JSON Lines file)",
        )
        sp.add_argument(
            "--hmac-key-env",
            metavar="VAR",
            help="environment variable holding the HMAC checkpoint key",
        )
        sp.add_argument(
            "--ed25519-public-key",
            metavar="HEX",
            help="Ed25519 public key (hex or base64) for checkpoint signatures",
        )
        sp.add_argument(
            "--key-id",
            help="key id of the given key (default: $MAESTRO_AUDIT__KEY_ID or 'default')",
        )
        sp.add_argument(
            "--checkpoints",
            metavar="PATH",
            help="checkpoints kept outside the directory (file or directory)",
        )
        sp.add_argument(
            "--require-signatures",
            action="store_true",
            help="an unsigned checkpoint, or a missing, empty or stale checkpoints file, "
            "is an issue",
        )
        sp.add_argument(
            "--trusted-checkpoint",
            metavar="FILE",
            help="a checkpoints file kept elsewhere; its newest checkpoint must match the log",
        )

    v = sub.add_parser("verify", help="check the hash chain, checkpoints and signatures")
    common(v)
    v.add_argument("--json", action="store_true", help="print the result as JSON")

    e = sub.add_parser("export", help="export (filtered) events to json, jsonl or csv")
    common(e)
    e.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    e.add_argument(
        "-f",
        "--format",
        choices=("json", "jsonl", "csv"),
        help="default: from the output file's extension",
    )
    e.add_argument("--since", type=_when, help="inclusive ISO 8601 time")
    e.add_argument("--until", type=_when, help="exclusive ISO 8601 time")
    e.add_argument("--type", dest="event_type", help="event type, wildcards allowed: 'user.*'")
    e.add_argument("--user", dest="user_id", help="actor user_id")
    e.add_argument("--outcome", choices=("success", "failure", "unknown"))
    e.add_argument(
        "--bom", action="store_true", help="start a CSV export with a UTF-8 BOM (for Excel)"
    )

    t = sub.add_parser("tail", help="print the newest records as JSON lines")
    common(t)
    t.add_argument("-n", "--lines", type=int, default=10, help="how many (default 10)")
    t.add_argument("--follow", action="store_true", help="keep printing new records")
    t.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    t.add_argument("--max-polls", type=int, default=0, help=argparse.SUPPRESS)

    s = sub.add_parser("stats", help="counts by type and outcome, ranges, verification status")
    common(s)
    s.add_argument("--json", action="store_true", help="print as JSON")
    return p


def _keys(args: argparse.Namespace) -> list[Verifier]:
    keys: list[Verifier] = []
    if args.key_id is None:
        args.key_id = _env(KEY_ID_ENV) or "default"
    if args.hmac_key_env:
        keys.append(HmacSigner.from_env(args.hmac_key_env, key_id=args.key_id))
    if args.ed25519_public_key:
        raw = _key_bytes(args.ed25519_public_key, "--ed25519-public-key")
        keys.append(Ed25519Verifier(raw, args.key_id))
    return keys


def _verify(args: argparse.Namespace) -> VerifyResult:
    return verify(
        args.directory,
        keys=_keys(args),
        checkpoints=args.checkpoints,
        require_signatures=args.require_signatures,
        trusted_checkpoint=args.trusted_checkpoint,
    )


def _report(result: VerifyResult) -> int:
    if not result:
        print(result.summary(), file=sys.stderr)
        return NOT_VERIFIED
    return OK


def _cmd_verify(args: argparse.Namespace) -> int:
    result = _verify(args)
    if args.json:
        print(
            orjson.dumps(
                {
                    "ok": result.ok,
                    "records": result.records,
                    "first_sequence": result.first_sequence,
                    "last_sequence": result.last_sequence,
                    "segments": result.segments,
                    "checkpoints": result.checkpoints,
                    "signatures_checked": result.signatures_checked,
                    "unvouched": result.unvouched,
                    "issues": [
                        {
                            "kind": i.kind,
                            "message": i.message,
                            "segment": i.segment,
                            "line": i.line,
                            "first_sequence": i.first_sequence,
                            "last_sequence": i.last_sequence,
                        }
                        for i in result.issues
                    ],
                    "warnings": result.warnings,
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
    else:
        print(result.summary())
    return OK if result else NOT_VERIFIED


def _cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or args.output.suffix.lstrip(".").lower()
    if fmt not in ("json", "jsonl", "csv"):
        _error(f"cannot tell the format of {args.output}; pass --format json, jsonl or csv")
        return ERROR
    result = export(
        args.directory,
        args.output,
        fmt,
        since=args.since,
        until=args.until,
        event_type=args.event_type,
        user_id=args.user_id,
        outcome=args.outcome,
        bom=args.bom,
    )
    print(
        f"wrote {result.count} records (sequences {result.first_sequence}.."
        f"{result.last_sequence}) to {result.path}; manifest {result.manifest_path}"
    )
    return _report(_verify(args))


def _tail_lines(directory: Path, n: int) -> list[bytes]:
    out: deque[bytes] = deque(maxlen=n)
    for _, name in reversed(list_segments(directory)):
        lines: deque[bytes] = deque(maxlen=n)
        with open(directory / name, "rb") as f:
            for raw in f:
                if raw.endswith(b"\n"):
                    lines.append(raw[:-1])
        out.extendleft(reversed(lines))
        if len(out) >= n:
            break
    return list(out)[-n:] if n > 0 else []


def _follow(directory: Path, interval: float, max_polls: int) -> None:
    """Print records appended after the call, reading only new bytes of each segment."""
    segments = list_segments(directory)
    name = segments[-1][1] if segments else ""
    offset = (directory / name).stat().st_size if name else 0
    polls = 0
    while max_polls == 0 or polls < max_polls:
        polls += 1
        sys.stdout.flush()
        time.sleep(interval)
        for _, seg in list_segments(directory):
            if seg < name:
                continue
            if seg != name:
                name, offset = seg, 0
            with open(directory / seg, "rb") as f:
                f.seek(offset)
                data = f.read()
            end = data.rfind(b"\n") + 1
            for line in data[:end].splitlines():
                print(line.decode())
            offset += end


def _cmd_tail(args: argparse.Namespace) -> int:
    for line in _tail_lines(args.directory, args.lines):
        print(line.decode())
    if args.follow:
        with contextlib.suppress(KeyboardInterrupt):
            _follow(args.directory, args.interval, args.max_polls)
    return _report(_verify(args))


def _cmd_stats(args: argparse.Namespace) -> int:
    types: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    first_ts = last_ts = None
    for _, rec in iter_records(args.directory):
        types[rec.get("event_type", "?")] += 1
        outcomes[rec.get("outcome", "?")] += 1
        first_ts = first_ts or rec.get("timestamp")
        last_ts = rec.get("timestamp")
    result = _verify(args)
    data = {
        "directory": str(args.directory),
        "verified": result.ok,
        "records": result.records,
        "segments": result.segments,
        "checkpoints": result.checkpoints,
        "first_sequence": result.first_sequence,
        "last_sequence": result.last_sequence,
        "first_timestamp": first_ts,
        "last_timestamp": last_ts,
        "event_types": dict(types.most_common()),
        "outcomes": dict(outcomes.most_common()),
        "issues": [str(i) for i in result.issues],
    }
    if args.json:
        print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        for key, value in data.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, c in value.items():
                    print(f"  {k}: {c}")
            elif key != "issues":
                print(f"{key}: {value}")
    return _report(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 only when the log verifies)."""
    args = _parser().parse_args(argv)
    usable = args.directory.is_dir() or (args.command == "verify" and args.directory.is_file())
    if not usable:
        _error(f"'{args.directory}' is not a directory; give the AuditLogger output_dir")
        return ERROR
    commands = {
        "verify": _cmd_verify,
        "export": _cmd_export,
        "tail": _cmd_tail,
        "stats": _cmd_stats,
    }
    try:
        return commands[args.command](args)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return NOT_VERIFIED
    except (ConfigurationError, InvalidEventError) as exc:
        _error(str(exc))
        return ERROR
    except AuditCorruptionError as exc:
        _error(str(exc))
        return NOT_VERIFIED
    except (MaestroAuditError, OSError) as exc:
        _error(str(exc))
        return ENVIRONMENT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
