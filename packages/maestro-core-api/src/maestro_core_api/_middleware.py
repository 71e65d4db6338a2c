"""Pure ASGI middleware: client address from trusted proxies and security headers, plus
the helpers the stack shares. Nothing here uses Starlette's ``BaseHTTPMiddleware``: each
layer wraps ``send``/``receive`` and costs one function call per message."""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from datetime import timedelta
from typing import Any

from fastapi import HTTPException

from ._errors import ConfigurationError

__all__ = [
    "BodyTooLarge",
    "ForwardedMiddleware",
    "SecurityHeadersMiddleware",
    "inbound_traceparent",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The traceparent of the request being served, for ServiceClient to propagate.
_TRACEPARENT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "maestro_core_api_traceparent", default=None
)


def inbound_traceparent() -> str | None:
    """The ``traceparent`` header of the request being served (None outside one)."""
    return _TRACEPARENT.get()


def seconds(name: str, value: float | timedelta | None, *, allow_none: bool = True) -> float | None:
    """Validate a duration in seconds (a ``timedelta`` is accepted)."""
    if value is None:
        if allow_none:
            return None
        raise ConfigurationError(f"{name} must be a number of seconds, got None")
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def parse_networks(name: str, values: Iterable[str] | str) -> tuple[Network, ...]:
    """Parse CIDR strings (``"10.0.0.0/8"``, ``"127.0.0.1"``) into networks."""
    if isinstance(values, str):
        values = (values,)
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name} holds {value!r}, which is not an IP address or CIDR network "
                "such as '10.0.0.0/8'"
            ) from None
    return tuple(networks)


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    """True when *address* (an IP string) lies in one of *networks*."""
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class ForwardedMiddleware:
    """Set the client address from ``X-Forwarded-For`` only when the peer is a trusted proxy.

    The right-most address that is not itself a trusted proxy becomes ``scope["client"]``
    (so logging and rate limiting see the real client); from any other peer the header
    is ignored. Also remembers the request's ``traceparent`` for outbound calls.
    """

    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = parse_networks("trusted_proxies", trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent: str | None = None
        forwarded: list[bytes] = []
        for key, value in scope.get("headers") or ():
            if key == b"traceparent":
                traceparent = value.decode("latin-1")
            elif key == b"x-forwarded-for":
                forwarded.append(value)
        if forwarded and self.trusted:
            client = scope.get("client")
            if client and in_networks(str(client[0]), self.trusted):
                hops = [h.strip() for v in forwarded for h in v.decode("latin-1").split(",")]
                for hop in reversed(hops):
                    if not hop:
                        continue
                    if in_networks(hop, self.trusted):
                        continue
                    try:
                        ipaddress.ip_address(hop)
                    except ValueError:
                        break
                    scope["client"] = (hop, 0)
                    break
        if traceparent is None:
            await self.app(scope, receive, send)
            return
        token = _TRACEPARENT.set(traceparent)
        try:
            await self.app(scope, receive, send)
        finally:
            _TRACEPARENT.reset(token)


DEFAULT_SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response that does not set them itself.

    ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
    ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy`` and
    ``Cross-Origin-Resource-Policy: same-origin``; a locked-down
    ``Content-Security-Policy`` on non-HTML answers (HTML such as ``/docs`` keeps its
    own); ``Strict-Transport-Security`` when the request came over HTTPS and *hsts* is
    set. *headers* replaces the defaults (a value of ``""`` drops one).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        headers: Mapping[str, str] | None = None,
        hsts: str | None = "max-age=31536000; includeSubDomains",
        content_security_policy: bool = True,
    ) -> None:
        self.app = app
        chosen = dict(DEFAULT_SECURITY_HEADERS)
        for key, value in (headers or {}).items():
            if not value:
                chosen.pop(key, None)
            else:
                chosen[key] = value
        self._headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in chosen.items()
        ]
        self._names = frozenset(k for k, _ in self._headers)
        self._hsts = hsts.encode("latin-1") if hsts else None
        self._csp = content_security_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers") or ())
                present = {k.lower() for k, _ in raw}
                html = False
                for key, value in raw:
                    if key.lower() == b"content-type" and value.startswith(b"text/html"):
                        html = True
                raw.extend(h for h in self._headers if h[0] not in present)
                if self._csp and not html and b"content-security-policy" not in present:
                    raw.append((b"content-security-policy", _API_CSP))
                if https and self._hsts and b"strict-transport-security" not in present:
                    raw.append((b"strict-transport-security", self._hsts))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the request body passes the limit (answered as 413)."""

    problem_code = "payload-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
