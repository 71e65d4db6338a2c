"""Masking of secrets in log lines: values under secret-looking keys, at any depth, and
credentials inside URLs and exception messages.

Keys are matched by their tokens, not as whole strings: a key is split at ``_``, ``-``,
``.``, blanks and camelCase boundaries (``passwordHash`` -> ``password hash``,
``AWS_SECRET_ACCESS_KEY`` -> ``aws secret access key``), and it is secret when a configured
key (one token such as ``password``, or two such as ``api_key``) appears in it followed
only by tokens that still describe the secret (``hash``, ``key``, ``value``, ...). So
``db_password``, ``AWS_SECRET_ACCESS_KEY`` and ``passwordHash`` are masked, while
``author``, ``tokens_used``, ``password_policy_url`` and ``cookie_banner`` are not. The hot
path is one dict lookup per top-level key (a memo of the check) plus a type check of the
value; containers (mappings, lists, tuples, dataclasses, ASGI ``(name, value)`` header
pairs) are walked, and strings holding ``://`` get their URL passwords masked.
"""

from __future__ import annotations

import dataclasses
import re
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
# Tokens that may follow a secret's name and still name the secret itself.
_SECRET_SUFFIXES: frozenset[str] = frozenset(
    {
        "hash",
        "hashed",
        "key",
        "value",
        "b64",
        "base64",
        "enc",
        "encrypted",
        "raw",
        "plain",
        "plaintext",
        "header",
        "access",
        "data",
        "str",
        "bytes",
        "digest",
        "salt",
        "file",
    }
)
_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:]*):[^/@\s]*@")
# key=value / key: value pairs inside free text (exception messages).
_TEXT_SECRET = re.compile(
    r"(?i)\b(?P<key>[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|authorization"
    r"|bearer|cookie|credentials?)[\w-]*)(?P<sep>\s*[=:]\s*|\s+)(?P<quote>['\"]?)"
    r"(?P<value>[^\s'\",;&)]+)"
)


def tokens(key: str) -> list[str]:
    """The lower-case tokens of a key: ``passwordHash`` -> ``['password', 'hash']``."""
    spaced = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", key))
    return [t for t in _SPLIT.split(spaced.lower()) if t]


def normalise_key(key: str) -> str:
    """Return the form keys are compared in: lower case, '-' as '_', surrounding blanks removed."""
    return key.strip().lower().replace("-", "_")


def mask_url_credentials(text: str, mask: str = "***") -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL replaced."""
    if "://" not in text:
        return text
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{mask}@", text)


def mask_text(text: str, mask: str = "***") -> str:
    """Free text (an exception message) with URL passwords and ``password=...`` masked."""
    text = mask_url_credentials(text, mask)
    return _TEXT_SECRET.sub(
        lambda m: f"{m.group('key')}{m.group('sep')}{m.group('quote')}{mask}", text
    )


class Redactor:
    """Replace values under configured keys with ``[REDACTED]`` in nested data."""

    __slots__ = ("_glued", "_keys", "_memo", "mask")

    def __init__(self, keys: Iterable[str], mask: str = REDACTED) -> None:
        self._keys = frozenset(normalise_key(k) for k in keys)
        self._glued = frozenset(k.replace("_", "") for k in self._keys)
        self._memo: dict[object, bool] = {}
        self.mask = mask

    @property
    def keys(self) -> frozenset[str]:
        """The normalised keys whose values are masked."""
        return self._keys

    def _judge(self, key: object) -> bool:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if not isinstance(key, str):
            return False
        keys = self._keys
        if normalise_key(key) in keys:
            return True
        parts = tokens(key)
        if len(parts) == 1:
            # One glued word in one case (DBPASSWORD, awssecretaccesskey): look for the
            # longer secret words inside it.
            glued = parts[0]
            if any(len(word) >= 5 and word in glued for word in self._glued):
                return True
        for i in range(len(parts)):
            for width in (1, 2, 3):
                if "_".join(parts[i : i + width]) in keys and all(
                    rest in _SECRET_SUFFIXES for rest in parts[i + width :]
                ):
                    return True
        return False

    def is_secret(self, key: object) -> bool:
        """Return whether values under *key* are masked."""
        memo = self._memo
        try:
            hit = memo.get(key)
        except TypeError:  # an unhashable key
            return False
        if hit is None:
            hit = self._judge(key)
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
            elif (kind := type(value)) not in _SCALAR_TYPES or (kind is str and "://" in value):
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
        if isinstance(value, str):
            return mask_url_credentials(value) if "://" in value else value
        if isinstance(value, Mapping) or _is_dataclass_instance(value):
            if id(value) in seen:
                return "<cycle>"
            inner = seen | {id(value)}
            items = (
                value.items()
                if isinstance(value, Mapping)
                else ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
            )
            return {k: (self.mask if self.is_secret(k) else self._copy(v, inner)) for k, v in items}
        if isinstance(value, (list, tuple)):
            if id(value) in seen:
                return "<cycle>"
            inner = seen | {id(value)}
            if (
                isinstance(value, tuple)
                and len(value) == 2
                and isinstance(value[0], (str, bytes))
                and self.is_secret(value[0])
            ):
                # A (name, value) pair: ASGI's raw headers, a list of query parameters.
                return [_text(value[0]), self.mask]
            return [self._copy(item, inner) for item in value]
        return value


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _is_dataclass_instance(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
