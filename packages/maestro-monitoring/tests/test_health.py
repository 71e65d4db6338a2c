"""HealthCheck: concurrent checks, per-check timeouts, pass/warn/fail, never raising."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from maestro_monitoring import (
    CheckResult,
    ConfigurationError,
    HealthCheck,
    HealthReport,
    HealthStatus,
)
from maestro_testkit import FakeClock


async def test_all_passing_is_pass() -> None:
    """Sync and async checks that succeed make a passing report."""
    health = HealthCheck()

    async def db() -> bool:
        return True

    health.register_check("db", db)
    health.register_check("cache", lambda: None)
    report = await health.run_checks()
    assert isinstance(report, HealthReport)
    assert report.status is HealthStatus.PASS
    assert set(report.checks) == {"db", "cache"}
    assert all(isinstance(r, CheckResult) for r in report.checks.values())
    assert report.http_status == 200


async def test_raise_hang_and_false_fail_with_reasons() -> None:
    """A check that raises, hangs or returns False fails with its reason; nothing propagates."""
    health = HealthCheck()

    async def hangs() -> None:
        await asyncio.sleep(3600)

    def raises() -> None:
        raise ConnectionError("postgresql://app:s3cret@db:5432/app refused")

    health.register_check("hangs", hangs, timeout=0.05)
    health.register_check("raises", raises)
    health.register_check("false", lambda: False)
    report = await health.run_checks()
    assert report.status is HealthStatus.FAIL
    assert report.http_status == 503
    checks = report.checks
    assert checks["hangs"].status is HealthStatus.FAIL
    assert checks["hangs"].reason == "timed out after 0.05s"
    assert checks["raises"].reason is not None
    assert checks["raises"].reason.startswith("ConnectionError: ")
    assert "s3cret" not in checks["raises"].reason
    assert checks["false"].reason == "returned False"


async def test_non_critical_failures_warn() -> None:
    """A failing non-critical check makes the report warn, not fail."""
    health = HealthCheck()
    health.register_check("db", lambda: True)
    health.register_check("cache", lambda: False, critical=False)
    report = await health.run_checks()
    assert report.status is HealthStatus.WARN
    assert report.checks["cache"].status is HealthStatus.WARN
    assert report.http_status == 200


async def test_checks_run_concurrently() -> None:
    """Three 0.2 s checks take about 0.2 s together, not 0.6 s."""
    health = HealthCheck()

    async def slow() -> None:
        await asyncio.sleep(0.2)

    for name in ("a", "b", "c"):
        health.register_check(name, slow)
    started = time.perf_counter()
    report = await health.run_checks()
    assert time.perf_counter() - started < 0.55
    assert report.status is HealthStatus.PASS


async def test_reports_are_cached_for_cache_ttl(fake_clock: FakeClock) -> None:
    """Within cache_ttl the last report is reused; after it the checks run again."""
    calls = 0

    def check() -> bool:
        nonlocal calls
        calls += 1
        return True

    health = HealthCheck(cache_ttl=timedelta(seconds=5), monotonic=fake_clock.monotonic)
    health.register_check("db", check)
    first = await health.run_checks()
    assert await health.run_checks() is first
    fake_clock.advance(6)
    await health.run_checks()
    assert calls == 2


def test_health_json_rendering() -> None:
    """to_dict() is application/health+json with the service and per-check entries."""
    clock = FakeClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    health = HealthCheck(service="orders", version="1.4.2", clock=clock.now)
    health.register_check("db", lambda: False, critical=False)
    body = health.sync.run_checks().to_dict()
    assert body["status"] == "warn"
    assert body["serviceId"] == "orders"
    assert body["version"] == "1.4.2"
    entry = body["checks"]["db"][0]
    assert entry["status"] == "warn"
    assert entry["output"] == "returned False"
    assert entry["time"] == "2026-01-02T03:04:05+00:00"


def test_bad_registrations_are_refused() -> None:
    """Empty names, non-callables and non-positive timeouts are ConfigurationErrors."""
    health = HealthCheck()
    with pytest.raises(ConfigurationError, match="non-empty name"):
        health.register_check("", lambda: True)
    with pytest.raises(ConfigurationError, match=r"not db\.ping"):
        health.register_check("db", True)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        health.register_check("db", lambda: True, timeout=0)
    health.register_check("db", lambda: True)
    health.remove_check("db")
    assert health.names == []
