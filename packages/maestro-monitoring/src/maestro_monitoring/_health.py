"""The health registry: checks run concurrently with per-check timeouts, cached, never raising."""

from __future__ import annotations

import asyncio
import enum
import inspect
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ._errors import ConfigurationError

__all__ = ["HEALTH_MEDIA_TYPE", "CheckResult", "HealthCheck", "HealthReport", "HealthStatus"]

HEALTH_MEDIA_TYPE = "application/health+json"
_SECRET_IN_URL = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")


class HealthStatus(enum.StrEnum):
    """The status of one check or of a report (the health+json values)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: ``reason`` says why it did not pass."""

    name: str
    status: HealthStatus
    critical: bool
    duration: float
    observed_at: datetime
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The health+json entry of this check."""
        entry: dict[str, Any] = {
            "status": self.status.value,
            "componentType": "component",
            "observedValue": round(self.duration, 6),
            "observedUnit": "s",
            "time": self.observed_at.isoformat(),
        }
        if self.reason:
            entry["output"] = self.reason
        return entry


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every check's result and the overall status (fail if a critical check failed)."""

    status: HealthStatus
    checks: Mapping[str, CheckResult] = field(default_factory=dict)
    service: str | None = None
    version: str | None = None

    @property
    def http_status(self) -> int:
        """200 for pass and warn, 503 for fail."""
        return 503 if self.status is HealthStatus.FAIL else 200

    def to_dict(self) -> dict[str, Any]:
        """The report as ``application/health+json``."""
        body: dict[str, Any] = {"status": self.status.value}
        if self.service:
            body["serviceId"] = self.service
        if self.version:
            body["version"] = self.version
        body["checks"] = {name: [r.to_dict()] for name, r in self.checks.items()}
        return body


@dataclass(frozen=True, slots=True)
class _Check:
    name: str
    fn: Callable[[], Any]
    timeout: float
    critical: bool


def _seconds(value: object, what: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{what} must be positive seconds (or a timedelta), got {value!r}")
    return float(value)


def _describe(exc: BaseException) -> str:
    text = _SECRET_IN_URL.sub(r"\1***@", str(exc))
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Sync:
    def __init__(self, owner: HealthCheck) -> None:
        self._owner = owner

    def run_checks(self) -> HealthReport:
        """Run the checks from synchronous code (not inside a running event loop)."""
        return asyncio.run(self._owner.run_checks())


class HealthCheck:
    """A registry of health checks (sync or async callables).

    A check passes when it returns anything but ``False`` (or a ``HealthStatus``) within
    its timeout. A failing critical check fails the report; a failing non-critical one
    makes it ``warn``. ``cache_ttl`` seconds reuse the last report (probes hit it often).
    """

    def __init__(
        self,
        *,
        cache_ttl: float | timedelta = 0.0,
        service: str | None = None,
        version: str | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        ttl = cache_ttl.total_seconds() if isinstance(cache_ttl, timedelta) else cache_ttl
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise ConfigurationError(f"cache_ttl must be >= 0 seconds, got {cache_ttl!r}")
        self.cache_ttl = float(ttl)
        self.service = service
        self.version = version
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._checks: dict[str, _Check] = {}
        self._cached: tuple[float, HealthReport] | None = None
        self.sync = _Sync(self)

    def __repr__(self) -> str:
        return f"HealthCheck(checks={list(self._checks)})"

    @property
    def names(self) -> list[str]:
        """The registered check names, in registration order."""
        return list(self._checks)

    def register_check(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        timeout: float | timedelta = 5.0,
        critical: bool = True,
    ) -> None:
        """Add (or replace) the check ``name``."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"a check needs a non-empty name, got {name!r}")
        if not callable(fn):
            raise ConfigurationError(
                f"check {name!r} needs a callable (for example db.ping, not db.ping()), "
                f"got {type(fn).__name__}"
            )
        self._checks[name] = _Check(name, fn, _seconds(timeout, "timeout"), bool(critical))
        self._cached = None

    def remove_check(self, name: str) -> None:
        """Remove the check ``name`` (no error when it is absent)."""
        self._checks.pop(name, None)
        self._cached = None

    async def run_checks(self) -> HealthReport:
        """Run every check concurrently; never raises for a failing check."""
        if self._cached is not None and self._monotonic() - self._cached[0] < self.cache_ttl:
            return self._cached[1]
        checks = list(self._checks.values())
        results = await asyncio.gather(*(self._run(c) for c in checks))
        status = HealthStatus.PASS
        for result in results:
            if result.status is HealthStatus.FAIL and result.critical:
                status = HealthStatus.FAIL
                break
            if result.status is not HealthStatus.PASS:
                status = HealthStatus.WARN
        report = HealthReport(status, {r.name: r for r in results}, self.service, self.version)
        self._cached = (self._monotonic(), report)
        return report

    async def _run(self, check: _Check) -> CheckResult:
        started = time.perf_counter()
        reason: str | None = None
        try:
            async with asyncio.timeout(check.timeout):
                if inspect.iscoroutinefunction(check.fn):
                    value = await check.fn()
                else:
                    value = await asyncio.to_thread(check.fn)
                    if inspect.isawaitable(value):
                        value = await value
            if isinstance(value, HealthStatus):
                status = value
                if status is not HealthStatus.PASS:
                    reason = f"reported {status.value}"
            elif value is False:
                status, reason = HealthStatus.FAIL, "returned False"
            else:
                status = HealthStatus.PASS
        except TimeoutError:
            status, reason = HealthStatus.FAIL, f"timed out after {check.timeout:g}s"
        except Exception as exc:
            status, reason = HealthStatus.FAIL, _describe(exc)
        if status is HealthStatus.FAIL and not check.critical:
            status = HealthStatus.WARN
        return CheckResult(
            check.name,
            status,
            check.critical,
            time.perf_counter() - started,
            self._clock(),
            reason,
        )
