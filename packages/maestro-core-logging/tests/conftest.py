"""Fixtures: a configured process writing to an in-memory stream, reset after each test."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import maestro_core_logging as mcl
import pytest
from maestro_core_logging._stdlib import DEFAULT_ROUTED_LOGGERS

_ENV = (
    "MAESTRO_SERVICE__NAME",
    "MAESTRO_SERVICE__VERSION",
    "MAESTRO_LOGGING__LEVEL",
    "MAESTRO_LOGGING__FORMAT",
    "MAESTRO_SERVICE_NAME",
    "MAESTRO_ENVIRONMENT",
    "MAESTRO_SERVICE_VERSION",
    "MAESTRO_LOG_LEVEL",
    "MAESTRO_LOG_FORMAT",
    "NO_COLOR",
)


class Output:
    """The stream a test configured logging with, and its lines parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        """Everything written so far."""
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every JSON line written so far, parsed."""
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]

    def clear(self) -> None:
        """Forget what was written so far."""
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts unconfigured, with an empty context and no MAESTRO_* variables."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    saved = {
        name: (lg.level, list(lg.handlers), lg.propagate)
        for name in (*DEFAULT_ROUTED_LOGGERS, "app", "maestro.access")
        for lg in [logging.getLogger(name)]
    }
    root_level = logging.getLogger().level
    mcl.reset_logging()
    mcl.clear_context()
    yield
    mcl.reset_logging()
    mcl.clear_context()
    logging.getLogger().setLevel(root_level)
    for name, (level, handlers, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate = propagate


@pytest.fixture
def output() -> Output:
    """An in-memory stream to configure logging with."""
    return Output()


@pytest.fixture
def configure(output: Output) -> Callable[..., Output]:
    """configure_logging(**kwargs) onto the test's stream (JSON, service "svc" by default)."""

    def apply(**kwargs: Any) -> Output:
        kwargs.setdefault("service", "svc")
        kwargs.setdefault("format", "json")
        kwargs.setdefault("stream", output.stream)
        mcl.configure_logging(**kwargs)
        return output

    return apply
