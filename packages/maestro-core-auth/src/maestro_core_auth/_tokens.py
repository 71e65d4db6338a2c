"""`TokenVerifier` (strict claim rules + the verified-token cache) and `TokenIssuer`."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._claims import Claims
from ._errors import (
    AuthConfigError,
    InvalidClaimError,
    InvalidTokenError,
    MalformedTokenError,
    TokenExpiredError,
    TokenNotYetValidError,
)
from ._keys import Key, KeySet, check_signature, parse_compact, strict_json
from ._util import Clock, seconds, timestamp_source

if TYPE_CHECKING:
    from ._jwks import JWKSClient
    from ._revocation import RevocationList

__all__ = ["TokenIssuer", "TokenVerifier"]

# Claims a verifier may be told to require (RFC 7519, RFC 9068, OIDC Core).
KNOWN_CLAIMS = frozenset(
    {"exp", "iat", "nbf", "sub", "iss", "aud", "jti", "client_id", "scope", "auth_time", "azp"}
)
_REGISTERED = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "roles"})
_sha256 = hashlib.sha256
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
# claims, exp + leeway, cached-until, key-set generation, jti, sub, iat
_Entry = tuple[Claims, float, float, int, Any, Any, Any]


def _is_number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def _names(value: str | Iterable[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(v, str) and v for v in items):
        raise AuthConfigError(f"{what} must be a non-empty string or a list of them (or None)")
    return frozenset(items)


def _norm_typ(value: str) -> str:
    low = value.lower()
    return low[12:] if low.startswith("application/") else low


class TokenVerifier:
    """Verifies compact JWS access tokens with strict rules and caches verified ones.

    ``exp`` is always required; ``iss`` is compared exactly; a token must carry at least one
    allowed ``aud`` (every one with ``strict_audience``), and a token with ``aud`` is refused
    when no audience is configured; ``typ`` must match (``at+jwt`` by default); ``leeway``
    applies to ``exp``/``nbf``/``iat`` only. A token seen before is answered from a bounded
    cache keyed by its SHA-256, with expiry and revocation re-checked on every hit.
    """

    def __init__(
        self,
        *,
        keys: Key | KeySet | None = None,
        jwks: JWKSClient | None = None,
        issuer: str | Iterable[str] | None = None,
        audience: str | Iterable[str] | None = None,
        typ: str | None = "at+jwt",
        leeway: float | timedelta = 30.0,
        required: Iterable[str] = ("exp",),
        max_age: float | timedelta | None = None,
        strict_audience: bool = False,
        revocation: RevocationList | None = None,
        max_token_size: int = 16 * 1024,
        cache_size: int = 10_000,
        cache_ttl: float | timedelta = 300.0,
        clock: Clock | None = None,
    ) -> None:
        if (keys is None) == (jwks is None):
            raise AuthConfigError("give exactly one of keys= (a Key or KeySet) or jwks=")
        if isinstance(keys, Key):
            keys = KeySet([keys])
        if keys is not None and not isinstance(keys, KeySet):
            raise AuthConfigError("keys must be a Key or a KeySet")
        if keys is not None and any(k.kty != "oct" and k.private for k in keys):
            keys = KeySet(k.public() if k.kty != "oct" else k for k in keys)
        self._keys = keys
        self._jwks = jwks
        self._issuers = _names(issuer, "issuer")
        self._audiences = _names(audience, "audience")
        if typ is not None and (not isinstance(typ, str) or not typ):
            raise AuthConfigError("typ must be a non-empty string such as 'at+jwt', or None")
        self._typ = _norm_typ(typ) if typ is not None else None
        self._forbid_typ: frozenset[str] = frozenset()
        self._leeway = seconds(leeway, "leeway")
        if isinstance(required, str):
            raise AuthConfigError("required must be a list of claim names, not one string")
        wanted = set(required)
        unknown = wanted - KNOWN_CLAIMS
        if unknown:
            raise AuthConfigError(
                f"unknown claim names in required: {sorted(unknown)}; known: {sorted(KNOWN_CLAIMS)}"
            )
        self._required = frozenset(wanted | {"exp"})
        self._max_age = None if max_age is None else seconds(max_age, "max_age", minimum=1e-9)
        if self._max_age is not None:
            self._required |= {"iat"}
        self._strict_audience = bool(strict_audience)
        self._revocation = revocation
        if not isinstance(max_token_size, int) or max_token_size < 256:
            raise AuthConfigError("max_token_size must be an int of at least 256 bytes")
        self._max_size = max_token_size
        if not isinstance(cache_size, int) or cache_size < 0:
            raise AuthConfigError("cache_size must be an int >= 0 (0 turns the cache off)")
        self._cache_size = cache_size
        self._cache_ttl = seconds(cache_ttl, "cache_ttl")
        self._cache: dict[bytes, _Entry] = {}  # insertion-ordered: the oldest goes first
        self._now: Callable[[], float] = timestamp_source(clock)

    def __repr__(self) -> str:
        source = "jwks" if self._jwks is not None else f"{len(self._keys or ())} keys"
        issuers = sorted(self._issuers) if self._issuers else None
        return f"TokenVerifier({source}, issuer={issuers!r}, typ={self._typ!r})"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> TokenVerifier:
        """A verifier from an ``AuthSettings``-shaped section (duck typed), plus overrides.

        Keys: ``hmac_secret`` (HS256), else ``jwks_url``, else ``oidc_issuer`` (discovered
        on first use). ``issuer`` defaults to ``oidc_issuer``; ``audiences`` are the allowed
        ``aud`` values.
        """
        options: dict[str, Any] = {}
        secret = getattr(settings, "hmac_secret", None)
        jwks_url = getattr(settings, "jwks_url", None)
        oidc_issuer = getattr(settings, "oidc_issuer", None)
        algorithms = tuple(getattr(settings, "algorithms", ()) or ()) or None
        if "keys" not in overrides and "jwks" not in overrides:
            if secret is not None:
                raw = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
                options["keys"] = Key.hmac(raw.encode() if isinstance(raw, str) else raw)
            elif jwks_url or oidc_issuer:
                from ._jwks import JWKSClient

                options["jwks"] = (
                    JWKSClient(jwks_url, algorithms=algorithms)
                    if jwks_url
                    else JWKSClient.from_issuer(str(oidc_issuer), algorithms=algorithms)
                )
            else:
                raise AuthConfigError(
                    "the auth settings name no keys: set MAESTRO_AUTH__HMAC_SECRET, "
                    "MAESTRO_AUTH__JWKS_URL or MAESTRO_AUTH__OIDC_ISSUER"
                )
        issuer = getattr(settings, "issuer", None) or oidc_issuer
        if issuer is not None:
            options["issuer"] = issuer
        audiences = tuple(getattr(settings, "audiences", ()) or ())
        options["audience"] = audiences or None
        if getattr(settings, "leeway", None) is not None:
            options["leeway"] = settings.leeway
        options.update(overrides)
        return cls(**options)

    # ----------------------------------------------------------------- verification
    def verify(self, token: str) -> Claims:
        """Verify ``token`` and return its claims; raises an InvalidTokenError subclass."""
        digest = self._digest(token)
        if digest is not None:
            entry = self._cache.get(digest)
            if entry is not None:
                now = self._now()
                if (
                    now < entry[1]
                    and now < entry[2]
                    and (self._jwks is None or entry[3] == self._jwks.generation)
                ):
                    if self._revocation is not None:
                        self._revocation.check_ids(entry[4], entry[5], entry[6])
                    return entry[0]
                self._cache.pop(digest, None)
        obj = parse_compact(token, self._max_size)
        header = obj.headers()
        kid = header.get("kid")
        if self._jwks is not None:
            key = self._jwks.key_for(kid)
            generation = self._jwks.generation  # read after a possible refetch
        else:
            assert self._keys is not None
            generation = 0
            key = self._keys.select(kid)
        if key is None:
            raise InvalidTokenError("unknown kid: no key in the set has the token's kid")
        claims = self._claims(header, check_signature(obj, key))
        if self._revocation is not None:
            self._revocation.check(claims)
        self._remember(digest, claims, generation)
        return claims

    async def averify(self, token: str) -> Claims:
        """``verify`` for async code: JWKS fetches and revocation lookups do not block."""
        digest = self._digest(token)
        if digest is not None:
            entry = self._cache.get(digest)
            if entry is not None:
                now = self._now()
                if (
                    now < entry[1]
                    and now < entry[2]
                    and (self._jwks is None or entry[3] == self._jwks.generation)
                ):
                    if self._revocation is not None:
                        await self._revocation.acheck_ids(entry[4], entry[5], entry[6])
                    return entry[0]
                self._cache.pop(digest, None)
        obj = parse_compact(token, self._max_size)
        header = obj.headers()
        kid = header.get("kid")
        if self._jwks is not None:
            key = await self._jwks.akey_for(kid)
            generation = self._jwks.generation  # read after a possible refetch
        else:
            assert self._keys is not None
            generation = 0
            key = self._keys.select(kid)
        if key is None:
            raise InvalidTokenError("unknown kid: no key in the set has the token's kid")
        claims = self._claims(header, check_signature(obj, key))
        if self._revocation is not None:
            await self._revocation.acheck(claims)
        self._remember(digest, claims, generation)
        return claims

    def clear_cache(self) -> None:
        """Forget every verified token (they are verified again on next sight)."""
        self._cache.clear()

    def _digest(self, token: object) -> bytes | None:
        if type(token) is not str or len(token) > self._max_size or self._cache_size == 0:
            return None
        try:
            return _sha256(token.encode("ascii")).digest()
        except UnicodeEncodeError:
            return None

    def _remember(self, digest: bytes | None, claims: Claims, generation: int) -> None:
        if digest is None:
            return
        now = self._now()
        until = now + self._cache_ttl
        if self._max_age is not None:
            until = min(until, float(claims["iat"]) + self._max_age)
        if self._jwks is not None:  # re-verify once the key set is due for a refresh
            until = min(until, now + self._jwks.fresh_for())
        data = claims._data
        cache = self._cache
        cache[digest] = (
            claims,
            float(data["exp"]) + self._leeway,
            until,
            generation,
            data.get("jti"),
            data.get("sub"),
            data.get("iat"),
        )
        while len(cache) > self._cache_size:
            try:
                del cache[next(iter(cache))]
            except (KeyError, StopIteration, RuntimeError):
                break

    def _claims(self, header: dict[str, Any], payload: bytes) -> Claims:
        data = strict_json(payload, "payload")
        if not isinstance(data, dict):
            raise MalformedTokenError("the token's payload is not a JSON object")
        self._check_typ(header.get("typ"))
        now = self._now()
        leeway = self._leeway
        for name in self._required:
            if name not in data:
                raise InvalidClaimError(name, "required claim is missing")
        exp = data["exp"]
        if not _is_number(exp):
            raise InvalidClaimError("exp", "must be a number (seconds since the epoch)")
        if exp + leeway <= now:
            raise TokenExpiredError("the token has expired")
        if "nbf" in data:
            nbf = data["nbf"]
            if not _is_number(nbf):
                raise InvalidClaimError("nbf", "must be a number")
            if nbf - leeway > now:
                raise TokenNotYetValidError("the token is not valid yet (nbf)")
        if "iat" in data:
            iat = data["iat"]
            if not _is_number(iat):
                raise InvalidClaimError("iat", "must be a number")
            if iat - leeway > now:
                raise InvalidClaimError("iat", "issued in the future")
            if self._max_age is not None and now - iat > self._max_age + leeway:
                raise TokenExpiredError("the token is older than max_age")
        for name in ("sub", "jti", "client_id", "azp"):
            if name in data and not isinstance(data[name], str):
                raise InvalidClaimError(name, "must be a string")
        if self._issuers is not None:
            iss = data.get("iss")
            if not isinstance(iss, str) or iss not in self._issuers:
                raise InvalidClaimError("iss", "not an accepted issuer")
        self._check_aud(data)
        return Claims(data, header)

    def _check_typ(self, typ: object) -> None:
        if typ is not None and not isinstance(typ, str):
            raise InvalidClaimError("typ", "must be a string")
        if self._typ is not None and (typ is None or _norm_typ(typ) != self._typ):
            raise InvalidClaimError("typ", f"this verifier accepts only {self._typ!r} tokens")
        if typ is not None and _norm_typ(typ) in self._forbid_typ:
            raise InvalidClaimError("typ", "this token kind is not accepted here")

    def _check_aud(self, data: Mapping[str, Any]) -> None:
        if "aud" not in data:
            if self._audiences is not None:
                raise InvalidClaimError("aud", "required claim is missing")
            return
        aud = data["aud"]
        values = [aud] if isinstance(aud, str) else aud
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise InvalidClaimError("aud", "must be a string or a non-empty list of strings")
        if self._audiences is None:
            raise InvalidClaimError("aud", "the token names an audience but none is configured")
        if self._strict_audience:
            if not set(values) <= self._audiences:
                raise InvalidClaimError("aud", "the token also names an untrusted audience")
        elif self._audiences.isdisjoint(values):
            raise InvalidClaimError("aud", "not an accepted audience")


class TokenIssuer:
    """Signs access tokens (``typ: at+jwt`` by default) with one key and its one algorithm."""

    def __init__(
        self,
        *,
        key: Key,
        issuer: str,
        audience: str | Iterable[str] | None = None,
        ttl: float | timedelta = 300.0,
        typ: str = "at+jwt",
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(key, Key) or not key.private:
            raise AuthConfigError("TokenIssuer needs a private Key (or an HMAC Key) to sign with")
        if not isinstance(issuer, str) or not issuer:
            raise AuthConfigError("issuer must be a non-empty string (the exact iss to stamp)")
        if not isinstance(typ, str) or not typ:
            raise AuthConfigError("typ must be a non-empty string such as 'at+jwt'")
        self.key = key
        self.issuer = issuer
        aud = _names(audience, "audience")
        self._audience: str | list[str] | None = None
        if aud is not None:
            self._audience = audience if isinstance(audience, str) else sorted(aud)
        self.ttl = seconds(ttl, "ttl", minimum=1.0)
        self.typ = typ
        self._now = timestamp_source(clock)
        from ._keys import _registry

        self._registry = _registry(key.alg)
        self._header: dict[str, Any] = {"alg": key.alg, "typ": typ}
        if key.kid is not None:
            self._header["kid"] = key.kid

    def __repr__(self) -> str:
        return f"TokenIssuer(key={self.key!r}, issuer={self.issuer!r}, typ={self.typ!r})"

    def issue(
        self,
        *,
        subject: str,
        scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        ttl: float | timedelta | None = None,
        audience: str | Iterable[str] | None = None,
    ) -> str:
        """A signed token for ``subject`` with a fresh ``jti``, ``iat`` and ``exp``."""
        if not isinstance(subject, str) or not subject:
            raise AuthConfigError("subject must be a non-empty string")
        now = int(self._now())
        lifetime = self.ttl if ttl is None else seconds(ttl, "ttl", minimum=1.0)
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "iat": now,
            "exp": now + int(lifetime),
            "jti": secrets.token_urlsafe(16),
        }
        aud: Any = self._audience
        if audience is not None:
            names = _names(audience, "audience")
            aud = audience if isinstance(audience, str) else sorted(names or ())
        if aud is not None:
            payload["aud"] = aud
        scope_list = [scopes] if isinstance(scopes, str) else list(scopes)
        if scope_list:
            payload["scope"] = " ".join(scope_list)
        role_list = [roles] if isinstance(roles, str) else list(roles)
        if role_list:
            payload["roles"] = role_list
        if claims:
            clash = _REGISTERED & set(claims)
            if clash:
                raise AuthConfigError(
                    f"claims may not set {sorted(clash)}: use the issue() arguments instead"
                )
            payload.update(claims)
        return self.sign(payload)

    def sign(self, payload: Mapping[str, Any]) -> str:
        """Low level: sign exactly ``payload`` (which must carry ``exp``) with this header."""
        if not _is_number(payload.get("exp")):
            raise AuthConfigError("a token must carry a numeric exp")
        from joserfc.jws import serialize_compact

        try:
            body = _encode(payload).encode()
        except (TypeError, ValueError) as exc:
            raise AuthConfigError(
                f"the claims must be JSON values (str, number, bool, list, dict): {exc}"
            ) from None
        return serialize_compact(self._header, body, self.key._jkey, registry=self._registry)
