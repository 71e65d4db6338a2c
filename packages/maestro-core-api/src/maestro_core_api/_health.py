"""Health checks and the probe routes (``/livez``, ``/readyz``, ``/startupz``), rendered as
``application/health+json`` (draft-inadarei-api-health-check)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Request
from starlette.responses import Response

from ._errors import ConfigurationError
from ._middleware import in_networks, parse_networks, seconds

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["CheckResult", "HealthCheck", "HealthReport", "Lifecycle", "create_health_routes"]

Status = Literal["pass", "warn", "fail"]
HEALTH_CONTENT_TYPE = "application/health+json"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome: status, its duration in ms, when it ran, and why it failed."""

    name: str
    status: Status
    duration_ms: float
    time: datetime
    output: str | None = None
    critical: bool = True


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every check's result and the overall status (``fail`` if a critical check failed)."""

    status: Status
    checks: dict[str, CheckResult] = field(default_factory=dict)


@dataclass(slots=True)
class _Check:
    name: str
    fn: Callable[[], object]
    timeout: float
    critical: bool


class HealthCheck:
    """A registry of readiness checks, run concurrently, each with its own timeout.

    ``register_check(name, fn, timeout=1.0, critical=True)``: *fn* is any sync or async
    callable; it fails by raising, by returning ``False``, or by overrunning its timeout.
    A non-critical failure makes the report ``warn`` (still ready). Results are cached
    for ``cache_ttl`` seconds so probes cannot hammer dependencies.
    """

    def __init__(
        self,
        *,
        cache_ttl: float | timedelta = 1.0,
        default_timeout: float | timedelta = 1.0,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(cache_ttl, timedelta):
            cache_ttl = cache_ttl.total_seconds()
        if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, int | float) or cache_ttl < 0:
            raise ConfigurationError(f"cache_ttl must be >= 0 seconds, got {cache_ttl!r}")
        self.cache_ttl = float(cache_ttl)
        self.default_timeout = seconds("default_timeout", default_timeout, allow_none=False)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self._checks: dict[str, _Check] = {}
        self._cached: tuple[float, HealthReport] | None = None
        self._running: asyncio.Future[HealthReport] | None = None

    def __repr__(self) -> str:
        return f"<HealthCheck checks={sorted(self._checks)}>"

    @property
    def names(self) -> tuple[str, ...]:
        """The registered checks' names."""
        return tuple(self._checks)

    def register_check(
        self,
        name: str,
        fn: Callable[[], object],
        *,
        timeout: float | timedelta | None = None,
        critical: bool = True,
    ) -> None:
        """Add (or replace) a check."""
        if (
            not isinstance(name, str)
            or not name
            or not name.replace("-", "_").replace(".", "_").isidentifier()
        ):
            raise ConfigurationError(
                f"a check name must be a short identifier such as 'db', got {name!r}"
            )
        if not callable(fn):
            raise ConfigurationError(f"check {name!r} must be a callable, got {fn!r}")
        chosen = self.default_timeout if timeout is None else seconds("timeout", timeout)
        assert chosen is not None
        self._checks[name] = _Check(name, fn, chosen, bool(critical))
        self._cached = None

    def unregister_check(self, name: str) -> None:
        """Remove a check (nothing happens if it is not registered)."""
        self._checks.pop(name, None)
        self._cached = None

    async def _run_one(self, check: _Check) -> CheckResult:
        started = self._monotonic()
        when = self._clock()
        status: Status = "pass"
        output: str | None = None
        try:
            async with asyncio.timeout(check.timeout):
                if inspect.iscoroutinefunction(check.fn):
                    outcome = await check.fn()
                else:
                    outcome = await asyncio.to_thread(check.fn)
                    if inspect.isawaitable(outcome):
                        outcome = await outcome
            if outcome is False:
                status, output = "fail", "the check returned False"
        except TimeoutError:
            status, output = "fail", f"no answer within {check.timeout:g}s"
        except Exception as error:
            status, output = "fail", type(error).__name__
        if status == "fail" and not check.critical:
            status = "warn"
        duration = round((self._monotonic() - started) * 1000.0, 3)
        return CheckResult(check.name, status, duration, when, output, check.critical)

    async def run_checks(self) -> HealthReport:
        """Run every check concurrently (or return the cached report)."""
        now = self._monotonic()
        if self._cached is not None and now - self._cached[0] < self.cache_ttl:
            return self._cached[1]
        if self._running is not None and not self._running.done():
            return await asyncio.shield(self._running)
        task = asyncio.ensure_future(self._run_all())
        self._running = task
        report = await asyncio.shield(task)
        self._cached = (self._monotonic(), report)
        return report

    async def _run_all(self) -> HealthReport:
        results = await asyncio.gather(*(self._run_one(c) for c in self._checks.values()))
        status: Status = "pass"
        if any(r.status == "fail" for r in results):
            status = "fail"
        elif any(r.status == "warn" for r in results):
            status = "warn"
        return HealthReport(status, {r.name: r for r in results})


class Lifecycle:
    """Where the app is in its life: started (startup finished) and shutting down."""

    def __init__(self) -> None:
        self.started = False
        self.shutting_down = False

    def begin_shutdown(self) -> None:
        """Readiness fails from now on."""
        self.shutting_down = True

    def __repr__(self) -> str:
        return f"<Lifecycle started={self.started} shutting_down={self.shutting_down}>"


def _render(
    report: HealthReport | None,
    status: Status,
    *,
    version: str | None,
    service_id: str | None,
    verbose: bool,
    note: str | None = None,
) -> Response:
    import json

    from starlette.responses import Response

    body: dict[str, Any] = {"status": status}
    if verbose:
        if version:
            body["version"] = version
        if service_id:
            body["serviceId"] = service_id
        if note:
            body["output"] = note
        if report is not None:
            body["checks"] = {
                f"{name}:responseTime": [
                    {
                        "status": r.status,
                        "observedValue": r.duration_ms,
                        "observedUnit": "ms",
                        "time": r.time.isoformat().replace("+00:00", "Z"),
                        **({"output": r.output} if r.output else {}),
                        **({} if r.critical else {"critical": False}),
                    }
                ]
                for name, r in report.checks.items()
            }
    payload = json.dumps(body, separators=(",", ":")).encode()
    return Response(
        payload,
        status_code=503 if status == "fail" else 200,
        media_type=HEALTH_CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )


def create_health_routes(
    health: HealthCheck | None = None,
    *,
    lifecycle: Lifecycle | None = None,
    version: str | None = None,
    service_id: str | None = None,
    trusted_networks: Iterable[str] = ("127.0.0.1/32", "::1/128"),
    is_admin: Callable[[Request], bool | Awaitable[bool]] | None = None,
    legacy_paths: bool = True,
) -> APIRouter:
    """The probe routes as an ``APIRouter`` (``create_app`` includes them).

    ``/livez`` never runs a check; ``/readyz`` runs the checks (fail at once while
    shutting down); ``/startupz`` passes once start-up finished. ``/health``,
    ``/health/live`` and ``/health/ready`` answer the same as readiness, liveness and
    readiness. Check details only with ``?verbose`` from *trusted_networks* or when
    *is_admin(request)* says so; otherwise only the status.
    """
    from fastapi import APIRouter

    registry = health if health is not None else HealthCheck()
    life = lifecycle if lifecycle is not None else Lifecycle()
    if lifecycle is None:
        life.started = True
    networks = parse_networks("trusted_networks", trusted_networks)
    router = APIRouter(tags=["health"])
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "healthy", "content": {HEALTH_CONTENT_TYPE: {"schema": _SCHEMA}}},
        503: {"description": "unhealthy", "content": {HEALTH_CONTENT_TYPE: {"schema": _SCHEMA}}},
    }

    async def verbose(request: Request) -> bool:
        if "verbose" not in request.query_params:
            return False
        client = request.client
        if client is not None and in_networks(client.host, networks):
            return True
        if is_admin is not None:
            allowed = is_admin(request)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            return bool(allowed)
        return False

    async def livez(request: Request) -> Response:
        return _render(
            None, "pass", version=version, service_id=service_id, verbose=await verbose(request)
        )

    async def readyz(request: Request) -> Response:
        detailed = await verbose(request)
        if life.shutting_down:
            return _render(
                None,
                "fail",
                version=version,
                service_id=service_id,
                verbose=detailed,
                note="shutting down",
            )
        if not life.started:
            return _render(
                None,
                "fail",
                version=version,
                service_id=service_id,
                verbose=detailed,
                note="starting",
            )
        report = await registry.run_checks()
        return _render(
            report, report.status, version=version, service_id=service_id, verbose=detailed
        )

    async def startupz(request: Request) -> Response:
        status: Status = "pass" if life.started else "fail"
        return _render(
            None, status, version=version, service_id=service_id, verbose=await verbose(request)
        )

    paths: list[tuple[str, Callable[..., Awaitable[Response]], str]] = [
        ("/livez", livez, "liveness"),
        ("/readyz", readyz, "readiness"),
        ("/startupz", startupz, "startup"),
    ]
    if legacy_paths:
        paths += [
            ("/health", readyz, "health"),
            ("/health/live", livez, "health_live"),
            ("/health/ready", readyz, "health_ready"),
        ]
    for path, endpoint, name in paths:
        router.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            name=name,
            responses=responses,
            response_model=None,
            response_class=_response_class(),
            include_in_schema=True,
            openapi_extra={
                "parameters": [
                    {
                        "name": "verbose",
                        "in": "query",
                        "required": False,
                        "allowEmptyValue": True,
                        "schema": {"type": "string"},
                    }
                ]
            },
        )
    return router


def _response_class() -> Any:
    from starlette.responses import Response

    class HealthResponse(Response):
        media_type = HEALTH_CONTENT_TYPE

    return HealthResponse


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["pass", "warn", "fail"]},
        "version": {"type": "string"},
        "serviceId": {"type": "string"},
        "output": {"type": "string"},
        "checks": {"type": "object"},
    },
    "required": ["status"],
}
