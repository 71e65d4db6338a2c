"""Authentication and authorization: every refusal answered per RFC 6750 and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maestro_core_auth import Key, TokenIssuer

from .conftest import ADMIN, CLERK, Orders


def _issuer(orders: Orders, **options: object) -> TokenIssuer:
    """An issuer with the service's own key, as a second issuer replica would have."""
    section = orders.svc.settings.auth
    assert section.hmac_secret is not None
    return TokenIssuer(
        key=Key.hmac(section.hmac_secret.get_secret_value().encode()),
        issuer=section.issuer or "maestro",
        audience=section.audiences[0],
        **options,  # type: ignore[arg-type]
    )


async def test_refusals_are_rfc6750_problems_and_each_one_is_audited(orders: Orders) -> None:
    """No token 401, expired 401 invalid_token, missing scope 403, wrong role 403: all audited."""
    anonymous = await orders.client.get("/orders")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="orders"'
    assert anonymous.headers["content-type"] == "application/problem+json"

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = _issuer(orders, clock=lambda: an_hour_ago).issue(
        subject=CLERK, scopes=["orders:read"]
    )
    late = await orders.client.get("/orders", headers={"Authorization": f"Bearer {expired}"})
    assert late.status_code == 401
    assert 'error="invalid_token"' in late.headers["www-authenticate"]

    reader = _issuer(orders).issue(subject="reader", scopes=["orders:read"])
    refused = await orders.client.post(
        "/orders", json={"sku": "A-1", "quantity": 1}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]

    clerk = await orders.bearer(CLERK)
    created = await orders.client.post("/orders", json={"sku": "A-1", "quantity": 1}, headers=clerk)
    denied = await orders.client.delete(created.headers["location"], headers=clerk)
    assert denied.status_code == 403

    bad = await orders.client.post("/auth/token", json={"username": CLERK, "password": "nope"})
    assert bad.status_code == 401

    audit = orders.svc.audit
    kinds = [(e.event_type, e.outcome, e.user_id) for e in audit.query()]
    assert ("auth.denied", "failure", None) in kinds  # no token, and the expired one
    assert [k for k in kinds if k[0] == "auth.denied"] == [("auth.denied", "failure", None)] * 2
    assert ("authz.denied", "failure", "reader") in kinds
    assert ("authz.denied", "failure", CLERK) in kinds
    assert ("auth.login", "failure", CLERK) in kinds
    assert ("auth.login", "success", CLERK) in kinds
    assert audit.verify(), audit.verify().summary()


async def test_refresh_rotates_and_a_replayed_token_revokes_its_family(orders: Orders) -> None:
    """Rotation works once; replaying the old token is a 401, audited, and kills the new one."""
    first = await orders.login()
    rotated = await orders.client.post(
        "/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    replay = await orders.client.post(
        "/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    assert 'error="invalid_token"' in replay.headers["www-authenticate"]
    after = await orders.client.post(
        "/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401  # the whole family was revoked

    events = [e.event_type for e in orders.svc.audit.query(event_type="auth.refresh.*")]
    assert events == ["auth.refresh.reuse"]
    assert orders.svc.audit.verify()


async def test_logout_revokes_the_access_token_and_the_refresh_family(orders: Orders) -> None:
    """After logout neither the access token nor the refresh token works; logout is audited."""
    tokens = await orders.login(ADMIN)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await orders.client.get("/orders", headers=auth)).status_code == 200
    out = await orders.client.post(
        "/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=auth
    )
    assert out.status_code == 204
    assert (await orders.client.get("/orders", headers=auth)).status_code == 401
    again = await orders.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401
    logouts = [(e.event_type, e.user_id) for e in orders.svc.audit.query(event_type="auth.logout")]
    assert logouts == [("auth.logout", ADMIN)]
