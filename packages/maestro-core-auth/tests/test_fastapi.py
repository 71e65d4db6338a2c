"""FastAPI integration: RFC 6750 401/403 with WWW-Authenticate, problem+json, scopes and roles."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from auth_forge import ISSUER
from fastapi import Depends, FastAPI, Security
from maestro_core_auth import (
    APIKeyAuth,
    AuthConfigError,
    Authenticator,
    Key,
    Principal,
    RBACManager,
    TokenIssuer,
    TokenVerifier,
    get_current_active_user,
    get_current_user,
    require_auth,
    require_permission,
    require_role,
    require_scopes,
)


@pytest.fixture
def parts(ed_key: Key) -> tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient]:
    """An app with /me, scope-, role- and permission-protected routes, behind an Authenticator."""
    issuer = TokenIssuer(key=ed_key, issuer=ISSUER, audience="orders")
    verifier = TokenVerifier(keys=ed_key.public(), issuer=ISSUER, audience="orders")
    api_keys = APIKeyAuth()
    rbac = RBACManager(roles={"admin": {"*"}, "clerk": {"orders:read"}})
    app = FastAPI()
    Authenticator(verifier=verifier, api_keys=api_keys, realm="orders", rbac=rbac).install(app)

    @app.get("/me")
    async def me(user: Annotated[Principal, Depends(get_current_user)]) -> dict[str, Any]:
        return {"sub": user.subject, "method": user.auth_method, "scopes": list(user.scopes)}

    @app.get("/active")
    async def active(user: Annotated[Principal, Depends(get_current_active_user)]) -> str:
        return user.subject

    @app.post("/orders", dependencies=[Security(require_scopes("orders:write"))])
    async def create() -> dict[str, bool]:
        return {"ok": True}

    @app.delete("/orders/{oid}", dependencies=[Depends(require_role("admin"))])
    async def delete(oid: str) -> dict[str, str]:
        return {"deleted": oid}

    @app.get("/orders", dependencies=[Depends(require_permission("orders:read"))])
    async def listing() -> list[str]:
        return []

    @app.get("/any", dependencies=[Depends(require_auth)])
    async def anything() -> str:
        return "ok"

    return (
        issuer,
        api_keys,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test"),
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credentials_is_401_with_the_realm(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """No token: 401, WWW-Authenticate Bearer realm without an error code, problem+json body."""
    _, _, client = parts
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="orders"'
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"


async def test_bad_token_is_401_invalid_token(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """A bad token: 401 with error="invalid_token"; the token is not echoed."""
    _, _, client = parts
    token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    response = await client.get("/me", headers=_bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "eyJzdWIiOiJ4In0" not in response.text
    assert "eyJzdWIiOiJ4In0" not in response.headers["www-authenticate"]


async def test_good_token_reaches_the_route(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """A valid bearer token yields the Principal."""
    issuer, _, client = parts
    response = await client.get("/me", headers=_bearer(issuer.issue(subject="ann", scopes=["a:b"])))
    assert response.status_code == 200
    assert response.json() == {"sub": "ann", "method": "jwt", "scopes": ["a:b"]}
    assert (await client.get("/any", headers=_bearer(issuer.issue(subject="ann")))).text == '"ok"'
    assert (
        await client.get("/active", headers=_bearer(issuer.issue(subject="ann")))
    ).status_code == 200


async def test_missing_scope_is_403_insufficient_scope(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """Lacking a scope: 403 with error="insufficient_scope" and the needed scope named."""
    issuer, _, client = parts
    response = await client.post(
        "/orders", headers=_bearer(issuer.issue(subject="u", scopes=["orders:read"]))
    )
    assert response.status_code == 403
    header = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in header
    assert 'scope="orders:write"' in header
    assert response.headers["content-type"].startswith("application/problem+json")
    ok = await client.post(
        "/orders", headers=_bearer(issuer.issue(subject="u", scopes=["orders:*"]))
    )
    assert ok.status_code == 200


async def test_roles_and_permissions(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """require_role needs one of the roles; require_permission goes through the RBACManager."""
    issuer, _, client = parts
    clerk = _bearer(issuer.issue(subject="c", roles=["clerk"]))
    admin = _bearer(issuer.issue(subject="a", roles=["admin"]))
    assert (await client.delete("/orders/7", headers=clerk)).status_code == 403
    assert (await client.delete("/orders/7", headers=admin)).json() == {"deleted": "7"}
    assert (await client.get("/orders", headers=clerk)).status_code == 200
    assert (
        await client.get("/orders", headers=_bearer(issuer.issue(subject="x")))
    ).status_code == 403


async def test_api_key_header(parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient]) -> None:
    """X-API-Key authenticates with the key's scopes; a wrong key is 401."""
    _, api_keys, client = parts
    new = api_keys.create(scopes=["orders:write"])
    response = await client.get("/me", headers={"X-API-Key": new.key})
    assert response.json()["method"] == "api_key"
    assert (await client.post("/orders", headers={"X-API-Key": new.key})).status_code == 200
    bad = await client.get("/me", headers={"X-API-Key": new.key[:-1] + "0"})
    assert bad.status_code == 401
    assert new.key[:20] not in bad.text


async def test_api_key_scopes_expiry_and_revocation_reach_the_route(
    parts: tuple[TokenIssuer, APIKeyAuth, httpx.AsyncClient],
) -> None:
    """An API key without the route's scope is 403; a revoked or expired one is 401."""
    from datetime import UTC, datetime, timedelta

    _, api_keys, client = parts
    reader = api_keys.create(scopes=["orders:read"])
    refused = await client.post("/orders", headers={"X-API-Key": reader.key})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert reader.key[:20] not in refused.text
    api_keys.revoke(reader.key_id)
    assert (await client.get("/me", headers={"X-API-Key": reader.key})).status_code == 401
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = api_keys.create(scopes=["orders:write"], expires_at=past)
    response = await client.post("/orders", headers={"X-API-Key": expired.key})
    assert response.status_code == 401


async def test_without_install_the_dependency_explains() -> None:
    """Using a dependency on an app without an installed Authenticator is a clear error."""
    app = FastAPI()

    @app.get("/me")
    async def me(user: Annotated[Principal, Depends(get_current_user)]) -> str:
        return user.subject

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    with pytest.raises(AuthConfigError, match="install"):
        await client.get("/me")


async def test_authenticator_needs_a_source() -> None:
    """An Authenticator without verifier and API keys is a configuration error."""
    with pytest.raises(AuthConfigError):
        Authenticator()
    with pytest.raises(AuthConfigError):
        require_scopes()


async def test_store_outage_is_503(ed_key: Key) -> None:
    """An unavailable auth store answers 503 problem+json with Retry-After, not 401."""
    from maestro_core_auth import AuthStoreError, RevocationList

    class Broken:
        async def get(self, key: str) -> str | None:
            raise AuthStoreError("the auth store failed on get (ConnectionError)")

        async def set(self, key: str, value: str, ttl: float | None = None) -> None:
            raise AuthStoreError("the auth store failed on set (ConnectionError)")

        async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
            raise AuthStoreError("the auth store failed on add (ConnectionError)")

        async def delete(self, key: str) -> bool:
            raise AuthStoreError("the auth store failed on delete (ConnectionError)")

    verifier = TokenVerifier(
        keys=ed_key.public(), issuer=ISSUER, audience="orders", revocation=RevocationList(Broken())
    )
    app = FastAPI()
    Authenticator(verifier=verifier, realm="orders").install(app)

    @app.get("/me")
    async def me(user: Annotated[Principal, Depends(get_current_user)]) -> str:
        return user.subject

    token = TokenIssuer(key=ed_key, issuer=ISSUER, audience="orders").issue(subject="u")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    response = await client.get("/me", headers=_bearer(token))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("application/problem+json")
