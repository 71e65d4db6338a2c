"""Shared fixtures: keys, a cheap password profile, and a scripted local JWKS / OIDC server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from maestro_core_auth import Key, PasswordManager, TokenIssuer, TokenVerifier
from maestro_testkit import FakeClock

# The helpers (auth_forge.py, auth_idp.py) sit here; importlib mode does not add this dir.
sys.path.insert(0, str(Path(__file__).parent))

from auth_forge import ISSUER
from auth_idp import IdP


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


@pytest.fixture
def idp() -> Iterator[IdP]:
    """A local HTTP server playing the IdP, on an ephemeral port."""
    server = IdP()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
