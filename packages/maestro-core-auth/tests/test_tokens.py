"""TokenVerifier / TokenIssuer: strict claim rules and the attacks of spec section 7."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from auth_forge import ISSUER, b64, hs_token, segment, unsigned
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from maestro_core_auth import (
    AuthConfigError,
    InvalidAlgorithmError,
    InvalidClaimError,
    InvalidSignatureError,
    InvalidTokenError,
    Key,
    KeySet,
    MalformedTokenError,
    TokenExpiredError,
    TokenIssuer,
    TokenNotYetValidError,
    TokenVerifier,
)
from maestro_testkit import FakeClock


def _now(clock: FakeClock) -> int:
    return int(clock.now().timestamp())


def _claims(clock: FakeClock, **extra: Any) -> dict[str, Any]:
    now = _now(clock)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u1",
        "aud": "orders",
        "iat": now,
        "exp": now + 60,
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def hs_verifier(hs_key: Key, fake_clock: FakeClock) -> TokenVerifier:
    """An HS256 verifier (the key an attacker would like to confuse)."""
    return TokenVerifier(keys=hs_key, issuer=ISSUER, audience="orders", clock=fake_clock.now)


def _hs(hs_key: Key, payload: Any, **header: Any) -> str:
    head = {"alg": "HS256", "typ": "at+jwt", "kid": "hs1", **header}
    head = {k: v for k, v in head.items() if v is not None}
    secret = base64.urlsafe_b64decode(hs_key.to_jwk(private=True)["k"] + "==")
    return hs_token(head, payload, secret)


def test_issue_then_verify_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    """A token issued with scopes, roles and a custom claim verifies to the same claims."""
    token = issuer.issue(
        subject="user-17", scopes=["orders:read"], roles=["clerk"], claims={"tenant": "acme"}
    )
    claims = verifier.verify(token)
    assert claims.subject == "user-17"
    assert claims.scopes == ("orders:read",)
    assert claims.roles == ("clerk",)
    assert claims["tenant"] == "acme"
    assert claims.token_id
    assert claims.expires_at.tzinfo is not None
    assert claims.header["typ"] == "at+jwt"
    assert claims.header["kid"] == "ed1"


async def test_averify_matches_verify(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    """The async twin returns the same claims."""
    token = issuer.issue(subject="u")
    assert (await verifier.averify(token)).subject == "u"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_never_verified(
    hs_verifier: TokenVerifier, fake_clock: FakeClock, alg: str
) -> None:
    """alg none in any case, with an empty signature, is an InvalidAlgorithmError."""
    token = unsigned({"alg": alg, "typ": "at+jwt", "kid": "hs1"}, _claims(fake_clock))
    with pytest.raises(InvalidAlgorithmError):
        hs_verifier.verify(token)


@pytest.mark.parametrize("form", ["pem", "der", "ssh", "jwk"])
def test_hs256_signed_with_the_public_key_is_refused(
    rsa_key: Key, fake_clock: FakeClock, form: str
) -> None:
    """Key confusion: an HS256 token MACed with the RSA public key (any encoding) is refused."""
    verifier = TokenVerifier(
        keys=rsa_key.public(), issuer=ISSUER, audience="orders", clock=fake_clock.now
    )
    native = rsa_key.public()._jkey.public_key
    assert isinstance(native, rsa.RSAPublicKey)
    secret = {
        "pem": native.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der": native.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "ssh": native.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "jwk": json.dumps(rsa_key.public().to_jwk()).encode(),
    }[form]
    token = hs_token({"alg": "HS256", "typ": "at+jwt", "kid": "rsa1"}, _claims(fake_clock), secret)
    with pytest.raises(InvalidAlgorithmError):
        verifier.verify(token)


def test_other_algorithm_of_the_same_family_is_refused(rsa_key: Key, fake_clock: FakeClock) -> None:
    """A token saying RS384 for an RS256 key fails on the algorithm, not by luck."""
    rs384 = Key.from_jwk({**rsa_key.to_jwk(private=True), "alg": "RS384"})
    token = TokenIssuer(key=rs384, issuer=ISSUER, audience="orders", clock=fake_clock.now).issue(
        subject="u"
    )
    verifier = TokenVerifier(
        keys=rsa_key.public(), issuer=ISSUER, audience="orders", clock=fake_clock.now
    )
    with pytest.raises(InvalidAlgorithmError):
        verifier.verify(token)


def test_unknown_kid_and_missing_kid(ed_key: Key, rsa_key: Key, fake_clock: FakeClock) -> None:
    """An unknown kid is 'unknown kid'; no kid with more than one key is 'kid required'."""
    verifier = TokenVerifier(
        keys=KeySet([ed_key.public(), rsa_key.public()]),
        issuer=ISSUER,
        audience="orders",
        clock=fake_clock.now,
    )
    stranger = Key.generate("Ed25519", kid="other")
    token = TokenIssuer(key=stranger, issuer=ISSUER, audience="orders", clock=fake_clock.now).issue(
        subject="u"
    )
    with pytest.raises(InvalidTokenError, match="unknown kid"):
        verifier.verify(token)
    no_kid = TokenIssuer(
        key=Key.generate("Ed25519"), issuer=ISSUER, audience="orders", clock=fake_clock.now
    ).issue(subject="u")
    with pytest.raises(InvalidTokenError, match="kid required"):
        verifier.verify(no_kid)


@pytest.mark.parametrize("kid", ["../../dev/null", "' OR 1=1 --", "k" * 10_000, "ED1"])
def test_hostile_kids_are_just_unknown(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock, kid: str
) -> None:
    """Path, SQL, oversized or case-changed kids match no key (exact lookup only)."""
    with pytest.raises(InvalidTokenError):
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock), kid=kid))


def test_expiry_with_leeway(hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock) -> None:
    """Expired by 29 s passes with leeway 30; by 31 s it is TokenExpiredError."""
    now = _now(fake_clock)
    assert hs_verifier.verify(_hs(hs_key, _claims(fake_clock, exp=now - 29)))
    with pytest.raises(TokenExpiredError):
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock, exp=now - 31)))


def test_nbf_and_future_iat(hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock) -> None:
    """nbf 31 s ahead is not yet valid; iat beyond the leeway is an invalid iat."""
    now = _now(fake_clock)
    with pytest.raises(TokenNotYetValidError):
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock, nbf=now + 31)))
    with pytest.raises(InvalidClaimError) as info:
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock, iat=now + 31)))
    assert info.value.claim == "iat"


def test_clock_is_read_per_call(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """A verifier built earlier sees time move (the clock is read on every verify)."""
    token = _hs(hs_key, _claims(fake_clock))
    assert hs_verifier.verify(token)
    fake_clock.advance(60 + 31)
    with pytest.raises(TokenExpiredError):
        hs_verifier.verify(token)


@pytest.mark.parametrize("exp", [None, "9999999999", float("nan"), True, [1], {"v": 1}])
def test_exp_missing_or_not_a_number(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock, exp: Any
) -> None:
    """A missing exp, or exp as string, NaN, bool, list or object, is InvalidClaimError('exp')."""
    payload = _claims(fake_clock)
    if exp is None:
        del payload["exp"]
        token = _hs(hs_key, payload)
    elif isinstance(exp, float):
        raw = json.dumps({**payload, "exp": exp}).encode()  # NaN -> bare NaN token
        head = {"alg": "HS256", "typ": "at+jwt", "kid": "hs1"}
        secret = base64.urlsafe_b64decode(hs_key.to_jwk(private=True)["k"] + "==")
        token = hs_token(head, None, secret, raw_payload=raw)
    else:
        token = _hs(hs_key, {**payload, "exp": exp})
    with pytest.raises((InvalidClaimError, MalformedTokenError)) as info:
        hs_verifier.verify(token)
    if isinstance(info.value, InvalidClaimError):
        assert info.value.claim == "exp"


def test_issuer_is_compared_exactly(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """An issuer that merely starts with or contains the expected one is refused."""
    for iss in (ISSUER + ".evil", ISSUER + "/", "https://auth.maestro", ISSUER.upper()):
        with pytest.raises(InvalidClaimError) as info:
            hs_verifier.verify(_hs(hs_key, _claims(fake_clock, iss=iss)))
        assert info.value.claim == "iss"


def test_several_issuers_are_allowed_exactly(hs_key: Key, fake_clock: FakeClock) -> None:
    """issuer= may list several issuers; each is matched exactly."""
    verifier = TokenVerifier(
        keys=hs_key, issuer=[ISSUER, "https://b"], audience="orders", clock=fake_clock.now
    )
    assert verifier.verify(_hs(hs_key, _claims(fake_clock, iss="https://b")))


def test_audience_allow_list_and_strict_mode(hs_key: Key, fake_clock: FakeClock) -> None:
    """One allowed aud suffices; strict mode refuses an untrusted extra audience."""
    loose = TokenVerifier(
        keys=hs_key, issuer=ISSUER, audience=["orders", "billing"], clock=fake_clock.now
    )
    strict = TokenVerifier(
        keys=hs_key,
        issuer=ISSUER,
        audience=["orders", "billing"],
        strict_audience=True,
        clock=fake_clock.now,
    )
    mixed = _hs(hs_key, _claims(fake_clock, aud=["orders", "evil"]))
    assert loose.verify(mixed)
    with pytest.raises(InvalidClaimError, match="aud"):
        strict.verify(mixed)
    assert strict.verify(_hs(hs_key, _claims(fake_clock, aud=["orders", "billing"])))
    with pytest.raises(InvalidClaimError, match="aud"):
        loose.verify(_hs(hs_key, _claims(fake_clock, aud="evil")))
    with pytest.raises(InvalidClaimError, match="aud"):
        loose.verify(_hs(hs_key, _claims(fake_clock, aud=None)))


def test_token_audience_without_configured_audience_is_refused(
    hs_key: Key, fake_clock: FakeClock
) -> None:
    """audience=None refuses tokens that carry aud; tokens without aud pass."""
    verifier = TokenVerifier(keys=hs_key, issuer=ISSUER, audience=None, clock=fake_clock.now)
    with pytest.raises(InvalidClaimError) as info:
        verifier.verify(_hs(hs_key, _claims(fake_clock)))
    assert info.value.claim == "aud"
    assert verifier.verify(_hs(hs_key, _claims(fake_clock, aud=None)))


@pytest.mark.parametrize("typ", ["JWT", None, "id+jwt", "refresh+jwt"])
def test_typ_must_be_at_jwt(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock, typ: str | None
) -> None:
    """A token typed JWT (an ID token), untyped or of another kind is InvalidClaimError('typ')."""
    with pytest.raises(InvalidClaimError) as info:
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock), typ=typ))
    assert info.value.claim == "typ"


def test_typ_media_type_form_is_accepted(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """'application/at+jwt' is the same type as 'at+jwt' (RFC 7515 section 4.1.9)."""
    assert hs_verifier.verify(_hs(hs_key, _claims(fake_clock), typ="application/AT+JWT"))


@pytest.mark.parametrize(
    "header",
    [
        {"crit": ["x"], "x": 1},
        {"crit": ["kid"]},
        {"x-custom": 1},
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5c": ["MIIB"]},
        {"b64": False, "crit": ["b64"]},
    ],
)
def test_crit_and_unregistered_headers_are_refused(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock, header: dict[str, Any]
) -> None:
    """crit, unknown header parameters and key-carrying headers reject the token."""
    with pytest.raises(InvalidTokenError):
        hs_verifier.verify(_hs(hs_key, _claims(fake_clock), **header))


def _bad_shapes(good: str) -> list[str]:
    head, body, sig = good.split(".")
    return [
        good + "=",
        head + "=." + body + "." + sig,
        head + "." + body.replace("-", "+").replace("_", "/") + "x+/." + sig,
        head + "." + body + "!." + sig,
        head + "." + body,
        good + ".x.y",
        "a" * (1024 * 1024),
        b64(b"\xff\xfe") + "." + body + "." + sig,
        b64(b"{not json") + "." + body + "." + sig,
        b64(b"[1,2]") + "." + body + "." + sig,
        "é." + body + "." + sig,
        "",
    ]


def test_malformed_tokens_are_malformed(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """Padding, '+'/'/', '!', wrong segment counts, 1 MB, bad UTF-8/JSON: MalformedTokenError."""
    good = _hs(hs_key, _claims(fake_clock))
    for bad in _bad_shapes(good):
        with pytest.raises(MalformedTokenError):
            hs_verifier.verify(bad)


def test_duplicate_json_members_are_malformed(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """A payload or header repeating a member name is MalformedTokenError."""
    claims = _claims(fake_clock)
    raw = json.dumps(claims)[:-1] + ', "sub": "admin"}'
    secret = base64.urlsafe_b64decode(hs_key.to_jwk(private=True)["k"] + "==")
    head = {"alg": "HS256", "typ": "at+jwt", "kid": "hs1"}
    with pytest.raises(MalformedTokenError, match="repeats"):
        hs_verifier.verify(hs_token(head, None, secret, raw_payload=raw.encode()))
    dup_head = b64(b'{"alg":"HS256","typ":"at+jwt","kid":"hs1","kid":"hs1"}')
    import hashlib
    import hmac as _hmac

    signing = f"{dup_head}.{segment(claims)}"
    sig = b64(_hmac.new(secret, signing.encode(), hashlib.sha256).digest())
    with pytest.raises(MalformedTokenError, match="repeats"):
        hs_verifier.verify(f"{signing}.{sig}")


def test_payload_must_be_an_object(hs_key: Key, hs_verifier: TokenVerifier) -> None:
    """A JSON array payload is MalformedTokenError."""
    with pytest.raises(MalformedTokenError):
        hs_verifier.verify(_hs(hs_key, [1, 2, 3]))


def test_tampered_signature(hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock) -> None:
    """A payload changed after signing fails the signature check."""
    head, _, sig = _hs(hs_key, _claims(fake_clock)).split(".")
    forged = f"{head}.{segment(_claims(fake_clock, sub='admin'))}.{sig}"
    with pytest.raises(InvalidSignatureError):
        hs_verifier.verify(forged)


def test_required_claims_and_unknown_names(hs_key: Key, fake_clock: FakeClock) -> None:
    """required= adds claims to demand; a misspelt name raises at construction."""
    verifier = TokenVerifier(
        keys=hs_key, issuer=ISSUER, audience="orders", required=("exp", "jti"), clock=fake_clock.now
    )
    with pytest.raises(InvalidClaimError) as info:
        verifier.verify(_hs(hs_key, _claims(fake_clock)))
    assert info.value.claim == "jti"
    with pytest.raises(AuthConfigError, match="unknown claim names"):
        TokenVerifier(keys=hs_key, required=("expires",))
    with pytest.raises(TypeError):
        TokenVerifier(keys=hs_key, requre=("exp",))  # type: ignore[call-arg]


def test_exp_is_required_even_when_not_listed(hs_key: Key, fake_clock: FakeClock) -> None:
    """required=() still demands exp."""
    verifier = TokenVerifier(
        keys=hs_key, issuer=ISSUER, audience="orders", required=(), clock=fake_clock.now
    )
    payload = _claims(fake_clock)
    del payload["exp"]
    with pytest.raises(InvalidClaimError, match="exp"):
        verifier.verify(_hs(hs_key, payload))


def test_max_age(hs_key: Key, fake_clock: FakeClock) -> None:
    """A token older than max_age is expired even though exp is later."""
    verifier = TokenVerifier(
        keys=hs_key, issuer=ISSUER, audience="orders", max_age=60, leeway=0, clock=fake_clock.now
    )
    token = _hs(hs_key, _claims(fake_clock, exp=_now(fake_clock) + 3600))
    assert verifier.verify(token)
    fake_clock.advance(61)
    with pytest.raises(TokenExpiredError):
        verifier.verify(token)


def test_size_cap(hs_key: Key, fake_clock: FakeClock) -> None:
    """A token above max_token_size is MalformedTokenError before any parsing."""
    verifier = TokenVerifier(
        keys=hs_key, issuer=ISSUER, audience="orders", max_token_size=1024, clock=fake_clock.now
    )
    big = _hs(hs_key, _claims(fake_clock, pad="x" * 2000))
    with pytest.raises(MalformedTokenError, match="cap"):
        verifier.verify(big)


def test_bad_configuration_is_reported() -> None:
    """Both or neither key sources, a bad typ, negative leeway: AuthConfigError."""
    key = Key.generate("HS256")
    with pytest.raises(AuthConfigError):
        TokenVerifier()
    with pytest.raises(AuthConfigError):
        TokenVerifier(keys=key, typ="")
    with pytest.raises(AuthConfigError):
        TokenVerifier(keys=key, leeway=-1)
    with pytest.raises(AuthConfigError):
        TokenVerifier(keys=key, issuer="")
    assert TokenVerifier(keys=key, leeway=timedelta(seconds=5))._leeway == 5.0


def test_issuer_refuses_registered_claim_overrides(issuer: TokenIssuer) -> None:
    """claims= cannot set exp, iss, sub and the other registered claims."""
    with pytest.raises(AuthConfigError, match="exp"):
        issuer.issue(subject="u", claims={"exp": 1})
    with pytest.raises(AuthConfigError):
        TokenIssuer(key=Key.generate("Ed25519").public(), issuer=ISSUER)


def test_issuer_ttl_and_audience(
    issuer: TokenIssuer, verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """exp = iat + ttl, and the per-token ttl overrides the issuer's."""
    claims = verifier.verify(issuer.issue(subject="u", ttl=timedelta(seconds=42)))
    assert claims["exp"] - claims["iat"] == 42


@pytest.mark.parametrize(
    "alg",
    ["HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "Ed25519", "EdDSA"],
)
def test_every_algorithm_round_trips(alg: str, fake_clock: FakeClock) -> None:
    """Each supported algorithm issues and verifies through joserfc."""
    key = Key.generate(alg, kid="k")
    token = TokenIssuer(key=key, issuer=ISSUER, clock=fake_clock.now).issue(subject="u")
    verify_key = key if key.kty == "oct" else key.public()
    assert TokenVerifier(keys=verify_key, issuer=ISSUER, clock=fake_clock.now).verify(token)


def test_errors_never_contain_the_token(
    hs_key: Key, hs_verifier: TokenVerifier, fake_clock: FakeClock
) -> None:
    """No error message, args or repr carries the token or a segment of it."""
    now = _now(fake_clock)
    tokens = [
        _hs(hs_key, _claims(fake_clock, exp=now - 100)),
        _hs(hs_key, _claims(fake_clock, iss="https://evil")),
        _hs(hs_key, _claims(fake_clock), kid="k" * 50),
        _hs(hs_key, _claims(fake_clock)) + "x",
        unsigned({"alg": "none"}, _claims(fake_clock)),
    ]
    for token in tokens:
        with pytest.raises(InvalidTokenError) as info:
            hs_verifier.verify(token)
        text = f"{info.value} {info.value!r} {info.value.args}"
        for part in token.split("."):
            if len(part) > 8:
                assert part not in text
    secret = hs_key.to_jwk(private=True)["k"]
    assert secret not in repr(hs_verifier)


def test_secret_bytes_never_in_key_errors() -> None:
    """A short secret's bytes do not appear in the WeakKeyError."""
    short = secrets.token_hex(8).encode()
    with pytest.raises(AuthConfigError) as info:
        Key.hmac(short)
    assert short.decode() not in str(info.value)


def test_claims_must_be_json(issuer: TokenIssuer) -> None:
    """A claim that JSON cannot carry is a configuration error, not a TypeError."""
    with pytest.raises(AuthConfigError, match="JSON"):
        issuer.issue(subject="u", claims={"when": object()})
    with pytest.raises(AuthConfigError):
        issuer.issue(subject="u", claims={"ratio": float("nan")})
