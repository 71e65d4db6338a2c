"""Streaming JSON for report files: the test array is read one element at a time.

A CTRF or pytest-json-report file is one JSON document whose bulk is a single array
(``results.tests`` or ``tests``). ``walk`` reads the document in chunks: the objects on
the way to that array are walked key by key, each element of the array is decoded on its
own (by the C decoder of the standard library) and handed to a callback, and every other
value is decoded whole. Memory is then bounded by the chunk plus the largest element, not
by the file.

A report's run facts (CTRF ``environment``, ``runId``) may come after the tests, so
importers walk twice: once for the skeleton (the document with each streamed array
replaced by a ``Streamed`` count, which also checks the whole file's syntax before
anything is stored), once for the tests.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Collection
from typing import IO, Any

from maestro_test_result_aggregator._errors import ReportFileError

#: Bytes read at a time (and the least a refill adds when an element is incomplete).
CHUNK_BYTES = 1 << 20

_WS = re.compile(r"[ \t\n\r]*")

#: ``callback(path, index, element)`` for each element of a streamed array.
ItemCallback = Callable[[tuple[str, ...], int, Any], None]


class Streamed:
    """Stands in the skeleton for an array that was streamed: ``count`` elements."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count

    def __repr__(self) -> str:
        return f"Streamed({self.count})"


def walk(
    name: str,
    handle: IO[bytes],
    targets: Collection[tuple[str, ...]],
    on_item: ItemCallback | None = None,
) -> Any:
    """Read the JSON document in ``handle``; return it with each array at a ``targets``
    path replaced by ``Streamed``, its elements passed to ``on_item`` in order."""
    return _Walker(name, handle, targets, on_item).document()


class _Walker:
    __slots__ = (
        "buf",
        "col0",
        "decode",
        "decoder",
        "eof",
        "handle",
        "line",
        "name",
        "on_item",
        "pos",
        "prefixes",
        "targets",
    )

    def __init__(
        self,
        name: str,
        handle: IO[bytes],
        targets: Collection[tuple[str, ...]],
        on_item: ItemCallback | None,
    ) -> None:
        self.name = name
        self.handle = handle
        self.targets = frozenset(targets)
        self.prefixes = frozenset(t[:i] for t in self.targets for i in range(len(t)))
        self.on_item = on_item
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.decode = json.JSONDecoder().raw_decode
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # the line of buf[0]
        self.col0 = 0  # characters between the last newline before buf[0] and buf[0]

    # -- the buffer -------------------------------------------------------------------

    def _more(self, at_least: int = 0) -> None:
        """Drop the consumed text and append at least ``at_least`` more bytes' worth."""
        buf, pos = self.buf, self.pos
        if pos:
            lines = buf.count("\n", 0, pos)
            if lines:
                self.line += lines
                self.col0 = pos - buf.rfind("\n", 0, pos) - 1
            else:
                self.col0 += pos
            buf = buf[pos:]
            self.pos = 0
        data = self.handle.read(max(at_least, CHUNK_BYTES))
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise ReportFileError(f"not UTF-8 text ({exc.reason})", path=self.name) from None
        if not data:
            self.eof = True
        self.buf = buf + text

    def _where(self, pos: int) -> tuple[int, int]:
        buf = self.buf
        lines = buf.count("\n", 0, pos)
        if lines:
            return self.line + lines, pos - buf.rfind("\n", 0, pos)
        return self.line, self.col0 + pos + 1

    def _error(self, message: str, pos: int | None = None) -> ReportFileError:
        line, column = self._where(self.pos if pos is None else pos)
        return ReportFileError(
            f"malformed JSON: {message}", path=self.name, line=line, column=column
        )

    def _skip_ws(self) -> None:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or self.eof:
                return
            self._more()

    def _next(self, expected: str) -> str:
        """The next character after whitespace (consumed); at the end, an error."""
        self._skip_ws()
        if self.pos >= len(self.buf):
            raise self._error(f"Expecting {expected}: the file ends early")
        char = self.buf[self.pos]
        self.pos += 1
        return char

    def _value(self) -> Any:
        """Decode one whole value at the current position (after whitespace)."""
        self._skip_ws()
        size = CHUNK_BYTES
        while True:
            try:
                value, end = self.decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off by the end of the buffer, or really malformed? Only the first
                # reads more (an error far from the end is final whatever comes next).
                cut = exc.pos >= len(self.buf) - 16 or exc.msg.startswith("Unterminated string")
                if self.eof or not cut:
                    raise self._error(exc.msg, exc.pos) from None
            except RecursionError:
                raise ReportFileError(
                    "JSON arrays or objects nest too deeply to be a test report; the file is "
                    "refused",
                    path=self.name,
                ) from None
            else:
                # A number at the very end of the buffer may go on in the next chunk.
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            self._more(size)
            size *= 2  # one element read in doubling steps: linear, not quadratic

    # -- the document -----------------------------------------------------------------

    def document(self) -> Any:
        value = self._walk(())
        self._skip_ws()
        if self.pos < len(self.buf):
            raise self._error("Extra data")
        return value

    def _walk(self, path: tuple[str, ...]) -> Any:
        self._skip_ws()
        char = self.buf[self.pos] if self.pos < len(self.buf) else ""
        if char == "{" and path in self.prefixes:
            return self._object(path)
        if char == "[" and path in self.targets:
            return self._array(path)
        return self._value()

    def _object(self, path: tuple[str, ...]) -> dict[str, Any]:
        self.pos += 1  # {
        obj: dict[str, Any] = {}
        self._skip_ws()
        if self.buf[self.pos : self.pos + 1] == "}":
            self.pos += 1
            return obj
        while True:
            self._skip_ws()
            start = self.pos
            key = self._value() if self.buf[self.pos : self.pos + 1] == '"' else None
            if not isinstance(key, str):
                raise self._error("Expecting property name enclosed in double quotes", start)
            if self._next("':' delimiter") != ":":
                raise self._error("Expecting ':' delimiter", self.pos - 1)
            inner = (*path, key)
            if key in obj and inner in self.targets and isinstance(obj[key], Streamed):
                where = ".".join(inner)
                raise self._error(f"{where} appears twice; a report has one test list", start)
            obj[key] = self._walk(inner)
            char = self._next("',' delimiter")
            if char == "}":
                return obj
            if char != ",":
                raise self._error("Expecting ',' delimiter", self.pos - 1)

    def _array(self, path: tuple[str, ...]) -> Streamed:
        self.pos += 1  # [
        on_item = self.on_item
        count = 0
        self._skip_ws()
        if self.buf[self.pos : self.pos + 1] == "]":
            self.pos += 1
            return Streamed(0)
        while True:
            item = self._value()
            if on_item is not None:
                on_item(path, count, item)
            count += 1
            char = self._next("',' delimiter")
            if char == "]":
                return Streamed(count)
            if char != ",":
                raise self._error("Expecting ',' delimiter", self.pos - 1)
