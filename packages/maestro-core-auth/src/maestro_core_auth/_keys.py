"""`Key` and `KeySet`: every key carries exactly one algorithm, so key confusion cannot be written.

All signature, header and key work is done by joserfc (imported on first use); this module
decides which single algorithm joserfc may use with which key, and refuses weak keys.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import (
    AuthConfigError,
    InvalidAlgorithmError,
    InvalidSignatureError,
    InvalidTokenError,
    MalformedTokenError,
    WeakKeyError,
)

if TYPE_CHECKING:
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
    from joserfc.jws import CompactSignature, JWSRegistry

    JoseKey = OctKey | RSAKey | ECKey | OKPKey

__all__ = ["ALGORITHMS", "Key", "KeySet"]

# alg -> (kty, parameter): the HMAC minimum key bytes, the RSA minimum bits, the EC / OKP curve.
_ALGS: dict[str, tuple[str, int | str]] = {
    "HS256": ("oct", 32),
    "HS384": ("oct", 48),
    "HS512": ("oct", 64),
    "RS256": ("RSA", 2048),
    "RS384": ("RSA", 2048),
    "RS512": ("RSA", 2048),
    "PS256": ("RSA", 2048),
    "PS384": ("RSA", 2048),
    "PS512": ("RSA", 2048),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "Ed25519": ("OKP", "Ed25519"),
    "EdDSA": ("OKP", "Ed25519"),
}
ALGORITHMS = tuple(_ALGS)
# Header parameters a token may carry. jku / x5u / jwk / x5c (keys named by the token) and
# b64 (RFC 7797) are absent on purpose: such a header is rejected, never fetched or used.
_HEADER_PARAMS = ("alg", "kid", "typ", "cty", "crit", "x5t", "x5t#S256")
_TEXT_KEY_MARKERS = (b"-----BEGIN", b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-", b"PuTTY")


def _check_alg(alg: object) -> str:
    if not isinstance(alg, str) or alg not in _ALGS:
        raise AuthConfigError(
            f"alg must be one of {', '.join(ALGORITHMS)}; got {alg!r} "
            "('none' and unknown algorithms cannot be used)"
        )
    return alg


@functools.cache
def _registry(alg: str | None) -> JWSRegistry:
    """A joserfc registry that admits exactly ``alg`` (None: parsing only) and few headers."""
    from joserfc.errors import UnsupportedAlgorithmError
    from joserfc.jws import JWSRegistry
    from joserfc.registry import JWS_HEADER_REGISTRY

    class _OneAlgorithm(JWSRegistry):
        default_header_registry = {  # noqa: RUF012 - joserfc reads this class attribute
            k: JWS_HEADER_REGISTRY[k] for k in _HEADER_PARAMS
        }
        max_header_length = 1024
        max_payload_length = 16 * 1024
        max_signature_length = 1024

        def get_alg(self, name: str) -> Any:
            # No fallback to joserfc's lists: only the key's own algorithm exists here.
            if alg is None or name != alg:
                raise UnsupportedAlgorithmError("algorithm not allowed for this key")
            return self.algorithms[alg]

    return _OneAlgorithm(algorithms=[alg] if alg else None, strict_check_header=True)


def _looks_like_key_text(secret: bytes) -> bool:
    head = secret.lstrip()[:64]
    if head.startswith(_TEXT_KEY_MARKERS) or b"PRIVATE KEY" in secret or b"PUBLIC KEY" in secret:
        return True
    if head.startswith(b"{") and b'"kty"' in secret:
        return True
    if secret[:1] == b"\x30":  # DER SEQUENCE: a public/private key or certificate?
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        for load in (
            serialization.load_der_public_key,
            lambda data: serialization.load_der_private_key(data, password=None),
            x509.load_der_x509_certificate,
        ):
            try:
                load(secret)
            except (ValueError, TypeError):
                continue
            return True
    return False


def _check_rsa_bits(bits: int) -> None:
    if bits < 2048:
        raise WeakKeyError(f"RSA keys must have at least 2048 bits, this one has {bits}")


class Key:
    """A signing or verifying key bound to exactly one JWS algorithm.

    Build one with :meth:`hmac`, :meth:`from_pem`, :meth:`from_jwk` or :meth:`generate`.
    A token verifies with a key only when its header ``alg`` equals ``key.alg``; there is no
    ``none`` key. ``repr`` shows the kind, algorithm and kid, never key material.
    """

    __slots__ = ("_jkey", "alg", "kid", "kty", "private", "use")

    def __init__(self, _jkey: JoseKey, alg: str, kid: str | None, *, _internal: object = None):
        if _internal is not _TOKEN:
            raise AuthConfigError(
                "build a Key with Key.hmac(), Key.from_pem(), Key.from_jwk() or Key.generate()"
            )
        self._jkey = _jkey
        self.alg = alg
        self.kty: str = _ALGS[alg][0]
        self.kid = kid
        self.use = "sig"
        self.private: bool = bool(_jkey.is_private)

    def __repr__(self) -> str:
        kind = "private" if self.private and self.kty != "oct" else "public"
        if self.kty == "oct":
            kind = "secret"
        return f"Key(kty={self.kty!r}, alg={self.alg!r}, kid={self.kid!r}, {kind})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return (self.alg, self.kid, self.thumbprint(), self.private) == (
            other.alg,
            other.kid,
            other.thumbprint(),
            other.private,
        )

    def __hash__(self) -> int:
        return hash((self.alg, self.kid, self.thumbprint()))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def hmac(cls, secret: bytes, *, alg: str = "HS256", kid: str | None = None) -> Key:
        """An HMAC key from secret bytes (at least the hash size: 32 bytes for HS256).

        PEM, DER, SSH or JWK text is refused: a public key must never become an HMAC secret.
        """
        alg = _check_alg(alg)
        kty, minimum = _ALGS[alg]
        if kty != "oct":
            raise AuthConfigError(f"Key.hmac needs an HS256/HS384/HS512 alg, not {alg}")
        if not isinstance(secret, bytes | bytearray):
            raise AuthConfigError(
                "Key.hmac takes the secret as bytes (secret.encode() for text, or "
                "secrets.token_bytes(32)); got " + type(secret).__name__
            )
        secret = bytes(secret)
        if _looks_like_key_text(secret):
            raise AuthConfigError(
                "Key.hmac was given a PEM/DER/SSH/JWK key as an HMAC secret; use "
                "Key.from_pem() or Key.from_jwk() with the key's own algorithm"
            )
        assert isinstance(minimum, int)
        if len(secret) < minimum:
            raise WeakKeyError(
                f"an {alg} secret must be at least {minimum} bytes (RFC 7518 section 3.2), "
                f"got {len(secret)}; generate one with secrets.token_bytes({minimum})"
            )
        from joserfc.jwk import OctKey

        return cls(OctKey.import_key(secret), alg, kid, _internal=_TOKEN)

    @classmethod
    def from_pem(
        cls,
        pem: str | bytes,
        *,
        alg: str,
        kid: str | None = None,
        password: str | bytes | None = None,
    ) -> Key:
        """An RSA, EC or Ed25519 key (public or private) from PEM text, bound to ``alg``."""
        alg = _check_alg(alg)
        kty = _ALGS[alg][0]
        if kty == "oct":
            raise AuthConfigError("an HMAC secret is not PEM text: use Key.hmac(secret_bytes)")
        data = pem.encode() if isinstance(pem, str) else bytes(pem)
        if b"-----BEGIN" not in data:
            raise AuthConfigError("Key.from_pem needs PEM text starting with '-----BEGIN'")
        from cryptography.hazmat.primitives import serialization

        pw = password.encode() if isinstance(password, str) else password
        try:
            if b"PRIVATE KEY" in data:
                native: Any = serialization.load_pem_private_key(data, password=pw)
            else:
                native = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            kind = type(exc).__name__
            raise AuthConfigError(
                f"the PEM key could not be loaded ({kind}); check it and its password"
            ) from None
        return cls._from_native(native, alg, kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str, *, alg: str | None = None) -> Key:
        """A key from a JWK (dict or JSON text); ``alg`` comes from the JWK or this argument."""
        if isinstance(jwk, str):
            try:
                jwk = json.loads(jwk)
            except ValueError:
                raise AuthConfigError("the JWK text is not valid JSON") from None
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kty"), str):
            raise AuthConfigError("a JWK must be a JSON object with a 'kty' member")
        jwk_alg = jwk.get("alg")
        if alg is not None and jwk_alg is not None and alg != jwk_alg:
            raise AuthConfigError(f"the JWK says alg {jwk_alg!r} but {alg!r} was asked for")
        chosen = _check_alg(alg or jwk_alg)
        if jwk.get("use") not in (None, "sig"):
            raise AuthConfigError("the JWK's 'use' is not 'sig': it is not a signing key")
        kty = _ALGS[chosen][0]
        if jwk["kty"] != kty:
            raise AuthConfigError(f"a {jwk['kty']} JWK cannot carry alg {chosen}")
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthConfigError("a JWK 'kid' must be a string")
        if kty == "oct":
            from joserfc.util import urlsafe_b64decode

            try:
                secret = urlsafe_b64decode(str(jwk.get("k", "")).encode())
            except ValueError:
                raise AuthConfigError("the oct JWK's 'k' is not base64url") from None
            return cls.hmac(secret, alg=chosen, kid=kid)
        from joserfc.jwk import ECKey, OKPKey, RSAKey

        params = {k: v for k, v in jwk.items() if k not in ("alg", "kid", "use", "key_ops")}
        if kty == "RSA":
            from joserfc.util import urlsafe_b64decode

            try:
                modulus = urlsafe_b64decode(str(params.get("n", "")).encode())
            except ValueError:
                raise AuthConfigError("the RSA JWK's 'n' is not base64url") from None
            _check_rsa_bits(int.from_bytes(modulus, "big").bit_length())
        classes: dict[str, Any] = {"RSA": RSAKey, "EC": ECKey, "OKP": OKPKey}
        try:
            jkey = classes[kty].import_key(params)
        except Exception as exc:  # joserfc raises several types for bad members
            raise AuthConfigError(f"the {kty} JWK is invalid ({type(exc).__name__})") from None
        return cls._checked(jkey, chosen, kid)

    @classmethod
    def generate(cls, alg: str = "Ed25519", *, kid: str | None = None) -> Key:
        """A fresh private key for ``alg`` (RSA: 2048 bits; HMAC: the hash size in random bytes)."""
        alg = _check_alg(alg)
        kty, param = _ALGS[alg]
        if kty == "oct":
            import secrets

            assert isinstance(param, int)
            return cls.hmac(secrets.token_bytes(param), alg=alg, kid=kid)
        from joserfc.jwk import ECKey, OKPKey, RSAKey

        jkey: Any
        if kty == "RSA":
            jkey = RSAKey.generate_key(2048)
        elif kty == "EC":
            jkey = ECKey.generate_key(str(param))
        else:
            jkey = OKPKey.generate_key("Ed25519")
        return cls(jkey, alg, kid, _internal=_TOKEN)

    @classmethod
    def _from_native(cls, native: Any, alg: str, kid: str | None) -> Key:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from joserfc.jwk import ECKey, OKPKey, RSAKey

        jkey: Any
        if isinstance(native, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            _check_rsa_bits(native.key_size)
            jkey = RSAKey.import_key(native)
        elif isinstance(native, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            jkey = ECKey.import_key(native)
        elif isinstance(native, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            jkey = OKPKey.import_key(native)
        else:
            raise AuthConfigError(f"unsupported key type {type(native).__name__}")
        return cls._checked(jkey, alg, kid)

    @classmethod
    def _checked(cls, jkey: Any, alg: str, kid: str | None) -> Key:
        kty, param = _ALGS[alg]
        if jkey.key_type != kty:
            raise AuthConfigError(f"a {jkey.key_type} key cannot be used with {alg}")
        if kty == "RSA":
            bits = jkey.raw_value.key_size
            assert isinstance(param, int)
            if bits < param:
                raise WeakKeyError(f"RSA keys must have at least {param} bits, this one has {bits}")
        elif kty in ("EC", "OKP"):
            crv = jkey.curve_name if kty == "EC" else jkey.as_dict(private=False)["crv"]
            if crv != param:
                raise AuthConfigError(f"{alg} needs a {param} key, this one is {crv}")
        return cls(jkey, alg, kid, _internal=_TOKEN)

    # ----------------------------------------------------------------- use
    def public(self) -> Key:
        """The public half (for publishing or a verifier); an HMAC key has none."""
        if self.kty == "oct":
            raise AuthConfigError("an HMAC key has no public part and must never be published")
        if not self.private:
            return self
        jkey = type(self._jkey).import_key(self._jkey.as_dict(private=False))
        return Key(jkey, self.alg, self.kid, _internal=_TOKEN)

    def to_jwk(self, *, private: bool = False) -> dict[str, Any]:
        """The JWK (public members unless ``private=True``) with ``alg``, ``kid``, ``use``."""
        if self.kty == "oct" and not private:
            raise AuthConfigError("an HMAC key has no public JWK; pass private=True to export it")
        data: dict[str, Any] = dict(self._jkey.as_dict(private=private))
        data["alg"] = self.alg
        if self.kid is not None:
            data["kid"] = self.kid
        data["use"] = "sig"
        return data

    def to_pem(self, *, private: bool = False) -> bytes:
        """PEM of the public key (or the private key with ``private=True``); not for HMAC."""
        if self.kty == "oct":
            raise AuthConfigError("an HMAC key has no PEM form")
        if private and not self.private:
            raise AuthConfigError("this is a public key; it has no private PEM")
        jkey: Any = self._jkey
        return bytes(jkey.as_pem(private=private))

    def thumbprint(self) -> str:
        """The RFC 7638 SHA-256 JWK thumbprint (base64url), usable as a ``kid``."""
        return str(self._jkey.thumbprint())

    def sign_jws(self, payload: bytes, header: Mapping[str, Any] | None = None) -> str:
        """Low level: a compact JWS of ``payload`` signed with this key and its one algorithm."""
        if not self.private:
            raise AuthConfigError("signing needs a private key (or an HMAC secret)")
        from joserfc.jws import serialize_compact

        protected: dict[str, Any] = dict(header or {})
        protected["alg"] = self.alg
        if self.kid is not None:
            protected.setdefault("kid", self.kid)
        return serialize_compact(protected, payload, self._jkey, registry=_registry(self.alg))

    def verify_jws(self, compact: str | bytes) -> bytes:
        """Low level: check the signature and header rules of a compact JWS; return its payload."""
        obj = parse_compact(compact, 16 * 1024)
        return check_signature(obj, self)


def parse_compact(token: str | bytes, max_size: int) -> CompactSignature:
    """joserfc's compact parsing within our size cap; every failure is a MalformedTokenError."""
    from joserfc.errors import JoseError
    from joserfc.jws import extract_compact

    if isinstance(token, str):
        try:
            data = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("the token is not ASCII") from None
    elif isinstance(token, bytes):
        data = token
    else:
        raise MalformedTokenError("the token must be a string")
    if len(data) > max_size:
        raise MalformedTokenError(f"the token is longer than the {max_size}-byte cap")
    try:
        obj = extract_compact(data, registry=_registry(None))
    except (JoseError, ValueError, TypeError) as exc:
        raise MalformedTokenError(f"not a compact JWS ({type(exc).__name__})") from None
    header = obj.headers()
    if not isinstance(header, dict):
        raise MalformedTokenError("the JWS header is not a JSON object")
    _reject_duplicate_members(obj.segments["header"], len(header))
    return obj


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise MalformedTokenError("the token's JSON repeats a member name")
    return out


def _no_constants(name: str) -> Any:
    raise MalformedTokenError("the token's JSON holds NaN or Infinity")


_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def strict_json(data: bytes, where: str) -> Any:
    """JSON with duplicate member names and NaN/Infinity refused (MalformedTokenError)."""
    try:
        return _STRICT.decode(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedTokenError(f"the token's {where} is not valid JSON") from None


def _reject_duplicate_members(segment: bytes, members: int) -> None:
    """Refuse a header that repeats a member name (joserfc keeps the last one silently).

    Every member written in the JSON text carries one ':' outside strings, so a text with
    exactly as many ':' as the parsed object has members cannot repeat one; any other text
    (colons in values, nested objects) is parsed again strictly.
    """
    raw = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    if raw.count(b":") != members:
        strict_json(raw, "header")


def check_signature(obj: CompactSignature, key: Key) -> bytes:
    """Verify ``obj`` with ``key`` through joserfc, admitting only ``key.alg``."""
    from joserfc.errors import JoseError, UnsupportedAlgorithmError
    from joserfc.jws import validate_compact

    header = obj.headers()
    alg = header.get("alg")
    if alg != key.alg:
        shown = alg if isinstance(alg, str) and len(alg) <= 16 else "(invalid)"
        raise InvalidAlgorithmError(
            f"the token's alg {shown!r} is not the selected key's alg {key.alg!r}"
        )
    if "crit" in header:
        raise InvalidTokenError("the token marks header parameters critical; none are supported")
    try:
        ok = validate_compact(obj, key._jkey, registry=_registry(key.alg))
    except UnsupportedAlgorithmError:
        raise InvalidAlgorithmError("the token's alg is not allowed for the selected key") from None
    except JoseError as exc:
        raise InvalidTokenError(f"the token's header is not accepted ({exc.error})") from None
    except (ValueError, TypeError):
        raise MalformedTokenError("the token's signature segment is invalid") from None
    if not ok:
        from joserfc.util import urlsafe_b64decode

        try:  # joserfc calls a non-canonical signature merely "bad": it is malformed
            urlsafe_b64decode(obj.segments["signature"])
        except ValueError:
            raise MalformedTokenError("the token's signature is not canonical base64url") from None
        raise InvalidSignatureError("the token's signature does not verify")
    payload = obj.payload
    assert isinstance(payload, bytes)
    return payload


class KeySet:
    """Keys looked up by exact ``kid``; publish the public half with :meth:`to_jwks`."""

    __slots__ = ("_by_kid", "_keys")

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: tuple[Key, ...] = tuple(keys)
        self._by_kid: dict[str, Key] = {}
        for key in self._keys:
            if not isinstance(key, Key):
                raise AuthConfigError(f"a KeySet holds Key objects, not {type(key).__name__}")
            if key.kid is not None:
                if key.kid in self._by_kid:
                    raise AuthConfigError(f"two keys share the kid {key.kid!r}")
                self._by_kid[key.kid] = key

    def __repr__(self) -> str:
        return f"KeySet({list(self._keys)!r})"

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def get(self, kid: str) -> Key | None:
        """The key with exactly this kid, or None."""
        return self._by_kid.get(kid)

    def select(self, kid: object) -> Key | None:
        """The key a token header names; None when its kid is unknown.

        A token without ``kid`` needs a set of one key; a set of one key without a kid
        serves any token.
        """
        if kid is None:
            if len(self._keys) == 1:
                return self._keys[0]
            raise InvalidTokenError("kid required: the key set holds more than one key")
        if not isinstance(kid, str):
            raise InvalidTokenError("the token's kid is not a string")
        found = self._by_kid.get(kid)
        if found is None and len(self._keys) == 1 and self._keys[0].kid is None:
            return self._keys[0]
        return found

    def public(self) -> KeySet:
        """The set of public halves (an HMAC key in the set is an error)."""
        return KeySet(key.public() for key in self._keys)

    def to_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """``{"keys": [...]}`` of the public JWKs, ready to publish."""
        return {"keys": [key.to_jwk() for key in self._keys]}

    @classmethod
    def from_jwks(
        cls, jwks: Mapping[str, Any] | str, *, algorithms: Iterable[str] | None = None
    ) -> KeySet:
        """Signing keys of a JWKS document; HMAC, encryption and unusable keys are skipped.

        A JWK without ``alg`` is bound to the first of ``algorithms`` that fits its type.
        """
        if isinstance(jwks, str):
            try:
                jwks = json.loads(jwks)
            except ValueError:
                raise AuthConfigError("the JWKS text is not valid JSON") from None
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise AuthConfigError("a JWKS is a JSON object with a 'keys' list")
        allowed = tuple(algorithms) if algorithms else None
        for name in allowed or ():
            _check_alg(name)
        keys: list[Key] = []
        seen: set[str | None] = set()
        for entry in jwks["keys"]:
            if not isinstance(entry, Mapping) or entry.get("kty") in (None, "oct"):
                continue
            alg: Any = entry.get("alg")
            if alg is None:
                alg = _default_alg(entry, allowed)
            if alg is None or (allowed is not None and alg not in allowed) or alg not in _ALGS:
                continue
            try:
                key = Key.from_jwk(entry, alg=alg)
            except AuthConfigError:
                continue
            if key.kid in seen:
                continue
            seen.add(key.kid)
            keys.append(key)
        return cls(keys)


def _default_alg(entry: Mapping[str, Any], allowed: tuple[str, ...] | None) -> str | None:
    kty, crv = entry.get("kty"), entry.get("crv")
    for alg in allowed or ("RS256", "ES256", "ES384", "ES512", "Ed25519"):
        want_kty, param = _ALGS.get(alg, ("", ""))
        if want_kty == kty and (kty == "RSA" or param == crv):
            return alg
    return None


_TOKEN = object()
