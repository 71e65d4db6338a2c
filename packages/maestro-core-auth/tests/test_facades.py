"""The original facades on the new core: AuthManager and JWTAuth keep keywords and methods."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import bcrypt
import pytest
from maestro_core_auth import (
    APIKeyAuth,
    AuthConfigError,
    AuthManager,
    InvalidClaimError,
    InvalidTokenError,
    JWTAuth,
    PasswordManager,
    RefreshTokenReuseError,
    TokenRevokedError,
    TokenVerifier,
    WeakKeyError,
)
from pydantic import SecretStr


@dataclass
class User:
    """A user row as a service would load it."""

    id: str
    password_hash: str
    roles: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    is_active: bool = True


@pytest.fixture
def world(fast_passwords: PasswordManager) -> tuple[AuthManager, dict[str, User], list[str]]:
    """An AuthManager over a dict of users, recording rehash callbacks."""
    users = {"ann": User("user-1", fast_passwords.hash("pw"), ["clerk"], ["orders:read"])}
    rehashed: list[str] = []

    async def load(username: str) -> User | None:
        return users.get(username)

    async def on_rehash(user: User, new_hash: str) -> None:
        user.password_hash = new_hash
        rehashed.append(user.id)

    auth = AuthManager(
        jwt_secret=secrets.token_urlsafe(48),
        token_expire_minutes=30,
        refresh_token_expire_days=7,
        issuer="orders",
        audience="orders",
        user_loader=load,
        on_rehash=on_rehash,
        password_manager=fast_passwords,
    )
    return auth, users, rehashed


async def test_login_issue_refresh_logout(
    world: tuple[AuthManager, dict[str, User], list[str]],
) -> None:
    """authenticate_user -> create_tokens -> refresh_tokens -> logout, as the original API did."""
    auth, _, _ = world
    user = await auth.authenticate_user("ann", "pw")
    assert user is not None
    assert user.subject == "user-1"
    assert user.roles == ("clerk",)
    pair = await auth.create_tokens(user)
    assert pair.expires_in == 1800
    body = pair.response().to_dict()
    assert body["token_type"] == "bearer"
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    claims = auth.verify_token(pair.access_token)
    assert claims.subject == "user-1"
    assert claims.scopes == ("orders:read",)
    newer = await auth.refresh_tokens(pair.refresh_token)
    assert (await auth.averify_token(newer.access_token)).roles == ("clerk",)
    with pytest.raises(RefreshTokenReuseError):
        await auth.refresh_tokens(pair.refresh_token)
    await auth.logout(access_token=newer.access_token, refresh_token=newer.refresh_token)
    with pytest.raises(TokenRevokedError):
        auth.verify_token(newer.access_token)
    assert pair.access_token not in repr(pair)


async def test_wrong_password_and_unknown_user(
    world: tuple[AuthManager, dict[str, User], list[str]],
) -> None:
    """A wrong password and an unknown user both give None."""
    auth, _, _ = world
    assert await auth.authenticate_user("ann", "nope") is None
    assert await auth.authenticate_user("bob", "pw") is None


async def test_legacy_hash_is_upgraded_on_login(
    world: tuple[AuthManager, dict[str, User], list[str]],
) -> None:
    """A bcrypt hash logs in once and the rehash callback stores an Argon2id hash."""
    auth, users, rehashed = world
    users["old"] = User("user-2", bcrypt.hashpw(b"pw2", bcrypt.gensalt(rounds=4)).decode())
    assert await auth.authenticate_user("old", "pw2") is not None
    assert rehashed == ["user-2"]
    assert users["old"].password_hash.startswith("$argon2id$")


def test_weak_secret_and_settings() -> None:
    """A short jwt_secret is refused; from_settings reads the auth section by duck typing."""
    with pytest.raises(WeakKeyError):
        AuthManager(jwt_secret="short")

    class Section:
        hmac_secret = SecretStr(secrets.token_urlsafe(40))
        issuer = "https://auth.example"
        audiences = ("orders",)
        access_ttl = 600.0
        password_profile = "owasp"

    auth = AuthManager.from_settings(Section())
    assert auth.access_ttl == 600.0
    assert Section.hmac_secret.get_secret_value() not in repr(auth)

    class NoSecret:
        hmac_secret = None

    with pytest.raises(AuthConfigError, match="HMAC_SECRET"):
        AuthManager.from_settings(NoSecret())


def test_jwt_auth_original_methods() -> None:
    """JWTAuth creates access/refresh tokens and verifies them by kind, like the original."""
    jwt_auth = JWTAuth(secrets.token_urlsafe(48), algorithm="HS256", access_token_expire_minutes=5)
    access = jwt_auth.create_access_token({"sub": "u1", "roles": ["admin"], "tenant": "acme"})
    refresh = jwt_auth.create_refresh_token({"sub": "u1"})
    claims = jwt_auth.verify_token(access)
    assert claims["sub"] == "u1"
    assert claims["roles"] == ["admin"]
    assert claims["tenant"] == "acme"
    assert claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 300
    assert jwt_auth.verify_token(refresh, token_type="refresh")["type"] == "refresh"
    assert jwt_auth.decode_token(refresh)["sub"] == "u1"
    with pytest.raises(InvalidClaimError, match="typ"):
        jwt_auth.verify_token(refresh)
    with pytest.raises(InvalidClaimError, match="typ"):
        jwt_auth.verify_token(access, token_type="refresh")
    short = jwt_auth.create_access_token({"sub": "u1"}, expires_delta=timedelta(minutes=1))
    assert jwt_auth.decode_token(short)["exp"] - jwt_auth.decode_token(short)["iat"] == 60


def test_jwt_auth_secure_defaults() -> None:
    """JWTAuth refuses short secrets and missing sub; its tokens carry iss/aud 'maestro'."""
    with pytest.raises(WeakKeyError):
        JWTAuth("secret")
    jwt_auth = JWTAuth(secrets.token_bytes(32))
    with pytest.raises(AuthConfigError, match="sub"):
        jwt_auth.create_access_token({"user": "x"})
    with pytest.raises(AuthConfigError):
        jwt_auth.create_access_token({"sub": "x", "exp": 1})
    claims = jwt_auth.decode_token(jwt_auth.create_access_token({"sub": "x"}))
    assert claims["iss"] == "maestro"
    assert claims["aud"] == "maestro"
    other = JWTAuth(secrets.token_bytes(32))
    with pytest.raises(InvalidTokenError):
        other.decode_token(jwt_auth.create_access_token({"sub": "x"}))


def test_token_verifier_from_settings_with_secret() -> None:
    """from_settings builds an HS256 verifier from hmac_secret; no keys at all is an error."""
    secret = secrets.token_urlsafe(40)

    class Section:
        hmac_secret = SecretStr(secret)
        issuer = "https://auth.example"
        audiences = ("orders",)
        algorithms = ()
        jwks_url = None
        oidc_issuer = None
        leeway = 5.0

    verifier = TokenVerifier.from_settings(Section())
    assert verifier._leeway == 5.0
    assert secret not in repr(verifier)

    class Empty(Section):
        hmac_secret = None  # type: ignore[assignment]

    with pytest.raises(AuthConfigError, match="MAESTRO_AUTH__"):
        TokenVerifier.from_settings(Empty())


async def test_revoke_user_kills_access_and_refresh_tokens(
    world: tuple[AuthManager, dict[str, User], list[str]],
) -> None:
    """revoke_user makes earlier access tokens and every refresh token of the user unusable."""
    from maestro_testkit import FakeClock

    clock = FakeClock()
    auth, _, _ = world
    auth = AuthManager(
        secrets.token_urlsafe(48),
        user_loader=auth.user_loader,
        password_manager=auth.passwords,
        clock=clock.now,
    )
    user = await auth.authenticate_user("ann", "pw")
    assert user is not None
    pair = await auth.create_tokens(user)
    clock.advance(1)
    await auth.revoke_user(user.subject)
    clock.advance(1)
    with pytest.raises(TokenRevokedError):
        auth.verify_token(pair.access_token)
    with pytest.raises(TokenRevokedError):
        await auth.refresh_tokens(pair.refresh_token)
    fresh = await auth.create_tokens(user)
    assert auth.verify_token(fresh.access_token).subject == user.subject
    assert (await auth.refresh_tokens(fresh.refresh_token)).access_token


async def test_logout_with_an_expired_access_token(
    world: tuple[AuthManager, dict[str, User], list[str]],
) -> None:
    """Logging out with an access token that already expired succeeds (nothing to revoke)."""
    from maestro_testkit import FakeClock

    clock = FakeClock()
    base, _, _ = world
    auth = AuthManager(
        secrets.token_urlsafe(48),
        user_loader=base.user_loader,
        password_manager=base.passwords,
        clock=clock.now,
        token_expire_minutes=1,
    )
    user = await auth.authenticate_user("ann", "pw")
    assert user is not None
    pair = await auth.create_tokens(user)
    clock.advance(3600)
    await auth.logout(access_token=pair.access_token, refresh_token=pair.refresh_token)
    with pytest.raises(InvalidTokenError):
        await auth.refresh_tokens(pair.refresh_token)


def test_from_settings_with_the_real_auth_section(monkeypatch: pytest.MonkeyPatch) -> None:
    """maestro-core-config's AuthSettings, read from MAESTRO_AUTH__*, builds every component."""
    from maestro_core_config import AuthSettings, MaestroSettings, MaestroSettingsConfigDict

    class Settings(MaestroSettings):
        model_config = MaestroSettingsConfigDict(secrets_dir=None)

        auth: AuthSettings = AuthSettings()

    secret = secrets.token_urlsafe(40)
    monkeypatch.setenv("MAESTRO_AUTH__ISSUER", "https://auth.example")
    monkeypatch.setenv("MAESTRO_AUTH__AUDIENCES", '["orders"]')
    monkeypatch.setenv("MAESTRO_AUTH__HMAC_SECRET", secret)
    monkeypatch.setenv("MAESTRO_AUTH__LEEWAY", "5")
    monkeypatch.setenv("MAESTRO_AUTH__ACCESS_TTL", "120")
    monkeypatch.setenv("MAESTRO_AUTH__API_KEY_PREFIX", "ord")
    monkeypatch.setenv("MAESTRO_AUTH__PASSWORD_PROFILE", "rfc9106")
    settings = Settings()
    verifier = TokenVerifier.from_settings(settings.auth)
    assert verifier._leeway == 5.0
    assert secret not in repr(verifier)
    auth = AuthManager.from_settings(settings.auth)
    assert auth.access_ttl == 120.0
    assert auth.passwords.profile == "rfc9106"
    token = auth.issuer.issue(subject="u1")
    claims = verifier.verify(token)
    assert (claims.subject, claims["iss"], claims["aud"]) == (
        "u1",
        "https://auth.example",
        "orders",
    )
    assert claims["exp"] - claims["iat"] == 120
    monkeypatch.setenv("MAESTRO_AUTH__ISSUER", "https://other.example")
    with pytest.raises(InvalidClaimError):
        TokenVerifier.from_settings(Settings().auth).verify(token)
    assert APIKeyAuth.from_settings(settings.auth).create().key.startswith("ord_")
    assert PasswordManager.from_settings(settings.auth).profile == "rfc9106"
