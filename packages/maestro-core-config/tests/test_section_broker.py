"""BrokerSettings' delivery fields: what maestro-core-messaging's from_settings takes."""

from __future__ import annotations

import json

import pytest
from maestro_core_config import BrokerSettings, MaestroSettings, MaestroSettingsConfigDict
from pydantic import ValidationError


class _Settings(MaestroSettings):
    model_config = MaestroSettingsConfigDict(secrets_dir=None)

    broker: BrokerSettings = BrokerSettings()


def test_broker_delivery_defaults() -> None:
    """With nothing configured: 5 deliveries, backoff 1/5/30 s, confirms on, quorum queues."""
    broker = BrokerSettings()
    assert broker.max_deliveries == 5
    assert broker.backoff == (1.0, 5.0, 30.0)
    assert broker.confirm is True
    assert broker.publish_window == 100
    assert broker.drain_timeout == 30.0
    assert broker.queue_type == "quorum"
    assert broker.stream_maxlen == 1_000_000
    assert broker.reclaim_idle == 60.0
    assert broker.max_message_bytes == 1_048_576


def test_broker_delivery_fields_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAESTRO_BROKER__* variables fill the delivery fields."""
    monkeypatch.setenv("MAESTRO_BROKER__URL", "redis://cache:6379/0")
    monkeypatch.setenv("MAESTRO_BROKER__MAX_DELIVERIES", "3")
    monkeypatch.setenv("MAESTRO_BROKER__BACKOFF", json.dumps([0.5, 2]))
    monkeypatch.setenv("MAESTRO_BROKER__CONFIRM", "false")
    monkeypatch.setenv("MAESTRO_BROKER__RECLAIM_IDLE", "15")
    monkeypatch.setenv("MAESTRO_BROKER__QUEUE_TYPE", "classic")
    broker = _Settings().broker
    assert broker.backend == "redis"
    assert broker.max_deliveries == 3
    assert broker.backoff == (0.5, 2.0)
    assert broker.confirm is False
    assert broker.reclaim_idle == 15.0
    assert broker.queue_type == "classic"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_deliveries", 0),
        ("backoff", (-1.0,)),
        ("reclaim_idle", 0),
        ("queue_type", "stream"),
        ("publish_window", 0),
        ("drain_timeout", -1),
    ],
)
def test_broker_delivery_fields_refuse_bad_values(field: str, value: object) -> None:
    """Zero deliveries, a negative backoff, a zero reclaim time or an unknown queue type fail."""
    with pytest.raises(ValidationError, match=field):
        BrokerSettings.model_validate({field: value})
