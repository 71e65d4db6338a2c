"""The public namespace is exactly __all__, and importing the package stays light."""

from __future__ import annotations

import maestro_core_auth
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names."""
    assert_public_namespace(maestro_core_auth)


def test_spec_names_are_exported() -> None:
    """Every name the specification lists is importable from the package."""
    spec = [
        "APIKeyAuth",
        "APIKeyInfo",
        "AuthManager",
        "Authenticator",
        "Claims",
        "JWKSClient",
        "JWTAuth",
        "Key",
        "KeySet",
        "NewAPIKey",
        "OIDCProvider",
        "PasswordManager",
        "Permission",
        "Principal",
        "RBACManager",
        "RefreshTokenService",
        "RevocationList",
        "Role",
        "TOTP",
        "TokenIssuer",
        "TokenPair",
        "TokenResponse",
        "TokenVerifier",
        "get_current_active_user",
        "get_current_user",
        "require_auth",
        "require_permission",
        "require_role",
        "require_scopes",
        "generate_api_key",
        "__version__",
        "MaestroAuthError",
        "AuthConfigError",
        "WeakKeyError",
        "MissingExtraError",
        "MissingCredentialsError",
        "InvalidTokenError",
        "MalformedTokenError",
        "InvalidSignatureError",
        "InvalidAlgorithmError",
        "TokenExpiredError",
        "TokenNotYetValidError",
        "InvalidClaimError",
        "TokenRevokedError",
        "RefreshTokenReuseError",
        "InsufficientScopeError",
        "InvalidCredentialsError",
        "JWKSFetchError",
        "AuthException",
        "TokenExpiredException",
        "InvalidCredentialsException",
        "InsufficientPermissionsException",
    ]
    missing = [name for name in spec if name not in maestro_core_auth.__all__]
    assert missing == []


def test_original_names_are_aliases() -> None:
    """The original exception names are the same objects as the new ones."""
    m = maestro_core_auth
    assert m.AuthException is m.MaestroAuthError
    assert m.TokenExpiredException is m.TokenExpiredError
    assert m.InvalidCredentialsException is m.InvalidCredentialsError
    assert m.InsufficientPermissionsException is m.InsufficientScopeError
    assert m.ConfigurationError is m.AuthConfigError


def test_import_is_light() -> None:
    """A fresh `import maestro_core_auth` loads no crypto, hashing, web or HTTP library."""
    assert_light_import(
        "maestro_core_auth",
        [
            "joserfc",
            "cryptography",
            "argon2",
            "bcrypt",
            "fastapi",
            "starlette",
            "httpx",
            "redis",
            "asyncio",
            "ssl",
            "pydantic",
        ],
    )


def test_version_comes_from_the_metadata() -> None:
    """__version__ is the installed distribution's version."""
    assert maestro_core_auth.__version__ == package_version("maestro-core-auth")


def test_errors_form_one_family() -> None:
    """Every exported exception derives from MaestroAuthError; config errors are ValueErrors."""
    m = maestro_core_auth
    for name in m.__all__:
        obj = getattr(m, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, m.MaestroAuthError), name
    assert issubclass(m.AuthConfigError, ValueError)
    assert issubclass(m.WeakKeyError, m.AuthConfigError)
    assert issubclass(m.MissingExtraError, ImportError)
    for sub in (
        "MalformedTokenError",
        "InvalidSignatureError",
        "InvalidAlgorithmError",
        "TokenExpiredError",
        "TokenNotYetValidError",
        "InvalidClaimError",
        "TokenRevokedError",
        "RefreshTokenReuseError",
    ):
        assert issubclass(getattr(m, sub), m.InvalidTokenError), sub


def test_missing_extra_message_names_the_install_line() -> None:
    """MissingExtraError says which extra to install, in the family's one form."""
    err = maestro_core_auth.MissingExtraError("JWKSClient", "jwks", "httpx")
    assert str(err) == "JWKSClient needs the jwks extra: pip install 'maestro-core-auth[jwks]'"
    assert err.name == "httpx"
