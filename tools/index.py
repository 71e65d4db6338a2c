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


def main(argv: list[str] | None = None) -> int:
    """Command line: ``index.py serve [--host H] [--port P] [--root DIR ...]``."""
    parser = argparse.ArgumentParser(prog="index.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the index in the foreground")
    run.add_argument("--host", default=os.environ.get("MAESTRO_INDEX_HOST", DEFAULT_HOST))
    run.add_argument(
        "--port", type=int, default=int(os.environ.get("MAESTRO_INDEX_PORT", DEFAULT_PORT))
    )
    run.add_argument(
        "--root",
        action="append",
        default=[],
        help="a folder of built distributions to serve (repeatable; default dist/)",
    )
    run.add_argument(
        "--data-dir",
        default=os.environ.get("MAESTRO_INDEX_DATA", ".index-data"),
        help="where uploads are stored (default .index-data/)",
    )
    run.add_argument(
        "--upstream",
        default=os.environ.get("MAESTRO_INDEX_UPSTREAM", DEFAULT_UPSTREAM),
        help="the public simple index for names we do not host",
    )
    args = parser.parse_args(argv)
    if not args.root:
        args.root = ["dist"]
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: give a port between 0 and 65535")
    logging.basicConfig(level=logging.WARNING, format="index: %(message)s")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
