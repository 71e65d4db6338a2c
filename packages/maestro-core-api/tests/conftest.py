"""Shared helpers: an ASGI client for an app (lifespan included) and a clean logging state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from maestro_core_logging import reset_logging


@asynccontextmanager
async def serve(
    app: Any, *, client: tuple[str, int] = ("127.0.0.1", 5000)
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to *app* in process, with its lifespan run around it."""
    transport = httpx.ASGITransport(app=app, client=client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as c,
    ):
        yield c


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts with logging unconfigured and leaves it so."""
    reset_logging()
    yield
    reset_logging()
