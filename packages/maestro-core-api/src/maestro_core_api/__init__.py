"""One call turns FastAPI into a Maestro service: problem details for every error, health
probes, limits, rate limiting, cursor pagination and a resilient outbound client, all as
pure ASGI middleware."""

from ._app import APIConfig, MaestroAPI, create_app
from ._auth import get_current_user, require_auth, require_role
from ._client import ServiceClient
from ._deprecation import deprecated
from ._errors import (
    APIException,
    AuthenticationException,
    AuthorizationException,
    ConfigurationError,
    ConflictException,
    MaestroAPIError,
    MissingExtraError,
    NotFoundException,
    Problem,
    RateLimitException,
    ServiceUnavailableException,
    UpstreamError,
    ValidationException,
)
from ._health import HealthCheck, create_health_routes
from ._middleware import SecurityHeadersMiddleware
from ._pagination import CursorPage, CursorParams, PaginatedResponse, cursor_params
from ._problem import problem_responses
from ._ratelimit import RateLimit
from ._responses import APIResponse, ErrorResponse, SuccessResponse
from ._version import __version__

__all__ = [
    "APIConfig",
    "APIException",
    "APIResponse",
    "AuthenticationException",
    "AuthorizationException",
    "ConfigurationError",
    "ConflictException",
    "CursorPage",
    "CursorParams",
    "ErrorResponse",
    "HealthCheck",
    "MaestroAPI",
    "MaestroAPIError",
    "MissingExtraError",
    "NotFoundException",
    "PaginatedResponse",
    "Problem",
    "RateLimit",
    "RateLimitException",
    "SecurityHeadersMiddleware",
    "ServiceClient",
    "ServiceUnavailableException",
    "SuccessResponse",
    "UpstreamError",
    "ValidationException",
    "__version__",
    "create_app",
    "create_health_routes",
    "cursor_params",
    "deprecated",
    "get_current_user",
    "problem_responses",
    "require_auth",
    "require_role",
]
