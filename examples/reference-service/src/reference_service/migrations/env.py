"""Alembic environment written by `maestro-db init`.

The connection comes from maestro-core-db (MAESTRO_DB__URL or the running application),
never from alembic.ini. Point target_metadata at your models for autogenerate.
"""

from alembic import context
from maestro_core_db.migrations import run_migrations

run_migrations(context)
