"""Typed usage of maestro-core-auth; mypy --strict checks this file (it is never executed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, assert_type

from maestro_core_auth import (
    TOTP,
    APIKeyAuth,
    APIKeyInfo,
    Authenticator,
    AuthManager,
    Claims,
    JWKSClient,
    JWTAuth,
    Key,
    KeySet,
    NewAPIKey,
    OIDCProvider,
    PasswordManager,
    Principal,
    RBACManager,
    RefreshTokenService,
    RevocationList,
    TokenIssuer,
    TokenPair,
    TokenVerifier,
    generate_api_key,
)


def keys_and_tokens(secret: bytes) -> None:
    hs = Key.hmac(secret, alg="HS256", kid="k1")
    ed = Key.generate("Ed25519", kid="ed1")
    assert_type(ed.public().to_jwk(), dict[str, Any])
    assert_type(ed.thumbprint(), str)
    keys = KeySet([ed.public()])
    assert_type(keys.to_jwks(), dict[str, list[dict[str, Any]]])
    issuer = TokenIssuer(key=ed, issuer="https://a", audience="orders", ttl=timedelta(minutes=5))
    token = issuer.issue(subject="u", scopes=["orders:read"], roles=["clerk"], claims={"t": 1})
    assert_type(token, str)
    verifier = TokenVerifier(keys=keys, issuer="https://a", audience=["orders"], leeway=30)
    claims = verifier.verify(token)
    assert_type(claims, Claims)
    assert_type(claims.subject, str | None)
    assert_type(claims.scopes, tuple[str, ...])
    assert_type(claims.expires_at, datetime)
    assert_type(hs.verify_jws(hs.sign_jws(b"x")), bytes)


async def async_parts(verifier: TokenVerifier, token: str) -> None:
    assert_type(await verifier.averify(token), Claims)
    provider = await OIDCProvider.discover("https://login.example.com/realms/maestro")
    assert_type(provider.verifier(audience="orders"), TokenVerifier)
    jwks = JWKSClient("https://idp.example/jwks.json", min_ttl=60, max_ttl=86_400)
    assert_type(await jwks.akeys(), KeySet)
    revocation = RevocationList()
    await revocation.revoke(await verifier.averify(token))
    await revocation.revoke_subject("user-17")
    refresh = RefreshTokenService(ttl=timedelta(days=14))
    rt = await refresh.issue(subject="user-17")
    subject, new_rt = await refresh.rotate(rt)
    assert_type(subject, str)
    assert_type(new_rt, str)


async def passwords_and_keys(totp_secret: str) -> None:
    pw = PasswordManager(profile="owasp")
    hashed = pw.hash("correct horse")
    ok, new_hash = pw.verify_and_update(hashed, "correct horse")
    assert_type(ok, bool)
    assert_type(new_hash, str | None)
    assert_type(await pw.averify(hashed, "correct horse"), bool)
    new = generate_api_key(prefix="mst")
    assert_type(new, NewAPIKey)
    api_keys = APIKeyAuth(valid_keys=[new.key])
    assert_type(api_keys.verify(new.key), APIKeyInfo | None)
    assert_type(TOTP(totp_secret).verify("123456", at=59), bool)


async def facades(secret: str) -> None:
    auth = AuthManager(jwt_secret=secret, token_expire_minutes=30, refresh_token_expire_days=7)
    user = await auth.authenticate_user("ann", "pw")
    assert_type(user, Principal | None)
    if user is not None:
        pair = await auth.create_tokens(user)
        assert_type(pair, TokenPair)
        assert_type(pair.response().access_token, str)
    jwt_auth = JWTAuth(secret, algorithm="HS256")
    assert_type(jwt_auth.create_access_token({"sub": "u"}), str)
    assert_type(jwt_auth.verify_token("t", token_type="access"), dict[str, Any])
    rbac = RBACManager(roles={"admin": {"*"}}, inherits={})
    assert_type(rbac.is_allowed(Principal(subject="u", roles=("admin",)), "orders:write"), bool)
    Authenticator(verifier=None, api_keys=APIKeyAuth(), realm="orders")
