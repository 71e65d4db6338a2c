"""The last processor of the chain: turn an event dict into one output line.

Each renderer does all of the per-line work in one call (timestamp, level, static service
fields, trace ids, redaction, exception fields, serialisation) rather than as six structlog
processors: a processor call costs about as much as the work inside it, and this is the
hot path of every service.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._fields import (
    UTCClock,
    current_trace_ids,
    exception_parts,
    resolve_exc_info,
)
from ._levels import METHOD_TO_LEVEL_NAME
from ._redact import Redactor, mask_text, mask_url_credentials

if TYPE_CHECKING:
    from structlog.typing import EventDict

ECS_VERSION = "8.11.0"
_THIS_DIR = os.path.dirname(os.path.abspath(__file__))
_MODULES = sys.modules


def safe_str(value: Any) -> str:
    """``str(value)``, or a stand-in naming the type when its ``__str__`` raises."""
    try:
        return str(value)
    except Exception:
        from ._stats import STATS

        next(STATS.repaired)
        return f"<unprintable {type(value).__qualname__}>"


def safe_repr(value: Any) -> str:
    """``repr(value)``, or a stand-in naming the type when its ``__repr__`` raises."""
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__qualname__}>"


def _default(value: Any) -> Any:
    """Serialise what orjson cannot: sets as lists, everything else as ``str(value)``."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        try:
            return isoformat()
        except Exception:
            return safe_str(value)
    return safe_str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return safe_str(key)


def _plain(value: Any, seen: frozenset[int] = frozenset()) -> Any:
    """``value`` as JSON-safe data: string keys, no cycles, unprintable values named."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        if id(value) in seen:
            return "<cycle>"
        inner = seen | {id(value)}
        try:
            return {_key(k): _plain(v, inner) for k, v in value.items()}
        except Exception:
            return safe_str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        if id(value) in seen:
            return "<cycle>"
        inner = seen | {id(value)}
        return [_plain(item, inner) for item in value]
    return _default(value)


def _fallback_dumps(payload: dict[str, Any]) -> bytes:
    """Serialise what orjson refuses (integers beyond 64 bits, non-string keys, values whose
    ``__str__`` raises, cycles) with the stdlib encoder, after making the data plain."""
    import json

    from ._stats import STATS

    next(STATS.repaired)
    text = json.dumps(_plain(payload), ensure_ascii=False)
    return (text + "\n").encode("utf-8", "replace")


def _stack_here() -> str:
    """Return the caller's stack, without the frames of logging machinery."""
    frames = [
        frame
        for frame in traceback.extract_stack()
        if _THIS_DIR not in frame.filename
        and "structlog" not in frame.filename
        and not frame.filename.endswith(("logging/__init__.py",))
    ]
    return "".join(traceback.format_list(frames)).rstrip("\n")


def _stack_info(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, str):
        return value
    return _stack_here()


class Renderer:
    """Settings shared by all renderers: static fields, redaction, trace ids, the clock."""

    def __init__(
        self,
        *,
        static: Mapping[str, Any],
        redactor: Redactor | None,
        otel: bool,
        clock: UTCClock | None = None,
        frames: bool = False,
    ) -> None:
        self.static = dict(static)
        self.frames = frames
        self.redactor = redactor
        self.otel = otel
        self.clock = clock or UTCClock()
        # orjson is imported here, not at module level, to keep the package import light.
        import orjson

        self._dumps = orjson.dumps
        self._dump_errors = (TypeError, orjson.JSONEncodeError)
        self._dump_options = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS

    def _message(self, message: Any) -> Any:
        """The message, with URL passwords masked when redaction is on."""
        if self.redactor is not None and type(message) is str and "://" in message:
            return mask_url_credentials(message)
        return message


# The fields of RequestLoggingMiddleware's common access line, in the order it writes them
# (the request id comes from the context, the rest are the call's keywords).
ACCESS_FIELDS: tuple[str, ...] = (
    "request_id",
    "http_method",
    "http_route",
    "http_path",
    "http_status",
    "duration_ms",
    "client_ip",
)
# Keys a line itself carries: a caller's key named like one of them is written prefixed.
_LINE_KEYS = frozenset({"timestamp", "level", "logger", "message", "exception", "stack_info"})


class JSONRenderer(Renderer):
    """One JSON object per line: timestamp, level, logger, message, service fields, the rest."""

    def __init__(
        self,
        *,
        static: Mapping[str, Any],
        redactor: Redactor | None,
        otel: bool,
        clock: UTCClock | None = None,
        frames: bool = False,
    ) -> None:
        super().__init__(static=static, redactor=redactor, otel=otel, clock=clock, frames=frames)
        # The access line may skip the generic walk only if none of its keys is masked
        # (extra_redact_keys may name one) or clashes with a field of the line itself.
        self.access_ready = (
            type(self) is JSONRenderer
            and (redactor is None or not any(redactor.is_secret(k) for k in ACCESS_FIELDS))
            and _LINE_KEYS.union(self.static).isdisjoint(ACCESS_FIELDS)
            # The line's own fields are set over the static ones in the template.
            and self.static.keys().isdisjoint(_LINE_KEYS | {"trace_id", "span_id"})
        )
        import orjson

        self._access_options = orjson.OPT_APPEND_NEWLINE
        head = {"timestamp": "", "level": "info", "logger": "", "message": ""}
        fields = dict.fromkeys(ACCESS_FIELDS, "")
        self._access_template: dict[str, Any] = {**head, **self.static, **fields}
        self._access_template_traced: dict[str, Any] = {
            **head,
            **self.static,
            "trace_id": "",
            "span_id": "",
            **fields,
        }

    def access_line(  # noqa: PLR0917 - once per request: positional is the cheapest call
        self,
        logger: str,
        message: str,
        request_id: str,
        method: str,
        route: str,
        path: str,
        status: int,
        duration_ms: float,
        client_ip: str,
    ) -> bytes | None:
        """The common access line (info level), byte for byte what the generic path writes
        for ``logger.info(message, http_method=..., ..., client_ip=...)`` with only the
        request id in the context; None when a value needs that path (redaction would
        change it, or it is not a plain string), and the caller takes it.

        Only ``access_ready`` renderers may be asked. The keys are fixed and were checked
        once, at configuration: no per-line redaction walk, no reserved-key check, no
        intermediate event dict.
        """
        if self.redactor is not None and (
            "://" in message or "://" in path or "://" in request_id or "://" in client_ip
        ):
            return None  # a URL with credentials may be in it: the generic path masks it
        if (
            type(path) is not str
            or type(client_ip) is not str
            or type(request_id) is not str
            or type(method) is not str
            or type(route) is not str
            or type(status) is not int
            or type(duration_ms) is not float
        ):
            return None
        timestamp = self.clock.micros_now()
        ids = current_trace_ids() if self.otel and "opentelemetry.trace" in _MODULES else None
        # A copy of the line's template (its keys in output order, the static fields
        # filled in) with the request's values set: cheaper than a dict display that
        # unpacks the static fields on every line.
        if ids is None:
            payload = self._access_template.copy()
        else:
            payload = self._access_template_traced.copy()
            payload["trace_id"], payload["span_id"] = ids
        payload["timestamp"] = timestamp
        payload["logger"] = logger
        payload["message"] = message
        payload["request_id"] = request_id
        payload["http_method"] = method
        payload["http_route"] = route
        payload["http_path"] = path
        payload["http_status"] = status
        payload["duration_ms"] = duration_ms
        payload["client_ip"] = client_ip
        try:
            # Plain strings, an int and a float under string keys: no default, no
            # non-string keys to allow, so the cheapest options.
            return self._dumps(payload, option=self._access_options)
        except self._dump_errors:  # a lone surrogate, say: the generic path repairs it
            return None

    def prepare(self, method_name: str, event: EventDict) -> dict[str, Any]:
        """Return the line as a dict, in output order (also what ``capture_logs`` records)."""
        meta = event.pop("_record", None)
        created = time.time() if meta is None else meta.created
        exc = event.pop("exc_info", None)
        stack = event.pop("stack_info", None)
        out = {
            "timestamp": self.clock.micros(created),
            "level": METHOD_TO_LEVEL_NAME.get(method_name, method_name),
            "logger": event.pop("logger", None),
            "message": event.pop("event", None),
        }
        if self.redactor is not None:
            message = out["message"]
            if type(message) is str and "://" in message:
                out["message"] = mask_url_credentials(message)
        out.update(self.static)
        # No span can be active before the application imported OpenTelemetry.
        if self.otel and "opentelemetry.trace" in _MODULES and "trace_id" not in event:
            ids = current_trace_ids()
            if ids is not None:
                out["trace_id"], out["span_id"] = ids
        if self.redactor is not None:
            self.redactor.redact_in_place(event)
        if not event.keys().isdisjoint(out):
            _keep_reserved(out, event)
        out.update(event)
        if exc is not None:
            info = resolve_exc_info(exc)
            if info is not None:
                kind, message, trace = exception_parts(info)
                if self.redactor is not None:
                    message, trace = mask_text(message), mask_text(trace)
                out["exception"] = {"type": kind, "message": message, "stack": trace}
                if self.frames:
                    out["exception"]["frames"] = exception_frames(info)
        if stack:
            stack_text = _stack_info(stack)
            if stack_text:
                out["stack_info"] = stack_text
        return out

    def __call__(self, logger: object, method_name: str, event: EventDict) -> bytes:
        """Render *event* as one JSON line (bytes, newline included)."""
        payload = self.prepare(method_name, event)
        try:
            return self._dumps(payload, default=_default, option=self._dump_options)
        except self._dump_errors:
            return _fallback_dumps(payload)


# Flat keys this library emits -> their Elastic Common Schema path.
_ECS_FIELDS: dict[str, tuple[str, ...]] = {
    "request_id": ("http", "request", "id"),
    "http_method": ("http", "request", "method"),
    "http_status": ("http", "response", "status_code"),
    "http_route": ("http", "route"),
    "http_path": ("url", "path"),
    "client_ip": ("client", "ip"),
    "trace_id": ("trace", "id"),
    "span_id": ("span", "id"),
}


# A caller's keyword named like a field the line itself carries (level, timestamp, message,
# service, ...) does not replace it: it is written under this prefix (``field_level``).
RESERVED_PREFIX = "field_"
_ECS_RESERVED = frozenset(
    {"@timestamp", "log.level", "message", "ecs.version", "log", "service", "ecs", "error"}
)


def _keep_reserved(out: dict[str, Any], event: EventDict) -> None:
    """Move the caller's keys that clash with the line's own fields to prefixed keys."""
    for key in out.keys() & event.keys():
        if key in ("trace_id", "span_id"):
            continue
        event[RESERVED_PREFIX + key] = event.pop(key)


def _put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Store *value* at the nested *path* of *out*; on a clash keep the dotted key flat."""
    node = out
    for part in path[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            out[".".join(path)] = value
            return
        node = child
    node[path[-1]] = value


class ECSRenderer(Renderer):
    """Elastic Common Schema lines, as Elastic's ecs-logging libraries write them.

    ``@timestamp``, ``log.level``, ``message`` and ``ecs.version`` are top-level dotted keys
    (the ECS logging specification); everything else is nested (``service.name``,
    ``error.stack_trace``, ``http.request.id``, ...), and dotted keys given by the caller
    (``user.id``) are nested too.
    """

    def prepare(self, method_name: str, event: EventDict) -> dict[str, Any]:
        """Return the ECS document of one line."""
        meta = event.pop("_record", None)
        created = time.time() if meta is None else meta.created
        exc = event.pop("exc_info", None)
        stack = event.pop("stack_info", None)
        out: dict[str, Any] = {
            "@timestamp": self.clock.millis(created),
            "log.level": METHOD_TO_LEVEL_NAME.get(method_name, method_name),
            "message": self._message(event.pop("event", None)),
            "ecs.version": ECS_VERSION,
        }
        logger = event.pop("logger", None)
        if logger is not None:
            out["log"] = {"logger": logger}
        service = {{"service": "name"}.get(key, key): value for key, value in self.static.items()}
        if service:
            out["service"] = service
        if self.otel and "trace_id" not in event:
            ids = current_trace_ids()
            if ids is not None:
                out["trace"] = {"id": ids[0]}
                out["span"] = {"id": ids[1]}
        if self.redactor is not None:
            self.redactor.redact_in_place(event)
        clash = event.keys() & _ECS_RESERVED
        if clash:
            for key in clash:
                event[RESERVED_PREFIX + key] = event.pop(key)
        caller = event.pop("caller", None)
        if isinstance(caller, dict):
            _put(out, ("log", "origin", "file", "name"), caller.get("file"))
            _put(out, ("log", "origin", "file", "line"), caller.get("line"))
            _put(out, ("log", "origin", "function"), caller.get("function"))
        elif caller is not None:
            event["caller"] = caller
        for key, value in event.items():
            if key == "duration_ms" and isinstance(value, (int, float)):
                _put(out, ("event", "duration"), int(value * 1_000_000))
                continue
            path = _ECS_FIELDS.get(key)
            if path is None:
                path = tuple(key.split(".")) if "." in key else (key,)
            _put(out, path, value)
        if exc is not None:
            info = resolve_exc_info(exc)
            if info is not None:
                kind, message, trace = exception_parts(info)
                if self.redactor is not None:
                    message, trace = mask_text(message), mask_text(trace)
                _put(out, ("error", "type"), kind)
                _put(out, ("error", "message"), message)
                _put(out, ("error", "stack_trace"), trace)
                if self.frames:
                    _put(out, ("error", "frames"), exception_frames(info))
        if stack:
            stack_text = _stack_info(stack)
            if stack_text:
                _put(out, ("log", "origin", "stack"), stack_text)
        return out

    def __call__(self, logger: object, method_name: str, event: EventDict) -> bytes:
        """Render *event* as one ECS JSON line (bytes, newline included)."""
        payload = self.prepare(method_name, event)
        try:
            return self._dumps(payload, default=_default, option=self._dump_options)
        except self._dump_errors:
            return _fallback_dumps(payload)


class ConsoleRenderer(Renderer):
    """Human-oriented, optionally coloured lines (structlog's ConsoleRenderer) for terminals."""

    def __init__(
        self,
        *,
        static: Mapping[str, Any],
        redactor: Redactor | None,
        otel: bool,
        colors: bool,
        clock: UTCClock | None = None,
    ) -> None:
        super().__init__(static=static, redactor=redactor, otel=otel, clock=clock)
        from structlog.dev import ConsoleRenderer as StructlogConsoleRenderer

        self.colors = colors
        self._console = StructlogConsoleRenderer(colors=colors)

    def __call__(self, logger: object, method_name: str, event: EventDict) -> str:
        """Render *event* as one console line (str, newline included)."""
        meta = event.pop("_record", None)
        created = time.time() if meta is None else meta.created
        if self.redactor is not None:
            self.redactor.redact_in_place(event)
        exc = event.get("exc_info")
        if exc is not None:
            # Resolve now: ConsoleRenderer would call sys.exc_info() itself, which is right
            # here too, but a tuple also survives being rendered later (buffered lines).
            info = resolve_exc_info(exc)
            if info is None:
                del event["exc_info"]
            else:
                event["exc_info"] = info
        stack = event.get("stack_info")
        if stack is not None:
            stack_text = _stack_info(stack)
            del event["stack_info"]
            if stack_text:
                event["stack"] = stack_text
        for key in ("timestamp", "level", *self.static):
            if key in event:
                event[RESERVED_PREFIX + key] = event.pop(key)
        event["timestamp"] = self.clock.millis(created)
        event["level"] = METHOD_TO_LEVEL_NAME.get(method_name, method_name)
        if self.otel and "trace_id" not in event:
            ids = current_trace_ids()
            if ids is not None:
                event["trace_id"], event["span_id"] = ids
        if event.get("logger") is None:
            event.pop("logger", None)
        return self._console(logger, method_name, event) + "\n"


def exception_frames(info: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The frames of an exception as data, outermost first (structlog's dict_tracebacks)."""
    return [
        {"file": frame.filename, "line": frame.lineno, "function": frame.name}
        for frame in traceback.extract_tb(info[2])
    ]


def add_callsite(logger: object, method_name: str, event: EventDict) -> EventDict:
    """Processor: ``caller`` = the file, line and function that logged the line."""
    record = event.get("_record")
    pathname = getattr(record, "pathname", None)
    if pathname is not None:  # a standard-library record knows its own call site
        event["caller"] = {
            "file": pathname,
            "line": record.lineno,  # type: ignore[union-attr]
            "function": record.funcName,  # type: ignore[union-attr]
        }
        return event
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith(_THIS_DIR) or "structlog" in frame.f_code.co_filename
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is not None:
        event["caller"] = {
            "file": frame.f_code.co_filename,
            "line": frame.f_lineno,
            "function": frame.f_code.co_name,
        }
    return event


_LOGFMT_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@+,")


def _logfmt_value(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = value if isinstance(value, str) else _default(value)
    if not isinstance(text, str):
        text = safe_str(text)
    if text and all(ch in _LOGFMT_BARE for ch in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _logfmt_pairs(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs.extend(_logfmt_pairs(f"{prefix}.{key}" if prefix else str(key), item))
        return pairs
    return [(prefix, value)]


class LogfmtRenderer(JSONRenderer):
    """``key=value`` lines (Heroku's logfmt, as Grafana Loki parses it): the JSON line's
    fields in the same order, nested values flattened with dots (``exception.type=...``)."""

    def __call__(self, logger: object, method_name: str, event: EventDict) -> bytes:
        """Render *event* as one logfmt line (bytes, newline included)."""
        payload = self.prepare(method_name, event)
        parts = [
            f"{key}={_logfmt_value(value)}"
            for key, value in _logfmt_pairs("", payload)
            if key != "exception.frames"
        ]
        return (" ".join(parts) + "\n").encode("utf-8", "replace")


def stdout_is_tty(stream: object) -> bool:
    """Return whether *stream* is an interactive terminal (false for anything odd)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):
        return False
