"""``configure_logging()``, ``get_logger()`` and the process-wide logging state.

The state is a handful of long-lived objects that loggers hold references to: the
``BoundLogger`` class (its level methods are swapped), the processor list (its contents
are replaced in place) and the sink (its stream is swapped).  Reconfiguring therefore
reaches loggers created earlier, even ones structlog cached on first use.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from ._errors import ConfigurationError, InvalidLevelError, MissingExtraError
from ._hooks import install_hooks, remove_hooks
from ._levels import level_name, parse_level
from ._logger import PER_LOGGER, BoundLogger, install_level, level_for, set_logger_levels
from ._redact import DEFAULT_REDACT_KEYS, Redactor
from ._render import (
    ConsoleRenderer,
    ECSRenderer,
    JSONRenderer,
    LogfmtRenderer,
    add_callsite,
    stdout_is_tty,
)
from ._sink import Sink, Stream, default_stream

if TYPE_CHECKING:
    from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from ._stdlib import (
    DEFAULT_ROUTED_LOGGERS,
    RoutingHandler,
    apply_logger_levels,
    install_root_handler,
    parse_logger_levels,
    remove_root_handler,
    route_loggers,
)

LogFormat = Literal["json", "console", "auto", "ecs", "logfmt"]
VALID_FORMATS: tuple[str, ...] = get_args(LogFormat)

# maestro-core-config's names: MAESTRO_<SECTION>__<FIELD>.
ENV_SERVICE = "MAESTRO_SERVICE__NAME"
ENV_ENVIRONMENT = "MAESTRO_ENVIRONMENT"
ENV_VERSION = "MAESTRO_SERVICE__VERSION"
ENV_LEVEL = "MAESTRO_LOGGING__LEVEL"
ENV_FORMAT = "MAESTRO_LOGGING__FORMAT"
# The 1.0 names, still read (after the new ones) with a DeprecationWarning, once each.
DEPRECATED_ENV: dict[str, str] = {
    ENV_SERVICE: "MAESTRO_SERVICE_NAME",
    ENV_VERSION: "MAESTRO_SERVICE_VERSION",
    ENV_LEVEL: "MAESTRO_LOG_LEVEL",
    ENV_FORMAT: "MAESTRO_LOG_FORMAT",
}
_WARNED: set[str] = set()
DEFAULT_SERVICE = "unknown"
# The fields of maestro-core-config's LoggingSettings that configure_logging(settings=) reads.
SETTINGS_FIELDS: tuple[str, ...] = ("level", "format", "extra_redact_keys", "debug_sample_rate")


class LoggingConfig(NamedTuple):
    """The effective configuration, after arguments, environment variables and defaults."""

    service: str
    level: int
    format: Literal["json", "console", "ecs", "logfmt"]
    environment: str | None
    version: str | None
    redact_keys: frozenset[str]
    stdlib: bool
    otel: bool
    logger_levels: Mapping[str, int]
    routed_loggers: tuple[str, ...] = ()
    processors: tuple[Processor, ...] = ()
    stream: Any = None
    log_uncaught: bool = False
    debug_sample_rate: float = 0.0
    callsite: bool = False
    structured_tracebacks: bool = False

    @property
    def level_name(self) -> str:
        """The configured level's name (``"info"``)."""
        return level_name(self.level)


class _Unconfigured:
    """Stands in as the whole processor chain until the first line configures defaults."""

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> Any:
        ensure_configured()
        event: Any = event_dict
        for processor in PROCESSORS:
            event = processor(logger, method_name, event)
        return event


_LOCK = threading.RLock()
SINK = Sink()
# The one processor list every BoundLogger and the stdlib handler run; mutated in place.
PROCESSORS: list[Processor] = [_Unconfigured()]
_HANDLER = RoutingHandler(SINK, PROCESSORS)
install_level(logging.INFO)


class _State:
    config: LoggingConfig | None = None
    explicit = False
    json_renderer: JSONRenderer | None = None


STATE = _State()


def _from_env(value: Any, name: str) -> Any:
    return _env_source(value, name)[0]


def _env_source(value: Any, name: str) -> tuple[Any, str | None]:
    """(value, the variable it came from): the argument, the variable, its 1.0 name."""
    if value is not None:
        return value, None
    env = os.environ.get(name)
    if env:
        return env, name
    old = DEPRECATED_ENV.get(name)
    if old is not None:
        env = os.environ.get(old)
        if env:
            if old not in _WARNED:
                _WARNED.add(old)
                warnings.warn(
                    f"the environment variable {old} is deprecated and will be removed in "
                    f"2.0; use {name}",
                    DeprecationWarning,
                    stacklevel=4,
                )
            return env, old
    return None, None


def _resolve(
    *,
    service: str | None,
    level: str | int | None,
    format: str | None,
    environment: str | None,
    version: str | None,
    redact_keys: Iterable[str] | None,
    stream: Stream | None,
    stdlib: bool,
    logger_levels: Mapping[str, str | int] | None,
    routed_loggers: Iterable[str],
    processors: Sequence[Processor],
    otel: bool | None,
    log_uncaught: bool,
    extra_redact_keys: Iterable[str] = (),
    debug_sample_rate: float | None = None,
    callsite: bool = False,
    structured_tracebacks: bool = False,
) -> LoggingConfig:
    """Validate the arguments and fill the gaps from the environment and the defaults."""
    raw_level, level_var = _env_source(level, ENV_LEVEL)
    source = level_var or "level"
    numeric = logging.INFO if raw_level is None else parse_level(raw_level, source=source)
    raw_format, format_var = _env_source(format, ENV_FORMAT)
    raw_format = raw_format or "auto"
    if not isinstance(raw_format, str) or raw_format.strip().lower() not in VALID_FORMATS:
        where = format_var or "format"
        raise ConfigurationError(
            f"unknown log format {raw_format!r} for {where}; use one of {', '.join(VALID_FORMATS)}"
        )
    chosen = raw_format.strip().lower()
    target = stream if stream is not None else default_stream()
    if not callable(getattr(target, "write", None)):
        raise ConfigurationError(
            f"stream must be a writable text or binary stream, got {type(target).__name__}; "
            "open files with open(path, 'a') or pass sys.stderr"
        )
    if isinstance(routed_loggers, str):
        raise ConfigurationError(
            "routed_loggers must be a collection of logger names, not one string; "
            f"write routed_loggers=({routed_loggers!r},)"
        )
    if chosen == "auto":
        chosen = "console" if stdout_is_tty(target) else "json"
    if redact_keys is None:
        keys = DEFAULT_REDACT_KEYS
    elif isinstance(redact_keys, str):
        raise ConfigurationError(
            "redact_keys must be a collection of key names, not one string; "
            f"write redact_keys={{{redact_keys!r}}}"
        )
    else:
        keys = frozenset(redact_keys)
    if isinstance(extra_redact_keys, str):
        raise ConfigurationError(
            "extra_redact_keys must be a collection of key names, not one string; "
            f"write extra_redact_keys={{{extra_redact_keys!r}}}"
        )
    keys = keys | frozenset(extra_redact_keys)
    rate = 0.0 if debug_sample_rate is None else debug_sample_rate
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not 0.0 <= rate <= 1.0  # also refuses NaN
    ):
        raise ConfigurationError(
            f"debug_sample_rate must be a number between 0 and 1, got {debug_sample_rate!r}"
        )
    if otel is True:
        try:
            import opentelemetry.trace  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError(
                "Trace ids in log lines (otel=True)", "otel", "opentelemetry"
            ) from exc
    return LoggingConfig(
        service=_from_env(service, ENV_SERVICE) or DEFAULT_SERVICE,
        level=numeric,
        format=chosen,  # type: ignore[arg-type]
        environment=_from_env(environment, ENV_ENVIRONMENT),
        version=_from_env(version, ENV_VERSION),
        redact_keys=keys,
        stdlib=stdlib,
        otel=otel is not False,
        logger_levels=parse_logger_levels(logger_levels or {}),
        routed_loggers=tuple(routed_loggers),
        processors=tuple(processors),
        stream=target,
        log_uncaught=bool(log_uncaught),
        debug_sample_rate=float(rate),
        callsite=bool(callsite),
        structured_tracebacks=bool(structured_tracebacks),
    )


def _renderers(config: LoggingConfig) -> tuple[Processor, JSONRenderer]:
    """Return (the configured renderer, the JSON renderer capture_logs uses)."""
    static: dict[str, Any] = {"service": config.service}
    if config.environment is not None:
        static["environment"] = config.environment
    if config.version is not None:
        static["version"] = config.version
    redactor = Redactor(config.redact_keys) if config.redact_keys else None
    frames = config.structured_tracebacks
    as_json = JSONRenderer(static=static, redactor=redactor, otel=config.otel, frames=frames)
    if config.format == "json":
        return as_json, as_json
    if config.format == "ecs":
        ecs = ECSRenderer(static=static, redactor=redactor, otel=config.otel, frames=frames)
        return ecs, as_json
    if config.format == "logfmt":
        logfmt = LogfmtRenderer(static=static, redactor=redactor, otel=config.otel, frames=frames)
        return logfmt, as_json
    colors = stdout_is_tty(config.stream) and "NO_COLOR" not in os.environ
    console = ConsoleRenderer(static=static, redactor=redactor, otel=config.otel, colors=colors)
    return console, as_json


def _apply(config: LoggingConfig, *, explicit: bool) -> None:
    renderer, as_json = _renderers(config)
    SINK.set_stream(config.stream)
    callsite: list[Processor] = [add_callsite] if config.callsite else []
    PROCESSORS[:] = [*callsite, *config.processors, renderer]
    # get_logger() loggers follow logger_levels too: the shared level switch lets through
    # the lowest level any of them needs, and each logger checks its own.
    install_level(min([config.level, *config.logger_levels.values()]))
    set_logger_levels(dict(config.logger_levels), config.level)
    STATE.config = config
    STATE.explicit = explicit
    STATE.json_renderer = as_json
    if explicit:
        # Code that logs through structlog.get_logger() directly joins the same pipeline.
        import structlog

        structlog.configure(
            processors=PROCESSORS,
            wrapper_class=BoundLogger,
            context_class=dict,
            logger_factory=_sink_factory,
            cache_logger_on_first_use=True,
        )
    if config.log_uncaught:
        install_hooks(get_logger)
    else:
        remove_hooks()
    if config.stdlib:
        route_loggers(config.routed_loggers)
        apply_logger_levels(config.logger_levels)
        install_root_handler(_HANDLER, config.level)
    else:
        remove_root_handler()


def _sink_factory(*args: Any) -> Sink:
    """structlog logger factory: every structlog logger writes to the shared sink."""
    return SINK


def configure_logging(
    *,
    settings: Any = None,
    service: str | None = None,
    level: str | int | None = None,
    format: LogFormat | None = None,
    environment: str | None = None,
    version: str | None = None,
    redact_keys: Iterable[str] | None = None,
    extra_redact_keys: Iterable[str] = (),
    debug_sample_rate: float | None = None,
    stream: Stream | None = None,
    stdlib: bool = True,
    logger_levels: Mapping[str, str | int] | None = None,
    routed_loggers: Iterable[str] = DEFAULT_ROUTED_LOGGERS,
    processors: Sequence[Processor] = (),
    otel: bool | None = None,
    log_uncaught: bool = False,
    callsite: bool = False,
    structured_tracebacks: bool = False,
) -> LoggingConfig:
    """Configure logging for the whole process; call it once, first thing in a service.

    ``settings`` is maestro-core-config's ``LoggingSettings`` (or anything with its fields:
    ``level``, ``format``, ``extra_redact_keys``, ``debug_sample_rate``); keyword arguments
    given as well win over it, so ``configure_logging(settings=s.logging,
    service=s.service.name)`` and ``configure_logging(**s.logging.model_dump())`` both work.
    Arguments left as ``None`` come from the environment (``MAESTRO_SERVICE__NAME``,
    ``MAESTRO_LOGGING__LEVEL``, ``MAESTRO_LOGGING__FORMAT``, ``MAESTRO_ENVIRONMENT``,
    ``MAESTRO_SERVICE__VERSION``), then from the defaults (``"unknown"``, info, auto).
    ``redact_keys`` replaces the list of masked keys, ``extra_redact_keys`` adds to it.
    ``debug_sample_rate`` is the fraction of requests ``RequestLoggingMiddleware`` logs at
    debug level when the middleware is not given a rate of its own.

    Calling it again with the same arguments changes nothing; with other arguments it
    replaces the configuration, for loggers created earlier too, except the levels: a
    later call keeps the level an earlier one set (unless it gives one, or the environment
    does) and merges its ``logger_levels`` into the earlier ones. Returns the effective
    configuration. Raises ``InvalidLevelError`` or ``ConfigurationError`` on bad input,
    before changing anything. With ``log_uncaught=True`` an exception that ends the
    program or a thread is logged as one structured line. ``callsite=True`` adds where
    each line was logged (``caller``: file, line, function); ``structured_tracebacks=True``
    adds an exception's frames as data (``exception.frames``) beside its text;
    ``format="logfmt"`` writes ``key=value`` lines.
    """
    if settings is not None:
        given = _from_settings(settings)
        level = given.get("level") if level is None else level
        format = given.get("format") if format is None else format
        if not extra_redact_keys:
            extra_redact_keys = given.get("extra_redact_keys", ())
        if debug_sample_rate is None:
            debug_sample_rate = given.get("debug_sample_rate")
    previous = STATE.config if STATE.explicit else None
    if previous is not None:
        # A later call keeps the levels the earlier one set, unless it names them.
        if level is None and _env_source(None, ENV_LEVEL)[0] is None:
            level = previous.level
        merged: dict[str, str | int] = dict(previous.logger_levels)
        merged.update(logger_levels or {})
        logger_levels = merged
    config = _resolve(
        service=service,
        level=level,
        format=format,
        environment=environment,
        version=version,
        redact_keys=redact_keys,
        stream=stream,
        stdlib=stdlib,
        logger_levels=logger_levels,
        routed_loggers=routed_loggers,
        processors=processors,
        otel=otel,
        log_uncaught=log_uncaught,
        extra_redact_keys=extra_redact_keys,
        debug_sample_rate=debug_sample_rate,
        callsite=callsite,
        structured_tracebacks=structured_tracebacks,
    )
    with _LOCK:
        if STATE.explicit and STATE.config == config:
            return config
        _apply(config, explicit=True)
    return config


def _from_settings(settings: Any) -> dict[str, Any]:
    """The LoggingSettings fields of ``settings`` (duck typed: no import of core-config)."""
    found: dict[str, Any] = {}
    for name in SETTINGS_FIELDS:
        if hasattr(settings, name):
            found[name] = getattr(settings, name)
    if "extra_redact_keys" not in found and hasattr(settings, "redact_keys"):
        # maestro-core-config 1.0 called the extra keys redact_keys.
        found["extra_redact_keys"] = settings.redact_keys or ()
    if not found:
        raise ConfigurationError(
            f"settings must be a LoggingSettings section (with level, format, "
            f"extra_redact_keys, debug_sample_rate), got {type(settings).__name__}; "
            "pass settings=s.logging"
        )
    return found


def _is_configured() -> bool:
    return STATE.config is not None


def ensure_configured() -> None:
    """Apply the defaults (environment, then built-in) if nothing configured logging yet."""
    if _is_configured():
        return
    with _LOCK:
        if _is_configured():
            return
        problem: str | None = None
        try:
            config = _resolve(**_IMPLICIT)
        except (ConfigurationError, InvalidLevelError) as exc:
            # get_logger() must never raise: fall back to the built-in defaults and say so.
            problem = str(exc)
            config = _resolve(**{**_IMPLICIT, **_BUILTIN})
        _apply(config, explicit=False)
    if problem is not None:
        BoundLogger(SINK, PROCESSORS, {"logger": __package__}).warning(
            "logging environment variables ignored", problem=problem
        )


_IMPLICIT: dict[str, Any] = {
    "service": None,
    "level": None,
    "format": None,
    "environment": None,
    "version": None,
    "redact_keys": None,
    "stream": None,
    "stdlib": False,
    "logger_levels": None,
    "routed_loggers": (),
    "processors": (),
    "otel": None,
    "log_uncaught": False,
}
_BUILTIN: dict[str, Any] = {"level": "info", "format": "auto", "service": DEFAULT_SERVICE}


def get_logger(name: str | None = None, **initial_values: Any) -> FilteringBoundLogger:
    """Return a logger named *name* (the caller's module by default); never raises.

    Usable before ``configure_logging()``: lines are then rendered with the defaults, and
    a later ``configure_logging()`` applies to this logger too.
    """
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "__main__")
    return BoundLogger(SINK, PROCESSORS, {"logger": name, **initial_values})


def access_renderer(logger_name: str) -> JSONRenderer | None:
    """The JSON renderer, when an info line of logger *logger_name* would go straight to it.

    That is: it is the whole processor chain (no processor of the user's, no call site,
    no ``capture_logs`` block open, JSON format), it may render the access line directly
    (``access_ready``), and the level lets info lines of that logger through. Else None,
    and the line takes the generic path.
    """
    renderer = STATE.json_renderer
    if (
        renderer is None
        or len(PROCESSORS) != 1
        or PROCESSORS[0] is not renderer
        or not renderer.access_ready
        or BoundLogger.min_level > logging.INFO
        or (PER_LOGGER.active and level_for(logger_name) > logging.INFO)
    ):
        return None
    return renderer


def current_config() -> LoggingConfig | None:
    """Return the effective configuration, or None before anything was logged or configured."""
    return STATE.config


def reset_logging() -> None:
    """Forget the configuration: stdlib handler removed, defaults applied on the next line.

    Meant for tests; services configure once.
    """
    with _LOCK:
        remove_root_handler()
        remove_hooks()
        PROCESSORS[:] = [_Unconfigured()]
        install_level(logging.INFO)
        set_logger_levels({}, logging.INFO)
        SINK.set_stream(default_stream())
        STATE.config = None
        STATE.explicit = False
        STATE.json_renderer = None
        structlog = sys.modules.get("structlog")
        if structlog is not None and structlog.get_config()["processors"] is PROCESSORS:
            structlog.reset_defaults()
