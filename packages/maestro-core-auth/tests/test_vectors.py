"""Published test vectors: RFC 7515 appendix A, RFC 8037 appendix A, RFC 7638 section 3.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from maestro_core_auth import InvalidClaimError, InvalidSignatureError, Key, TokenVerifier

# RFC 7515 A.1-A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
PAYLOAD_B64 = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
PAYLOAD = b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'

# RFC 7515 A.1: HS256
A1_KEY = {
    "kty": "oct",
    "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
}
A1_TOKEN = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    + PAYLOAD_B64
    + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

# RFC 7515 A.2: RS256
A2_N = (
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-"
    "SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS"
    "-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2e"
    "thFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
)
A2_SIG = (
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJ"
    "dbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN"
    "9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLI"
    "hWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
)
A2_TOKEN = "eyJhbGciOiJSUzI1NiJ9." + PAYLOAD_B64 + "." + A2_SIG

# RFC 7515 A.3: ES256
A3_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
A3_TOKEN = (
    "eyJhbGciOiJFUzI1NiJ9."
    + PAYLOAD_B64
    + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djx"
    "La8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)

# RFC 8037 A.1-A.4: Ed25519 ("EdDSA"), payload "Example of Ed25519 signing"
ED_PRIVATE = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
ED_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
ED_TOKEN = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWb"
    "hijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# RFC 7638 3.1: the RSA key and its SHA-256 thumbprint
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZC"
    "iFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZ"
    "gnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBni"
    "Iqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc7515_a1_hs256() -> None:
    """The A.1 HS256 JWS verifies and yields the A.1 payload bytes."""
    key = Key.from_jwk(A1_KEY, alg="HS256")
    assert key.verify_jws(A1_TOKEN) == PAYLOAD


def test_rfc7515_a1_through_the_token_verifier() -> None:
    """With the clock at 2011 the A.1 token passes the full claim rules (typ JWT, iss joe)."""
    key = Key.from_jwk(A1_KEY, alg="HS256")
    verifier = TokenVerifier(
        keys=key, issuer="joe", typ=None, clock=lambda: datetime(2011, 3, 22, 18, 0, tzinfo=UTC)
    )
    claims = verifier.verify(A1_TOKEN)
    assert claims["http://example.com/is_root"] is True
    strict = TokenVerifier(keys=key, issuer="joe", clock=lambda: datetime(2011, 3, 22, tzinfo=UTC))
    with pytest.raises(InvalidClaimError, match="typ"):
        strict.verify(A1_TOKEN)


def test_rfc7515_a2_rs256() -> None:
    """The A.2 RS256 JWS verifies with the A.2 public key."""
    key = Key.from_jwk({"kty": "RSA", "n": A2_N, "e": "AQAB"}, alg="RS256")
    assert key.verify_jws(A2_TOKEN) == PAYLOAD


def test_rfc7515_a3_es256() -> None:
    """The A.3 ES256 JWS verifies with the A.3 public key."""
    key = Key.from_jwk(A3_KEY, alg="ES256")
    assert key.verify_jws(A3_TOKEN) == PAYLOAD


def test_rfc7515_a1_tampered() -> None:
    """Changing one payload byte of A.1 breaks the signature."""
    key = Key.from_jwk(A1_KEY, alg="HS256")
    head, body, sig = A1_TOKEN.split(".")
    changed = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(InvalidSignatureError):
        key.verify_jws(f"{head}.{changed}.{sig}")


def test_rfc8037_a4_ed25519_sign_and_verify() -> None:
    """Ed25519 is deterministic: our EdDSA key reproduces the A.4 JWS and verifies it."""
    key = Key.from_jwk(ED_PRIVATE, alg="EdDSA")
    assert key.sign_jws(b"Example of Ed25519 signing") == ED_TOKEN
    assert key.public().verify_jws(ED_TOKEN) == b"Example of Ed25519 signing"


def test_rfc8037_a3_thumbprint() -> None:
    """The A.3 thumbprint of the Ed25519 public key."""
    assert Key.from_jwk(ED_PRIVATE, alg="Ed25519").public().thumbprint() == ED_THUMBPRINT


def test_rfc8037_key_bound_to_ed25519_refuses_the_eddsa_token() -> None:
    """A key bound to the fully specified 'Ed25519' does not accept a JWS saying 'EdDSA'."""
    from maestro_core_auth import InvalidAlgorithmError

    key = Key.from_jwk({k: v for k, v in ED_PRIVATE.items() if k != "d"}, alg="Ed25519")
    with pytest.raises(InvalidAlgorithmError):
        key.verify_jws(ED_TOKEN)


def test_rfc7638_thumbprint() -> None:
    """The RFC 7638 section 3.1 RSA key has the published thumbprint; alg/kid do not change it."""
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert Key.from_jwk(jwk).thumbprint() == RFC7638_THUMBPRINT
    assert json.loads(json.dumps(Key.from_jwk(jwk).to_jwk()))["kid"] == "2011-04-29"
