"""Production-ready SQLAlchemy 2 for Maestro services: engines with safe defaults, sessions and
retrying transactions, a declarative Base with mixins, fast repositories, locked migrations
and test fixtures, on SQLite (embedded), PostgreSQL and MariaDB."""

from ._errors import (
    ConfigurationError,
    ConnectionError,
    DatabaseConfigError,
    DeadlockError,
    EntityNotFoundError,
    ForeignKeyViolationError,
    IntegrityError,
    LazyLoadError,
    MaestroDBError,
    MigrationError,
    MigrationLockError,
    MissingExtraError,
    NotNullViolationError,
    PoolExhaustedError,
    QueryTimeoutError,
    SerializationFailureError,
    StaleDataError,
    TransientError,
    UniqueViolationError,
)
from ._manager import DatabaseManager, SyncDatabase, create_session_dependency
from ._migrations import MigrationManager
from ._model import (
    AuditMixin,
    Base,
    SoftDeleteMixin,
    TenantMixin,
    TimestampMixin,
    UTCDateTime,
    UUIDPrimaryKeyMixin,
    VersionMixin,
    uuid7,
)
from ._repository import BaseRepository, Page
from ._stats import DatabaseHealth, MigrationStatus, PoolStats
from ._version import __version__

# the original package's names (same objects)
DatabaseException = MaestroDBError
ConnectionPoolExhaustedException = PoolExhaustedError
DeadlockException = DeadlockError
SerializationException = SerializationFailureError
UniqueViolationException = UniqueViolationError
EntityNotFoundException = EntityNotFoundError

__all__ = [
    "AuditMixin",
    "Base",
    "BaseRepository",
    "ConfigurationError",
    "ConnectionError",
    "ConnectionPoolExhaustedException",
    "DatabaseConfigError",
    "DatabaseException",
    "DatabaseHealth",
    "DatabaseManager",
    "DeadlockError",
    "DeadlockException",
    "EntityNotFoundError",
    "EntityNotFoundException",
    "ForeignKeyViolationError",
    "IntegrityError",
    "LazyLoadError",
    "MaestroDBError",
    "MigrationError",
    "MigrationLockError",
    "MigrationManager",
    "MigrationStatus",
    "MissingExtraError",
    "NotNullViolationError",
    "Page",
    "PoolExhaustedError",
    "PoolStats",
    "QueryTimeoutError",
    "SerializationException",
    "SerializationFailureError",
    "SoftDeleteMixin",
    "StaleDataError",
    "SyncDatabase",
    "TenantMixin",
    "TimestampMixin",
    "TransientError",
    "UTCDateTime",
    "UUIDPrimaryKeyMixin",
    "UniqueViolationError",
    "UniqueViolationException",
    "VersionMixin",
    "__version__",
    "create_session_dependency",
    "uuid7",
]
