"""Key and KeySet: one algorithm per key, weak and confusable keys refused at load."""

from __future__ import annotations

import json
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from maestro_core_auth import (
    AuthConfigError,
    InvalidAlgorithmError,
    InvalidSignatureError,
    InvalidTokenError,
    Key,
    KeySet,
    WeakKeyError,
)


def test_hmac_key_shorter_than_the_hash_is_weak() -> None:
    """HS256 needs 32 bytes, HS512 64 (RFC 7518 section 3.2)."""
    with pytest.raises(WeakKeyError, match="32 bytes"):
        Key.hmac(secrets.token_bytes(31))
    with pytest.raises(WeakKeyError):
        Key.hmac(secrets.token_bytes(48), alg="HS512")
    assert Key.hmac(secrets.token_bytes(32)).alg == "HS256"


def test_hmac_takes_bytes_only() -> None:
    """A str secret is refused with a hint to encode it."""
    with pytest.raises(AuthConfigError, match="bytes"):
        Key.hmac("x" * 40)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["pem", "der", "ssh", "jwk"])
def test_public_key_text_is_refused_as_hmac_secret(rsa_key: Key, form: str) -> None:
    """A public key in PEM, DER, SSH or JWK form cannot become an HMAC secret."""
    native = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    data = {
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
    with pytest.raises(AuthConfigError, match="HMAC secret"):
        Key.hmac(data)


def test_rsa_under_2048_bits_is_weak() -> None:
    """A 1024-bit RSA key is refused when loaded."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(WeakKeyError, match="2048"):
        Key.from_pem(pem, alg="RS256")


def test_ec_curve_must_match_the_algorithm() -> None:
    """A P-384 key cannot be used for ES256."""
    pem = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(AuthConfigError, match="P-256"):
        Key.from_pem(pem, alg="ES256")
    assert Key.from_pem(pem, alg="ES384").alg == "ES384"


@pytest.mark.parametrize("alg", ["none", "NONE", "None", "", "HS1", "RSA-OAEP"])
def test_none_and_unknown_algorithms_cannot_be_represented(alg: str) -> None:
    """There is no way to build a key for 'none' or an unknown algorithm."""
    with pytest.raises(AuthConfigError):
        Key.generate(alg)
    with pytest.raises(AuthConfigError):
        Key.hmac(secrets.token_bytes(64), alg=alg)


def test_key_kind_must_fit_the_algorithm(rsa_key: Key) -> None:
    """An RSA PEM cannot be loaded as ES256 or HS256; a JWK's alg must agree with the request."""
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(AuthConfigError):
        Key.from_pem(pem, alg="ES256")
    with pytest.raises(AuthConfigError):
        Key.from_pem(pem, alg="HS256")
    with pytest.raises(AuthConfigError, match="says alg"):
        Key.from_jwk(rsa_key.public().to_jwk(), alg="PS256")


def test_public_jwk_shape_and_repr_hide_material(ed_key: Key) -> None:
    """The public JWK carries kty/crv/x/alg/kid/use only; repr shows no key material."""
    jwk = ed_key.public().to_jwk()
    assert set(jwk) == {"kty", "crv", "x", "alg", "kid", "use"}
    assert jwk["alg"] == "Ed25519"
    assert jwk["use"] == "sig"
    private = ed_key.to_jwk(private=True)
    assert private["d"] not in repr(ed_key)
    assert repr(ed_key) == "Key(kty='OKP', alg='Ed25519', kid='ed1', private)"


def test_hmac_key_is_never_published(hs_key: Key) -> None:
    """An HMAC key has no public half and no public JWK."""
    with pytest.raises(AuthConfigError):
        hs_key.public()
    with pytest.raises(AuthConfigError):
        hs_key.to_jwk()
    with pytest.raises(AuthConfigError):
        KeySet([hs_key]).public()
    secret = hs_key.to_jwk(private=True)["k"]
    assert secret not in repr(hs_key)


def test_jwk_round_trip_keeps_the_algorithm(es_key: Key) -> None:
    """A key exported as JWK and loaded again verifies the original's signatures."""
    loaded = Key.from_jwk(json.dumps(es_key.public().to_jwk()))
    assert loaded.alg == "ES256"
    assert loaded.kid == "es1"
    assert not loaded.private
    assert loaded.verify_jws(es_key.sign_jws(b"hello")) == b"hello"
    assert loaded.thumbprint() == es_key.thumbprint()


def test_pem_key_verifies_like_the_generated_one(rsa_key: Key) -> None:
    """A PEM public key given as text verifies what the private key signed."""
    pem = rsa_key._jkey.as_pem(private=False)  # type: ignore[union-attr]
    loaded = Key.from_pem(pem.decode(), alg="RS256", kid="rsa1")
    assert loaded.verify_jws(rsa_key.sign_jws(b"x")) == b"x"


def test_verify_jws_binds_the_algorithm(ed_key: Key, rsa_key: Key) -> None:
    """Another key kind is InvalidAlgorithmError; a wrong key of the same kind, a bad signature."""
    with pytest.raises(InvalidAlgorithmError):
        ed_key.public().verify_jws(rsa_key.sign_jws(b"x"))
    other = Key.generate("Ed25519")
    with pytest.raises(InvalidSignatureError):
        other.public().verify_jws(ed_key.sign_jws(b"x"))


def test_keyset_lookup_is_exact(ed_key: Key, rsa_key: Key) -> None:
    """Keys are found by exact kid; no kid with several keys is an error; duplicates refused."""
    keys = KeySet([ed_key.public(), rsa_key.public()])
    assert keys.select("ed1") is not None
    assert keys.select("ED1") is None
    assert keys.select("../../dev/null") is None
    with pytest.raises(InvalidTokenError, match="kid required"):
        keys.select(None)
    with pytest.raises(AuthConfigError, match="share"):
        KeySet([ed_key, ed_key])
    assert set(keys.to_jwks()) == {"keys"}
    assert len(keys.to_jwks()["keys"]) == 2


def test_from_jwks_skips_symmetric_and_encryption_keys(ed_key: Key) -> None:
    """A JWKS document's oct and use=enc entries are ignored; signing keys are kept."""
    doc = {
        "keys": [
            {**Key.generate("HS256").to_jwk(private=True), "kid": "o"},
            {**ed_key.public().to_jwk(), "kid": "enc", "use": "enc"},
            ed_key.public().to_jwk(),
        ]
    }
    keys = KeySet.from_jwks(doc)
    assert [k.kid for k in keys] == ["ed1"]


def test_eddsa_legacy_name_is_for_ed25519_only(ed_key: Key, es_key: Key) -> None:
    """'EdDSA' binds to an Ed25519 key and to nothing else."""
    jwk = {**ed_key.public().to_jwk(), "alg": "EdDSA"}
    assert Key.from_jwk(jwk).alg == "EdDSA"
    with pytest.raises(AuthConfigError):
        Key.from_jwk({**es_key.public().to_jwk(), "alg": "EdDSA"})
