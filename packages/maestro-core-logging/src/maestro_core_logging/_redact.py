"""Masking of values stored under secret-looking keys, at any depth.

Matching is by whole key, not substring: ``password`` and ``Authorization`` are masked,
``author`` and ``password_policy_url`` are not.  Keys are compared case-insensitively and
with ``-`` treated as ``_``, so the header ``X-API-Key`` matches the name ``x_api_key``.
The hot path is one dict lookup per top-level key (a memo of the normalised check) plus a
type check of the value; only dict, list and tuple values are walked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

REDACTED = "[REDACTED]"

DEFAULT_REDACT_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "client_secret",
        "secret_key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "bearer",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "session",
        "sessionid",
        "session_id",
        "csrf_token",
        "xsrf_token",
        "api_key",
        "apikey",
        "x_api_key",
        "private_key",
        "credentials",
        "credit_card",
        "card_number",
        "cvv",
        "ssn",
    }
)

# The memo is bounded so that ever-changing keys (ids used as keys) cannot grow it forever.
_MEMO_LIMIT = 4096
_CONTAINERS = (dict, list, tuple)


def normalise_key(key: str) -> str:
    """Return the form keys are compared in: lower case, '-' as '_', surrounding blanks removed."""
    return key.strip().lower().replace("-", "_")


class Redactor:
    """Replace values under configured keys with ``[REDACTED]`` in nested dicts and lists."""

    __slots__ = ("_keys", "_memo", "mask")

    def __init__(self, keys: Iterable[str], mask: str = REDACTED) -> None:
        self._keys = frozenset(normalise_key(k) for k in keys)
        self._memo: dict[object, bool] = {}
        self.mask = mask

    @property
    def keys(self) -> frozenset[str]:
        """The normalised keys whose values are masked."""
        return self._keys

    def is_secret(self, key: object) -> bool:
        """Return whether values under *key* are masked."""
        memo = self._memo
        hit = memo.get(key)
        if hit is None:
            hit = isinstance(key, str) and normalise_key(key) in self._keys
            if len(memo) < _MEMO_LIMIT:
                memo[key] = hit
        return hit

    def redact_in_place(self, event: MutableMapping[str, Any]) -> None:
        """Mask secret values of *event* (a fresh per-line dict) in place, walking nested data."""
        if not self._keys:
            return
        memo = self._memo
        secret: list[str] | None = None
        nested: list[str] | None = None
        for key, value in event.items():
            hit = memo.get(key)
            if hit is None:
                hit = self.is_secret(key)
            if hit:
                if secret is None:
                    secret = []
                secret.append(key)
            elif isinstance(value, _CONTAINERS):
                if nested is None:
                    nested = []
                nested.append(key)
        if secret is not None:
            for key in secret:
                event[key] = self.mask
        if nested is not None:
            for key in nested:
                event[key] = self._copy(event[key])

    def _copy(self, value: Any, seen: frozenset[int] = frozenset()) -> Any:
        """Return *value* with secrets masked; containers are copied, never mutated."""
        if isinstance(value, Mapping):
            if id(value) in seen:
                return "<cycle>"
            inner = seen | {id(value)}
            return {
                k: (self.mask if self.is_secret(k) else self._copy(v, inner))
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            if id(value) in seen:
                return "<cycle>"
            inner = seen | {id(value)}
            return [self._copy(item, inner) for item in value]
        return value
