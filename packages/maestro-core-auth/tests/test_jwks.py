"""JWKSClient and OIDC discovery against a real local HTTP server (outage and rotation scripted)."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
from auth_forge import ISSUER
from auth_idp import IdP
from maestro_core_auth import (
    InvalidClaimError,
    InvalidTokenError,
    JWKSClient,
    JWKSFetchError,
    Key,
    MissingExtraError,
    OIDCProvider,
    TokenIssuer,
    TokenVerifier,
)
from maestro_testkit import FakeClock


def _issue(key: Key, clock: FakeClock, typ: str = "at+jwt", iss: str = ISSUER) -> str:
    return TokenIssuer(key=key, issuer=iss, audience="orders", typ=typ, clock=clock.now).issue(
        subject="u"
    )


def _client(idp: IdP, clock: FakeClock, **options: float) -> JWKSClient:
    settings: dict[str, float] = {
        "min_ttl": 60,
        "max_ttl": 3600,
        "default_ttl": 60,
        "refetch_cooldown": 30,
        "stale_if_error": 600,
        "timeout": 2.0,
    }
    settings.update(options)
    return JWKSClient(idp.jwks_url, monotonic=clock.monotonic, **settings)  # type: ignore[arg-type]


def _verifier(jwks: JWKSClient, clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(jwks=jwks, issuer=ISSUER, audience="orders", clock=clock.now)


def test_sync_verify_through_jwks(idp: IdP, ed_key: Key, fake_clock: FakeClock) -> None:
    """A token verifies with keys fetched once from the JWKS endpoint."""
    idp.publish(ed_key)
    jwks = _client(idp, fake_clock)
    verifier = _verifier(jwks, fake_clock)
    assert verifier.verify(_issue(ed_key, fake_clock)).subject == "u"
    assert verifier.verify(_issue(ed_key, fake_clock)).subject == "u"
    assert idp.jwks_hits == 1
    assert jwks.stats()["keys"] == 1


async def test_async_verify_through_jwks(idp: IdP, es_key: Key, fake_clock: FakeClock) -> None:
    """averify fetches the key set without blocking and verifies."""
    idp.publish(es_key)
    verifier = _verifier(_client(idp, fake_clock), fake_clock)
    assert (await verifier.averify(_issue(es_key, fake_clock))).subject == "u"
    assert idp.jwks_hits == 1


def test_ttl_is_clamped_to_bounds(idp: IdP, ed_key: Key, fake_clock: FakeClock) -> None:
    """max-age=5 is raised to min_ttl (60 s); max-age=10**9 is lowered to max_ttl."""
    idp.publish(ed_key)
    idp.cache_control = "public, max-age=5"
    jwks = _client(idp, fake_clock)
    jwks.keys()
    fake_clock.advance(30)
    jwks.keys()
    assert idp.jwks_hits == 1
    fake_clock.advance(31)
    jwks.keys()
    assert idp.jwks_hits == 2
    idp.cache_control = "max-age=1000000000"
    fake_clock.advance(61)
    jwks.keys()
    fake_clock.advance(3599)
    jwks.keys()
    assert idp.jwks_hits == 3
    fake_clock.advance(2)
    jwks.keys()
    assert idp.jwks_hits == 4


async def test_unknown_kid_fetches_once_coalesced_then_negative_cache(
    idp: IdP, ed_key: Key, fake_clock: FakeClock
) -> None:
    """100 concurrent verifications of an unknown kid: one refetch, then none per cooldown."""
    idp.publish(ed_key)
    jwks = _client(idp, fake_clock)
    verifier = _verifier(jwks, fake_clock)
    await jwks.akeys()
    fake_clock.advance(31)  # past the cooldown of the first fetch
    stranger = Key.generate("Ed25519", kid="nobody")
    token = _issue(stranger, fake_clock)
    results = await asyncio.gather(
        *(verifier.averify(token) for _ in range(100)), return_exceptions=True
    )
    assert all(isinstance(r, InvalidTokenError) and "unknown kid" in str(r) for r in results)
    assert idp.jwks_hits == 2
    for _ in range(10):
        with pytest.raises(InvalidTokenError):
            await verifier.averify(token)
        with pytest.raises(InvalidTokenError):
            verifier.verify(token)
    assert idp.jwks_hits == 2
    fake_clock.advance(31)
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)
    assert idp.jwks_hits == 3


async def test_key_rotation_at_the_idp(idp: IdP, ed_key: Key, fake_clock: FakeClock) -> None:
    """A new kid verifies after one refetch; old tokens verify until the old key leaves the set."""
    idp.publish(ed_key)
    jwks = _client(idp, fake_clock, refetch_cooldown=0)
    verifier = _verifier(jwks, fake_clock)
    old_token = _issue(ed_key, fake_clock)
    assert await verifier.averify(old_token)
    new_key = Key.generate("Ed25519", kid="ed2")
    idp.publish(ed_key, new_key)
    assert (await verifier.averify(_issue(new_key, fake_clock))).subject == "u"
    assert idp.jwks_hits == 2
    assert await verifier.averify(old_token)
    idp.publish(new_key)
    fake_clock.advance(61)  # the set expires; the next fetch no longer has ed1
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        await verifier.averify(old_token)
    assert jwks.generation == 3


@pytest.mark.parametrize("failure", ["500", "invalid json", "no usable keys", "timeout"])
async def test_outage_serves_the_last_good_set(
    idp: IdP, ed_key: Key, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    """After a good fetch, failures keep the old keys up to stale_if_error, logged once, counted."""
    idp.publish(ed_key)
    jwks = _client(idp, fake_clock, timeout=0.2)
    verifier = _verifier(jwks, fake_clock)
    token = _issue(ed_key, fake_clock)
    assert verifier.verify(token)
    if failure == "500":
        idp.status = 500
    elif failure == "invalid json":
        idp.body = b"{not json"
    elif failure == "no usable keys":
        idp.body = b'{"keys": [{"kty": "oct", "k": "AAAA"}]}'
    else:
        idp.delay = 0.5  # longer than the client's 0.2 s timeout
    verifier.clear_cache()
    with caplog.at_level(logging.WARNING, logger="maestro.auth"):
        for _ in range(3):
            fake_clock.advance(100)  # past the 60 s TTL: every call wants a refresh
            fresh = _issue(ed_key, fake_clock)
            assert (await verifier.averify(fresh)).subject == "u"
    stats = jwks.stats()
    assert stats["failures"] >= 1
    assert stats["stale_served"] >= 1
    assert len([r for r in caplog.records if "JWKS fetch failed" in r.getMessage()]) == 1
    fake_clock.advance(600)
    with pytest.raises(JWKSFetchError):
        await verifier.averify(_issue(ed_key, fake_clock))


async def test_no_good_set_is_a_fetch_error(idp: IdP, fake_clock: FakeClock, ed_key: Key) -> None:
    """With the IdP down from the start, verification raises JWKSFetchError."""
    idp.status = 503
    verifier = _verifier(_client(idp, fake_clock), fake_clock)
    with pytest.raises(JWKSFetchError):
        await verifier.averify(_issue(ed_key, fake_clock))
    with pytest.raises(JWKSFetchError):
        verifier.verify(_issue(ed_key, fake_clock))


async def test_oidc_discovery(idp: IdP, rsa_key: Key, fake_clock: FakeClock) -> None:
    """discover() checks the issuer, finds the JWKS and hands out a verifier bound to both."""
    idp.publish(rsa_key)
    provider = await OIDCProvider.discover(idp.base, monotonic=fake_clock.monotonic)
    assert provider.jwks.url == idp.jwks_url
    verifier = provider.verifier(
        audience="orders", algorithms=["RS256", "ES256"], clock=fake_clock.now
    )
    token = _issue(rsa_key, fake_clock, iss=idp.base)
    assert (await verifier.averify(token)).subject == "u"


async def test_id_tokens_and_access_tokens_stay_apart(
    idp: IdP, rsa_key: Key, fake_clock: FakeClock
) -> None:
    """The ID-token verifier refuses at+jwt tokens; the access verifier refuses ID tokens."""
    idp.publish(rsa_key)
    provider = await OIDCProvider.discover(idp.base, monotonic=fake_clock.monotonic)
    ids = provider.id_token_verifier(client_id="orders", clock=fake_clock.now)
    access = provider.verifier(audience="orders", clock=fake_clock.now)
    id_token = _issue(rsa_key, fake_clock, typ="JWT", iss=idp.base)
    access_token = _issue(rsa_key, fake_clock, iss=idp.base)
    assert await ids.averify(id_token)
    with pytest.raises(InvalidClaimError, match="typ"):
        await ids.averify(access_token)
    with pytest.raises(InvalidClaimError, match="typ"):
        await access.averify(id_token)


async def test_discovery_with_a_foreign_issuer_is_refused(idp: IdP) -> None:
    """A discovery document naming another issuer is refused (RFC 8414 section 3.3)."""
    idp.discovery_issuer = "https://evil.example"
    with pytest.raises(JWKSFetchError, match="issuer"):
        await OIDCProvider.discover(idp.base)


def test_from_settings_with_jwks_url_and_oidc_issuer(
    idp: IdP, ed_key: Key, fake_clock: FakeClock
) -> None:
    """from_settings builds a JWKS verifier from jwks_url, or discovers it from oidc_issuer."""
    idp.publish(ed_key)

    class ByURL:
        issuer = ISSUER
        audiences = ("orders",)
        algorithms = ()
        jwks_url = idp.jwks_url
        oidc_issuer = None
        hmac_secret = None
        leeway = 30.0

    class ByIssuer(ByURL):
        issuer = None  # type: ignore[assignment]
        jwks_url = None  # type: ignore[assignment]
        oidc_issuer = idp.base  # type: ignore[assignment]

    by_url = TokenVerifier.from_settings(ByURL(), clock=fake_clock.now)
    assert by_url.verify(_issue(ed_key, fake_clock)).subject == "u"
    by_issuer = TokenVerifier.from_settings(ByIssuer(), clock=fake_clock.now)
    assert by_issuer.verify(_issue(ed_key, fake_clock, iss=idp.base)).subject == "u"


def test_insecure_urls_are_refused() -> None:
    """http:// is allowed on loopback only."""
    from maestro_core_auth import AuthConfigError

    with pytest.raises(AuthConfigError, match="https"):
        JWKSClient("http://idp.example/jwks.json")
    with pytest.raises(AuthConfigError):
        JWKSClient("https://idp.example/jwks.json", min_ttl=10, max_ttl=5)


def test_missing_httpx_is_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without httpx, JWKSClient raises MissingExtraError naming the jwks extra."""
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingExtraError, match=r"maestro-core-auth\[jwks\]"):
        JWKSClient("https://idp.example/jwks.json")


def test_threads_share_one_refetch(idp: IdP, ed_key: Key, fake_clock: FakeClock) -> None:
    """16 threads verifying an unknown kid at once through the sync API cause one refetch."""
    import threading

    idp.publish(ed_key)
    jwks = _client(idp, fake_clock)
    verifier = _verifier(jwks, fake_clock)
    jwks.keys()
    fake_clock.advance(31)
    token = _issue(Key.generate("Ed25519", kid="ghost"), fake_clock)
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            verifier.verify(token)
            outcomes.append("accepted")
        except InvalidTokenError:
            outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["refused"] * 16
    assert idp.jwks_hits == 2


async def test_oversized_jwks_is_refused_without_reading_it_all(
    idp: IdP, ed_key: Key, fake_clock: FakeClock
) -> None:
    """A JWKS response over 512 kB is a fetch failure (no usable set), read only up to the cap."""
    idp.body = b'{"keys": [' + b" " * (600 * 1024) + b"]}"
    jwks = _client(idp, fake_clock)
    with pytest.raises(JWKSFetchError):
        await jwks.akeys()
    assert jwks.stats()["failures"] == 1
