"""`Principal`, `Permission`, `Role` and `RBACManager` (roles -> permissions, with wildcards)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._errors import AuthConfigError, InsufficientScopeError

__all__ = ["Permission", "Principal", "RBACManager", "Role", "permission_matches"]


def permission_matches(pattern: str, permission: str) -> bool:
    """``*`` grants everything, ``orders:*`` everything under ``orders:``; else exact match."""
    if pattern in (permission, "*"):
        return True
    return pattern.endswith(":*") and permission.startswith(pattern[:-1])


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission ``resource:action`` (either part may be ``*``)."""

    resource: str
    action: str = "*"

    def __post_init__(self) -> None:
        for part in (self.resource, self.action):
            if not isinstance(part, str) or not part or ":" in part or " " in part:
                raise AuthConfigError(
                    "resource and action must be non-empty, without ':' or spaces"
                )

    @classmethod
    def parse(cls, text: str) -> Permission:
        """``"orders:write"`` -> Permission("orders", "write"); ``"*"`` -> all."""
        if text == "*":
            return cls("*", "*")
        resource, sep, action = text.partition(":")
        if not sep:
            raise AuthConfigError(f"a permission is written resource:action, not {text!r}")
        return cls(resource, action)

    def __str__(self) -> str:
        if self.resource == "*":
            return "*"
        return f"{self.resource}:{self.action}"


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permission patterns, optionally inheriting other roles' permissions."""

    name: str
    permissions: frozenset[str] = frozenset()
    inherits: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise AuthConfigError("a role needs a non-empty name")
        object.__setattr__(self, "permissions", frozenset(str(p) for p in self.permissions))
        object.__setattr__(self, "inherits", tuple(self.inherits))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: subject, scopes, roles, and how they authenticated."""

    subject: str
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    auth_method: str = "jwt"
    key_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    is_active: bool = True

    @property
    def id(self) -> str:
        """The subject (original name)."""
        return self.subject

    def has_scope(self, scope: str) -> bool:
        """True when a scope pattern the principal holds grants ``scope``."""
        return any(permission_matches(s, scope) for s in self.scopes)


class RBACManager:
    """Resolves roles to permissions (inheritance and wildcards) and checks them.

    ``RBACManager(roles={"admin": {"*"}, "clerk": {"orders:read"}}, inherits={"admin":
    ["clerk"]})``; roles may also be given as :class:`Role` objects.
    """

    def __init__(
        self,
        roles: Mapping[str, Iterable[str | Permission]] | Iterable[Role] = (),
        *,
        inherits: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._roles: dict[str, Role] = {}
        if isinstance(roles, Mapping):
            for name, perms in roles.items():
                self.add_role(Role(name, frozenset(str(p) for p in perms)))
        else:
            for role in roles:
                self.add_role(role)
        for name, parents in (inherits or {}).items():
            if name not in self._roles:
                raise AuthConfigError(f"inherits names an unknown role {name!r}")
            role = self._roles[name]
            self._roles[name] = Role(name, role.permissions, role.inherits + tuple(parents))
        for role in self._roles.values():
            for parent in role.inherits:
                if parent not in self._roles:
                    raise AuthConfigError(f"role {role.name!r} inherits unknown role {parent!r}")
        self._resolved: dict[str, frozenset[str]] = {}

    def __repr__(self) -> str:
        return f"RBACManager(roles={sorted(self._roles)!r})"

    def add_role(self, role: Role) -> None:
        """Add or replace a role."""
        if not isinstance(role, Role):
            raise AuthConfigError("add_role takes a Role")
        self._roles[role.name] = role
        self._resolved = {}

    @property
    def roles(self) -> Mapping[str, Role]:
        """The roles by name."""
        return MappingProxyType(self._roles)

    def _role_permissions(self, name: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        cached = self._resolved.get(name)
        if cached is not None:
            return cached
        role = self._roles.get(name)
        if role is None or name in seen:
            return frozenset()
        out = set(role.permissions)
        for parent in role.inherits:
            out |= self._role_permissions(parent, seen | {name})
        result = frozenset(out)
        self._resolved[name] = result
        return result

    def permissions_for(self, principal: Principal | Iterable[str]) -> frozenset[str]:
        """Every permission pattern granted to the principal's roles (or to these role names)."""
        names = principal.roles if isinstance(principal, Principal) else tuple(principal)
        out: set[str] = set()
        for name in names:
            out |= self._role_permissions(name)
        return frozenset(out)

    def is_allowed(
        self, principal: Principal | Iterable[str], permission: str | Permission
    ) -> bool:
        """True when one of the principal's role permissions grants ``permission``."""
        wanted = str(permission)
        return any(permission_matches(p, wanted) for p in self.permissions_for(principal))

    def check(self, principal: Principal, permission: str | Permission) -> None:
        """Raise InsufficientScopeError unless ``is_allowed``."""
        if not self.is_allowed(principal, permission):
            raise InsufficientScopeError(
                f"permission {str(permission)!r} is required", (str(permission),)
            )
