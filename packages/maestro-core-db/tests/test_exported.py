"""The public namespace is exactly __all__, the original names still work, and importing the
package stays light."""

from __future__ import annotations

import maestro_core_db
from maestro_testkit import assert_light_import, assert_public_namespace, package_version


def test_all_matches_the_public_namespace() -> None:
    """__all__ is sorted and lists exactly the public names, plus __version__."""
    assert_public_namespace(maestro_core_db)


def test_version_comes_from_the_metadata() -> None:
    """__version__ is the installed distribution's version."""
    assert maestro_core_db.__version__ == package_version("maestro-core-db")


def test_import_loads_no_driver_and_no_alembic() -> None:
    """import maestro_core_db loads SQLAlchemy's ORM, but no database driver and no Alembic."""
    assert_light_import(
        "maestro_core_db",
        ["alembic", "psycopg", "aiosqlite", "asyncpg", "pymysql", "asyncmy", "maestro_resilience"],
    )


def test_original_names_are_the_same_objects() -> None:
    """The original package's exception names are aliases of the new classes."""
    m = maestro_core_db
    assert m.DatabaseException is m.MaestroDBError
    assert m.ConnectionPoolExhaustedException is m.PoolExhaustedError
    assert m.DeadlockException is m.DeadlockError
    assert m.SerializationException is m.SerializationFailureError
    assert m.UniqueViolationException is m.UniqueViolationError
    assert m.EntityNotFoundException is m.EntityNotFoundError
    assert m.ConfigurationError is m.DatabaseConfigError


def test_every_public_class_belongs_to_the_package() -> None:
    """Public classes are defined in maestro_core_db's modules."""
    for name in maestro_core_db.__all__:
        obj = getattr(maestro_core_db, name)
        if isinstance(obj, type):
            assert obj.__module__.startswith("maestro_core_db"), name


def test_builtin_connection_error_still_catches_ours() -> None:
    """'from maestro_core_db import ConnectionError' is still a builtins.ConnectionError."""
    import builtins

    assert issubclass(maestro_core_db.ConnectionError, builtins.ConnectionError)
