"""The verified-token cache: keyed by SHA-256, bounded, expiry and revocation checked per hit."""

from __future__ import annotations

import hashlib

import pytest
from auth_forge import ISSUER
from maestro_core_auth import (
    InvalidSignatureError,
    Key,
    RevocationList,
    TokenExpiredError,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
)
from maestro_testkit import FakeClock


def test_a_repeat_token_is_answered_from_the_cache(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    """The second verify of a token returns the same Claims object, keyed by its SHA-256."""
    token = issuer.issue(subject="u")
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    assert hashlib.sha256(token.encode()).digest() in verifier._cache
    assert token not in str(list(verifier._cache))


def test_expiry_is_checked_on_every_hit(
    issuer: TokenIssuer, verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """A cached token still expires: exp + leeway passed means TokenExpiredError."""
    token = issuer.issue(subject="u", ttl=60)
    verifier.verify(token)
    fake_clock.advance(60 + 30 - 1)
    assert verifier.verify(token)
    fake_clock.advance(2)
    with pytest.raises(TokenExpiredError):
        verifier.verify(token)


async def test_revocation_is_checked_on_every_hit(
    ed_key: Key, issuer: TokenIssuer, fake_clock: FakeClock
) -> None:
    """A cached token revoked afterwards is refused by verify and averify."""
    revocation = RevocationList(clock=fake_clock.now)
    verifier = TokenVerifier(
        keys=ed_key.public(),
        issuer=ISSUER,
        audience="orders",
        revocation=revocation,
        clock=fake_clock.now,
    )
    token = issuer.issue(subject="u")
    claims = verifier.verify(token)
    await revocation.revoke(claims)
    with pytest.raises(TokenRevokedError):
        verifier.verify(token)
    with pytest.raises(TokenRevokedError):
        await verifier.averify(token)


def test_cache_is_bounded(issuer: TokenIssuer, ed_key: Key, fake_clock: FakeClock) -> None:
    """With cache_size=3 the cache never holds more than 3 tokens (oldest evicted first)."""
    verifier = TokenVerifier(
        keys=ed_key.public(), issuer=ISSUER, audience="orders", cache_size=3, clock=fake_clock.now
    )
    tokens = [issuer.issue(subject=f"u{i}") for i in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._cache) == 3
    assert hashlib.sha256(tokens[0].encode()).digest() not in verifier._cache
    assert hashlib.sha256(tokens[4].encode()).digest() in verifier._cache


def test_cache_ttl_bounds_an_entry(issuer: TokenIssuer, ed_key: Key, fake_clock: FakeClock) -> None:
    """After cache_ttl the token is verified afresh (a new Claims object)."""
    verifier = TokenVerifier(
        keys=ed_key.public(), issuer=ISSUER, audience="orders", cache_ttl=10, clock=fake_clock.now
    )
    token = issuer.issue(subject="u")
    first = verifier.verify(token)
    fake_clock.advance(11)
    second = verifier.verify(token)
    assert second is not first
    assert second == first


def test_a_changed_token_misses_the_cache(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    """One character changed in the signature is verified, and fails."""
    token = issuer.issue(subject="u")
    verifier.verify(token)
    head, body, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(InvalidSignatureError):
        verifier.verify(f"{head}.{body}.{flipped}")


def test_cache_can_be_turned_off(issuer: TokenIssuer, ed_key: Key, fake_clock: FakeClock) -> None:
    """cache_size=0 stores nothing."""
    verifier = TokenVerifier(
        keys=ed_key.public(), issuer=ISSUER, audience="orders", cache_size=0, clock=fake_clock.now
    )
    token = issuer.issue(subject="u")
    assert verifier.verify(token) is not verifier.verify(token)
    assert len(verifier._cache) == 0
    verifier.clear_cache()
