"""No token, key, secret or password appears in any log line, error or repr along the main flows."""

from __future__ import annotations

import logging
import secrets

import pytest
from auth_forge import ISSUER
from auth_idp import IdP
from maestro_core_auth import (
    AuthManager,
    InvalidTokenError,
    JWKSClient,
    Key,
    MaestroAuthError,
    PasswordManager,
    RefreshTokenService,
    RevocationList,
    TokenIssuer,
    TokenVerifier,
)
from maestro_testkit import FakeClock


async def test_flows_never_log_or_raise_secrets(
    caplog: pytest.LogCaptureFixture,
    fast_passwords: PasswordManager,
    idp: IdP,
    fake_clock: FakeClock,
) -> None:
    """Login, refresh reuse, revocation, bad tokens and a JWKS outage leak nothing sensitive."""
    jwt_secret = secrets.token_urlsafe(48)
    password = "pw-" + secrets.token_hex(8)
    hashed = fast_passwords.hash(password)

    async def load(username: str) -> dict[str, str] | None:
        return {"id": "u1", "password_hash": hashed} if username == "ann" else None

    sensitive: list[str] = [jwt_secret, password, hashed]
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        auth = AuthManager(jwt_secret=jwt_secret, user_loader=load, password_manager=fast_passwords)
        assert await auth.authenticate_user("ann", password + "x") is None
        assert await auth.authenticate_user("nobody", password) is None
        user = await auth.authenticate_user("ann", password)
        assert user is not None
        pair = await auth.create_tokens(user)
        sensitive += [pair.access_token, pair.refresh_token]
        newer = await auth.refresh_tokens(pair.refresh_token)
        sensitive += [newer.access_token, newer.refresh_token]
        try:
            await auth.refresh_tokens(pair.refresh_token)
        except MaestroAuthError as exc:
            errors.append(exc)
        await auth.logout(access_token=newer.access_token)
        try:
            auth.verify_token(newer.access_token)
        except MaestroAuthError as exc:
            errors.append(exc)
        try:
            auth.verify_token(newer.access_token[:-3] + "abc")
        except MaestroAuthError as exc:
            errors.append(exc)

        key = Key.generate("ES256", kid="es1")
        sensitive.append(str(key.to_jwk(private=True)["d"]))
        idp.publish(key)
        jwks = JWKSClient(idp.jwks_url, monotonic=fake_clock.monotonic, default_ttl=60)
        verifier = TokenVerifier(
            jwks=jwks,
            issuer=ISSUER,
            audience="orders",
            revocation=RevocationList(),
            clock=fake_clock.now,
        )
        token = TokenIssuer(key=key, issuer=ISSUER, audience="orders", clock=fake_clock.now).issue(
            subject="u"
        )
        sensitive.append(token)
        await verifier.averify(token)
        idp.status = 500
        fake_clock.advance(120)
        await verifier.averify(
            TokenIssuer(key=key, issuer=ISSUER, audience="orders", clock=fake_clock.now).issue(
                subject="u"
            )
        )
        try:
            await verifier.averify("x" + token)
        except InvalidTokenError as exc:
            errors.append(exc)
        refresh = RefreshTokenService()
        rt = await refresh.issue(subject="u")
        sensitive.append(rt)
        await refresh.rotate(rt)
        try:
            await refresh.rotate(rt)
        except MaestroAuthError as exc:
            errors.append(exc)

    assert len(errors) == 5
    assert "JWKS fetch failed" in caplog.text
    assert "refresh token reuse" in caplog.text
    texts = [caplog.text, *(f"{e} {e!r} {e.args}" for e in errors)]
    texts += [repr(r.__dict__) for r in caplog.records]
    texts += [repr(auth), repr(verifier), repr(jwks), repr(key), repr(refresh), repr(pair)]
    for secret in sensitive:
        for text in texts:
            assert secret not in text
