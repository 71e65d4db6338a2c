"""Checkpoints: signed statements of "sequences A..B, N records, last hash H".

Written at each rotation and on demand to ``checkpoints.jsonl`` (a separate file from the
segments), each one chained to the previous checkpoint line, optionally signed with HMAC
(stdlib) or Ed25519 (``pip install maestro-audit-logger[signing]``) under a key id. Keys
come from the caller or the environment, never from the log directory. A checkpoint can
also be handed to an external sink, so a truncated or rewritten directory is detectable
against a copy the writer cannot reach afterwards (CloudTrail digest files, Certificate
Transparency checkpoints).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson

from maestro_audit_logger._deprecation import getenv
from maestro_audit_logger._errors import ConfigurationError, MissingExtraError

CHECKPOINTS_FILE = "checkpoints.jsonl"
HMAC_KEY_ENV = "MAESTRO_AUDIT__HMAC_KEY"
ED25519_KEY_ENV = "MAESTRO_AUDIT__ED25519_KEY"
KEY_ID_ENV = "MAESTRO_AUDIT__KEY_ID"
#: The spellings before the family's ``MAESTRO_<SECTION>__<FIELD>`` scheme (deprecated).
OLD_ENV = {
    HMAC_KEY_ENV: "MAESTRO_AUDIT_HMAC_KEY",
    ED25519_KEY_ENV: "MAESTRO_AUDIT_ED25519_KEY",
    KEY_ID_ENV: "MAESTRO_AUDIT_KEY_ID",
}


def _env(name: str) -> str | None:
    old = OLD_ENV.get(name)
    return getenv(name, old) if old is not None else os.environ.get(name) or None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A statement about one segment: its sequence range, record count and last hash."""

    segment: str
    first_sequence: int
    last_sequence: int
    count: int
    last_hash: str
    created_at: str
    reason: str
    prev_checkpoint_hash: str
    algorithm: str | None = None
    key_id: str | None = None
    signature: str | None = None

    def payload(self) -> bytes:
        """The canonical bytes that are signed: every field but ``signature``, sorted keys."""
        data = asdict(self)
        data.pop("signature")
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)

    def to_line(self) -> bytes:
        """The checkpoint as one JSON line (without newline)."""
        return orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as a plain dict, e.g. for an external sink."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        """Rebuild a checkpoint read from a file or an external sink."""
        kwargs: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        for name in ("first_sequence", "last_sequence", "count"):
            if type(kwargs[name]) is not int:
                raise ValueError(f"checkpoint field {name} must be an integer")
        for name in ("segment", "last_hash", "created_at", "reason", "prev_checkpoint_hash"):
            if not isinstance(kwargs[name], str):
                raise ValueError(f"checkpoint field {name} must be a string")
        return cls(**kwargs)

    def signed(self, signer: Signer | None) -> Checkpoint:
        """Return a copy signed by ``signer`` (or unsigned when ``signer`` is None)."""
        if signer is None:
            return self
        base = replace(self, algorithm=signer.algorithm, key_id=signer.key_id, signature=None)
        return replace(base, signature=signer.sign(base.payload()))


@runtime_checkable
class Verifier(Protocol):
    """Anything that can check a checkpoint signature made under ``key_id``."""

    @property
    def algorithm(self) -> str:
        """``"hmac-sha256"`` or ``"ed25519"``."""

    @property
    def key_id(self) -> str:
        """The key id stored in each checkpoint it signs or checks."""

    def verify(self, payload: bytes, signature: str) -> bool:
        """Return True when ``signature`` is valid for ``payload``."""


@runtime_checkable
class Signer(Verifier, Protocol):
    """A :class:`Verifier` that can also sign."""

    def sign(self, payload: bytes) -> str:
        """Return the signature of ``payload`` as text."""


class HmacSigner:
    """HMAC-SHA256 signatures from the standard library (the key signs and checks)."""

    algorithm = "hmac-sha256"

    def __init__(self, key: bytes, key_id: str) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ConfigurationError("an HMAC key must be at least 16 bytes")
        if not key_id:
            raise ConfigurationError("key_id must be a non-empty string naming the key")
        self._key = key
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"HmacSigner(key_id={self.key_id!r}, key=<hidden>)"

    @classmethod
    def from_env(cls, var: str = HMAC_KEY_ENV, key_id: str | None = None) -> HmacSigner:
        """Read the key (text, UTF-8) from ``var`` and the key id from ``MAESTRO_AUDIT__KEY_ID``."""
        value = _env(var)
        if not value:
            raise ConfigurationError(f"environment variable {var} is not set; export the HMAC key")
        return cls(value.encode(), key_id or _env(KEY_ID_ENV) or "default")

    def sign(self, payload: bytes) -> str:
        """Hex HMAC-SHA256 of ``payload``."""
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def verify(self, payload: bytes, signature: str) -> bool:
        """Constant-time comparison of the expected and given signature."""
        return hmac.compare_digest(self.sign(payload), signature)


def _ed25519() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] != "cryptography":
            raise  # a broken installed dependency, not a missing extra
        raise MissingExtraError("Ed25519 checkpoint signatures", "signing", "cryptography") from exc
    return ed25519


def _key_bytes(text: str, what: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except binascii.Error:
            raw = b""
    if len(raw) != 32:
        raise ConfigurationError(f"{what} must be 32 bytes, given as hex or base64")
    return raw


class Ed25519Verifier:
    """Checks Ed25519 checkpoint signatures with a 32-byte public key."""

    algorithm = "ed25519"

    def __init__(self, public_key: bytes, key_id: str) -> None:
        if len(public_key) != 32:
            raise ConfigurationError("an Ed25519 public key is 32 raw bytes")
        self._public = _ed25519().Ed25519PublicKey.from_public_bytes(public_key)
        self.key_id = key_id

    def verify(self, payload: bytes, signature: str) -> bool:
        """Return True when the base64 ``signature`` is valid for ``payload``."""
        from cryptography.exceptions import InvalidSignature

        try:
            self._public.verify(base64.b64decode(signature), payload)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


class Ed25519Signer:
    """Signs checkpoints with an Ed25519 private key (32-byte seed); needs ``[signing]``."""

    algorithm = "ed25519"

    def __init__(self, private_key: bytes, key_id: str) -> None:
        if len(private_key) != 32:
            raise ConfigurationError("an Ed25519 private key is a 32-byte seed")
        self._private = _ed25519().Ed25519PrivateKey.from_private_bytes(private_key)
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"Ed25519Signer(key_id={self.key_id!r}, key=<hidden>)"

    @classmethod
    def generate(cls, key_id: str) -> Ed25519Signer:
        """A new random key; keep ``private_bytes()`` outside the log directory."""
        return cls(os.urandom(32), key_id)

    @classmethod
    def from_env(cls, var: str = ED25519_KEY_ENV, key_id: str | None = None) -> Ed25519Signer:
        """Read the 32-byte seed (hex or base64) from ``var``."""
        value = _env(var)
        if not value:
            raise ConfigurationError(f"environment variable {var} is not set")
        return cls(_key_bytes(value, var), key_id or _env(KEY_ID_ENV) or "default")

    def private_bytes(self) -> bytes:
        """The 32-byte seed, to store in a secret manager."""
        from cryptography.hazmat.primitives import serialization as s

        raw: bytes = self._private.private_bytes(
            s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption()
        )
        return raw

    def public_key(self) -> bytes:
        """The 32-byte public key auditors verify with."""
        from cryptography.hazmat.primitives import serialization as s

        raw: bytes = self._private.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
        return raw

    def verifier(self) -> Ed25519Verifier:
        """The matching :class:`Ed25519Verifier`."""
        return Ed25519Verifier(self.public_key(), self.key_id)

    def sign(self, payload: bytes) -> str:
        """Base64 Ed25519 signature of ``payload``."""
        return base64.b64encode(self._private.sign(payload)).decode()

    def verify(self, payload: bytes, signature: str) -> bool:
        """Check with the matching public key."""
        return self.verifier().verify(payload, signature)


def signer_from_env() -> Signer | None:
    """The signer configured in the environment, if any (Ed25519 first, then HMAC)."""
    if _env(ED25519_KEY_ENV):
        return Ed25519Signer.from_env()
    if _env(HMAC_KEY_ENV):
        return HmacSigner.from_env()
    return None


def read_checkpoints(path: str | os.PathLike[str]) -> list[Checkpoint]:
    """Read a checkpoints file (JSON Lines); a missing file has no checkpoints."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINTS_FILE
    if not p.exists():
        return []
    out = []
    for raw in p.read_bytes().splitlines():
        if raw.strip():
            out.append(Checkpoint.from_dict(orjson.loads(raw)))
    return out


def checkpoint_line_hash(line: bytes) -> str:
    """SHA-256 of a checkpoint line, chained into the next checkpoint."""
    return hashlib.sha256(line).hexdigest()
