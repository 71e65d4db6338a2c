"""What a migrations directory's ``env.py`` calls: ``run_migrations(context)``.

The connection is the one MigrationManager / ``maestro-db`` passes in
(``config.attributes["connection"]``); run alone, ``env.py`` connects to ``MAESTRO_DB__URL``.
``target_metadata`` comes from ``config.attributes["target_metadata"]`` (``maestro-db
--models pkg.models:Base`` or ``MigrationManager(metadata=...)``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from ._errors import DatabaseConfigError

__all__ = ["load_metadata", "render_item", "run_migrations"]


def load_metadata(spec: str) -> Any:
    """``"package.module:Base"`` (or ``:Base.metadata``) -> the MetaData to compare against."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise DatabaseConfigError(f"models must look like 'package.module:Base', got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DatabaseConfigError(f"cannot import {module_name!r} for --models: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise DatabaseConfigError(f"{module_name} has no attribute {attribute!r}") from None
    return getattr(target, "metadata", target)


def run_migrations(context: Any) -> None:
    """Configure Alembic's ``context`` with our connection and run the migrations."""
    config = context.config
    metadata = config.attributes.get("target_metadata")
    connection = config.attributes.get("connection")
    if connection is None:
        from ._manager import DatabaseManager

        url = os.environ.get("MAESTRO_DB__URL")
        if not url:
            raise DatabaseConfigError(
                "no database connection: run migrations through maestro-db or "
                "MigrationManager, or set MAESTRO_DB__URL"
            )
        db = DatabaseManager(url)
        try:
            with db.sync.engine.begin() as conn:
                _run(context, conn, metadata)
        finally:
            db.sync.shutdown()
        return
    _run(context, connection, metadata)


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Autogenerate renders maestro_core_db's column types by their public name."""
    from ._model import UTCDateTime

    if kind == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import maestro_core_db")
        return "maestro_core_db.UTCDateTime()"
    return False


def _run(context: Any, connection: Any, metadata: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
