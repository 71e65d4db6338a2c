"""Upload the built distributions in dist/ to a twine-compatible repository.

    MAESTRO_INDEX_URL=http://localhost:28081/repository/pypi-hosted/ \
        python tools/publish.py [--dry-run]

The repository can be our local index, a Nexus hosted repository, devpi or Artifactory.
Credentials come only from MAESTRO_INDEX_USERNAME / MAESTRO_INDEX_PASSWORD or, without
them, from twine's keyring lookup; they are handed to twine through its environment,
never on a command line, and never printed.

Files the repository already lists (its simple page, ``<url>/simple/<name>/`` unless
MAESTRO_INDEX_SIMPLE_URL says otherwise) are skipped, so a re-run completes what a failed
run left. Each upload is one twine call: a failure names the file and quotes the index.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_HREF = re.compile(r'href="([^"#]+)(?:#[^"]*)?"')


LIST_TIMEOUT = 120.0  # a proxying index (devpi, Nexus) may ask the public index first


class PublishError(Exception):
    """An upload failed; the message names the file and the index's answer."""

    uploaded = 0  # files this run uploaded before the failure


class IndexUnreachableError(PublishError):
    """Nothing answers at the index's URL: an environment problem, not a refused upload."""


def project_of(filename: str) -> str:
    """The normalised project name of a wheel or sdist file name."""
    stem = filename.removesuffix(".tar.gz").removesuffix(".whl")
    return re.sub(r"[-_.]+", "-", stem.split("-")[0]).lower()


def _auth_header() -> dict[str, str]:
    user = os.environ.get("MAESTRO_INDEX_USERNAME")
    password = os.environ.get("MAESTRO_INDEX_PASSWORD")
    if not user or not password:
        return {}
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def existing_files(simple_url: str, project: str) -> set[str]:
    """File names the repository lists for a project (empty when it has none)."""
    url = f"{simple_url.rstrip('/')}/{project}/"
    request = urllib.request.Request(url, headers=_auth_header())
    try:
        with urllib.request.urlopen(request, timeout=LIST_TIMEOUT) as response:
            page = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return set()
        raise PublishError(f"could not list {url}: HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise IndexUnreachableError(
            f"{url} did not answer within {LIST_TIMEOUT:.0f} s; is the index overloaded or "
            "still starting? Re-run when it answers."
        ) from None
    except urllib.error.URLError as exc:
        raise IndexUnreachableError(
            f"nothing answers at {url} ({exc.reason}); is the index running? "
            "Start it with `make index`, or point MAESTRO_INDEX_URL at a running one."
        ) from None
    return {href.rsplit("/", 1)[-1] for href in _HREF.findall(page)}


def _twine() -> str:
    local = Path(sys.executable).parent / "twine"
    return str(local) if local.exists() else (shutil.which("twine") or "twine")


def upload(path: Path, repository_url: str) -> None:
    """Upload one file with twine; raise PublishError naming it when the index refuses."""
    env = dict(os.environ)
    env.pop("TWINE_PASSWORD", None)
    env.pop("TWINE_USERNAME", None)
    if os.environ.get("MAESTRO_INDEX_USERNAME"):
        env["TWINE_USERNAME"] = os.environ["MAESTRO_INDEX_USERNAME"]
    if os.environ.get("MAESTRO_INDEX_PASSWORD"):
        env["TWINE_PASSWORD"] = os.environ["MAESTRO_INDEX_PASSWORD"]
    cmd = [
        _twine(),
        "--no-color",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--repository-url",
        repository_url,
        str(path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        answer = "\n".join(
            line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()
        )
        raise PublishError(f"{path.name} failed to upload to {repository_url}:\n{answer}")


def publish(dist: Path, repository_url: str, simple_url: str, *, dry_run: bool) -> int:
    """Upload what is missing; return the number of files uploaded (or listed, dry run)."""
    files = sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")])
    if not files:
        raise PublishError(f"nothing to publish in {dist}; run `make build` first")
    listed: dict[str, set[str]] = {}
    count = 0
    for path in files:
        project = project_of(path.name)
        if project not in listed:
            listed[project] = existing_files(simple_url, project)
        if path.name in listed[project]:
            print(f"skip    {path.name} (already on the index)")
            continue
        if dry_run:
            print(f"would upload {path.name}")
        else:
            try:
                upload(path, repository_url)
            except PublishError as exc:
                exc.uploaded = count
                raise
            print(f"upload  {path.name}")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="publish.py", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--repository-url", default=os.environ.get("MAESTRO_INDEX_URL"))
    args = parser.parse_args(argv)
    if not args.repository_url:
        print(
            "publish: error: set MAESTRO_INDEX_URL to the repository's upload URL, e.g. "
            "http://localhost:28081/repository/pypi-hosted/",
            file=sys.stderr,
        )
        return 2
    simple_url = os.environ.get(
        "MAESTRO_INDEX_SIMPLE_URL", args.repository_url.rstrip("/") + "/simple"
    )
    try:
        count = publish(args.dist, args.repository_url, simple_url, dry_run=args.dry_run)
    except IndexUnreachableError as exc:
        print(f"publish: error: {exc}", file=sys.stderr)
        return 3
    except PublishError as exc:
        print(f"publish: error: {exc}", file=sys.stderr)
        if exc.uploaded:
            print(
                f"publish: the {exc.uploaded} file(s) uploaded before this one stay; "
                "re-run to finish.",
                file=sys.stderr,
            )
        return 1
    verb = "would upload" if args.dry_run else "uploaded"
    print(f"publish: {verb} {count} file(s) to {args.repository_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
