"""The error family of maestro-audit-logger.

::

    MaestroAuditError
    ├── AuditConfigError (ValueError)        a bad setting: durability, sizes, policy, keys
    ├── InvalidEventError (ValueError)       an event that cannot be recorded as given
    ├── AuditStorageError (OSError)          the directory or disk refused a read or write
    ├── AuditBufferFullError                 ``batch`` buffer full under ``overflow="raise"``
    ├── AuditLoggerClosedError               ``log()`` after ``close()``
    ├── AuditCorruptionError                 damage found on open that must not be auto-repaired
    ├── CheckpointSinkError                  the external checkpoint sink raised
    └── MissingExtraError (ImportError)      an optional extra is not installed

Messages say what was wrong and what to do; they never contain secret values.
"""

from __future__ import annotations


class MaestroAuditError(Exception):
    """Base class of every error raised by maestro-audit-logger."""


class AuditConfigError(MaestroAuditError, ValueError):
    """A logger or verifier setting is invalid."""


class InvalidEventError(MaestroAuditError, ValueError):
    """An event cannot be recorded: empty type, bad field, non-serialisable value."""


class AuditStorageError(MaestroAuditError, OSError):
    """The audit directory or the disk refused an operation (unwritable, full, missing)."""


class AuditBufferFullError(MaestroAuditError):
    """The ``batch`` buffer is full and the overflow policy is ``"raise"``."""


class AuditLoggerClosedError(MaestroAuditError):
    """The logger was closed; open a new one to keep logging."""


class AuditCorruptionError(MaestroAuditError):
    """Damage other than a torn last line was found; it is reported, never auto-repaired."""


class CheckpointSinkError(MaestroAuditError):
    """The external checkpoint sink raised; the checkpoint is still in the local file."""


class MissingExtraError(MaestroAuditError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` line."""
