"""`OIDCProvider`: an OpenID Provider found by discovery, handing out bound verifiers.

It sits above both the JWKS cache and the verifier, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import JWKSFetchError
from ._jwks import JWKSClient, _aget, _check_url, _httpx, _jwks_uri, _tls, _well_known
from ._tokens import TokenVerifier

__all__ = ["OIDCProvider"]


class OIDCProvider:
    """An OpenID Provider found by discovery; hands out verifiers bound to its issuer and keys."""

    def __init__(self, issuer: str, metadata: dict[str, Any], jwks: JWKSClient) -> None:
        self.issuer = issuer
        self.metadata = metadata
        self.jwks = jwks

    def __repr__(self) -> str:
        return f"OIDCProvider(issuer={self.issuer!r})"

    @classmethod
    async def discover(
        cls, issuer: str, *, timeout: float = 3.0, **jwks_options: Any
    ) -> OIDCProvider:
        """Fetch ``<issuer>/.well-known/openid-configuration``; its issuer must match exactly."""
        _check_url(issuer, "issuer")
        httpx = _httpx()
        try:
            async with httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, verify=_tls()
            ) as client:
                meta = (await _aget(client, _well_known(issuer), "discovery")).document()
        except httpx.HTTPError as exc:
            raise JWKSFetchError(f"OIDC discovery failed ({type(exc).__name__})") from None
        jwks = JWKSClient(_jwks_uri(meta, issuer), timeout=timeout, **jwks_options)
        return cls(issuer, meta, jwks)

    def _jwks_for(self, algorithms: Iterable[str] | None) -> JWKSClient:
        wanted = tuple(algorithms) if algorithms else None
        if wanted == self.jwks.algorithms:
            return self.jwks
        return JWKSClient(
            self.jwks.url or "",
            algorithms=wanted,
            min_ttl=self.jwks.min_ttl,
            max_ttl=self.jwks.max_ttl,
            refetch_cooldown=self.jwks.refetch_cooldown,
            stale_if_error=self.jwks.stale_if_error,
            timeout=self.jwks.timeout,
            monotonic=self.jwks._monotonic,
        )

    def verifier(
        self,
        *,
        audience: str | Iterable[str] | None,
        algorithms: Iterable[str] | None = None,
        **options: Any,
    ) -> TokenVerifier:
        """A TokenVerifier for this provider's access tokens (``typ: at+jwt`` by default)."""
        return TokenVerifier(
            jwks=self._jwks_for(algorithms), issuer=self.issuer, audience=audience, **options
        )

    def id_token_verifier(
        self, *, client_id: str, algorithms: Iterable[str] | None = None, **options: Any
    ) -> TokenVerifier:
        """A TokenVerifier for ID tokens (aud = client_id); access tokens are refused by it."""
        options.setdefault("required", ("exp", "iat", "sub"))
        verifier = TokenVerifier(
            jwks=self._jwks_for(algorithms),
            issuer=self.issuer,
            audience=client_id,
            typ=None,
            **options,
        )
        verifier._forbid_typ = frozenset({"at+jwt"})
        return verifier
