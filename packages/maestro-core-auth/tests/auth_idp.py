"""A scripted identity provider for the JWKS / OIDC tests: a real local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from maestro_core_auth import Key


class IdP:
    """A scripted identity provider: serves a JWKS and an OIDC discovery document."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.status = 200
        self.body: bytes | None = None
        self.cache_control: str | None = None
        self.jwks_hits = 0
        self.delay = 0.0
        self.discovery_issuer: str | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def jwks_url(self) -> str:
        """Where the JWKS is served."""
        return self.base + "/jwks.json"

    def publish(self, *keys: Key) -> None:
        """Serve these keys' public JWKs from now on."""
        self.jwks = {"keys": [key.public().to_jwk() for key in keys]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    doc = {
                        "issuer": idp.discovery_issuer or idp.base,
                        "jwks_uri": idp.jwks_url,
                    }
                    self._send(200, json.dumps(doc).encode())
                    return
                if self.path == "/jwks.json":
                    idp.jwks_hits += 1
                    if idp.delay:
                        time.sleep(idp.delay)
                    body = idp.body if idp.body is not None else json.dumps(idp.jwks).encode()
                    self._send(idp.status, body)
                    return
                self._send(404, b"{}")

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if idp.cache_control:
                    self.send_header("Cache-Control", idp.cache_control)
                self.end_headers()
                self.wfile.write(body)

        return Handler
