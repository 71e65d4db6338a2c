"""The original facades on the new core: `AuthManager` (login service) and `JWTAuth` (core-api)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ._claims import Claims
from ._errors import AuthConfigError, InvalidClaimError, TokenExpiredError, TokenRevokedError
from ._keys import Key
from ._passwords import PasswordManager
from ._rbac import Principal
from ._refresh import RefreshTokenService
from ._revocation import RevocationList
from ._stores import Store
from ._tokens import TokenIssuer, TokenVerifier
from ._util import Clock

__all__ = ["AuthManager", "JWTAuth", "TokenPair", "TokenResponse"]

UserLoader = Callable[[str], Awaitable[Any]]
RehashHook = Callable[[Any, str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """The OAuth 2 token response body (RFC 6749 section 5.1)."""

    access_token: str = field(repr=False)
    token_type: str = "bearer"
    expires_in: int = 0
    refresh_token: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, its refresh token and the access token's lifetime in seconds."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    token_type: str = "bearer"

    def response(self) -> TokenResponse:
        """As the OAuth 2 token response."""
        return TokenResponse(
            self.access_token, self.token_type, self.expires_in, self.refresh_token
        )


def _field(record: Any, *names: str) -> Any:
    for name in names:
        if isinstance(record, Mapping):
            if name in record:
                return record[name]
        elif hasattr(record, name):
            return getattr(record, name)
    return None


def _secret_key(secret: object, what: str, alg: str) -> Key:
    if hasattr(secret, "get_secret_value"):
        secret = secret.get_secret_value()
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes):
        raise AuthConfigError(f"{what} must be a str or bytes secret")
    return Key.hmac(secret, alg=alg)


class AuthManager:
    """Login service facade: passwords, access + refresh tokens, logout (original keywords).

    ``user_loader(username)`` returns a record (object or mapping) with ``password_hash`` (or
    ``hashed_password``), and optionally ``id``/``subject``, ``roles``, ``scopes``,
    ``is_active``; ``on_rehash(record, new_hash)`` is called when a stored hash is upgraded.
    """

    def __init__(
        self,
        jwt_secret: str | bytes,
        *,
        token_expire_minutes: float = 30,
        refresh_token_expire_days: float = 7,
        issuer: str = "maestro",
        audience: str | tuple[str, ...] = "maestro",
        user_loader: UserLoader | None = None,
        on_rehash: RehashHook | None = None,
        algorithm: str = "HS256",
        password_manager: PasswordManager | None = None,
        revocation: RevocationList | None = None,
        refresh_store: Store | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.key = _secret_key(jwt_secret, "jwt_secret", algorithm)
        self.access_ttl = float(token_expire_minutes) * 60
        self.user_loader = user_loader
        self.on_rehash = on_rehash
        self.passwords = password_manager or PasswordManager()
        self.revocation = revocation or RevocationList(clock=clock)
        self.issuer = TokenIssuer(
            key=self.key, issuer=issuer, audience=audience, ttl=self.access_ttl, clock=clock
        )
        self.verifier = TokenVerifier(
            keys=self.key,
            issuer=issuer,
            audience=audience,
            revocation=self.revocation,
            required=("exp", "iat", "sub", "jti"),
            clock=clock,
        )
        self.refresh = RefreshTokenService(
            refresh_store, ttl=timedelta(days=refresh_token_expire_days), clock=clock
        )

    def __repr__(self) -> str:
        return f"AuthManager(key={self.key!r}, issuer={self.issuer.issuer!r})"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> AuthManager:
        """From an ``AuthSettings``-shaped section (``hmac_secret`` is required here)."""
        secret = getattr(settings, "hmac_secret", None)
        if secret is None and "jwt_secret" not in overrides:
            raise AuthConfigError("AuthManager needs MAESTRO_AUTH__HMAC_SECRET (32+ bytes)")
        audiences = tuple(getattr(settings, "audiences", ()) or ("maestro",))
        options: dict[str, Any] = {
            "jwt_secret": secret,
            "issuer": getattr(settings, "issuer", None) or "maestro",
            "audience": audiences[0] if len(audiences) == 1 else audiences,
            "token_expire_minutes": float(getattr(settings, "access_ttl", 1800)) / 60,
            "password_manager": PasswordManager(getattr(settings, "password_profile", "owasp")),
        }
        options.update(overrides)
        return cls(**options)

    # ----------------------------------------------------------------- passwords
    def hash_password(self, password: str) -> str:
        """An Argon2id hash of ``password``."""
        return self.passwords.hash(password)

    def verify_password(self, password: str, hashed: str) -> bool:
        """True when ``password`` matches ``hashed`` (original argument order)."""
        return self.passwords.verify(hashed, password)

    async def authenticate_user(self, username: str, password: str) -> Principal | None:
        """The user's Principal when the password matches, else None (same work either way)."""
        if self.user_loader is None:
            raise AuthConfigError("authenticate_user needs AuthManager(user_loader=...)")
        record = await self.user_loader(username)
        hashed = _field(record, "password_hash", "hashed_password") if record is not None else None
        ok, new_hash = await self.passwords.averify_and_update(hashed, password)
        if not ok or record is None:
            return None
        if new_hash is not None and self.on_rehash is not None:
            result = self.on_rehash(record, new_hash)
            if result is not None:
                await result
        active = _field(record, "is_active")
        return Principal(
            subject=str(_field(record, "subject", "id", "username") or username),
            scopes=tuple(_field(record, "scopes") or ()),
            roles=tuple(_field(record, "roles") or ()),
            auth_method="password",
            is_active=True if active is None else bool(active),
        )

    # ----------------------------------------------------------------- tokens
    async def create_tokens(self, user: Principal) -> TokenPair:
        """A fresh access token and a new refresh-token family for ``user``."""
        access = self.issuer.issue(subject=user.subject, scopes=user.scopes, roles=user.roles)
        refresh = await self.refresh.issue(
            subject=user.subject, data={"scopes": list(user.scopes), "roles": list(user.roles)}
        )
        return TokenPair(access, refresh, int(self.access_ttl))

    async def refresh_tokens(self, refresh_token: str) -> TokenPair:
        """Rotate ``refresh_token`` and issue a new access token (reuse revokes the family)."""
        record = await self.refresh.rotate_record(refresh_token)
        access = self.issuer.issue(
            subject=record.subject,
            scopes=tuple(record.data.get("scopes", ())),
            roles=tuple(record.data.get("roles", ())),
        )
        return TokenPair(access, record.token, int(self.access_ttl))

    def verify_token(self, token: str) -> Claims:
        """The claims of a valid access token (raises InvalidTokenError subclasses)."""
        return self.verifier.verify(token)

    async def averify_token(self, token: str) -> Claims:
        """``verify_token`` for async code."""
        return await self.verifier.averify(token)

    async def logout(
        self, *, access_token: str | None = None, refresh_token: str | None = None
    ) -> None:
        """Revoke the access token's jti and the refresh token's family."""
        if access_token is not None:
            try:
                claims = await self.verifier.averify(access_token)
            except (TokenExpiredError, TokenRevokedError):
                claims = None  # already unusable: nothing left to revoke
            if claims is not None:
                await self.revocation.revoke(claims)
        if refresh_token is not None:
            await self.refresh.revoke(refresh_token)

    async def revoke_user(self, subject: str) -> None:
        """Log ``subject`` out everywhere: older access tokens and every refresh token die."""
        await self.revocation.revoke_subject(subject)
        await self.refresh.revoke_subject(subject)


_JWT_RESERVED = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "type"})


class JWTAuth:
    """The original core-api token helper, over TokenIssuer/TokenVerifier with strict defaults.

    Access tokens carry ``typ: at+jwt``, refresh tokens ``typ: refresh+jwt``, so neither can be
    used as the other; ``iss``/``aud`` default to ``"maestro"``; the secret needs 32+ bytes.
    """

    def __init__(
        self,
        secret_key: str | bytes,
        algorithm: str = "HS256",
        access_token_expire_minutes: float = 30,
        refresh_token_expire_days: float = 7,
        *,
        issuer: str = "maestro",
        audience: str = "maestro",
        clock: Clock | None = None,
    ) -> None:
        key = _secret_key(secret_key, "secret_key", algorithm)
        self.algorithm = algorithm
        self.access_token_expire_minutes = access_token_expire_minutes
        self.refresh_token_expire_days = refresh_token_expire_days
        self._access = TokenIssuer(
            key=key,
            issuer=issuer,
            audience=audience,
            ttl=float(access_token_expire_minutes) * 60,
            clock=clock,
        )
        self._refresh = TokenIssuer(
            key=key,
            issuer=issuer,
            audience=audience,
            ttl=timedelta(days=refresh_token_expire_days),
            typ="refresh+jwt",
            clock=clock,
        )
        common: dict[str, Any] = {
            "keys": key,
            "issuer": issuer,
            "audience": audience,
            "clock": clock,
        }
        self._verifiers = {
            "access": TokenVerifier(typ="at+jwt", **common),
            "refresh": TokenVerifier(typ="refresh+jwt", **common),
        }
        self._any = TokenVerifier(typ=None, **common)

    def __repr__(self) -> str:
        return f"JWTAuth(algorithm={self.algorithm!r})"

    def _issue(
        self, issuer: TokenIssuer, kind: str, data: Mapping[str, Any], ttl: timedelta | None
    ) -> str:
        claims = dict(data)
        subject = claims.pop("sub", None)
        if not isinstance(subject, str) or not subject:
            raise AuthConfigError("data must carry 'sub', the subject, as a non-empty string")
        clash = _JWT_RESERVED & set(claims)
        if clash:
            raise AuthConfigError(f"data may not set {sorted(clash)}; they are set for you")
        scopes = claims.pop("scope", None) or claims.pop("scopes", None) or ()
        if isinstance(scopes, str):
            scopes = scopes.split()
        roles = claims.pop("roles", None) or ()
        claims["type"] = kind
        return issuer.issue(subject=subject, scopes=scopes, roles=roles, claims=claims, ttl=ttl)

    def create_access_token(
        self, data: Mapping[str, Any], expires_delta: timedelta | None = None
    ) -> str:
        """An access token for ``data["sub"]`` with the other items as claims."""
        return self._issue(self._access, "access", data, expires_delta)

    def create_refresh_token(self, data: Mapping[str, Any]) -> str:
        """A refresh token (``typ: refresh+jwt``), refused wherever an access token is expected."""
        return self._issue(self._refresh, "refresh", data, None)

    def decode_token(self, token: str) -> dict[str, Any]:
        """The verified claims of an access or refresh token."""
        return self._any.verify(token).to_dict()

    def verify_token(self, token: str, token_type: str = "access") -> dict[str, Any]:
        """The verified claims of a token of ``token_type`` (``"access"`` or ``"refresh"``)."""
        verifier = self._verifiers.get(token_type)
        if verifier is None:
            raise AuthConfigError("token_type must be 'access' or 'refresh'")
        claims = verifier.verify(token)
        if claims.get("type") != token_type:
            raise InvalidClaimError("type", f"not a {token_type} token")
        return claims.to_dict()
