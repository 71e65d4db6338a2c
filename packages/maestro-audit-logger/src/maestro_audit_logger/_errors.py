"""The error family of maestro-audit-logger.

::

    MaestroAuditError
    ├── ConfigurationError (ValueError)      a bad argument: durability, sizes, policy, keys
    ├── InvalidEventError (ValueError)       an event that cannot be recorded as given
    ├── AuditStorageError (OSError)          the directory or disk refused a read or write
    ├── AuditBufferFullError                 ``batch`` buffer full under ``overflow="raise"``
    ├── AuditLoggerClosedError               ``log()`` after ``close()``
    ├── AuditCorruptionError                 damage found on open that must not be auto-repaired
    ├── CheckpointSinkError                  the external checkpoint sink raised
    └── MissingExtraError (ImportError)      an optional extra is not installed

``AuditConfigError`` is the deprecated name of :class:`ConfigurationError`.
Messages say what was wrong and what to do; they never contain secret values.
"""

from __future__ import annotations

DISTRIBUTION = "maestro-audit-logger"


class MaestroAuditError(Exception):
    """Base class of every error raised by maestro-audit-logger."""


class ConfigurationError(MaestroAuditError, ValueError):
    """An argument or setting is invalid; the message names it and a valid value."""


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
    """An optional extra is not installed.

    ``MissingExtraError(feature, extra, module)``: the message reads
    ``"<feature> needs the <extra> extra: pip install 'maestro-audit-logger[<extra>]'"``.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install '{DISTRIBUTION}[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))
