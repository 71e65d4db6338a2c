"""FastAPI integration (extra ``fastapi``): `Authenticator` and the dependencies.

The dependency objects are importable without FastAPI; FastAPI and Starlette are imported
only when a route inspects them or ``Authenticator.install`` runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._apikeys import APIKeyAuth
from ._errors import (
    AuthConfigError,
    AuthStoreError,
    InsufficientScopeError,
    InvalidCredentialsError,
    InvalidTokenError,
    JWKSFetchError,
    MissingCredentialsError,
)
from ._rbac import Principal, RBACManager, permission_matches
from ._util import optional_import

if TYPE_CHECKING:
    from ._tokens import TokenVerifier

__all__ = [
    "Authenticator",
    "get_current_active_user",
    "get_current_user",
    "require_auth",
    "require_permission",
    "require_role",
    "require_scopes",
]

_STATE_ATTR = "maestro_authenticator"
_REQUEST_ATTR = "maestro_principal"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class Authenticator:
    """Authenticates a request: a bearer JWT first, then the ``X-API-Key`` header.

    ``install(app)`` stores it on ``app.state`` and adds the RFC 6750 error handlers: 401 with
    ``WWW-Authenticate: Bearer realm=...`` (plus ``error="invalid_token"`` for a bad token),
    403 with ``error="insufficient_scope"``, and 503 when the key set or the auth store is
    unavailable; bodies are ``application/problem+json``.
    """

    def __init__(
        self,
        *,
        verifier: TokenVerifier | None = None,
        api_keys: APIKeyAuth | None = None,
        realm: str = "api",
        api_key_header: str = "X-API-Key",
        rbac: RBACManager | None = None,
    ) -> None:
        if verifier is None and api_keys is None:
            raise AuthConfigError("an Authenticator needs a verifier=, api_keys=, or both")
        if not isinstance(realm, str) or not realm or '"' in realm:
            raise AuthConfigError("realm must be a non-empty string without quotes")
        self.verifier = verifier
        self.api_keys = api_keys
        self.realm = realm
        self.api_key_header = api_key_header
        self.rbac = rbac

    def __repr__(self) -> str:
        return f"Authenticator(realm={self.realm!r})"

    def install(self, app: Any) -> None:
        """Attach to a FastAPI/Starlette app: ``app.state`` and the problem+json handlers."""
        optional_import("starlette.responses", "Authenticator.install", "fastapi")
        setattr(app.state, _STATE_ATTR, self)
        for error in (
            AuthStoreError,
            JWKSFetchError,
            MissingCredentialsError,
            InvalidTokenError,
            InvalidCredentialsError,
            InsufficientScopeError,
        ):
            app.add_exception_handler(error, self._handle)

    async def _handle(self, request: Any, exc: Exception) -> Any:
        return self.error_response(exc)

    def error_response(self, exc: BaseException) -> Any:
        """The RFC 6750 / RFC 9457 response for an auth error."""
        from starlette.responses import JSONResponse

        realm = f'Bearer realm="{_quote(self.realm)}"'
        if isinstance(exc, AuthStoreError | JWKSFetchError):
            body = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "authentication is temporarily unavailable",
            }
            return JSONResponse(
                body,
                status_code=503,
                headers={"Retry-After": "5", "Cache-Control": "no-store"},
                media_type="application/problem+json",
            )
        if isinstance(exc, InsufficientScopeError):
            status, title = 403, "Forbidden"
            header = f'{realm}, error="insufficient_scope"'
            if exc.required:
                header += f', scope="{_quote(" ".join(exc.required))}"'
        elif isinstance(exc, MissingCredentialsError):
            status, title, header = 401, "Unauthorized", realm
        else:
            status, title = 401, "Unauthorized"
            header = f'{realm}, error="invalid_token", error_description="{_quote(str(exc))}"'
        body = {"type": "about:blank", "title": title, "status": status, "detail": str(exc)}
        return JSONResponse(
            body,
            status_code=status,
            headers={"WWW-Authenticate": header, "Cache-Control": "no-store"},
            media_type="application/problem+json",
        )

    async def authenticate(self, request: Any) -> Principal:
        """The request's principal; raises MissingCredentialsError / InvalidTokenError."""
        cached = getattr(request.state, _REQUEST_ATTR, None)
        if isinstance(cached, Principal):
            return cached
        principal = await self._authenticate(request.headers)
        setattr(request.state, _REQUEST_ATTR, principal)
        return principal

    async def _authenticate(self, headers: Any) -> Principal:
        authorization = headers.get("authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and self.verifier is not None:
                token = token.strip()
                if not token:
                    raise InvalidTokenError("the bearer token is empty")
                claims = await self.verifier.averify(token)
                return Principal(
                    subject=claims.subject or "",
                    scopes=claims.scopes,
                    roles=claims.roles,
                    auth_method="jwt",
                    claims=claims,
                )
        if self.api_keys is not None:
            key = headers.get(self.api_key_header)
            if key:
                info = await self.api_keys.averify(key)
                if info is None:
                    raise InvalidCredentialsError("the API key is not valid")
                return Principal(
                    subject=f"api-key:{info.key_id}",
                    scopes=info.scopes,
                    auth_method="api_key",
                    key_id=info.key_id,
                )
        raise MissingCredentialsError("authentication required: send a bearer token")


class _Dependency:
    """A FastAPI dependency taking the request; its signature is built when FastAPI asks."""

    def __init__(self, name: str, check: Callable[[Principal, Authenticator], None] | None):
        self.__name__ = name
        self._check = check

    def __repr__(self) -> str:
        return f"<maestro_core_auth dependency {self.__name__}>"

    @property
    def __signature__(self) -> inspect.Signature:
        starlette = optional_import("starlette.requests", "FastAPI dependencies", "fastapi")
        param = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=starlette.Request
        )
        return inspect.Signature([param], return_annotation=Principal)

    async def __call__(self, request: Any) -> Principal:
        authenticator = getattr(request.app.state, _STATE_ATTR, None)
        if not isinstance(authenticator, Authenticator):
            raise AuthConfigError(
                "no Authenticator is installed: call Authenticator(...).install(app)"
            )
        principal = await authenticator.authenticate(request)
        if self._check is not None:
            self._check(principal, authenticator)
        return principal


def _active(principal: Principal, _: Authenticator) -> None:
    if not principal.is_active:
        raise InsufficientScopeError("the user is inactive")


get_current_user = _Dependency("get_current_user", None)
get_current_active_user = _Dependency("get_current_active_user", _active)
require_auth = _Dependency("require_auth", None)


def _names(values: tuple[str | Iterable[str], ...], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend([value] if isinstance(value, str) else value)
    if not out or not all(isinstance(v, str) and v for v in out):
        raise AuthConfigError(f"{what} needs at least one non-empty name")
    return tuple(out)


def require_scopes(*scopes: str | Iterable[str]) -> _Dependency:
    """A dependency that needs every one of ``scopes`` (``orders:*`` held grants ``orders:x``)."""
    needed = _names(scopes, "require_scopes")

    def check(principal: Principal, _: Authenticator) -> None:
        missing = tuple(s for s in needed if not principal.has_scope(s))
        if missing:
            raise InsufficientScopeError("the token lacks a required scope", missing)

    return _Dependency("require_scopes", check)


def require_role(*roles: str | Iterable[str]) -> _Dependency:
    """A dependency that needs one of ``roles`` (a sync factory; use with Depends)."""
    allowed = _names(roles, "require_role")

    def check(principal: Principal, _: Authenticator) -> None:
        if not set(principal.roles) & set(allowed):
            raise InsufficientScopeError(f"one of the roles {list(allowed)} is required")

    return _Dependency("require_role", check)


def require_permission(permission: str) -> _Dependency:
    """A dependency that needs ``permission`` through the installed RBACManager (or a scope)."""
    wanted = _names((permission,), "require_permission")[0]

    def check(principal: Principal, authenticator: Authenticator) -> None:
        if authenticator.rbac is not None and authenticator.rbac.is_allowed(principal, wanted):
            return
        if any(permission_matches(s, wanted) for s in principal.scopes):
            return
        raise InsufficientScopeError(f"permission {wanted!r} is required", (wanted,))

    return _Dependency("require_permission", check)
