"""RedisStore on the shared Redis (unique prefixes): revocation and refresh families."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from auth_forge import ISSUER
from maestro_core_auth import (
    AuthConfigError,
    Key,
    RedisStore,
    RefreshTokenReuseError,
    RefreshTokenService,
    RevocationList,
    TokenIssuer,
    TokenRevokedError,
    TokenVerifier,
)

pytestmark = pytest.mark.service


@pytest.fixture
async def store(redis_url: str, unique_prefix: str) -> AsyncIterator[RedisStore]:
    """A RedisStore under a fresh prefix; its keys are deleted afterwards."""
    redis_store = RedisStore(redis_url, prefix=unique_prefix + ":")
    yield redis_store
    client = redis_store.sync._client
    for name in client.scan_iter(match=unique_prefix + ":*"):
        client.delete(name)
    await redis_store.aclose()


async def test_store_verbs(store: RedisStore) -> None:
    """get/set/add/delete behave as the store protocol says, async and sync."""
    assert await store.get("a") is None
    await store.set("a", "1", ttl=30)
    assert await store.get("a") == "1"
    assert await store.add("a", "2") is False
    assert await store.add("b", "2", ttl=30) is True
    assert store.sync.get("b") == "2"
    assert store.sync.add("b", "3") is False
    assert await store.delete("a") is True
    assert store.sync.delete("a") is False


async def test_revocation_is_shared_between_replicas(
    store: RedisStore, redis_url: str, unique_prefix: str
) -> None:
    """A token revoked through one replica is refused by another's verifier (sync and async)."""
    key = Key.generate("Ed25519", kid="k")
    issuer = TokenIssuer(key=key, issuer=ISSUER, audience="orders")
    replica_a = RevocationList(store)
    other_store = RedisStore(redis_url, prefix=unique_prefix + ":")
    try:
        replica_b = TokenVerifier(
            keys=key.public(),
            issuer=ISSUER,
            audience="orders",
            revocation=RevocationList(other_store),
        )
        token = issuer.issue(subject="user-17")
        claims = replica_b.verify(token)
        await replica_a.revoke(claims)
        with pytest.raises(TokenRevokedError):
            replica_b.verify(token)
        with pytest.raises(TokenRevokedError):
            await replica_b.averify(token)
    finally:
        await other_store.aclose()


async def test_refresh_reuse_detected_through_redis(store: RedisStore) -> None:
    """Rotation and reuse detection work on Redis (SET NX marks a token used)."""
    refresh = RefreshTokenService(store)
    first = await refresh.issue(subject="u")
    _, second = await refresh.rotate(first)
    with pytest.raises(RefreshTokenReuseError):
        await refresh.rotate(first)
    with pytest.raises(TokenRevokedError):
        await refresh.rotate(second)


def test_redis_store_repr_hides_the_password() -> None:
    """The URL's password is not in repr; a non-redis URL is refused."""
    store = RedisStore("redis://user:s3cr3t-pw@127.0.0.1:6379/0", prefix="x:")
    assert "s3cr3t-pw" not in repr(store)
    store.close()
    with pytest.raises(AuthConfigError):
        RedisStore("http://127.0.0.1:6379")


async def test_api_keys_on_redis(store: RedisStore) -> None:
    """API keys created through one APIKeyAuth verify through another sharing the Redis store."""
    from maestro_core_auth import APIKeyAuth

    creator = APIKeyAuth(store=store)
    new = await creator.acreate(scopes=["orders:read"])
    other = APIKeyAuth(store=store)
    info = other.verify(new.key)
    assert info is not None
    assert info.scopes == ("orders:read",)
    assert await creator.arevoke(new.key_id) is True
    assert await other.averify(new.key) is None


async def test_redis_down_fails_closed(ed_key: Key) -> None:
    """With Redis unreachable, verification raises AuthStoreError instead of accepting."""
    from maestro_core_auth import AuthStoreError
    from maestro_testkit import free_port

    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0", prefix="x:")
    try:
        verifier = TokenVerifier(
            keys=ed_key.public(), issuer=ISSUER, audience="orders", revocation=RevocationList(down)
        )
        token = TokenIssuer(key=ed_key, issuer=ISSUER, audience="orders").issue(subject="u")
        with pytest.raises(AuthStoreError) as info:
            verifier.verify(token)
        assert token not in str(info.value)
        with pytest.raises(AuthStoreError):
            await verifier.averify(token)
        with pytest.raises(AuthStoreError):
            await RefreshTokenService(down).issue(subject="u")
    finally:
        await down.aclose()
