"""``/auth``: the password grant, refresh-token rotation and logout, each one audited.

maestro-core-auth's ``AuthManager`` does the work (Argon2id, rotation with reuse detection,
revocation); its stores are the service's cache, so at scale every replica shares them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from maestro_core_api import AuthenticationException, get_current_user
from maestro_core_auth import (
    InsufficientScopeError,
    InvalidTokenError,
    MissingCredentialsError,
    Principal,
    RefreshTokenReuseError,
    TokenResponse,
)

from .models import Credentials, RefreshRequest
from .services import Svc, services
from .settings import UsersSettings

router = APIRouter(prefix="/auth", tags=["auth"])
CLERK = {"scopes": ["orders:read", "orders:write"], "roles": ["clerk"]}
ADMIN = {"scopes": ["orders:read", "orders:write"], "roles": ["admin"]}


def demo_users(
    section: UsersSettings, hash_password: Callable[[str], str]
) -> Callable[[str], Awaitable[dict[str, Any] | None]]:
    """AuthManager's ``user_loader`` for ``ann`` (clerk) and ``ada`` (admin): each user
    exists when the deployment provides its password."""
    users: dict[str, Any] = {}
    for name, secret, grants in (
        ("ann", section.clerk_password, CLERK),
        ("ada", section.admin_password, ADMIN),
    ):
        if secret is not None:
            users[name] = {"id": name, "password_hash": hash_password(secret.get_secret_value())}
            users[name].update(grants)

    async def load(username: str) -> dict[str, Any] | None:
        return users.get(username)

    return load


@router.post("/token")
async def token(body: Credentials, svc: Svc) -> TokenResponse:
    """The password grant: a short-lived access token and a rotating refresh token."""
    user = await svc.auth.authenticate_user(body.username, body.password)
    if user is None:
        await svc.record("auth.login", outcome="failure", user_id=body.username)
        raise AuthenticationException("invalid username or password")
    pair = await svc.auth.create_tokens(user)
    await svc.record("auth.login", outcome="success", user_id=user.subject)
    return pair.response()


@router.post("/refresh")
async def refresh(body: RefreshRequest, svc: Svc) -> TokenResponse:
    """Rotate a refresh token; presenting a used one revokes its whole family."""
    try:
        pair = await svc.auth.refresh_tokens(body.refresh_token)
    except RefreshTokenReuseError:
        await svc.record("auth.refresh.reuse", outcome="failure", user_id=None)
        raise
    return pair.response()


@router.post("/logout", status_code=204)
async def logout(
    body: RefreshRequest,
    request: Request,
    user: Annotated[Principal, Depends(get_current_user)],
    svc: Svc,
) -> Response:
    """Revoke this access token and the refresh token's family."""
    access = request.headers["authorization"].partition(" ")[2].strip()
    await svc.auth.logout(access_token=access, refresh_token=body.refresh_token)
    await svc.record("auth.logout", outcome="success", user_id=user.subject)
    return Response(status_code=204)


def audit_refusals(app: FastAPI) -> None:
    """Audit every 401/403 the authenticator answers, then answer as it would.

    maestro-core-auth has no hook for refused requests, so its installed handlers are
    wrapped: ``auth.denied`` for a missing or bad token, ``authz.denied`` for a scope or role.
    """
    for error in (MissingCredentialsError, InvalidTokenError, InsufficientScopeError):
        original = app.exception_handlers[error]
        app.add_exception_handler(error, _audited(original))


def _audited(original: Callable[[Request, Any], Response | Awaitable[Response]]) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        svc = services(request)
        denied = isinstance(exc, InsufficientScopeError)
        # The principal was authenticated (and cached on the request) before a scope failed.
        principal = await svc.authenticator.authenticate(request) if denied else None
        await svc.record(
            "authz.denied" if denied else "auth.denied",
            outcome="failure",
            user_id=principal.subject if principal is not None else None,
            details={"path": request.url.path, "reason": type(exc).__name__},
        )
        answer = original(request, exc)
        return answer if isinstance(answer, Response) else await answer

    return handler
