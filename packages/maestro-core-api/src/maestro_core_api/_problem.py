"""RFC 9457 problem details: the body, the ASGI answer and the exception handlers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from maestro_core_logging import get_context
from starlette.responses import Response

from ._body import problem_dict, status_phrase
from ._errors import APIException

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "install_problem_handlers",
    "problem_dict",
    "problem_responses",
    "send_problem",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_PROBLEM_HEADER = (b"content-type", PROBLEM_CONTENT_TYPE.encode())


def current_request_id() -> str | None:
    """The request id bound by the logging middleware, if any."""
    value = get_context().get("request_id")
    return value if isinstance(value, str) else None


def encode(body: Mapping[str, Any]) -> bytes:
    """Serialise a problem body (compact JSON; unknown objects as their ``str``).

    A body of plain members (strings, integers, booleans, nulls: every body the stack
    builds itself, 404s and 429s included) goes through orjson, about twenty times
    faster than the standard encoder and byte for byte the same output for such
    values; anything else (nested errors, floats, objects written as their ``str``)
    keeps the standard encoder, so no value's rendering depends on which one ran.
    """
    dumps = _ORJSON_DUMPS
    if dumps is not None and all(type(value) in _PLAIN for value in body.values()):
        try:
            return dumps(body)
        except TypeError:  # an integer beyond 64 bits, a key that is not a string
            pass
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()


# Exact types whose compact JSON is the same from orjson and from the standard encoder.
_PLAIN = frozenset({str, int, bool, type(None)})
_ORJSON_DUMPS: Callable[[Any], bytes] | None
try:  # a dependency of maestro-core-logging, so present wherever this package is
    from orjson import dumps as _ORJSON_DUMPS
except ImportError:  # pragma: no cover - the standard encoder alone
    _ORJSON_DUMPS = None


async def send_problem(
    send: Any,
    status: int,
    body: Mapping[str, Any],
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Answer an ASGI HTTP request with a problem (both messages)."""
    payload = encode(body)
    raw = [
        _PROBLEM_HEADER,
        (b"content-length", str(len(payload)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def problem_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    """A Starlette response carrying a problem."""
    return Response(
        encode(body),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_CONTENT_TYPE,
    )


def _type_base(request: Request) -> str | None:
    # State keeps its attributes in _state; reading it avoids an AttributeError per miss.
    state = vars(request.app.state).get("_state", {}).get("maestro")
    return getattr(state, "problem_type_base", None)


def instance_of(scope: Any) -> str:
    """The request's path as a URI reference: the raw path the client sent, else the
    percent-encoded root path and path."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("latin-1")
    from urllib.parse import quote

    path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
    return quote(path, safe="/:@!$&'()*+,;=-._~%")


def _instance(request: Request) -> str:
    return instance_of(request.scope)


def _escape_pointer(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def validation_errors(errors: Sequence[Any]) -> tuple[int, list[dict[str, Any]]]:
    """Turn FastAPI/pydantic error dicts into problem ``errors`` members.

    Body errors carry a JSON pointer into the body (``#/items/0/sku``); query, path,
    header and cookie errors name the ``parameter`` and where it is (``in``). A body
    that is not JSON at all makes the status 400 instead of 422.
    """
    status = 422
    out: list[dict[str, Any]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        if error.get("type") == "json_invalid":
            status = 400
            out.append({"detail": "the body is not valid JSON", "pointer": "#"})
            continue
        if loc and loc[0] == "body":
            pointer = "#" + "".join("/" + _escape_pointer(part) for part in loc[1:])
            out.append({"detail": message, "pointer": pointer})
        elif loc and loc[0] in ("query", "path", "header", "cookie"):
            name = ".".join(str(part) for part in loc[1:]) or str(loc[0])
            out.append({"detail": message, "parameter": name, "in": loc[0]})
        else:
            out.append({"detail": message})
    return status, out


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error the app produces as ``application/problem+json``.

    Registers handlers for :class:`APIException`, Starlette/FastAPI ``HTTPException``
    (routing 404/405 included), ``RequestValidationError`` and, as a last resort for the
    server-error middleware, ``Exception`` (500 without class, message or traceback).
    """
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def api_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIException)
        body = exc.to_dict(
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
        )
        return problem_response(exc.status_code, body, exc.headers)

    async def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status < 400:
            return Response(status_code=status, headers=headers)
        phrase = status_phrase(status)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
        code = getattr(exc, "problem_code", None)
        body = problem_dict(
            status,
            code=code,
            detail=detail,
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
        )
        extra: Any = exc.detail
        if extra is not None and not isinstance(extra, str):
            body["errors"] = extra if isinstance(extra, list) else [extra]
        return problem_response(status, body, headers)

    async def request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        status, errors = validation_errors(exc.errors())
        body = problem_dict(
            status,
            code="validation-error" if status == 422 else "malformed-body",
            detail="the request is not valid" if status == 422 else "the body is not valid JSON",
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
            extensions={"errors": errors},
        )
        return problem_response(status, body)

    async def unhandled(request: Request, exc: Exception) -> Response:
        body = problem_dict(
            500,
            detail="internal error",
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
        )
        return problem_response(500, body)

    app.add_exception_handler(APIException, api_exception)
    app.add_exception_handler(StarletteHTTPException, http_exception)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(Exception, unhandled)
    _install_auth_handler(app)


def _install_auth_handler(app: FastAPI) -> None:
    """maestro-core-auth errors outside an installed authenticator: configuration
    mistakes (500, logged) and credential errors (401/403)."""
    from maestro_core_auth import InsufficientScopeError, MaestroAuthError

    async def auth_error(request: Request, exc: Exception) -> Response:
        headers: dict[str, str] = {"Cache-Control": "no-store"}
        if isinstance(exc, InsufficientScopeError):
            status, detail = 403, "not allowed"
        elif type(exc).__name__ in _CREDENTIAL_ERRORS:
            status, detail = 401, "authentication required"
            headers["WWW-Authenticate"] = "Bearer"
        else:
            from maestro_core_logging import get_logger

            get_logger("maestro.api").error(
                "authentication is misconfigured", error_type=type(exc).__name__, exc_info=exc
            )
            status, detail = 500, "internal error"
        body = problem_dict(
            status,
            detail=detail,
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
        )
        return problem_response(status, body, headers)

    app.add_exception_handler(MaestroAuthError, auth_error)


_CREDENTIAL_ERRORS = frozenset(
    {"MissingCredentialsError", "InvalidTokenError", "InvalidCredentialsError"}
)


def install_auth_problems(app: FastAPI, authenticator: Any) -> None:
    """Answer an installed authenticator's errors as problems, keeping its RFC 6750
    status and ``WWW-Authenticate`` header but adding ``instance`` and ``request_id``."""
    from maestro_core_auth import (
        InsufficientScopeError,
        InvalidCredentialsError,
        InvalidTokenError,
        MissingCredentialsError,
    )

    async def auth_problem(request: Request, exc: Exception) -> Response:
        answer = authenticator.error_response(exc)
        status = int(answer.status_code)
        headers = {"Cache-Control": "no-store"}
        www = answer.headers.get("www-authenticate")
        if www:
            headers["WWW-Authenticate"] = www
        body = problem_dict(
            status,
            detail="authentication required" if status == 401 else "not allowed",
            instance=_instance(request),
            request_id=current_request_id(),
            type_base=_type_base(request),
        )
        return problem_response(status, body, headers)

    for error in (
        MissingCredentialsError,
        InvalidTokenError,
        InvalidCredentialsError,
        InsufficientScopeError,
    ):
        app.add_exception_handler(error, auth_problem)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "format": "uri-reference"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "detail": {"type": "string"},
                    "pointer": {"type": "string"},
                    "parameter": {"type": "string"},
                    "in": {"type": "string"},
                },
                "required": ["detail"],
            },
        },
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}

_DEFAULT_STATUSES = (400, 401, 403, 404, 409, 422, 429, 500)


def problem_responses(
    *statuses: int,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring the problem schema for *statuses*.

    Without arguments: 400, 401, 403, 404, 409, 422, 429 and 500. ``create_app`` adds
    them (plus 413 and 503) to every route, so contract testers such as schemathesis
    find every error the app may answer declared.
    """
    chosen = statuses or _DEFAULT_STATUSES
    return {
        status: {
            "description": status_phrase(status),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in chosen
    }
