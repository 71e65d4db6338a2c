"""Where rendered lines go: one locked writer shared by structlog and stdlib logging."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from ._stats import STATS

Stream = IO[str] | IO[bytes]


class Sink:
    """Write whole lines to a text or binary stream, one lock so lines never interleave.

    Text streams that expose ``.buffer`` (``sys.stdout``, files opened in text mode) get
    the encoded bytes directly, which avoids a decode/encode round trip per line; other
    text streams (``io.StringIO``) get ``str``.  Every line is flushed, as a log line
    must survive a crash right after it.
    """

    __slots__ = ("_flush", "_lock", "_write", "stream")

    def __init__(self, stream: Stream | None = None) -> None:
        self._lock = threading.Lock()
        self.stream: Stream | None = None
        self._write: Callable[[bytes], Any] = _discard
        self._flush: Callable[[], Any] = _nothing
        if stream is not None:
            self.set_stream(stream)

    def set_stream(self, stream: Stream) -> None:
        """Send subsequent lines to *stream*."""
        write, flush = _writer_for(stream)
        with self._lock:
            self.stream = stream
            self._write = write
            self._flush = flush

    def write(self, line: bytes | str) -> None:
        """Write one rendered line (``str`` lines get their newline here, bytes have it)."""
        data = line if type(line) is bytes else str(line).encode("utf-8", "replace")
        with self._lock:
            try:
                self._write(data)
                self._flush()
            except (ValueError, OSError):
                # The stream was closed (interpreter shutdown, a test's stream), the pipe
                # broke or the disk is full: a log line must never take the application
                # down. The line is lost and counted (logging_stats().dropped).
                next(STATS.dropped)

    # structlog calls the final logger's method named after the level.
    msg = debug = info = warning = warn = error = err = exception = critical = fatal = log = write


def _discard(data: bytes) -> None:
    """Drop *data* (the sink has no stream yet)."""


def _nothing() -> None:
    """Do nothing (the sink has no stream yet)."""


def _writer_for(stream: Stream) -> tuple[Callable[[bytes], Any], Callable[[], Any]]:
    """Return (write bytes, flush) callables for a text or binary stream."""
    flush = getattr(stream, "flush", None) or _nothing
    if isinstance(stream, io.TextIOBase) or hasattr(stream, "encoding"):
        buffer = getattr(stream, "buffer", None)
        if buffer is not None and hasattr(buffer, "write"):
            # A line written to the text layer just before could still sit in its
            # buffer: flush it once now, then bypass the text layer.
            with contextlib.suppress(ValueError, OSError):
                flush()
            return buffer.write, getattr(buffer, "flush", None) or _nothing
        text_write = stream.write

        def write_text(data: bytes) -> Any:
            return text_write(data.decode("utf-8", "replace"))  # type: ignore[call-overload]

        return write_text, flush
    return stream.write, flush  # type: ignore[return-value]


def default_stream() -> Stream:
    """Return the process's standard output (12-factor: logs are an event stream on stdout)."""
    return sys.stdout
