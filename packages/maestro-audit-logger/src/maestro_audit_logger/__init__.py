"""maestro-audit-logger: a tamper-evident, crash-safe audit trail with safe exports.

Events are appended to hash-chained JSON Lines segments under a directory lock, with a
named durability mode; checkpoints (optionally signed) vouch for closed segments;
``verify()`` says what was modified, removed, reordered or truncated, and where.
"""

from maestro_audit_logger._checkpoint import (
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    HmacSigner,
    Signer,
    Verifier,
    read_checkpoints,
)
from maestro_audit_logger._context import audit_context
from maestro_audit_logger._errors import (
    AuditBufferFullError,
    AuditCorruptionError,
    AuditLoggerClosedError,
    AuditStorageError,
    CheckpointSinkError,
    ConfigurationError,
    InvalidEventError,
    MaestroAuditError,
    MissingExtraError,
)
from maestro_audit_logger._event import AuditEvent, Outcome, Resource
from maestro_audit_logger._export import ExportResult, export
from maestro_audit_logger._logger import AuditLogger, Durability, LoggerStats, Overflow
from maestro_audit_logger._masking import DEFAULT_MASK_KEYS
from maestro_audit_logger._reader import read_events
from maestro_audit_logger._verify import Issue, VerifyResult, verify
from maestro_audit_logger._version import __version__

__all__ = [  # noqa: RUF022 - plain sorted(), as the family contract checks
    "AuditBufferFullError",
    "AuditCorruptionError",
    "AuditEvent",
    "AuditLogger",
    "AuditLoggerClosedError",
    "AuditStorageError",
    "Checkpoint",
    "CheckpointSinkError",
    "ConfigurationError",
    "DEFAULT_MASK_KEYS",
    "Durability",
    "Ed25519Signer",
    "Ed25519Verifier",
    "ExportResult",
    "HmacSigner",
    "InvalidEventError",
    "Issue",
    "LoggerStats",
    "MaestroAuditError",
    "MissingExtraError",
    "Outcome",
    "Overflow",
    "Resource",
    "Signer",
    "Verifier",
    "VerifyResult",
    "__version__",
    "audit_context",
    "export",
    "read_checkpoints",
    "read_events",
    "verify",
]


def __getattr__(name: str) -> object:
    """Deprecated names: each warns once (``DeprecationWarning``) and names the new one."""
    if name == "AuditConfigError":
        from maestro_audit_logger._deprecation import warn_once

        warn_once("maestro_audit_logger.AuditConfigError", "ConfigurationError")
        return ConfigurationError
    raise AttributeError(f"module 'maestro_audit_logger' has no attribute {name!r}")
