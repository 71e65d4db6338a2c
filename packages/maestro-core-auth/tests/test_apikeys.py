"""API keys: checksummed format, SHA-256 at rest, scopes, expiry and revocation."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import pytest
from maestro_core_auth import APIKeyAuth, APIKeyInfo, AuthConfigError, generate_api_key
from maestro_testkit import FakeClock


def test_generated_key_format() -> None:
    """mst_ + 30 base62 random + 6 base62 CRC; hash is the SHA-256 hex; display is short."""
    new = generate_api_key(prefix="mst")
    assert re.fullmatch(r"mst_[0-9A-Za-z]{36}", new.key)
    assert new.hash == hashlib.sha256(new.key.encode()).hexdigest()
    assert new.key_id == new.hash[:16]
    assert new.display.startswith("mst_")
    assert new.key not in new.display
    assert new.key not in repr(new)
    assert str(new) == new.display
    with pytest.raises(AuthConfigError):
        generate_api_key(prefix="Bad_Prefix")


def test_store_holds_digests_not_keys() -> None:
    """Only the SHA-256 digest is stored; the plain key appears nowhere in the store."""
    store: dict[str, APIKeyInfo] = {}
    keys = APIKeyAuth(store=store)
    new = keys.create(scopes=["orders:read"])
    assert list(store) == [new.hash]
    assert new.key not in repr(store)
    assert new.key not in repr(keys)
    info = keys.verify(new.key)
    assert info is not None
    assert info.scopes == ("orders:read",)


def test_checksum_rejects_typos_without_a_lookup() -> None:
    """A key with one changed character fails its CRC and is not looked up."""

    class CountingStore(dict[str, APIKeyInfo]):
        lookups = 0

        def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
            CountingStore.lookups += 1
            return super().get(key, default)

    keys = APIKeyAuth(store=CountingStore())
    new = keys.create()
    typo = new.key[:10] + ("a" if new.key[10] != "a" else "b") + new.key[11:]
    assert keys.verify(typo) is None
    assert CountingStore.lookups == 0
    assert keys.verify(new.key) is not None
    assert CountingStore.lookups == 1


def test_expiry_and_revocation(fake_clock: FakeClock) -> None:
    """An expired or revoked key verifies to None; others are unaffected."""
    keys = APIKeyAuth(clock=fake_clock.now)
    short = keys.create(expires_at=fake_clock.now() + timedelta(seconds=10))
    other = keys.create()
    assert keys.verify(short.key) is not None
    fake_clock.advance(11)
    assert keys.verify(short.key) is None
    assert keys.revoke(other.key_id) is True
    assert keys.verify(other.key) is None
    assert keys.revoke("nope") is False
    with pytest.raises(AuthConfigError, match="naive"):
        keys.create(expires_at=datetime(2030, 1, 1))


def test_original_valid_keys_any_format() -> None:
    """valid_keys= (original) accepts keys in any format, hashed at construction."""
    plain = secrets.token_urlsafe(24)
    keys = APIKeyAuth(valid_keys=[plain])
    assert keys.verify(plain) is not None
    assert keys.verify(plain + "x") is None
    assert plain not in repr(keys)


@pytest.mark.parametrize("bad", [None, 42, "", "x" * 10_000, "mst_short"])
def test_garbage_input_is_none(bad: object) -> None:
    """Non-strings, empty, huge or short keys verify to None without errors."""
    assert APIKeyAuth().verify(bad) is None


def test_info_json_round_trip(fake_clock: FakeClock) -> None:
    """APIKeyInfo survives a store round trip as JSON."""
    info = APIKeyInfo("abc", ("a:b",), fake_clock.now(), False, "ci")
    assert APIKeyInfo.from_json(info.to_json()) == info


def test_from_settings_prefix() -> None:
    """from_settings takes api_key_prefix."""

    class Section:
        api_key_prefix = "ord"

    keys = APIKeyAuth.from_settings(Section())
    assert keys.create().key.startswith("ord_")


async def test_async_key_value_store(fake_clock: FakeClock) -> None:
    """With an async KV store, keys are stored as JSON by digest and verified, revoked async."""
    from maestro_core_auth import MemoryStore

    store = MemoryStore()
    keys = APIKeyAuth(store=store, clock=fake_clock.now)
    new = await keys.acreate(scopes=["orders:read"])
    assert store.sync.get("apikey:" + new.hash) is not None
    assert new.key not in repr(store.sync._data)
    info = await keys.averify(new.key)
    assert info is not None
    assert info.scopes == ("orders:read",)
    assert keys.verify(new.key) == info
    assert await keys.arevoke(new.key_id) is True
    assert await keys.averify(new.key) is None
    assert keys.revoke(new.key_id) is True
    assert await keys.arevoke("unknown") is False


async def test_async_only_store_needs_the_async_verbs() -> None:
    """A store without .sync serves averify; verify explains to use the async verbs."""

    class AsyncOnly:
        def __init__(self) -> None:
            self.data: dict[str, str] = {}

        async def get(self, key: str) -> str | None:
            return self.data.get(key)

        async def set(self, key: str, value: str, ttl: float | None = None) -> None:
            self.data[key] = value

        async def delete(self, key: str) -> bool:
            return self.data.pop(key, None) is not None

    keys = APIKeyAuth(store=AsyncOnly())  # type: ignore[arg-type]
    new = await keys.acreate()
    assert await keys.averify(new.key) is not None
    with pytest.raises(AuthConfigError, match="averify"):
        keys.verify(new.key)
    with pytest.raises(AuthConfigError):
        APIKeyAuth(store=object())  # type: ignore[arg-type]


def test_memory_and_key_value_paths_agree(fake_clock: FakeClock) -> None:
    """The inlined in-memory verify and the key-value verify give the same answer for each case."""
    from maestro_core_auth import MemoryStore

    both = [APIKeyAuth(clock=fake_clock.now), APIKeyAuth(store=MemoryStore(), clock=fake_clock.now)]
    cases: list[dict[str, str]] = []
    for keys in both:
        ending = keys.create(scopes=["a:b"], expires_at=fake_clock.now() + timedelta(seconds=5))
        revoked = keys.create()
        keys.revoke(revoked.key_id)
        kept = keys.create(scopes=["orders:read"], expires_at=fake_clock.now() + timedelta(days=1))
        typo = kept.key[:-1] + ("0" if kept.key[-1] != "0" else "1")
        unknown = generate_api_key().key
        named = {"ending": ending.key, "revoked": revoked.key, "kept": kept.key}
        cases.append(named | {"typo": typo, "unknown": unknown})
    for keys, named in zip(both, cases, strict=True):
        seen = {name: keys.verify(key) for name, key in named.items()}
        assert [name for name, info in seen.items() if info is not None] == ["ending", "kept"]
        assert seen["kept"] is not None
        assert seen["kept"].scopes == ("orders:read",)
    fake_clock.advance(5)  # expiry is exclusive: at expires_at the key is refused
    for keys, named in zip(both, cases, strict=True):
        assert keys.verify(named["ending"]) is None
        assert keys.verify(named["kept"]) is not None


def test_info_expiry_timestamp_follows_replace(fake_clock: FakeClock) -> None:
    """The precomputed expiry follows replace(); it is not part of repr or equality."""
    from dataclasses import replace

    info = APIKeyInfo("abc", expires_at=fake_clock.now())
    later = replace(info, expires_at=fake_clock.now() + timedelta(hours=1))
    assert later._expires_ts == info.expires_at.timestamp() + 3600  # type: ignore[union-attr]
    assert replace(info, expires_at=None)._expires_ts is None
    assert "_expires_ts" not in repr(info)
    assert APIKeyInfo.from_json(later.to_json()) == later
