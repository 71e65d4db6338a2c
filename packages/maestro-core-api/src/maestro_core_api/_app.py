"""``create_app``: a plain FastAPI with the whole Maestro stack; ``MaestroAPI``, the original."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from maestro_monitoring import HealthCheck as MonitoringHealthCheck
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._auth import check_auth_dependencies, is_admin
from ._errors import ConfigurationError, MissingExtraError
from ._health import HealthCheck, Lifecycle, create_health_routes
from ._middleware import ForwardedMiddleware, parse_networks, seconds
from ._problem import install_auth_problems, install_problem_handlers, problem_responses
from ._ratelimit import RateLimit
from ._stack import (
    CoreMiddleware,
    GZipWhenAccepted,
    LimitsMiddleware,
    ServiceMiddleware,
    core_options,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["APIConfig", "MaestroAPI", "MaestroState", "create_app"]

PROBE_PATHS = frozenset(
    {"/livez", "/readyz", "/startupz", "/health", "/health/live", "/health/ready", "/metrics"}
)
_ROUTE_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)


@dataclass
class MaestroState:
    """What ``create_app`` added, on ``app.state.maestro``."""

    service: str
    version: str
    instance_id: str
    lifecycle: Lifecycle
    health: MonitoringHealthCheck
    problem_type_base: str | None
    cursor_secret: bytes
    rate_limit: RateLimit | None
    auth: Any
    resources: tuple[Any, ...]
    middleware: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:  # the cursor secret stays out of every repr
        return (
            f"<MaestroState service={self.service!r} version={self.version!r} "
            f"middleware={list(self.middleware)}>"
        )


# Generated request ids, drawn from os.urandom a batch at a time: one system call per
# _ID_BATCH requests instead of one per request. A forked child starts with none of its
# parent's (register_at_fork below), so worker processes never share ids.
_ID_BATCH = 128
_IDS: list[str] = []


def _refill_ids() -> None:
    digits = os.urandom(16 * _ID_BATCH).hex()
    # Replaced whole: a thread refilling at the same time only discards unused ids.
    _IDS[:] = [digits[i : i + 32] for i in range(0, len(digits), 32)]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_IDS.clear)


def new_request_id() -> str:
    """A generated request id: 32 random hex digits (16 bytes from ``os.urandom``), like
    ``uuid4().hex`` at a fraction of its cost: no UUID object, and the random bytes are
    read a batch at a time (each id is used once; list.pop is atomic across threads)."""
    while True:
        try:
            return _IDS.pop()
        except IndexError:
            _refill_ids()


def _get(section: Any, name: str, default: Any = None) -> Any:
    return getattr(section, name, default) if section is not None else default


def _secret_value(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    return value


def _resource_name(resource: Any, taken: set[str]) -> str:
    base = getattr(resource, "name", None)
    if not isinstance(base, str) or not base:
        base = type(resource).__name__.lower()
    base = "".join(c if c.isalnum() or c in "_-." else "_" for c in base) or "resource"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _metrics(enabled: Any) -> tuple[Any, dict[str, Any], Any] | None:
    """(MetricsMiddleware, its options, the /metrics ASGI app) from maestro-monitoring."""
    if enabled is False or enabled is None:
        return None
    from maestro_monitoring import MetricsMiddleware, metrics_app

    manager = None if enabled is True else enabled
    options: dict[str, Any] = {"exclude_paths": tuple(sorted(PROBE_PATHS))}
    if manager is not None:
        options["metrics"] = manager
    return MetricsMiddleware, options, metrics_app(manager)


def create_app(
    *,
    title: str | None = None,
    version: str | None = None,
    settings: Any = None,
    resources: Sequence[Any] = (),
    health: MonitoringHealthCheck | None = None,
    auth: Any = None,
    metrics: Any = True,
    tracing: Any = None,
    rate_limit: RateLimit | None = None,
    trusted_proxies: Iterable[str] | None = None,
    problem_type_base: str | None = None,
    cors_origins: Iterable[str] | None = None,
    request_timeout: float | timedelta | None = None,
    max_body_bytes: int | None = None,
    root_path: str | None = None,
    cursor_secret: str | bytes | None = None,
    docs: bool | None = None,
    environment: str | None = None,
    gzip_minimum_size: int | None = 1000,
    security_headers: bool = True,
    health_trusted_networks: Iterable[str] = ("127.0.0.1/32", "::1/128"),
    lifespan: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] | None = None,
    configure_logging: bool = True,
    **fastapi_options: Any,
) -> FastAPI:
    """Build a ``FastAPI`` application with the whole Maestro stack.

    Middleware, outermost first: trusted-proxy client address, request id and access
    log (maestro-core-logging), RED metrics by route template (maestro-monitoring;
    ``metrics=False`` leaves them out, a ``MetricsManager`` picks the registry; ``/metrics``
    serves them), the problem catch-all, security headers, CORS (when origins are
    given), GZip, the body limit, the request timeout, then rate limit and
    deprecation headers. Every error is a problem (RFC 9457), declared in OpenAPI on
    every route. ``/livez``, ``/readyz`` and ``/startupz`` (plus ``/health``,
    ``/health/live``, ``/health/ready``) are added. *resources* are async context
    managers entered at start-up and exited in reverse order at shutdown; those with a
    ``ping()`` become readiness checks.

    *settings* is read by duck typing: ``settings.service`` (``name``, ``version``,
    ``instance_id``), ``settings.http`` (``cors_origins``, ``request_timeout``,
    ``max_body_bytes``, ``root_path``, ``trusted_proxies``, ``cursor_secret``,
    ``docs``), ``settings.logging`` and ``settings.environment``; keywords override them.

    *auth* is a maestro-core-auth ``Authenticator``: installed on the app, its errors
    answered as problems, its principal used as the rate-limit key and for verbose health
    details (role ``admin``). *tracing* is a maestro-monitoring ``TracingManager``
    (``instrument_app``).
    """
    from fastapi import FastAPI
    from starlette.middleware import Middleware

    service = _get(settings, "service")
    http = _get(settings, "http")
    name = title or _get(service, "name") or "maestro-service"
    app_version = version or _get(service, "version") or "0.0.0"
    instance = _get(service, "instance_id") or secrets.token_hex(4)
    env = environment if environment is not None else _get(settings, "environment")
    env_name = str(getattr(env, "value", env) or "development").lower()

    origins = tuple(cors_origins if cors_origins is not None else _get(http, "cors_origins", ()))
    timeout = seconds(
        "request_timeout",
        request_timeout if request_timeout is not None else _get(http, "request_timeout", 30.0),
        allow_none=False,
    )
    assert timeout is not None
    body_limit = (
        max_body_bytes if max_body_bytes is not None else _get(http, "max_body_bytes", 10 * 2**20)
    )
    prefix = root_path if root_path is not None else _get(http, "root_path", "")
    proxies = tuple(
        trusted_proxies if trusted_proxies is not None else _get(http, "trusted_proxies", ())
    )
    parse_networks("trusted_proxies", proxies)
    raw_secret = (
        cursor_secret if cursor_secret is not None else _secret_value(_get(http, "cursor_secret"))
    )
    if raw_secret is None:
        secret_bytes = secrets.token_bytes(32)
    else:
        secret_bytes = raw_secret.encode() if isinstance(raw_secret, str) else raw_secret
        if not isinstance(secret_bytes, bytes) or len(secret_bytes) < 16:
            raise ConfigurationError("cursor_secret must hold at least 16 bytes")
    show_docs = docs if docs is not None else _get(http, "docs")
    if show_docs is None:
        show_docs = env_name != "production"
    if rate_limit is not None and not isinstance(rate_limit, RateLimit):
        raise ConfigurationError(f"rate_limit must be a RateLimit or None, got {rate_limit!r}")
    if problem_type_base is not None and not isinstance(problem_type_base, str):
        raise ConfigurationError(
            f"problem_type_base must be a URL string or None, got {problem_type_base!r}"
        )
    for option in ("middleware", "exception_handlers"):
        if option in fastapi_options:
            raise ConfigurationError(
                f"create_app builds {option} itself; add yours to the returned app "
                f"(app.add_middleware / app.add_exception_handler)"
            )

    if configure_logging:
        _configure_logging(_get(settings, "logging"), name, app_version, env_name)

    registry = health if health is not None else HealthCheck()
    taken = set(registry.names)
    for resource in resources:
        if not hasattr(resource, "__aenter__") and not hasattr(resource, "aclose"):
            raise ConfigurationError(
                f"resources must be async context managers (or have aclose()), got {resource!r}"
            )
        if callable(getattr(resource, "ping", None)):
            registry.register_check(_resource_name(resource, taken), resource.ping)
    lifecycle = Lifecycle()
    user_lifespan = lifespan

    @contextlib.asynccontextmanager
    async def composed(app: FastAPI) -> AsyncIterator[Any]:
        lifecycle.shutting_down = False
        async with contextlib.AsyncExitStack() as stack:
            for resource in resources:
                if hasattr(resource, "__aenter__"):
                    await stack.enter_async_context(resource)
                else:
                    stack.push_async_callback(resource.aclose)
            if auth is not None and hasattr(auth, "__aenter__"):
                await stack.enter_async_context(auth)
            state: Any = None
            if user_lifespan is not None:
                state = await stack.enter_async_context(user_lifespan(app))
            if rate_limit is not None and hasattr(rate_limit.storage, "aclose"):
                stack.push_async_callback(rate_limit.storage.aclose)
            check_auth_dependencies(app)
            _probes_last(app)
            lifecycle.started = True
            try:
                yield state
            finally:
                lifecycle.begin_shutdown()
                lifecycle.started = False

    metrics_parts = _metrics(metrics)
    from maestro_core_logging import RequestLoggingMiddleware

    stack: list[Middleware] = []
    if proxies:
        stack.append(Middleware(ForwardedMiddleware, trusted_proxies=proxies))
    stack.append(
        Middleware(
            RequestLoggingMiddleware, exclude_paths=PROBE_PATHS, request_id_factory=new_request_id
        )
    )
    if metrics_parts is not None:
        stack.append(Middleware(metrics_parts[0], **metrics_parts[1]))
    limits: dict[str, Any] = {
        "max_body_bytes": body_limit,
        "timeout": timeout,
        "limit": rate_limit,
        "problem_type_base": problem_type_base,
        "exclude_paths": PROBE_PATHS,
    }
    core = core_options(problem_type_base, security_headers)
    if not origins:
        # Problems, security headers, GZip and the limits in one layer (see _stack.py).
        stack.append(
            Middleware(
                ServiceMiddleware, core=core, limits=limits, gzip_minimum_size=gzip_minimum_size
            )
        )
    else:
        # CORS sits between the problems + security headers layer and the limits layer.
        from starlette.middleware.cors import CORSMiddleware

        stack.append(Middleware(CoreMiddleware, **core))
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(origins),
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=[
                    "X-Request-ID",
                    "RateLimit",
                    "RateLimit-Policy",
                    "Retry-After",
                    "Link",
                    "Deprecation",
                    "Sunset",
                ],
            )
        )
        if gzip_minimum_size is not None:
            stack.append(Middleware(GZipWhenAccepted, minimum_size=gzip_minimum_size))
        stack.append(Middleware(LimitsMiddleware, **limits))

    options: dict[str, Any] = {
        "title": name,
        "version": app_version,
        "root_path": prefix,
        "responses": problem_responses(*_ROUTE_STATUSES),
    }
    options.update(fastapi_options)
    if not show_docs:
        options.update(docs_url=None, redoc_url=None, openapi_url=None)
    app = FastAPI(middleware=stack, lifespan=composed, **options)
    install_problem_handlers(app)
    if auth is not None:
        _install_auth(app, auth)
    probe_router = create_health_routes(
        registry,
        lifecycle=lifecycle,
        version=app_version,
        service_id=f"{name}/{instance}",
        trusted_networks=health_trusted_networks,
        is_admin=is_admin if auth is not None else None,
    )
    probe_router.maestro_probes = True  # type: ignore[attr-defined]
    app.include_router(probe_router, responses={})
    if metrics_parts is not None:
        from starlette.routing import Route

        app.router.routes.append(
            Route("/metrics", metrics_parts[2], methods=["GET"], include_in_schema=False)
        )
    _mark_deprecated_operations(app)
    app.state.maestro = MaestroState(
        service=name,
        version=app_version,
        instance_id=instance,
        lifecycle=lifecycle,
        health=registry,
        problem_type_base=problem_type_base,
        cursor_secret=secret_bytes,
        rate_limit=rate_limit,
        auth=auth,
        resources=tuple(resources),
        middleware=tuple(m.cls.__name__ for m in stack),  # type: ignore[attr-defined]
    )
    if tracing is not None:
        instrumented = tracing.instrument_app(app)
        if instrumented is not app and instrumented is not None:
            raise ConfigurationError("tracing.instrument_app must instrument the app in place")
    return app


def _probes_last(app: FastAPI) -> None:
    """Move the probe routes and /metrics behind the application's routes.

    Routing tries routes in order: with the probes last, an application request does
    not pay for matching seven paths it never asks for.
    """
    routes = app.router.routes
    probes = [
        r
        for r in routes
        if getattr(r, "path", None) in PROBE_PATHS
        or getattr(getattr(r, "original_router", None), "maestro_probes", False)
    ]
    if probes:
        routes[:] = [r for r in routes if r not in probes] + probes


def _configure_logging(section: Any, service: str, version: str, environment: str) -> None:
    """Configure maestro-core-logging from *section* unless the process already did."""
    from maestro_core_logging import configure_logging, current_config

    if current_config() is not None:
        return
    if section is not None:
        # The whole section (level, format, extra_redact_keys, debug_sample_rate, ...), as
        # maestro-core-logging reads it, so a field added there is never dropped here.
        configure_logging(
            settings=section, service=service, version=version, environment=environment
        )


def _install_auth(app: FastAPI, auth: Any) -> None:
    """Install the authenticator, then answer its errors as our problems (request id,
    instance) with its RFC 6750 status and ``WWW-Authenticate`` header."""
    install = getattr(auth, "install", None)
    if not callable(install) or not callable(getattr(auth, "authenticate", None)):
        raise ConfigurationError(
            f"auth must be a maestro_core_auth.Authenticator, got {type(auth).__name__}"
        )
    install(app)
    install_auth_problems(app, auth)


def _mark_deprecated_operations(app: FastAPI) -> None:
    """Mark routes decorated with ``deprecated()`` as deprecated in the OpenAPI document."""
    from fastapi.routing import APIRoute

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for route in app.routes:
                if isinstance(route, APIRoute) and hasattr(
                    route.endpoint, "__maestro_deprecation__"
                ):
                    route.deprecated = True
        return original()

    app.openapi = openapi  # type: ignore[method-assign]


class APIConfig(BaseModel):
    """The original configuration model (field names kept); ``security`` is no longer needed."""

    model_config = ConfigDict(extra="forbid")

    title: str = "Maestro API"
    service_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = "maestro-service"
    version: str = "1.0.0"
    description: str = ""
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    debug: bool = False
    docs_url: str | None = "/docs"
    cors: list[str] = Field(default_factory=list)
    rate_limit: str | None = None
    request_timeout: Annotated[float, Field(gt=0)] = 30.0
    max_request_size: Annotated[int, Field(ge=0)] = 10 * 2**20
    environment: str = "development"
    docs: bool | None = None
    trusted_proxies: list[str] = Field(default_factory=list)
    problem_type_base: str | None = None
    security: Any = Field(default=None, exclude=True, repr=False)
    """Deprecated and ignored: authentication is ``create_app(auth=Authenticator(...))``."""

    @model_validator(mode="after")
    def _warn_security(self) -> APIConfig:
        if self.security is not None:
            import warnings

            warnings.warn(
                "APIConfig(security=...) is deprecated and ignored: pass a maestro_core_auth "
                "Authenticator as MaestroAPI(config, auth=...) or create_app(auth=...)",
                DeprecationWarning,
                stacklevel=2,
            )
        return self


@dataclass(frozen=True)
class _Sections:
    """The sections ``MaestroAPI.from_settings`` was given, shaped like a settings object."""

    service: Any
    http: Any
    logging: Any
    environment: Any


class MaestroAPI:
    """The original form: ``MaestroAPI(APIConfig(...))``; ``.app`` is the FastAPI app.

    ``get``/``post``/``put``/``patch``/``delete``/``include_router``/``mount`` delegate to
    the app; ``run()`` serves it with uvicorn (the ``server`` extra).
    """

    def __init__(self, config: APIConfig | None = None, **create_options: Any) -> None:
        self.config = config if config is not None else APIConfig()
        c = self.config
        docs = c.docs
        if docs is None and c.docs_url is None:
            docs = False
        extra: dict[str, Any] = dict(create_options)
        if c.docs_url and docs is not False:
            extra["docs_url"] = c.docs_url
        if c.description:
            extra["description"] = c.description
        if "settings" in extra:
            # Settings decide what the config leaves at its defaults.
            given = c.model_fields_set
            for key, option, value in (
                ("cors", "cors_origins", c.cors),
                ("request_timeout", "request_timeout", c.request_timeout),
                ("max_request_size", "max_body_bytes", c.max_request_size),
                ("environment", "environment", c.environment),
                ("trusted_proxies", "trusted_proxies", c.trusted_proxies),
            ):
                if key in given:
                    extra.setdefault(option, value)
        else:
            extra.setdefault("cors_origins", c.cors)
            extra.setdefault("request_timeout", c.request_timeout)
            extra.setdefault("max_body_bytes", c.max_request_size)
            extra.setdefault("environment", c.environment)
            extra.setdefault("trusted_proxies", c.trusted_proxies)
        extra.setdefault("title", c.title)
        extra.setdefault("version", c.version)
        extra.setdefault("docs", docs)
        extra.setdefault("problem_type_base", c.problem_type_base)
        extra.setdefault("debug", c.debug)
        if c.rate_limit and "rate_limit" not in extra:
            extra["rate_limit"] = RateLimit(c.rate_limit)
        self.app = create_app(**extra)
        self.app.state.maestro.service = c.service_name
        self.server: Any = None

    def __repr__(self) -> str:
        return f"<MaestroAPI {self.config.service_name!r} version={self.config.version!r}>"

    @classmethod
    def from_settings(
        cls,
        section: Any,
        *,
        service: Any = None,
        logging: Any = None,
        environment: Any = None,
        **overrides: Any,
    ) -> MaestroAPI:
        """Build from maestro-core-config's ``HTTPSettings`` (duck-typed), plus optional
        ``ServiceSettings`` and ``LoggingSettings``; keywords override (``create_app``'s)."""
        settings = _Sections(
            service=service, http=section, logging=logging, environment=environment
        )
        config = APIConfig(
            title=_get(service, "name") or "Maestro API",
            service_name=_get(service, "name") or "maestro-service",
            version=_get(service, "version") or "1.0.0",
            host=_get(section, "host", "127.0.0.1"),
            port=_get(section, "port", 8000),
        )
        return cls(config, settings=settings, **overrides)

    @property
    def health(self) -> MonitoringHealthCheck:
        """The readiness checks (``api.health.register_check(...)``)."""
        health: MonitoringHealthCheck = self.app.state.maestro.health
        return health

    def get(self, path: str, **options: Any) -> Callable[[Any], Any]:
        """``@api.get(path)``: the app's ``get`` decorator."""
        return self.app.get(path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Any], Any]:
        """``@api.post(path)``."""
        return self.app.post(path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Any], Any]:
        """``@api.put(path)``."""
        return self.app.put(path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Any], Any]:
        """``@api.patch(path)``."""
        return self.app.patch(path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Any], Any]:
        """``@api.delete(path)``."""
        return self.app.delete(path, **options)

    def include_router(self, router: Any, **options: Any) -> None:
        """Include an ``APIRouter``."""
        self.app.include_router(router, **options)

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Mount an ASGI app under *path*."""
        self.app.mount(path, app, name=name)

    def run(self, host: str | None = None, port: int | None = None, **uvicorn_options: Any) -> None:
        """Serve with uvicorn; SIGINT/SIGTERM turn readiness to ``fail`` at once, then
        in-flight requests finish and resources close. ``reload``/``workers`` need an
        import string: ``uvicorn.run("module:app", ...)``."""
        server = build_server(
            self.app,
            host=host or self.config.host,
            port=self.config.port if port is None else port,
            **uvicorn_options,
        )
        self.server = server
        server.run()


def build_server(app: FastAPI, **uvicorn_options: Any) -> Any:
    """A ``uvicorn.Server`` whose signal handling flips readiness before draining."""
    if uvicorn_options.get("reload") or uvicorn_options.get("workers"):
        raise ConfigurationError(
            "reload and workers need an import string: uvicorn.run('module:app', reload=True)"
        )
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("MaestroAPI.run()", "server", "uvicorn") from None
    lifecycle: Lifecycle = app.state.maestro.lifecycle
    uvicorn_options.setdefault("access_log", False)
    uvicorn_options.setdefault("log_config", None)
    config = uvicorn.Config(app, **uvicorn_options)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            lifecycle.begin_shutdown()
            super().handle_exit(sig, frame)

    return _Server(config)
