"""deploy/compose.at-scale.yaml documents real settings: every variable and secret lands."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from reference_service.settings import Settings

from .conftest import CONFIG, EXAMPLE

COMPOSE = EXAMPLE / "deploy" / "compose.at-scale.yaml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_compose_variables_and_secrets_configure_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each MAESTRO_* of the replicas is a known setting (a misspelt one would warn, and
    warnings are errors here) and each mounted secret fills the field of its name."""
    compose = _compose()
    orders = compose["services"]["orders"]
    for name, value in orders["environment"].items():
        monkeypatch.setenv(name, str(CONFIG) if name == "MAESTRO_CONFIG_DIR" else str(value))
    written = {}
    for name in orders["secrets"]:
        assert name in compose["secrets"], name
        written[name] = secrets.token_urlsafe(24)
        (tmp_path / name).write_text(written[name])
    s = Settings.load(secrets_dir=tmp_path)
    assert s.environment.value == "production"
    db = (s.db.driver, s.db.host, s.db.name, s.db.user)
    assert db == ("postgresql", "pg", "orders", "orders")
    assert s.db.url.get_secret_value().count(written["db__password"]) == 1
    assert s.cache.url.get_secret_value() == "redis://cache:6379/0"
    assert s.cache.local_ttl == 5
    assert s.broker.url.get_secret_value().startswith("amqp://guest@mq:5672")
    assert s.monitoring.otlp_endpoint == "http://otel-collector:4318"
    assert s.pricing.url == "http://pricing:8001"
    assert str(s.audit.directory) == "/var/lib/orders/audit"
    assert s.auth.hmac_secret is not None
    assert s.auth.hmac_secret.get_secret_value() == written["auth__hmac_secret"]
    assert s.http.cursor_secret is not None
    assert s.http.cursor_secret.get_secret_value() == written["http__cursor_secret"]
    assert s.users.clerk_password is not None
    assert s.users.clerk_password.get_secret_value() == written["users__clerk_password"]
    assert s.logging.format == "json"  # production.yaml was read


def test_the_compose_file_holds_no_credential() -> None:
    """Passwords come from secret files: no URL in the file carries one."""
    text = COMPOSE.read_text()
    for line in text.splitlines():
        if "://" in line and "@" in line:
            userinfo = line.split("://", 1)[1].split("@", 1)[0]
            assert ":" not in userinfo, line
