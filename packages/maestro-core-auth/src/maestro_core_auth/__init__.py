"""maestro-core-auth: verify and issue tokens, hash passwords, check API keys and permissions.

Keys carry exactly one algorithm (key confusion cannot be written), claim rules are strict
by default (``exp`` required, exact ``iss``, ``aud`` allow-list, ``typ``), verified tokens
are cached by SHA-256 with expiry and revocation re-checked on every hit, and all JWS work
is done by joserfc. ``import maestro_core_auth`` loads neither joserfc, cryptography,
argon2, FastAPI nor httpx: each is imported on first use.
"""

from ._apikeys import APIKeyAuth, APIKeyInfo, NewAPIKey, generate_api_key
from ._claims import Claims
from ._errors import (
    AuthConfigError,
    AuthException,
    AuthStoreError,
    ConfigurationError,
    InsufficientPermissionsException,
    InsufficientScopeError,
    InvalidAlgorithmError,
    InvalidClaimError,
    InvalidCredentialsError,
    InvalidCredentialsException,
    InvalidSignatureError,
    InvalidTokenError,
    JWKSFetchError,
    MaestroAuthError,
    MalformedTokenError,
    MissingCredentialsError,
    MissingExtraError,
    PasswordTooLongError,
    RefreshTokenReuseError,
    TokenExpiredError,
    TokenExpiredException,
    TokenNotYetValidError,
    TokenRevokedError,
    WeakKeyError,
)
from ._facades import AuthManager, JWTAuth, TokenPair, TokenResponse
from ._fastapi import (
    Authenticator,
    get_current_active_user,
    get_current_user,
    require_auth,
    require_permission,
    require_role,
    require_scopes,
)
from ._jwks import JWKSClient
from ._keys import Key, KeySet
from ._oidc import OIDCProvider
from ._passwords import PasswordManager
from ._rbac import Permission, Principal, RBACManager, Role
from ._refresh import RefreshRecord, RefreshTokenService
from ._revocation import RevocationList
from ._stores import MemoryStore, RedisStore, Store
from ._tokens import TokenIssuer, TokenVerifier
from ._totp import TOTP
from ._version import __version__

__all__ = [  # noqa: RUF022 - plain sorted(), as the family contract checks
    "APIKeyAuth",
    "APIKeyInfo",
    "AuthConfigError",
    "AuthException",
    "AuthManager",
    "AuthStoreError",
    "Authenticator",
    "Claims",
    "ConfigurationError",
    "InsufficientPermissionsException",
    "InsufficientScopeError",
    "InvalidAlgorithmError",
    "InvalidClaimError",
    "InvalidCredentialsError",
    "InvalidCredentialsException",
    "InvalidSignatureError",
    "InvalidTokenError",
    "JWKSClient",
    "JWKSFetchError",
    "JWTAuth",
    "Key",
    "KeySet",
    "MaestroAuthError",
    "MalformedTokenError",
    "MemoryStore",
    "MissingCredentialsError",
    "MissingExtraError",
    "NewAPIKey",
    "OIDCProvider",
    "PasswordManager",
    "PasswordTooLongError",
    "Permission",
    "Principal",
    "RBACManager",
    "RedisStore",
    "RefreshRecord",
    "RefreshTokenReuseError",
    "RefreshTokenService",
    "RevocationList",
    "Role",
    "Store",
    "TOTP",
    "TokenExpiredError",
    "TokenExpiredException",
    "TokenIssuer",
    "TokenNotYetValidError",
    "TokenPair",
    "TokenResponse",
    "TokenRevokedError",
    "TokenVerifier",
    "WeakKeyError",
    "__version__",
    "generate_api_key",
    "get_current_active_user",
    "get_current_user",
    "require_auth",
    "require_permission",
    "require_role",
    "require_scopes",
]
