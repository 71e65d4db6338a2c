"""maestro-core-auth's FastAPI dependencies, re-exported, and how the app uses them.

``get_current_user``, ``require_auth`` and ``require_role`` read the ``Authenticator``
given to ``create_app(auth=...)``. An app whose routes use them without an authenticator
fails at start-up, never passing requests silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maestro_core_auth import get_current_user, require_auth, require_role

from ._errors import ConfigurationError

__all__ = [
    "authenticator_of",
    "check_auth_dependencies",
    "get_current_user",
    "is_admin",
    "require_auth",
    "require_role",
]

STATE_ATTRIBUTE = "maestro_authenticator"


def authenticator_of(app: Any) -> Any:
    """The authenticator installed on *app*, or None."""
    return getattr(app.state, STATE_ATTRIBUTE, None)


def _calls(dependant: Any) -> Iterator[Any]:
    yield dependant.call
    for child in dependant.dependencies:
        yield from _calls(child)


def check_auth_dependencies(app: Any) -> None:
    """Raise at start-up when a route needs authentication but no authenticator is set."""
    if authenticator_of(app) is not None:
        return
    from fastapi.routing import APIRoute

    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for call in _calls(route.dependant):
            if type(call).__module__.startswith("maestro_core_auth"):
                raise ConfigurationError(
                    f"route {route.path!r} needs authentication ({getattr(call, '__name__', call)})"
                    " but the app has no authenticator: pass create_app(auth=Authenticator(...))"
                )


async def is_admin(request: Any) -> bool:
    """True when the request carries valid credentials of a principal with role 'admin'."""
    authenticator = authenticator_of(request.app)
    if authenticator is None:
        return False
    try:
        principal = await authenticator.authenticate(request)
    except Exception:
        return False
    return "admin" in getattr(principal, "roles", ())


async def principal_of(scope: Any, app: Any) -> Any:
    """Authenticate the request of *scope* if possible (the rate limiter's key), else None."""
    authenticator = authenticator_of(app)
    if authenticator is None:
        return None
    from starlette.requests import Request

    try:
        return await authenticator.authenticate(Request(scope))
    except Exception:
        return None
