"""RBACManager with inheritance and wildcards; TOTP per RFC 6238."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from maestro_core_auth import (
    TOTP,
    AuthConfigError,
    InsufficientScopeError,
    Permission,
    Principal,
    RBACManager,
    Role,
)


def test_roles_inherit_and_wildcards_match() -> None:
    """admin inherits clerk; '*' grants all; 'orders:*' grants any orders action."""
    rbac = RBACManager(
        roles={"admin": {"*"}, "clerk": {"orders:read", "orders:write"}, "viewer": {"orders:*"}},
        inherits={"admin": ["clerk"]},
    )
    clerk = Principal(subject="c", roles=("clerk",))
    viewer = Principal(subject="v", roles=("viewer",))
    admin = Principal(subject="a", roles=("admin",))
    assert rbac.is_allowed(clerk, "orders:write")
    assert not rbac.is_allowed(clerk, "orders:delete")
    assert rbac.is_allowed(viewer, "orders:delete")
    assert not rbac.is_allowed(viewer, "ordersx:read")
    assert rbac.is_allowed(admin, "billing:refund")
    assert rbac.permissions_for(admin) == frozenset({"*", "orders:read", "orders:write"})
    with pytest.raises(InsufficientScopeError):
        rbac.check(clerk, Permission("orders", "delete"))


def test_role_objects_and_bad_definitions() -> None:
    """Roles may be Role objects; inheriting an unknown role is an error; cycles terminate."""
    rbac = RBACManager(
        [Role("a", frozenset({"x:1"}), ("b",)), Role("b", frozenset({"y:1"}), ("a",))]
    )
    assert rbac.permissions_for(["a"]) == frozenset({"x:1", "y:1"})
    with pytest.raises(AuthConfigError):
        RBACManager(roles={"a": {"x:1"}}, inherits={"a": ["ghost"]})
    with pytest.raises(AuthConfigError):
        Permission.parse("no-colon")
    assert str(Permission.parse("orders:read")) == "orders:read"
    assert str(Permission.parse("*")) == "*"


def test_principal_scopes_with_wildcards() -> None:
    """A held 'orders:*' scope grants 'orders:read'."""
    principal = Principal(subject="u", scopes=("orders:*",))
    assert principal.has_scope("orders:read")
    assert not principal.has_scope("billing:read")
    assert principal.id == "u"


# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8 digits.
SEED = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ],
)
def test_totp_rfc6238_vectors(at: int, code: str) -> None:
    """The RFC 6238 SHA-1 test vectors (8 digits)."""
    totp = TOTP(SEED, digits=8)
    assert totp.now(at) == code
    assert totp.verify(code, at=at)


def test_totp_window_and_repr() -> None:
    """Six-digit codes pass within one step either side; repr hides the secret."""
    totp = TOTP(SEED)
    assert totp.now(59) == "287082"
    assert totp.verify("287082", at=59 + 30)
    assert not totp.verify("287082", at=59 + 90)
    assert not totp.verify("28708", at=59)
    assert totp.verify(
        totp.now(datetime(2026, 1, 1, tzinfo=UTC)), at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert SEED not in repr(totp)
    with pytest.raises(AuthConfigError):
        TOTP("not base32 !!")
