"""DatabaseSettings' pool and replica fields: what maestro-core-db's from_settings takes."""

from __future__ import annotations

import json
import secrets

import pytest
from maestro_core_config import DatabaseSettings, MaestroSettings, MaestroSettingsConfigDict
from pydantic import SecretStr, ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    db: DatabaseSettings = DatabaseSettings()


def test_db_pool_defaults_are_the_production_ones() -> None:
    """With nothing configured: overflow 5, recycle 30 min, 30 s statements, no replicas."""
    db = DatabaseSettings()
    assert db.max_overflow == 5
    assert db.pool_recycle == 1800.0
    assert db.statement_timeout == 30.0
    assert db.read_replica_urls == ()
    assert db.pgbouncer is False


def test_db_pool_fields_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_DB__* variables fill the new fields; replica URLs stay hidden in repr."""
    password = secrets.token_urlsafe(12)
    replica = f"postgresql://app:{password}@replica:5432/orders"
    monkeypatch.setenv("MAESTRO_DB__MAX_OVERFLOW", "0")
    monkeypatch.setenv("MAESTRO_DB__POOL_RECYCLE", "600")
    monkeypatch.setenv("MAESTRO_DB__STATEMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("MAESTRO_DB__READ_REPLICA_URLS", json.dumps([replica]))
    monkeypatch.setenv("MAESTRO_DB__PGBOUNCER", "true")
    db = _Settings().db
    assert db.max_overflow == 0
    assert db.pool_recycle == 600.0
    assert db.statement_timeout == 2.5
    assert len(db.read_replica_urls) == 1
    assert isinstance(db.read_replica_urls[0], SecretStr)
    assert db.read_replica_urls[0].get_secret_value() == replica
    assert db.pgbouncer is True
    assert password not in repr(db)


def test_db_pool_fields_refuse_bad_values() -> None:
    """A negative overflow, a zero recycle or a negative statement timeout is an error."""
    with pytest.raises(ValidationError):
        DatabaseSettings(max_overflow=-1)
    with pytest.raises(ValidationError):
        DatabaseSettings(pool_recycle=0)
    with pytest.raises(ValidationError):
        DatabaseSettings(statement_timeout=-1)


def test_db_url_input_keeps_the_new_fields_beside_it() -> None:
    """A whole URL as input and the new fields together: both are kept."""
    db = DatabaseSettings.model_validate(
        {"url": "postgresql://app@db:5432/orders", "max_overflow": 2, "pgbouncer": True}
    )
    assert db.host == "db"
    assert db.max_overflow == 2
    assert db.pgbouncer is True
