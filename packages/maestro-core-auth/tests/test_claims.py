"""Claims accessors and the remaining Key/KeySet construction paths."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from maestro_core_auth import AuthConfigError, Claims, Key, KeySet


def test_claims_accessors() -> None:
    """Registered claims read through typed accessors; other shapes read as empty."""
    claims = Claims(
        {
            "sub": "u",
            "jti": "j",
            "iss": "i",
            "aud": ["a", "b", 3],
            "exp": 60,
            "iat": 1,
            "scp": ["x:y", 1],
            "roles": "admin",
            "tenant": "acme",
        },
        {"alg": "HS256"},
    )
    assert claims.audience == ("a", "b")
    assert claims.scopes == ("x:y",)
    assert claims.roles == ("admin",)
    assert claims.issuer == "i"
    assert claims.expires_at == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert claims.issued_at == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert len(claims) == 9
    assert sorted(claims)[0] == "aud"
    assert claims.to_dict()["tenant"] == "acme"
    assert repr(claims) == "Claims(sub='u', jti='j', exp=60)"
    with pytest.raises(TypeError):
        claims._data["sub"] = "admin"  # type: ignore[index]
    bare = Claims({"sub": 5, "aud": "one", "scopes": "a b", "exp": 1})
    assert bare.subject is None
    assert bare.token_id is None
    assert bare.issuer is None
    assert bare.audience == ("one",)
    assert bare.scopes == ("a", "b")
    assert bare.roles == ()
    assert bare.issued_at is None
    assert Claims({"exp": 1, "aud": 7}).audience == ()


def test_pem_paths() -> None:
    """Encrypted PEMs need their password; garbage and non-PEM text are clear errors."""
    native = ed25519.Ed25519PrivateKey.generate()
    password = secrets.token_urlsafe(12)
    pem = native.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    )
    key = Key.from_pem(pem, alg="Ed25519", kid="e", password=password)
    assert key.private
    assert key.public().to_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key.to_pem(private=True).startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(AuthConfigError, match="password") as info:
        Key.from_pem(pem, alg="Ed25519", password="wrong")
    assert password not in str(info.value)
    with pytest.raises(AuthConfigError, match="BEGIN"):
        Key.from_pem("not a pem", alg="Ed25519")
    with pytest.raises(AuthConfigError):
        Key.from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", alg="ES256")
    with pytest.raises(AuthConfigError):
        key.public().to_pem(private=True)
    with pytest.raises(AuthConfigError):
        Key.generate("HS256").to_pem()
    x_pem = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(AuthConfigError, match="unsupported"):
        Key.from_pem(x_pem, alg="Ed25519")


def test_jwk_paths(es_key: Key) -> None:
    """Bad JWK text, members and kinds are AuthConfigErrors; equal keys compare equal."""
    with pytest.raises(AuthConfigError, match="JSON"):
        Key.from_jwk("{not json")
    with pytest.raises(AuthConfigError, match="kty"):
        Key.from_jwk({"alg": "ES256"})
    with pytest.raises(AuthConfigError, match="use"):
        Key.from_jwk({**es_key.public().to_jwk(), "use": "enc"})
    with pytest.raises(AuthConfigError, match="kid"):
        Key.from_jwk({**es_key.public().to_jwk(), "kid": 5})
    with pytest.raises(AuthConfigError, match="invalid"):
        Key.from_jwk({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, alg="ES256")
    with pytest.raises(AuthConfigError, match="cannot carry"):
        Key.from_jwk({k: v for k, v in es_key.public().to_jwk().items() if k != "alg"}, alg="RS256")
    oct_jwk = Key.generate("HS384").to_jwk(private=True)
    assert Key.from_jwk(oct_jwk).alg == "HS384"
    again = Key.from_jwk(es_key.public().to_jwk())
    assert again == es_key.public()
    assert hash(again) == hash(es_key.public())
    assert again != "not a key"
    with pytest.raises(AuthConfigError, match=r"Key\.hmac"):
        Key(None, "HS256", None)  # type: ignore[arg-type]
    with pytest.raises(AuthConfigError, match="private"):
        es_key.public().sign_jws(b"x")


def test_keyset_paths(ed_key: Key) -> None:
    """KeySet refuses non-keys and bad JWKS documents; get and membership work by kid."""
    keys = KeySet([ed_key.public()])
    assert keys.get("ed1") is not None
    assert ed_key.public() in keys
    assert "KeySet(" in repr(keys)
    with pytest.raises(AuthConfigError):
        KeySet(["not a key"])  # type: ignore[list-item]
    with pytest.raises(AuthConfigError):
        KeySet.from_jwks("{nope")
    with pytest.raises(AuthConfigError):
        KeySet.from_jwks({"nokeys": []})
    with pytest.raises(AuthConfigError):
        KeySet.from_jwks({"keys": []}, algorithms=["none"])
    doc = {"keys": [{k: v for k, v in ed_key.public().to_jwk().items() if k != "alg"}, "junk"]}
    assert [k.alg for k in KeySet.from_jwks(doc)] == ["Ed25519"]
