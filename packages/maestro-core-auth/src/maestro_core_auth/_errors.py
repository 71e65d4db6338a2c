"""The exceptions of maestro-core-auth: one family, rooted in MaestroAuthError.

Hierarchy::

    Exception
     +-- MaestroAuthError
          +-- AuthConfigError            also a ValueError: a bad argument (ConfigurationError)
          |    +-- WeakKeyError          a key too weak for its algorithm, refused at load
          +-- MissingExtraError          also an ImportError: an optional extra is not installed
          +-- MissingCredentialsError    the request carried no token or API key       (HTTP 401)
          +-- InvalidTokenError          the token cannot be trusted                    (HTTP 401)
          |    +-- MalformedTokenError   not a compact JWS within the size cap
          |    +-- InvalidSignatureError the signature does not verify
          |    +-- InvalidAlgorithmError the header alg is not the selected key's alg
          |    +-- TokenExpiredError     exp (plus leeway) has passed, or max_age
          |    +-- TokenNotYetValidError nbf (minus leeway) is in the future
          |    +-- InvalidClaimError     a claim or typ is missing or wrong (``claim`` names it)
          |    +-- TokenRevokedError     jti deny-listed, or the subject revoked after iat
          |    +-- RefreshTokenReuseError a used refresh token came back: its family is revoked
          +-- InsufficientScopeError     authenticated, but lacks a scope / role         (HTTP 403)
          +-- InvalidCredentialsError    wrong password or API key                      (HTTP 401)
          +-- PasswordTooLongError       also a ValueError: never truncated silently
          +-- JWKSFetchError             no usable key set could be fetched
          +-- AuthStoreError             the revocation / refresh / API-key store failed (503)

No message, ``repr`` or ``args`` of these errors holds a token, key, secret or password.
The original names stay as aliases: ``AuthException``, ``TokenExpiredException``,
``InvalidCredentialsException``, ``InsufficientPermissionsException``.
"""

from __future__ import annotations

__all__ = [
    "AuthConfigError",
    "AuthException",
    "AuthStoreError",
    "ConfigurationError",
    "InsufficientPermissionsException",
    "InsufficientScopeError",
    "InvalidAlgorithmError",
    "InvalidClaimError",
    "InvalidCredentialsError",
    "InvalidCredentialsException",
    "InvalidSignatureError",
    "InvalidTokenError",
    "JWKSFetchError",
    "MaestroAuthError",
    "MalformedTokenError",
    "MissingCredentialsError",
    "MissingExtraError",
    "PasswordTooLongError",
    "RefreshTokenReuseError",
    "TokenExpiredError",
    "TokenExpiredException",
    "TokenNotYetValidError",
    "TokenRevokedError",
    "WeakKeyError",
]


class MaestroAuthError(Exception):
    """Base class of every error raised by maestro-core-auth."""


class AuthConfigError(MaestroAuthError, ValueError):
    """A bad argument or setting; the message says what was wrong and how to fix it."""


ConfigurationError = AuthConfigError


class WeakKeyError(AuthConfigError):
    """A key too weak for its algorithm (HMAC shorter than the hash, RSA under 2048 bits)."""


class MissingExtraError(MaestroAuthError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'maestro-core-auth[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))


class MissingCredentialsError(MaestroAuthError):
    """The request carried no bearer token and no API key."""


class InvalidTokenError(MaestroAuthError):
    """The token cannot be trusted; subclasses say why."""


class MalformedTokenError(InvalidTokenError):
    """The token is not a well-formed compact JWS within the size cap."""


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify with the selected key."""


class InvalidAlgorithmError(InvalidTokenError):
    """The header ``alg`` is not the one algorithm the selected key carries."""


class TokenExpiredError(InvalidTokenError):
    """The token's ``exp`` (plus leeway) has passed, or it is older than ``max_age``."""


class TokenNotYetValidError(InvalidTokenError):
    """The token's ``nbf`` (minus leeway) is still in the future."""


class InvalidClaimError(InvalidTokenError):
    """A claim (or the ``typ`` header) is missing or wrong; ``claim`` names it."""

    def __init__(self, claim: str, reason: str = "") -> None:
        self.claim = claim
        self.reason = reason
        super().__init__(f"invalid {claim!r} claim" + (f": {reason}" if reason else ""))

    def __reduce__(self) -> tuple[type[InvalidClaimError], tuple[str, str]]:
        return (type(self), (self.claim, self.reason))


class TokenRevokedError(InvalidTokenError):
    """The token's ``jti`` is deny-listed, or its subject was revoked after it was issued."""


class RefreshTokenReuseError(InvalidTokenError):
    """A refresh token was presented a second time; its whole family is now revoked."""


class InsufficientScopeError(MaestroAuthError):
    """The caller is authenticated but lacks a required scope, role or permission."""

    def __init__(self, message: str, required: tuple[str, ...] = ()) -> None:
        self.required = required
        super().__init__(message)

    def __reduce__(self) -> tuple[type[InsufficientScopeError], tuple[str, tuple[str, ...]]]:
        return (type(self), (str(self), self.required))


class InvalidCredentialsError(MaestroAuthError):
    """A wrong password or API key."""


class PasswordTooLongError(MaestroAuthError, ValueError):
    """The password is longer than the hash accepts (bcrypt: 72 bytes; Argon2 here: 4096)."""


class JWKSFetchError(MaestroAuthError):
    """No usable JWKS could be fetched, and no last good key set is left to serve."""


class AuthStoreError(MaestroAuthError):
    """The key-value store behind revocation, refresh tokens or API keys failed.

    Verification fails closed: a token is not accepted while its revocation cannot be
    checked. The message names the operation, never a key, token or URL password.
    """


AuthException = MaestroAuthError
TokenExpiredException = TokenExpiredError
InvalidCredentialsException = InvalidCredentialsError
InsufficientPermissionsException = InsufficientScopeError
