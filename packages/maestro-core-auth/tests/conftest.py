"""Shared fixtures: keys, a cheap password profile, and a scripted local JWKS / OIDC server."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from maestro_core_auth import Key, PasswordManager, TokenIssuer, TokenVerifier
from maestro_testkit import FakeClock

# The attack helpers (auth_forge.py) sit beside the tests; importlib mode does not add this dir.
sys.path.insert(0, str(Path(__file__).parent))

from auth_forge import ISSUER


@pytest.fixture(scope="session")
def ed_key() -> Key:
    """One Ed25519 signing key for the session."""
    return Key.generate("Ed25519", kid="ed1")


@pytest.fixture(scope="session")
def rsa_key() -> Key:
    """One RS256 signing key (2048 bits) for the session."""
    return Key.generate("RS256", kid="rsa1")


@pytest.fixture(scope="session")
def es_key() -> Key:
    """One ES256 signing key for the session."""
    return Key.generate("ES256", kid="es1")


@pytest.fixture
def hs_key() -> Key:
    """A fresh HS256 key."""
    return Key.generate("HS256", kid="hs1")


@pytest.fixture
def issuer(ed_key: Key, fake_clock: FakeClock) -> TokenIssuer:
    """An Ed25519 issuer on the fake clock, audience 'orders'."""
    return TokenIssuer(key=ed_key, issuer=ISSUER, audience="orders", ttl=300, clock=fake_clock.now)


@pytest.fixture
def verifier(ed_key: Key, fake_clock: FakeClock) -> TokenVerifier:
    """The matching verifier on the same fake clock."""
    return TokenVerifier(
        keys=ed_key.public(), issuer=ISSUER, audience="orders", clock=fake_clock.now
    )


@pytest.fixture
def fast_passwords() -> Iterator[PasswordManager]:
    """A deliberately cheap Argon2id profile for tests that are not about the cost itself."""
    manager = PasswordManager(time_cost=1, memory_cost=64, parallelism=1, max_concurrency=2)
    yield manager
    manager.close()


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


@pytest.fixture
def idp() -> Iterator[IdP]:
    """A local HTTP server playing the IdP, on an ephemeral port."""
    server = IdP()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
