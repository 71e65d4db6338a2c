"""RevocationList (jti and subject) and RefreshTokenService (rotation, reuse, families)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auth_forge import ISSUER
from maestro_core_auth import (
    AuthConfigError,
    InvalidTokenError,
    Key,
    MemoryStore,
    RefreshTokenReuseError,
    RefreshTokenService,
    RevocationList,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
)
from maestro_testkit import FakeClock


@pytest.fixture
def setup(ed_key: Key, fake_clock: FakeClock) -> tuple[TokenIssuer, TokenVerifier, RevocationList]:
    """An issuer, and a verifier wired to a memory revocation list, on the fake clock."""
    revocation = RevocationList(clock=fake_clock.now)
    issuer = TokenIssuer(key=ed_key, issuer=ISSUER, audience="orders", clock=fake_clock.now)
    verifier = TokenVerifier(
        keys=ed_key.public(),
        issuer=ISSUER,
        audience="orders",
        revocation=revocation,
        clock=fake_clock.now,
    )
    return issuer, verifier, revocation


async def test_revoked_jti_is_refused(
    setup: tuple[TokenIssuer, TokenVerifier, RevocationList],
) -> None:
    """A revoked token fails; another token of the same subject still passes."""
    issuer, verifier, revocation = setup
    first, second = issuer.issue(subject="u"), issuer.issue(subject="u")
    await revocation.revoke(verifier.verify(first))
    with pytest.raises(TokenRevokedError):
        await verifier.averify(first)
    assert revocation.is_revoked(verifier.verify(second)) is False


async def test_revoke_subject_kills_older_tokens_only(
    setup: tuple[TokenIssuer, TokenVerifier, RevocationList], fake_clock: FakeClock
) -> None:
    """Tokens issued before revoke_subject fail; tokens issued later pass."""
    issuer, verifier, revocation = setup
    old = issuer.issue(subject="user-17")
    other = issuer.issue(subject="user-18")
    fake_clock.advance(1)
    await revocation.revoke_subject("user-17")
    fake_clock.advance(1)
    new = issuer.issue(subject="user-17")
    with pytest.raises(TokenRevokedError):
        verifier.verify(old)
    assert verifier.verify(new)
    assert verifier.verify(other)
    assert await revocation.ais_revoked(verifier.verify(new)) is False


async def test_revocation_entry_lives_until_exp(fake_clock: FakeClock) -> None:
    """A jti entry expires with the token (its TTL is exp - now)."""
    store = MemoryStore(monotonic=fake_clock.monotonic)
    revocation = RevocationList(store, clock=fake_clock.now)
    exp = fake_clock.now().timestamp() + 100
    await revocation.revoke({"jti": "j1", "exp": exp})
    assert await store.get("jti:j1") == "1"
    fake_clock.advance(101)
    assert await store.get("jti:j1") is None


async def test_store_without_sync_serves_async_only() -> None:
    """A store without .sync works for acheck; the sync check explains to use averify."""

    class AsyncOnly:
        def __init__(self) -> None:
            self.data: dict[str, str] = {}

        async def get(self, key: str) -> str | None:
            return self.data.get(key)

        async def set(self, key: str, value: str, ttl: float | None = None) -> None:
            self.data[key] = value

        async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
            return self.data.setdefault(key, value) == value

        async def delete(self, key: str) -> bool:
            return self.data.pop(key, None) is not None

    revocation = RevocationList(AsyncOnly())
    await revocation.revoke_id("j", 4102444800)
    with pytest.raises(TokenRevokedError):
        await revocation.acheck({"jti": "j"})
    with pytest.raises(AuthConfigError, match="averify"):
        revocation.check({"jti": "j"})
    with pytest.raises(AuthConfigError):
        RevocationList(object())  # type: ignore[arg-type]


async def test_refresh_rotation() -> None:
    """rotate returns the subject and a new opaque token; the old one is used up."""
    refresh = RefreshTokenService()
    first = await refresh.issue(subject="user-17")
    assert first.startswith("mrt_")
    assert first.count(".") == 0
    subject, second = await refresh.rotate(first)
    assert subject == "user-17"
    assert second != first
    subject, third = await refresh.rotate(second)
    assert subject == "user-17"
    assert third not in repr(refresh)


async def test_refresh_reuse_revokes_the_family() -> None:
    """Replaying a used token raises, calls the hook, and kills the family's newest token too."""
    seen: list[tuple[str, str]] = []

    async def hook(subject: str, family: str) -> None:
        seen.append((subject, family))

    refresh = RefreshTokenService(on_reuse=hook)
    first = await refresh.issue(subject="user-17")
    _, second = await refresh.rotate(first)
    with pytest.raises(RefreshTokenReuseError):
        await refresh.rotate(first)
    assert seen
    assert seen[0][0] == "user-17"
    with pytest.raises(TokenRevokedError):
        await refresh.rotate(second)
    unrelated = await refresh.issue(subject="user-17")
    assert (await refresh.rotate(unrelated))[0] == "user-17"


async def test_refresh_expiry_and_garbage(fake_clock: FakeClock) -> None:
    """An expired, unknown or non-refresh token is InvalidTokenError."""
    refresh = RefreshTokenService(
        MemoryStore(monotonic=fake_clock.monotonic), ttl=timedelta(seconds=60), clock=fake_clock.now
    )
    token = await refresh.issue(subject="u")
    fake_clock.advance(61)
    for bad in (token, "mrt_unknown", "eyJhbGciOi.x.y", ""):
        with pytest.raises(InvalidTokenError):
            await refresh.rotate(bad)


async def test_refresh_logout_revokes_family() -> None:
    """revoke(token) makes the token and its family unusable."""
    refresh = RefreshTokenService()
    token = await refresh.issue(subject="u", data={"roles": ["a"]})
    record = await refresh.rotate_record(token)
    assert record.data == {"roles": ["a"]}
    await refresh.revoke(record.token)
    with pytest.raises(TokenRevokedError):
        await refresh.rotate(record.token)
    await refresh.revoke("not-a-token")
