"""The public namespace is exactly __all__, importing stays light, the version is the metadata's."""

from __future__ import annotations

import pickle

import maestro_core_api
from maestro_core_api import (
    ConfigurationError,
    MaestroAPIError,
    MissingExtraError,
    UpstreamError,
)
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert_public_namespace(maestro_core_api)


def test_spec_names_are_exported() -> None:
    """Every name of the specification's __all__ is importable."""
    names = [
        "APIConfig",
        "APIException",
        "APIResponse",
        "AuthenticationException",
        "AuthorizationException",
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
        "create_app",
        "create_health_routes",
        "cursor_params",
        "deprecated",
        "get_current_user",
        "problem_responses",
        "require_auth",
        "require_role",
        "__version__",
    ]
    assert set(names) <= set(maestro_core_api.__all__)


def test_import_is_light() -> None:
    """import maestro_core_api loads no server, Redis, httpx, schemathesis or JOSE library.

    (OpenTelemetry is not checked: FastAPI itself imports it when it is installed.)
    """
    assert_light_import(
        "maestro_core_api",
        {
            "uvicorn",
            "redis",
            "httpx",
            "schemathesis",
            "joserfc",
            "cryptography",
            "prometheus_client",
        },
    )


def test_version_comes_from_metadata() -> None:
    """__version__ equals the installed distribution's version."""
    assert maestro_core_api.__version__ == package_version("maestro-core-api")


def test_error_family() -> None:
    """One error base; ConfigurationError is a ValueError, MissingExtraError an ImportError."""
    assert issubclass(ConfigurationError, MaestroAPIError)
    assert issubclass(ConfigurationError, ValueError)
    error = MissingExtraError("RateLimit with a Redis storage", "redis", "redis")
    assert isinstance(error, ImportError)
    assert str(error) == (
        "RateLimit with a Redis storage needs the redis extra: "
        "pip install 'maestro-core-api[redis]'"
    )
    assert pickle.loads(pickle.dumps(error)).extra == "redis"
    upstream = pickle.loads(pickle.dumps(UpstreamError("pricing", "is unreachable")))
    assert upstream.upstream == "pricing"
    assert upstream.status_code == 502
