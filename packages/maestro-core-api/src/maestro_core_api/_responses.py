"""Response models kept from the original package, and the problem model."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["APIResponse", "ErrorResponse", "SuccessResponse"]

T = TypeVar("T")


class ErrorResponse(BaseModel):
    """An RFC 9457 problem as a model (what every error answer holds)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    code: str | None = None
    request_id: str | None = None


class APIResponse(BaseModel, Generic[T]):
    """The original envelope: ``success``, ``data``, ``message``, ``metadata``."""

    success: bool = True
    data: T | None = None
    message: str | None = None
    metadata: dict[str, Any] | None = None


class SuccessResponse(APIResponse[T], Generic[T]):
    """An :class:`APIResponse` with ``success=True``."""

    success: bool = True
