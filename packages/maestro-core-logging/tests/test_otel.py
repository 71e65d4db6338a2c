"""OpenTelemetry trace and span ids on lines logged inside an active span."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl
import pytest

if TYPE_CHECKING:
    from .conftest import Output

trace = pytest.importorskip("opentelemetry.trace")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")


@pytest.fixture(scope="module")
def tracer() -> object:
    """A real SDK tracer (no exporter), independent of the global provider."""
    return sdk_trace.TracerProvider().get_tracer("tests")


def test_ids_of_the_active_span_are_added(configure: Callable[..., Output], tracer: object) -> None:
    """Inside an active span the line carries its trace_id and span_id in hex."""
    out = configure()
    with tracer.start_as_current_span("work") as span:  # type: ignore[attr-defined]
        mcl.get_logger("t").info("in span")
        context = span.get_span_context()
    line = out.lines()[0]
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_no_ids_outside_a_span(configure: Callable[..., Output]) -> None:
    """Outside any span no trace fields are written."""
    out = configure()
    mcl.get_logger("t").info("no span")
    assert "trace_id" not in out.lines()[0]


def test_ecs_trace_fields(configure: Callable[..., Output], tracer: object) -> None:
    """In ECS the ids go to trace.id and span.id."""
    out = configure(format="ecs")
    with tracer.start_as_current_span("work") as span:  # type: ignore[attr-defined]
        mcl.get_logger("t").info("in span")
        context = span.get_span_context()
    line = out.lines()[0]
    assert line["trace"] == {"id": format(context.trace_id, "032x")}
    assert line["span"] == {"id": format(context.span_id, "016x")}


def test_stdlib_lines_get_ids_too(configure: Callable[..., Output], tracer: object) -> None:
    """Stdlib records logged inside a span carry the ids as well."""
    import logging

    out = configure()
    with tracer.start_as_current_span("work"):  # type: ignore[attr-defined]
        logging.getLogger("app").info("stdlib in span")
    assert len(out.lines()[0]["trace_id"]) == 32


def test_otel_false_disables_ids(configure: Callable[..., Output], tracer: object) -> None:
    """otel=False leaves the ids out even inside a span."""
    out = configure(otel=False)
    with tracer.start_as_current_span("work"):  # type: ignore[attr-defined]
        mcl.get_logger("t").info("in span")
    assert "trace_id" not in out.lines()[0]


def test_logging_never_imports_opentelemetry() -> None:
    """Configuring and logging in a fresh interpreter does not import opentelemetry."""
    code = (
        "import io, sys, maestro_core_logging as m\n"
        "m.configure_logging(service='s', stream=io.StringIO())\n"
        "m.get_logger('x').info('hi')\n"
        "print(any(n.startswith('opentelemetry') for n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
