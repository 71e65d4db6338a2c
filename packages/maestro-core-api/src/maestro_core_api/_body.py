"""The RFC 9457 problem body: standard members, type resolution and phrases."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["RESERVED_MEMBERS", "problem_dict", "resolve_type", "status_phrase"]

# Members a problem body defines itself; extension members may not replace them.
RESERVED_MEMBERS = frozenset(
    {"type", "title", "status", "detail", "instance", "code", "request_id"}
)


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def status_phrase(status: int) -> str:
    """The standard reason phrase of *status* (``"Error"`` for an unknown code)."""
    return _PHRASES.get(status, "Error")


def resolve_type(type: str | None, code: str | None, type_base: str | None) -> str:
    """The problem ``type`` URI: *type*, else *code*, joined to *type_base* when relative."""
    ref = type if type is not None else code
    if ref is None or ref == "about:blank":
        return "about:blank"
    if type_base and ":" not in ref.split("/", 1)[0]:
        return type_base + ref if type_base.endswith("/") else f"{type_base}/{ref}"
    return ref


def problem_dict(
    status: int,
    *,
    type: str | None = None,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    type_base: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem body; ``status`` always equals the HTTP status of the answer."""
    problem_type = resolve_type(type, code, type_base)
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title if title is not None else status_phrase(status),
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if code is not None:
        body["code"] = code
    if request_id is not None:
        body["request_id"] = request_id
    if extensions:
        for key, value in extensions.items():
            if key not in RESERVED_MEMBERS:
                body[key] = value
    return body
