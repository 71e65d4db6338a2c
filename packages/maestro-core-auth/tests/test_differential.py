"""Differential test against PyJWT: the same tokens and attacks through both libraries.

Both must agree on accept / reject, except in the cases listed in STRICTER, where ours rejects
by design and PyJWT (configured the usual way: algorithms, audience, issuer, leeway) accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from auth_forge import ISSUER, b64, hs_token, segment, unsigned
from maestro_core_auth import InvalidTokenError, Key, TokenIssuer, TokenVerifier

# Every case where maestro-core-auth rejects and PyJWT 2.x accepts, and why.
STRICTER = {
    "missing exp": "exp is always required (PyJWT: only with options={'require': ['exp']})",
    "exp as a numeric string": "exp must be a JSON number (PyJWT casts with int())",
    "typ JWT where at+jwt is required": "typ is checked (RFC 9068, RFC 8725); PyJWT ignores typ",
    "untyped token": "typ is checked; PyJWT ignores typ",
    "duplicate payload member": "duplicate JSON members are malformed; PyJWT keeps the last one",
    "unregistered header parameter": "unknown header parameters are refused",
    "jku header": "key-carrying headers are refused; PyJWT ignores them",
    "untrusted extra audience (strict)": "strict_audience refuses any untrusted aud value",
    "padded signature": "non-canonical base64url is malformed; PyJWT tolerates '=' padding",
}


def _secret(key: Key) -> bytes:
    return base64.urlsafe_b64decode(key.to_jwk(private=True)["k"] + "==")


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u",
        "aud": "orders",
        "iat": now,
        "exp": now + 300,
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def _cases(key: Key) -> dict[str, str]:
    secret = _secret(key)
    head = {"alg": "HS256", "typ": "at+jwt", "kid": "hs1"}

    def hs(payload: Any, **header: Any) -> str:
        h = {k: v for k, v in {**head, **header}.items() if v is not None}
        return hs_token(h, payload, secret)

    now = int(time.time())
    good = hs(_claims())
    g_head, g_body, g_sig = good.split(".")
    dup = json.dumps(_claims())[:-1] + ', "sub": "admin"}'
    signing = f"{segment(head)}.{b64(dup.encode())}"
    dup_token = f"{signing}.{b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())}"
    return {
        "valid": good,
        "valid, aud list with one trusted value": hs(_claims(aud=["orders", "other"])),
        "expired beyond leeway": hs(_claims(exp=now - 31)),
        "expired within leeway": hs(_claims(exp=now - 29)),
        "nbf in the future": hs(_claims(nbf=now + 31)),
        "iat in the future": hs(_claims(iat=now + 31)),
        "missing exp": hs(_claims(exp=None)),
        "exp as a numeric string": hs(_claims(exp=str(now + 300))),
        "exp as a word": hs(_claims(exp="tomorrow")),
        "wrong issuer prefix": hs(_claims(iss=ISSUER + ".evil")),
        "wrong audience": hs(_claims(aud="billing")),
        "missing audience": hs(_claims(aud=None)),
        "alg none": unsigned({"alg": "none", "typ": "at+jwt"}, _claims()),
        "alg NONE": unsigned({"alg": "NONE", "typ": "at+jwt"}, _claims()),
        "tampered payload": f"{g_head}.{segment(_claims(sub='admin'))}.{g_sig}",
        "wrong key": hs_token(
            head, _claims(), Key.generate("HS256").to_jwk(private=True)["k"].encode()
        ),
        "two segments": f"{g_head}.{g_body}",
        "four segments": good + ".x",
        "typ JWT where at+jwt is required": hs(_claims(), typ="JWT"),
        "untyped token": hs(_claims(), typ=None),
        "duplicate payload member": dup_token,
        "unregistered header parameter": hs(_claims(), x_debug=1),
        "jku header": hs(_claims(), jku="https://evil.example/jwks"),
        "crit header": hs(_claims(), crit=["exp"]),
        "untrusted extra audience (strict)": hs(_claims(aud=["orders", "evil"])),
        "padded signature": good + "=" * (-len(g_sig) % 4 or 4),
    }


@pytest.fixture(scope="module")
def key() -> Key:
    """The shared HS256 key of the differential cases."""
    return Key.generate("HS256", kid="hs1")


def _outcome(fn: Callable[[], Any]) -> bool:
    try:
        fn()
    except (InvalidTokenError, pyjwt.PyJWTError):
        return False
    return True


def test_pyjwt_and_ours_agree_except_where_ours_is_stricter(key: Key) -> None:
    """Each case is accepted by both, rejected by both, or rejected only by us and listed."""
    ours = TokenVerifier(keys=key, issuer=ISSUER, audience="orders", leeway=30, cache_size=0)
    strict = TokenVerifier(
        keys=key, issuer=ISSUER, audience="orders", leeway=30, strict_audience=True, cache_size=0
    )
    secret = _secret(key)
    disagreements: dict[str, tuple[bool, bool]] = {}
    for name, token in _cases(key).items():
        verifier = strict if "(strict)" in name else ours
        mine = _outcome(lambda t=token, v=verifier: v.verify(t))  # type: ignore[misc]
        theirs = _outcome(
            lambda t=token: pyjwt.decode(  # type: ignore[misc]
                t, secret, algorithms=["HS256"], audience="orders", issuer=ISSUER, leeway=30
            )
        )
        if mine != theirs:
            disagreements[name] = (mine, theirs)
    assert all(not mine and theirs for mine, theirs in disagreements.values()), disagreements
    assert set(disagreements) == set(STRICTER)


def test_key_confusion_is_refused_by_both(key: Key) -> None:
    """An HS256 token MACed with an RSA public key PEM is refused by PyJWT and by us."""
    rsa = Key.generate("RS256", kid="rsa1")
    pem = rsa._jkey.as_pem(private=False)  # type: ignore[union-attr]
    token = hs_token({"alg": "HS256", "typ": "at+jwt", "kid": "rsa1"}, _claims(), pem)
    ours = TokenVerifier(keys=rsa.public(), issuer=ISSUER, audience="orders")
    assert not _outcome(lambda: ours.verify(token))
    assert not _outcome(
        lambda: pyjwt.decode(
            token, pem, algorithms=["HS256", "RS256"], audience="orders", issuer=ISSUER
        )
    )


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "EdDSA"])
def test_pyjwt_accepts_what_we_issue(alg: str) -> None:
    """Tokens issued here verify in PyJWT (which knows Ed25519 only as the legacy 'EdDSA')."""
    ours = Key.generate(alg, kid="k")
    token = TokenIssuer(key=ours, issuer=ISSUER, audience="orders").issue(subject="u")
    if ours.kty == "oct":
        verify_key: Any = _secret(ours)
    else:
        verify_key = ours._jkey.as_pem(private=False)  # type: ignore[union-attr]
    decoded = pyjwt.decode(token, verify_key, algorithms=[alg], audience="orders", issuer=ISSUER)
    assert decoded["sub"] == "u"
