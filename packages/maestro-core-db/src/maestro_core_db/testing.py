"""The pytest plugin of maestro-core-db (entry point ``pytest11``): inert until configured.

pytest loads this module in every session, so it only adds options; the fixtures live in
``maestro_core_db._fixtures`` and are imported and registered only once configured.

Configure with ``--db-url URL`` or ``MAESTRO_TEST_DB__URL``; then the fixtures exist:

- ``db``: a session-wide DatabaseManager on a database of its own (PostgreSQL/MariaDB: created
  on the server of the URL with a unique name and dropped at the end; SQLite: a temporary
  file), its schema created once from ``--db-models pkg.module:Base`` (default: every model
  on ``maestro_core_db.Base``) or migrated with ``--db-migrations DIR``.
- ``db_session`` / ``db_session_sync``: a session inside an outer transaction that is rolled
  back after the test; code under test may commit (commits become savepoints).
- ``fresh_database``: a DatabaseManager on a clone of the test database (PostgreSQL
  ``CREATE DATABASE ... TEMPLATE``, a file copy on SQLite) for tests that run DDL.

Without a URL the plugin registers nothing.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]

URL_VARIABLE = "MAESTRO_TEST_DB__URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("maestro-core-db", "maestro-core-db test database")
    group.addoption("--db-url", default=None, help=f"test database server URL (or ${URL_VARIABLE})")
    group.addoption(
        "--db-models", default=None, help="models for create_all, as 'package.module:Base'"
    )
    group.addoption("--db-migrations", default=None, help="migrations directory to upgrade instead")


def pytest_configure(config: pytest.Config) -> None:
    url = config.getoption("--db-url", default=None) or os.environ.get(URL_VARIABLE)
    if not url:
        return  # inert: no fixtures, no imports beyond pytest
    from . import _fixtures

    _fixtures.SETTINGS.update(
        url=url,
        models=config.getoption("--db-models", default=None),
        migrations=config.getoption("--db-migrations", default=None),
    )
    config.pluginmanager.register(_fixtures, "maestro_core_db_fixtures")
