"""Family conventions: error names, deprecated aliases, environment names, async twins, clocks."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from pathlib import Path

import maestro_audit_logger
import pytest
from maestro_audit_logger import (
    AuditEvent,
    AuditLogger,
    ConfigurationError,
    HmacSigner,
    MaestroAuditError,
    _deprecation,
    read_checkpoints,
)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-per-process deprecation warnings afresh."""
    monkeypatch.setattr(_deprecation, "_warned", set())


def test_configuration_error_is_in_the_family_and_a_value_error() -> None:
    """ConfigurationError subclasses MaestroAuditError and ValueError."""
    assert issubclass(ConfigurationError, MaestroAuditError)
    assert issubclass(ConfigurationError, ValueError)
    with pytest.raises(ConfigurationError, match="durability"):
        AuditLogger("unused", durability="fast")  # type: ignore[arg-type]


def test_audit_config_error_is_a_deprecated_alias_warning_once() -> None:
    """The old AuditConfigError name still works, warning once and naming the new one."""
    with pytest.warns(DeprecationWarning, match="use ConfigurationError"):
        alias = maestro_audit_logger.AuditConfigError
    assert alias is ConfigurationError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert maestro_audit_logger.AuditConfigError is ConfigurationError
    assert "AuditConfigError" not in maestro_audit_logger.__all__


def test_family_environment_names_configure_the_signer(audit_dir: Path, monkeypatch) -> None:
    """MAESTRO_AUDIT__HMAC_KEY and MAESTRO_AUDIT__KEY_ID sign checkpoints."""
    monkeypatch.setenv("MAESTRO_AUDIT__HMAC_KEY", "k" * 32)
    monkeypatch.setenv("MAESTRO_AUDIT__KEY_ID", "family")
    with AuditLogger(audit_dir) as log:
        log.log(AuditEvent("a.tick"))
    assert read_checkpoints(audit_dir)[0].key_id == "family"


def test_old_environment_names_still_work_with_one_warning(audit_dir: Path, monkeypatch) -> None:
    """MAESTRO_AUDIT_HMAC_KEY (old spelling) is read, warning once with the new name."""
    monkeypatch.delenv("MAESTRO_AUDIT__HMAC_KEY", raising=False)
    monkeypatch.delenv("MAESTRO_AUDIT__KEY_ID", raising=False)
    monkeypatch.setenv("MAESTRO_AUDIT_HMAC_KEY", "k" * 32)
    monkeypatch.setenv("MAESTRO_AUDIT_KEY_ID", "old")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        signer = HmacSigner.from_env()
        HmacSigner.from_env()
    assert signer.key_id == "old"
    assert all(w.category is DeprecationWarning for w in record)
    messages = [str(w.message) for w in record]
    assert sum("MAESTRO_AUDIT_HMAC_KEY is deprecated" in m for m in messages) == 1
    assert any("use MAESTRO_AUDIT__HMAC_KEY" in m for m in messages)
    assert sum("MAESTRO_AUDIT_KEY_ID is deprecated" in m for m in messages) == 1


def test_batch_interval_is_seconds_or_timedelta(audit_dir: Path) -> None:
    """batch_interval takes seconds or a timedelta; a non-positive value is refused."""
    with AuditLogger(audit_dir, durability="batch", batch_interval=timedelta(seconds=30)) as log:
        assert log._interval == 30.0
    with pytest.raises(ConfigurationError, match="seconds"):
        AuditLogger(audit_dir, durability="batch", batch_interval=0)


def test_batch_interval_ms_is_a_deprecated_alias(audit_dir: Path) -> None:
    """batch_interval_ms= still works (converted to seconds) and warns once."""
    with pytest.warns(DeprecationWarning, match="batch_interval="):
        log = AuditLogger(audit_dir, durability="batch", batch_interval_ms=250)
    with log:
        assert log._interval == 0.25


def test_naive_clock_is_an_error_saying_to_attach_a_timezone(audit_dir: Path) -> None:
    """A clock returning a naive datetime fails with 'attach a timezone'."""

    def naive() -> datetime:
        return datetime(2026, 1, 1)

    with (
        AuditLogger(audit_dir, clock=naive) as log,
        pytest.raises(ConfigurationError, match="attach a timezone"),
    ):
        log.log(AuditEvent("a.tick"))


def test_naive_query_bound_says_to_attach_a_timezone(audit_dir: Path) -> None:
    """since= without a timezone fails with 'attach a timezone'."""
    with (
        AuditLogger(audit_dir) as log,
        pytest.raises(ConfigurationError, match="attach a timezone"),
    ):
        list(log.query(since=datetime(2026, 1, 1)))


def test_monotonic_drives_the_batch_deadline(audit_dir: Path, fake_clock) -> None:
    """monotonic= is the clock of the batch flusher's deadline."""
    with AuditLogger(
        audit_dir,
        durability="batch",
        batch_interval=5.0,
        monotonic=fake_clock.monotonic,
        clock=fake_clock.now,
    ) as log:
        assert log._monotonic == fake_clock.monotonic


async def test_async_twins_use_the_a_prefix(audit_dir: Path) -> None:
    """alog, aflush, acheckpoint, averify and aclose mirror the sync methods."""
    log = AuditLogger(audit_dir, checkpoint_on_close=False)
    async with log:
        await log.alog(AuditEvent("a.tick"))
        await log.aflush()
        cp = await log.acheckpoint()
        assert cp is not None
        assert cp.last_sequence == 1
        assert await log.averify()
    with pytest.raises(maestro_audit_logger.AuditLoggerClosedError):
        log.log(AuditEvent("a.late"))
