"""`maestro-config show | validate | sources module:Class`: inspect a service's configuration.

Exit status: 0 valid, 1 invalid configuration (every error printed to stderr), 2 usage
error (bad arguments, a settings class that cannot be imported), 3 environment error (a
configuration file or directory that cannot be read). Errors go to stderr as
``maestro-config: error: ...``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._errors import ConfigFileError, MaestroConfigError
from ._settings import MaestroSettings
from ._version import __version__

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "settings",
        metavar="MODULE:CLASS",
        help="the MaestroSettings subclass, e.g. orders.config:Settings",
    )
    common.add_argument("--environment", "-e", help="environment name (overrides every source)")
    common.add_argument("--config-dir", help="directory of base.yaml and {environment}.yaml")
    common.add_argument("--env-file", help="the .env file to read (default: the class's env_file)")
    common.add_argument("--secrets-dir", help="the secrets directory (default: /run/secrets)")
    common.add_argument("--format", choices=("text", "json"), default=None, help="output format")
    parser = argparse.ArgumentParser(
        prog="maestro-config",
        description="Show, validate or trace the configuration of a Maestro service. "
        "Secrets are always redacted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("show", parents=[common], help="print the effective values (JSON)")
    commands.add_parser(
        "validate", parents=[common], help="exit 0 if the configuration is valid, 1 with errors"
    )
    commands.add_parser("sources", parents=[common], help="print where each value comes from")
    return parser


def load_settings_class(spec: str) -> type[MaestroSettings]:
    """Import `module:Class` (the current directory is importable, as for uvicorn)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise _UsageError(f"expected MODULE:CLASS (like orders.config:Settings), got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _UsageError(f"cannot import module {module_name!r}: {exc}") from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _UsageError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if not (isinstance(target, type) and issubclass(target, MaestroSettings)):
        raise _UsageError(f"{spec} is not a subclass of maestro_core_config.MaestroSettings")
    return target


def _build(cls: type[MaestroSettings], args: argparse.Namespace) -> MaestroSettings:
    values: dict[str, Any] = {}
    if args.environment is not None:
        values["environment"] = args.environment
    return cls.load(
        config_dir=args.config_dir,
        env_file=args.env_file,
        secrets_dir=args.secrets_dir,
        **values,
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _table(rows: Sequence[tuple[str, str]]) -> str:
    width = max((len(name) for name, _ in rows), default=0)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def _invalid(spec: str, exc: MaestroConfigError) -> int:
    print(f"maestro-config: error: invalid configuration for {spec}\n{exc}", file=sys.stderr)
    return EXIT_INVALID


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        cls = load_settings_class(args.settings)
    except _UsageError as exc:
        print(f"maestro-config: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = _build(cls, args)
    except ConfigFileError as exc:
        if not exc.unreadable:
            return _invalid(args.settings, exc)
        print(f"maestro-config: error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except MaestroConfigError as exc:
        return _invalid(args.settings, exc)

    if args.command == "validate":
        count = len(settings.sources())
        print(f"OK: {args.settings} is valid ({count} values, environment {settings.environment})")
    elif args.command == "show":
        # mode="json" renders every SecretStr as '**********'
        dumped = settings.model_dump(mode="json")
        if args.format == "text":
            print(_table([(k, json.dumps(v)) for k, v in _flatten(dumped)]))
        else:
            print(json.dumps(dumped, indent=2))
    else:
        sources = settings.sources()
        if args.format == "json":
            print(json.dumps(sources, indent=2))
        else:
            print(_table(list(sources.items())))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
