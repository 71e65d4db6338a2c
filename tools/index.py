"""The Maestro package index: pypiserver behind the two Nexus paths of the integration guide.

    /repository/pypi-hosted/          our distributions; anyone reads, uploads need the
                                      credentials in MAESTRO_INDEX_USERNAME / _PASSWORD
    /repository/pypi-group/simple/    our distributions, and for every other name a redirect
                                      to the public index (pypiserver's fallback), so that
                                      installs resolve their third-party dependencies

No dependency confusion: a name under a private prefix (``maestro-`` by default) is never
sent to the public index from the group path; when we do not host it, the answer is 404.

Run ``python tools/index.py serve`` (``make index`` does it after building). Host, port,
package folders and the upstream index come from flags or MAESTRO_INDEX_* variables.
"""

from __future__ import annotations

import argparse
import errno
import hmac
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HOSTED_PREFIX = "/repository/pypi-hosted"
GROUP_PREFIX = "/repository/pypi-group"
GROUP_SIMPLE_PATH = f"{GROUP_PREFIX}/simple"
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 28081
DEFAULT_UPSTREAM = "https://pypi.org/simple"
DEFAULT_PRIVATE_PREFIXES = ("maestro-",)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_SIMPLE_PROJECT = re.compile(r"^/simple/([^/]+)/?$")
log = logging.getLogger("maestro.index")


def normalize(name: str) -> str:
    """PEP 503 normalisation of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def credentials_auther() -> Callable[[str, str], bool]:
    """Check an upload's credentials against the environment, in constant time.

    The variables are read at each upload, so a rotated secret takes effect without a
    restart. Without both variables, every upload is refused.
    """

    def auther(username: str, password: str) -> bool:
        expected_user = os.environ.get("MAESTRO_INDEX_USERNAME", "")
        expected_password = os.environ.get("MAESTRO_INDEX_PASSWORD", "")
        if not expected_user or not expected_password:
            return False
        user_ok = hmac.compare_digest(username.encode(), expected_user.encode())
        password_ok = hmac.compare_digest(password.encode(), expected_password.encode())
        return user_ok and password_ok

    return auther


def _pypiserver_app(**overrides: Any) -> WSGIApp:
    # pypiserver imports passlib for htpasswd files, and passlib 1.7's bcrypt probe crashes
    # with bcrypt >= 5 (which maestro-core-auth[bcrypt] installs beside it). The index checks
    # upload credentials itself and never reads an htpasswd file: passlib gets no bcrypt.
    if "bcrypt" not in sys.modules:
        sys.modules["bcrypt"] = None  # type: ignore[assignment]
    import pypiserver  # type: ignore[import-untyped]

    app: WSGIApp = pypiserver.app(backend_arg="simple-dir", **overrides)
    return app


def _plain(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    data = body.encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


class MaestroIndex:
    """A WSGI application that mounts two pypiserver apps under the Nexus paths."""

    def __init__(
        self,
        roots: list[Path],
        *,
        upstream: str = DEFAULT_UPSTREAM,
        private_prefixes: tuple[str, ...] = DEFAULT_PRIVATE_PREFIXES,
    ) -> None:
        if not roots:
            raise ValueError("roots: give at least one folder of distributions to serve")
        for root in roots:
            root.mkdir(parents=True, exist_ok=True)
        self.roots = roots
        self.upstream = upstream.rstrip("/")
        self.private_prefixes = tuple(normalize(p) for p in private_prefixes)
        common: dict[str, Any] = {"roots": roots, "overwrite": False, "health_endpoint": "/health"}
        # Uploads land in the first root; reading is open, updating needs credentials.
        self.hosted = _pypiserver_app(
            authenticate=["update"],
            auther=credentials_auther(),
            disable_fallback=True,
            **common,
        )
        self.group = _pypiserver_app(
            authenticate=[],
            password_file=".",
            disable_fallback=False,
            fallback_url=self.upstream,
            **common,
        )

    def is_private(self, project: str) -> bool:
        """Whether a project name is ours alone, never to be answered from upstream."""
        name = normalize(project)
        return any(name.startswith(prefix) for prefix in self.private_prefixes)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "") or "/"
        for prefix, app in ((HOSTED_PREFIX, self.hosted), (GROUP_PREFIX, self.group)):
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                if app is self.group:
                    return self._group(environ, start_response)
                return app(environ, start_response)
        if path in ("/", "/health"):
            return _plain(start_response, "200 OK", self.landing())
        return _plain(
            start_response,
            "404 Not Found",
            f"Not Found: {path}\nThe index serves {GROUP_SIMPLE_PATH}/ and {HOSTED_PREFIX}/.\n",
        )

    def _group(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(
                start_response,
                "405 Method Not Allowed",
                f"The group repository is read-only; upload to {HOSTED_PREFIX}/ instead.\n",
            )
        match = _SIMPLE_PROJECT.match(environ["PATH_INFO"])
        if match and self.is_private(match.group(1)):
            # Our names are answered by the hosted app, which has no fallback: a name we do
            # not host is a 404 here, never a redirect to whoever registered it publicly.
            return self.hosted(environ, start_response)
        return self.group(environ, start_response)

    def landing(self) -> str:
        """The text of the root page: what is served where."""
        return (
            "Maestro package index\n"
            f"  group  (use with pip): {GROUP_SIMPLE_PATH}/\n"
            f"  hosted (uploads):      {HOSTED_PREFIX}/\n"
            f"  upstream for other names: {self.upstream}/\n"
        )


def serve(args: argparse.Namespace) -> int:
    """Serve the index in the foreground until Ctrl-C or SIGTERM."""
    import signal

    from waitress.server import create_server

    started = time.perf_counter()
    roots = [Path(p).resolve() for p in (args.data_dir, *args.root)]
    index = MaestroIndex(roots, upstream=args.upstream)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        # Only the first Ctrl-C or SIGTERM interrupts; later ones arrive during shutdown.
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Shutdown is wired before the port is bound and long before "Ready" is printed: a
    # supervisor may signal the moment it reads the banner (or while the banner is written).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server = None
    try:
        try:
            server = create_server(
                index, host=args.host, port=args.port, threads=8, ident="maestro-index"
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                print(
                    f"index: port {args.port} on {args.host} is already in use; stop what "
                    f"holds it or choose another with --port / MAESTRO_INDEX_PORT.",
                    file=sys.stderr,
                )
                return 2
            raise
        port: int = getattr(server, "effective_port", args.port)
        base = f"http://{args.host}:{port}"
        host_only = args.host if args.host not in ("0.0.0.0", "::") else "localhost"
        uploads = (
            "enabled for MAESTRO_INDEX_USERNAME"
            if os.environ.get("MAESTRO_INDEX_USERNAME") and os.environ.get("MAESTRO_INDEX_PASSWORD")
            else "disabled (set MAESTRO_INDEX_USERNAME and MAESTRO_INDEX_PASSWORD to enable)"
        )
        print(
            f"Maestro index serving {', '.join(str(r) for r in roots)}\n"
            f"  group:  {base}{GROUP_SIMPLE_PATH}/\n"
            f"  hosted: {base}{HOSTED_PREFIX}/   uploads {uploads}\n"
            f"  pip install --index-url {base}{GROUP_SIMPLE_PATH} --trusted-host {host_only} "
            f"maestro-resilience==1.0.0\n"
            f"Ready in {time.perf_counter() - started:.2f}s; Ctrl-C stops it.",
            flush=True,
        )
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.close()
    print("index: stopped", flush=True)
    return 0


GUIDE = Path(__file__).resolve().parents[1] / "docs" / "integration-guide.md"


def install_all_names(guide: Path = GUIDE) -> list[str]:
    """The requirement words of the guide's "Install All Packages" command, in order."""
    text = guide.read_text(encoding="utf-8")
    match = re.search(r"### Install All Packages\s*```bash\n(.*?)```", text, re.S)
    if match is None:
        raise ValueError(f"{guide} has no 'Install All Packages' bash block")
    words = match.group(1).replace("\\\n", " ").split()
    names: list[str] = []
    skip_next = False
    for word in words[2:]:  # after "pip install"
        if skip_next:
            skip_next = False
        elif word in ("--index-url", "--trusted-host", "-i"):
            skip_next = True
        elif not word.startswith("-"):
            names.append(word)
    return names


def check(index_url: str, requirements: list[str]) -> int:
    """Print every requirement the index does not serve; 0 all found, 1 some missing, 3 down."""
    import urllib.error
    import urllib.request

    missing: list[str] = []
    for requirement in requirements:
        name = re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0]
        project = re.sub(r"[-_.]+", "-", name).lower()
        url = f"{index_url.rstrip('/')}/{project}/"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                print(f"index: error: {url} answered HTTP {exc.code}", file=sys.stderr)
                return 3
            missing.append(project)
        except urllib.error.URLError as exc:
            print(
                f"index: error: nothing answers at {index_url} ({exc.reason}); "
                "start it with `make index`",
                file=sys.stderr,
            )
            return 3
    if missing:
        print(
            f"index: {len(missing)} of {len(requirements)} names are not on {index_url}: "
            + ", ".join(missing),
            file=sys.stderr,
        )
        return 1
    print(f"index: all {len(requirements)} names are on {index_url}")
    return 0


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (so `serve` can bind it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return True
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(1.0)
            if sock.connect_ex(address) == 0:
                return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line: ``index.py serve [...]`` or ``index.py check [...]``."""
    parser = argparse.ArgumentParser(prog="index.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "serve",
        help="serve the index in the foreground",
        description="Serve the index in the foreground until Ctrl-C or SIGTERM.",
    )
    env_host = os.environ.get("MAESTRO_INDEX_HOST", DEFAULT_HOST)
    env_port = os.environ.get("MAESTRO_INDEX_PORT", str(DEFAULT_PORT))
    run.add_argument(
        "--host",
        default=env_host,
        help=f"the address to listen on (default {DEFAULT_HOST}; env MAESTRO_INDEX_HOST)",
    )
    run.add_argument(
        "--port",
        default=env_port,
        help=f"the port to listen on (default {DEFAULT_PORT}; env MAESTRO_INDEX_PORT)",
    )
    run.add_argument(
        "--root",
        action="append",
        default=[],
        help="a folder of built distributions to serve, repeatable (default dist/)",
    )
    run.add_argument(
        "--data-dir",
        default=os.environ.get("MAESTRO_INDEX_DATA", ".index-data"),
        help="where uploads are stored (default .index-data/; env MAESTRO_INDEX_DATA)",
    )
    run.add_argument(
        "--upstream",
        default=os.environ.get("MAESTRO_INDEX_UPSTREAM", DEFAULT_UPSTREAM),
        help=(
            f"the public simple index for names we do not host (default {DEFAULT_UPSTREAM}; "
            "env MAESTRO_INDEX_UPSTREAM)"
        ),
    )
    run.add_argument(
        "--check-port",
        action="store_true",
        help="only check that the port is free (exit 0) or taken (exit 2), then stop",
    )
    probe = sub.add_parser(
        "check",
        help="list the names a running index does not serve",
        description=(
            "Ask a running index for each name of the integration guide's 'Install All "
            "Packages' command (or the names given) and list every one it does not serve. "
            "Exit 0 when all are there, 1 when some are missing, 3 when nothing answers."
        ),
    )
    probe.add_argument(
        "--index-url",
        default=(
            f"http://{env_host}:{env_port}{GROUP_SIMPLE_PATH}"
            if env_host not in ("0.0.0.0", "::")
            else f"http://localhost:{env_port}{GROUP_SIMPLE_PATH}"
        ),
        help="the simple index to ask (default: the group path of MAESTRO_INDEX_HOST/_PORT)",
    )
    probe.add_argument(
        "names", nargs="*", help="requirements to look for (default: the guide's Install All)"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.index_url, args.names or install_all_names())
    try:
        args.port = int(args.port)
    except ValueError:
        parser.error(f"--port {args.port!r}: give a port number between 0 and 65535")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: give a port between 0 and 65535")
    if args.check_port:
        if args.port and not port_is_free(args.host, args.port):
            print(
                f"index: port {args.port} on {args.host} is already in use; stop what holds "
                f"it or choose another with MAESTRO_INDEX_PORT (nothing was built).",
                file=sys.stderr,
            )
            return 2
        return 0
    if not args.root:
        args.root = ["dist"]
    logging.basicConfig(level=logging.WARNING, format="index: %(message)s")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
