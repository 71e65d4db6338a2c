"""Build every workspace member into dist/, then check what was built.

For each package under packages/: ``uv build`` (sdist, then the wheel from the sdist),
``twine check --strict`` on both files and ``check-wheel-contents`` on the wheel. The
first problem stops the build with the package's name. Timestamps come from
SOURCE_DATE_EPOCH (the last commit), so two builds of one commit are byte-identical.

    python tools/build.py [--out DIR] [--package NAME ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class BuildError(Exception):
    """A package failed to build or failed a check."""


def members(workspace: Path = REPO) -> list[tuple[str, Path]]:
    """The (distribution name, folder) of every workspace member, sorted by name."""
    found = []
    for pyproject in sorted((workspace / "packages").glob("*/pyproject.toml")):
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        found.append((name, pyproject.parent))
    return found


def source_date_epoch() -> str:
    """SOURCE_DATE_EPOCH from the environment, else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=REPO, capture_output=True, text=True
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    return "315532800"  # 1980-01-01, the earliest time a zip file can hold


def _tool(name: str) -> str:
    """A tool from this interpreter's environment (the workspace venv), else PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise BuildError(f"{name} is not installed; run `make sync` first")
    return found


def _run(package: str, step: str, cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise BuildError(f"{package}: {step} failed:\n{output}")


def build(
    names: list[str] | None, out: Path, workspace: Path = REPO, *, quiet: bool = False
) -> list[Path]:
    """Build and check the named members (all when None) into out; return the files."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=source_date_epoch())
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    everything = members(workspace)
    chosen = [(n, p) for n, p in everything if names is None or n in names]
    unknown = set(names or ()) - {n for n, _ in chosen}
    if unknown:
        known = ", ".join(n for n, _ in everything)
        raise BuildError(f"unknown package(s) {', '.join(sorted(unknown))}; known: {known}")
    out.mkdir(parents=True, exist_ok=True)
    built: list[Path] = []
    for name, _folder in chosen:
        stem = name.replace("-", "_")
        for old in [*out.glob(f"{stem}-*.whl"), *out.glob(f"{stem}-*.tar.gz")]:
            old.unlink()
        started = time.perf_counter()
        _run(
            name,
            "uv build",
            [uv, "build", "--no-create-gitignore", "--package", name, "--out-dir", str(out)],
            env,
            workspace,
        )
        files = sorted([*out.glob(f"{stem}-*.whl"), *out.glob(f"{stem}-*.tar.gz")])
        wheels = [f for f in files if f.suffix == ".whl"]
        if len(files) != 2 or len(wheels) != 1:
            raise BuildError(f"{name}: expected one sdist and one wheel, found {files}")
        _run(
            name,
            "twine check --strict",
            [_tool("twine"), "check", "--strict", *map(str, files)],
            env,
            workspace,
        )
        _run(
            name,
            "check-wheel-contents",
            [_tool("check-wheel-contents"), str(wheels[0])],
            env,
            workspace,
        )
        if not quiet:
            print(
                f"built {name}: {', '.join(f.name for f in files)} "
                f"({time.perf_counter() - started:.1f}s)"
            )
        built.extend(files)
    return built


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument("--package", action="append", help="build only this member (repeatable)")
    parser.add_argument("--workspace", type=Path, default=REPO, help="the uv workspace root")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        files = build(args.package, args.out, args.workspace.resolve(), quiet=args.quiet)
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    if not files:
        print("build: no packages under packages/", file=sys.stderr)
        return 1
    print(f"built {len(files)} files into {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
