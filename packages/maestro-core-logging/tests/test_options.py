"""Options the anchors have: call site, structured tracebacks, the logfmt renderer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import maestro_core_logging as mcl

if TYPE_CHECKING:
    from .conftest import Output


def _here() -> int:
    """The line number of the caller."""
    import sys

    return sys._getframe(1).f_lineno


def test_callsite_names_file_line_and_function(configure: Callable[..., Output]) -> None:
    """callsite=True adds caller.file/line/function for structlog-style and stdlib lines."""
    out = configure(callsite=True)
    line_no = _here() + 1
    mcl.get_logger("app").info("here")
    logging.getLogger("app.std").warning("there")
    ours, stdlib = out.lines()
    assert ours["caller"] == {
        "file": __file__,
        "line": line_no,
        "function": "test_callsite_names_file_line_and_function",
    }
    assert stdlib["caller"]["function"] == "test_callsite_names_file_line_and_function"
    assert stdlib["caller"]["file"] == __file__


def test_callsite_is_off_by_default(configure: Callable[..., Output]) -> None:
    """Without the option no caller field is computed."""
    out = configure()
    mcl.get_logger("app").info("here")
    assert "caller" not in out.lines()[0]


def test_structured_tracebacks_give_frames_as_data(configure: Callable[..., Output]) -> None:
    """structured_tracebacks=True adds exception.frames: file, line, function per frame."""
    out = configure(structured_tracebacks=True)

    def inner() -> None:
        raise ValueError("bad")

    try:
        inner()
    except ValueError:
        mcl.get_logger("app").exception("failed")
    frames = out.lines()[0]["exception"]["frames"]
    assert [f["function"] for f in frames] == [
        "test_structured_tracebacks_give_frames_as_data",
        "inner",
    ]
    assert all(f["file"] == __file__ and isinstance(f["line"], int) for f in frames)


def test_logfmt_lines(output: Output) -> None:
    """format='logfmt' writes key=value pairs, quoting where needed, nested keys dotted."""
    mcl.configure_logging(service="orders", format="logfmt", stream=output.stream)
    mcl.get_logger("app").info('placed "x"', order_id=42, user={"id": 9}, ok=True, note=None)
    line = output.text().strip()
    assert line.startswith("timestamp=")
    assert ' level=info logger=app message="placed \\"x\\"" service=orders ' in line
    assert line.endswith("order_id=42 user.id=9 ok=true note=")


def test_logfmt_is_redacted_like_json(output: Output) -> None:
    """The logfmt renderer masks the same secrets as the JSON one."""
    mcl.configure_logging(service="orders", format="logfmt", stream=output.stream)
    mcl.get_logger("app").info("login", password="hunter2")
    assert 'password="[REDACTED]"' in output.text()
    assert "hunter2" not in output.text()
