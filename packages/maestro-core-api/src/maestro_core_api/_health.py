"""Health checks and the probe routes (``/livez``, ``/readyz``, ``/startupz``), rendered as
``application/health+json`` (draft-inadarei-api-health-check)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from fastapi import Request
from maestro_monitoring import HealthCheck as MonitoringHealthCheck
from starlette.responses import Response

from ._errors import ConfigurationError
from ._middleware import in_networks, parse_networks, seconds

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["HealthCheck", "Lifecycle", "create_health_routes"]

Status = Literal["pass", "warn", "fail"]
HEALTH_CONTENT_TYPE = "application/health+json"


class HealthCheck(MonitoringHealthCheck):
    """maestro-monitoring's check registry with the probe defaults of an API.

    ``register_check(name, fn, timeout=1.0, critical=True)``: *fn* is any sync or async
    callable; it fails by raising, by returning ``False``, or by overrunning its timeout.
    Checks run concurrently; a non-critical failure makes the report ``warn`` (still
    ready). Reports are cached for ``cache_ttl`` seconds (1.0 here) so probes cannot
    hammer dependencies. ``create_app`` also accepts a plain
    ``maestro_monitoring.HealthCheck``.
    """

    def __init__(
        self,
        *,
        cache_ttl: float | timedelta = 1.0,
        default_timeout: float | timedelta = 1.0,
        service: str | None = None,
        version: str | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, int | float | timedelta):
            raise ConfigurationError(f"cache_ttl must be >= 0 seconds, got {cache_ttl!r}")
        if isinstance(cache_ttl, int | float) and cache_ttl < 0:
            raise ConfigurationError(f"cache_ttl must be >= 0 seconds, got {cache_ttl!r}")
        super().__init__(
            cache_ttl=cache_ttl, service=service, version=version, clock=clock, monotonic=monotonic
        )
        chosen = seconds("default_timeout", default_timeout, allow_none=False)
        assert chosen is not None
        self.default_timeout = chosen

    def register_check(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        timeout: float | timedelta | None = None,
        critical: bool = True,
    ) -> None:
        """Add (or replace) a check; *timeout* defaults to ``default_timeout``."""
        if not isinstance(name, str) or not name.strip() or ":" in name:
            raise ConfigurationError(
                f"a check name must be a non-empty name without ':' such as 'db', got {name!r}"
            )
        if not callable(fn):
            raise ConfigurationError(
                f"check {name!r} must be a callable (db.ping, not db.ping()), got {fn!r}"
            )
        chosen = self.default_timeout if timeout is None else seconds("timeout", timeout)
        super().register_check(name, fn, timeout=cast(float, chosen), critical=critical)


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


def _value(status: Any) -> Status:
    text = str(getattr(status, "value", status))
    return cast(Status, text if text in ("pass", "warn", "fail") else "fail")


def _render(
    report: Any,
    status: Status,
    *,
    version: str | None,
    service_id: str | None,
    verbose: bool,
    note: str | None = None,
) -> Response:
    import json

    body: dict[str, Any] = {"status": status}
    if verbose:
        if version:
            body["version"] = version
        if service_id:
            body["serviceId"] = service_id
        if note:
            body["output"] = note
        if report is not None:
            checks: dict[str, Any] = {}
            for name, result in report.checks.items():
                entry: dict[str, Any] = {
                    "status": _value(result.status),
                    "observedValue": round(float(result.duration) * 1000.0, 3),
                    "observedUnit": "ms",
                    "time": result.observed_at.isoformat().replace("+00:00", "Z"),
                }
                if result.reason:
                    entry["output"] = result.reason
                if not result.critical:
                    entry["critical"] = False
                checks[f"{name}:responseTime"] = [entry]
            body["checks"] = checks
    payload = json.dumps(body, separators=(",", ":")).encode()
    return Response(
        payload,
        status_code=503 if status == "fail" else 200,
        media_type=HEALTH_CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )


def create_health_routes(
    health: MonitoringHealthCheck | None = None,
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
            report,
            _value(report.status),
            version=version,
            service_id=service_id,
            verbose=detailed,
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
