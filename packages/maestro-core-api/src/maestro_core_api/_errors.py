"""The exceptions of maestro-core-api: one family, rooted in MaestroAPIError.

Hierarchy::

    Exception
     +-- MaestroAPIError
          +-- ConfigurationError (ValueError)      a bad argument or setting; raised at once
          +-- MissingExtraError (ImportError)      an optional extra is not installed
          +-- APIException                         an error answered as a problem (RFC 9457)
               +-- ValidationException             422 Unprocessable Content
               +-- AuthenticationException         401 Unauthorized
               +-- AuthorizationException          403 Forbidden
               +-- NotFoundException               404 Not Found
               +-- ConflictException               409 Conflict
               +-- RateLimitException              429 Too Many Requests (Retry-After)
               +-- ServiceUnavailableException     503 Service Unavailable
               +-- UpstreamError                   502 (504 for a timeout): a call to another
               |                                   service failed; names the upstream only
               +-- Problem                         any status, type, title and extension members

Raised inside a request handler, an ``APIException`` becomes an
``application/problem+json`` response; ``to_dict()`` gives that body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._body import RESERVED_MEMBERS, problem_dict, status_phrase

__all__ = [
    "APIException",
    "AuthenticationException",
    "AuthorizationException",
    "ConfigurationError",
    "ConflictException",
    "MaestroAPIError",
    "MissingExtraError",
    "NotFoundException",
    "Problem",
    "RateLimitException",
    "ServiceUnavailableException",
    "UpstreamError",
    "ValidationException",
]


class MaestroAPIError(Exception):
    """Base class of every error raised by maestro-core-api."""


class ConfigurationError(MaestroAPIError, ValueError):
    """An argument or setting is invalid; the message says which and how to fix it."""


class MissingExtraError(MaestroAPIError, ImportError):
    """An optional feature's extra is not installed.

    ``MissingExtraError(feature, extra, module)``: the message names the pip command.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-core-api[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))


def check_status(status: object) -> int:
    """Return *status* as an int if it is an HTTP error status (400-599), else raise."""
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ConfigurationError(
            f"a problem's status must be an HTTP error status between 400 and 599, got {status!r}"
        )
    return status


class APIException(MaestroAPIError):
    """An error answered as ``application/problem+json`` (RFC 9457).

    The original signature is kept: ``APIException(message, details=None, status_code=500,
    error_code=None)``. ``message`` becomes ``detail``; ``error_code`` becomes ``code`` and,
    joined to the app's ``problem_type_base``, the problem ``type``; ``details`` (a mapping)
    become extension members. ``headers`` are added to the response.
    """

    default_status: int = 500
    default_code: str | None = None

    def __init__(
        self,
        message: str | None = None,
        details: Mapping[str, Any] | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        type: str | None = None,
        title: str | None = None,
    ) -> None:
        self.status_code = check_status(self.default_status if status_code is None else status_code)
        self.message = message
        self.error_code = error_code if error_code is not None else self.default_code
        self.details: dict[str, Any] = dict(details or {})
        clash = RESERVED_MEMBERS & self.details.keys()
        if clash:
            raise ConfigurationError(
                f"details may not use the reserved problem members {sorted(clash)}; rename them"
            )
        self.headers: dict[str, str] = dict(headers or {})
        self.type = type
        self.title = title
        super().__init__(message if message is not None else status_phrase(self.status_code))

    def to_dict(
        self,
        *,
        instance: str | None = None,
        request_id: str | None = None,
        type_base: str | None = None,
    ) -> dict[str, Any]:
        """The problem body: ``type``, ``title``, ``status``, ``detail``, ``instance``, ``code``,
        ``request_id`` and the extension members (absent members are left out)."""
        return problem_dict(
            self.status_code,
            type=self.type,
            code=self.error_code,
            title=self.title,
            detail=self.message,
            instance=instance,
            request_id=request_id,
            type_base=type_base,
            extensions=self.details,
        )


class ValidationException(APIException):
    """422: the request is well-formed but its content is not acceptable."""

    default_status = 422


class AuthenticationException(APIException):
    """401: no valid credentials; answered with ``WWW-Authenticate: Bearer``."""

    default_status = 401

    def __init__(
        self,
        message: str | None = "authentication required",
        details: Mapping[str, Any] | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        type: str | None = None,
        title: str | None = None,
    ) -> None:
        merged = {"WWW-Authenticate": "Bearer"}
        merged.update(headers or {})
        super().__init__(
            message, details, status_code, error_code, headers=merged, type=type, title=title
        )


class AuthorizationException(APIException):
    """403: the caller is known but not allowed to do this."""

    default_status = 403


class NotFoundException(APIException):
    """404: the resource does not exist."""

    default_status = 404


class ConflictException(APIException):
    """409: the request conflicts with the resource's current state."""

    default_status = 409


class RateLimitException(APIException):
    """429: too many requests; ``retry_after`` seconds become the ``Retry-After`` header."""

    default_status = 429
    default_code = "rate-limited"

    def __init__(
        self,
        message: str | None = "rate limit exceeded",
        details: Mapping[str, Any] | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        *,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        type: str | None = None,
        title: str | None = None,
    ) -> None:
        merged: dict[str, str] = {}
        self.retry_after = retry_after
        if retry_after is not None:
            merged["Retry-After"] = str(max(1, int(-(-retry_after // 1))))
        merged.update(headers or {})
        super().__init__(
            message, details, status_code, error_code, headers=merged, type=type, title=title
        )


class ServiceUnavailableException(APIException):
    """503: the service cannot answer now (shutting down, a dependency is down)."""

    default_status = 503


class UpstreamError(APIException):
    """A call to another service failed: 502, or 504 when it timed out.

    ``upstream`` names the service; the upstream's body is never part of the problem.
    ``response_status`` is the upstream's status when it answered at all.
    """

    default_status = 502
    default_code = "upstream-error"

    def __init__(
        self,
        upstream: str,
        reason: str,
        *,
        timeout: bool = False,
        response_status: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.reason = reason
        self.timeout = timeout
        self.response_status = response_status
        details: dict[str, Any] = {"upstream": upstream}
        super().__init__(
            f"upstream {upstream!r} {reason}",
            details,
            504 if timeout else 502,
            "upstream-timeout" if timeout else "upstream-error",
        )

    def __reduce__(self) -> Any:
        return (
            _rebuild_upstream,
            (self.upstream, self.reason, self.timeout, self.response_status),
        )


def _rebuild_upstream(
    upstream: str, reason: str, timeout: bool, response_status: int | None
) -> UpstreamError:
    return UpstreamError(upstream, reason, timeout=timeout, response_status=response_status)


class Problem(APIException):
    """Any problem: ``Problem(status=402, type="payment-required", title=..., detail=...,
    **extensions)``. Extension members may not reuse the standard members' names."""

    def __init__(
        self,
        status: int,
        *,
        type: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail, extensions, status, None, headers=headers, type=type, title=title)
