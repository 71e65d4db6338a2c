"""A streaming, entity-safe JUnit XML reader for every common dialect.

Handled: pytest (xunit1 / xunit2), unittest-xml-reporting, Maven Surefire / Failsafe
(``rerunFailure``, ``rerunError``, ``flakyFailure``, ``flakyError``), TestNG (a retried test
repeats its ``testcase``), Gradle, jest-junit, mocha, go-junit-report, gotestsum, PHPUnit,
Nette Tester, xUnit.net and NUnit transforms (``status`` / ``result`` attributes), Swift,
nested ``testsuite`` elements, several outcome elements in one ``testcase``, BOMs and
character references.

Safety: a DOCTYPE (the only place entities or external DTDs can be declared) is refused
before the parser sees the document, and the expat parser also stops at any DTD or entity
declaration, so neither external entities (XXE) nor entity expansion (billion laughs) can
happen. Speed and memory: the file is fed to expat in 256 KiB chunks; expat callbacks
(closures) track the suites; a passing testcase with no children becomes its attempt
straight from its attributes, and only a testcase with children is built as a small tree,
so memory stays flat on large files.
"""

from __future__ import annotations

import codecs
import math
import xml.etree.ElementTree as ET
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from maestro_test_result_aggregator._errors import (
    ReportFileError,
    UnsafeXMLError,
    UnsupportedFormatError,
)
from maestro_test_result_aggregator._model import ResultStatus, TestIdentity, failure_status

from .parsed import ParsedAttempt, ParsedReport

OUTPUT_CHARS = 4_096
#: Longest duration a testcase may state: one year (a bigger one is a unit or encoding bug).
MAX_DURATION = 366 * 86_400.0
#: Deepest ``testsuite`` nesting read; deeper documents are refused (real ones nest < 10).
MAX_SUITE_DEPTH = 128
#: Largest count a suite may declare.
_MAX_COUNT = 10**12
#: Text kept per element while parsing: its head and tail, each this long (so a 200 MB
#: ``system-out`` never exists whole); stored text is cut further and says the real size.
CAPTURE_HALF = 8_000
#: Attribute the reader sets on an element whose text it cut: the text's real length.
SIZE_ATTR = "maestro-original-chars"


class _Seen:
    """An open-addressing table of 64-bit test-key hashes -> small packed values.

    Repeat detection needs one entry per distinct test of a file, so it must stay small at
    millions of tests: 10 bytes per slot (an ``array`` of hashes and one of values, at most
    half full) instead of a dict's ~60 bytes with a boxed int per key. A 64-bit collision
    (about 1 in 10**7 for two million tests) would only link two tests as one's repeat.
    """

    __slots__ = ("count", "keys", "mask", "values")

    def __init__(self, size: int = 1 << 12) -> None:
        self.keys = array("Q", bytes(8 * size))
        self.values = array("H", bytes(2 * size))
        self.mask = size - 1
        self.count = 0

    def get(self, key: int) -> int:
        """The value stored for ``key``, or 0 (values are never 0)."""
        key = (key & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot
        keys, mask = self.keys, self.mask
        i = key & mask
        while True:
            k = keys[i]
            if k == key:
                return self.values[i]
            if not k:
                return 0
            i = (i + 1) & mask

    def put(self, key: int, value: int) -> None:
        """Store ``value`` (1..65535) for ``key``."""
        key = (key & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot
        keys, mask = self.keys, self.mask
        i = key & mask
        while True:
            k = keys[i]
            if k == key:
                self.values[i] = value
                return
            if not k:
                keys[i] = key
                self.values[i] = value
                self.count += 1
                if self.count * 2 > mask:
                    self._grow()
                return
            i = (i + 1) & mask

    def add(self, key: int, value: int) -> int:
        """The value stored for ``key``; if there is none, store ``value`` and return 0.

        One probe where ``get`` then ``put`` take two (a new test is the common case).
        """
        key = (key & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot
        keys, mask = self.keys, self.mask
        i = key & mask
        while k := keys[i]:
            if k == key:
                return self.values[i]
            i = (i + 1) & mask
        keys[i] = key
        self.values[i] = value
        self.count += 1
        if self.count * 2 > mask:
            self._grow()
        return 0

    def _grow(self) -> None:
        old_keys, old_values = self.keys, self.values
        size = (self.mask + 1) * 4
        self.keys = array("Q", bytes(8 * size))
        self.values = array("H", bytes(2 * size))
        self.mask = size - 1
        self.count = 0
        for k, v in zip(old_keys, old_values, strict=True):
            if k:
                self.put(k, v)


_STATUS_CODES = list(ResultStatus)
_STATUS_CODE = {status: code for code, status in enumerate(_STATUS_CODES)}


def cap_text(text: str, limit: int, original: int | None = None) -> str:
    """``text`` cut to about ``limit`` characters (head and tail) with a marker of the size."""
    size = len(text) if original is None else original
    if size <= limit and len(text) <= limit:
        return text
    half = max(limit // 2 - 60, 1)
    dropped = size - 2 * half
    return (
        f"{text[:half]}\n… [{dropped} characters truncated; {size} characters in the "
        f"report] …\n{text[-half:]}"
    )


_PROLOG_LIMIT = 1 << 20
_COUNT_ATTRS = {"tests": "tests", "failures": "failures", "errors": "errors", "skipped": "skipped"}


def check_prolog(stream: IO[bytes], name: str) -> None:
    """Refuse a DOCTYPE in the prolog; leave ``stream`` at its start."""
    head = stream.read(65_536)
    while True:
        text = _decode_head(head)
        verdict = _scan_prolog(text)
        if verdict is not None:
            if verdict >= 0:
                line = text.count("\n", 0, verdict) + 1
                column = verdict - (text.rfind("\n", 0, verdict) + 1) + 1
                raise UnsafeXMLError(
                    "the document declares a DOCTYPE; report files never need one and it could "
                    "declare entities (XXE, entity expansion), so the file is refused",
                    path=name,
                    line=line,
                    column=column,
                )
            break
        more = stream.read(65_536)
        if not more or len(head) > _PROLOG_LIMIT:
            break
        head += more
    stream.seek(0)


def _decode_head(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    if head.startswith(b"<\x00?\x00"):
        return head.decode("utf-16-le", errors="ignore")
    if head.startswith(b"\x00<\x00?"):
        return head.decode("utf-16-be", errors="ignore")
    return head.decode("latin-1").lstrip("\ufeff").removeprefix("\xef\xbb\xbf")


def _scan_prolog(text: str) -> int | None:
    """Offset of a DOCTYPE, -1 when the prolog ends without one, None when more text is needed."""
    pos = 0
    size = len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if pos >= size:
            return None
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            return pos
        elif size - pos < 9 and "<!DOCTYPE".startswith(text[pos:].upper()):
            return None
        else:
            return -1


@dataclass(slots=True)
class _Suite:
    name: str
    declared: dict[str, int]
    path: str = ""
    counted: dict[str, int] = field(
        default_factory=lambda: {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _seconds(raw: str | None, where: str, name: str) -> float:
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw.strip().replace(",", ""))
    except ValueError:
        raise ReportFileError(f"{where}: time {raw!r} is not a number", path=name) from None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ReportFileError(
            f"{where}: time {raw!r} is not a non-negative finite number", path=name
        )
    if value > MAX_DURATION:
        raise ReportFileError(
            f"{where}: time {raw!r} is more than a year ({MAX_DURATION:.0f} s); JUnit times "
            "are seconds",
            path=name,
        )
    return value


def _declared(elem: Mapping[str, str], what: str = "", name: str = "") -> dict[str, int]:
    out: dict[str, int] = {}
    for attr, key in _COUNT_ATTRS.items():
        raw = elem.get(attr)
        if raw is None and attr == "skipped":
            raw = elem.get("skip") or elem.get("disabled")
        if raw is not None:
            try:
                value = float(raw)
            except ValueError:
                continue
            if not 0 <= value <= _MAX_COUNT:  # also NaN and infinities
                raise ReportFileError(
                    f"{what}: {attr}={raw!r} is not a count of test cases", path=name
                )
            out[key] = int(value)
    return out


def _text(elem: ET.Element) -> str:
    if len(elem):
        return "".join(elem.itertext()).strip()
    text = elem.text
    return text.strip() if text else ""


def _chars(elem: ET.Element) -> int | None:
    """The real length of an element's text when the reader cut it while parsing."""
    raw = elem.get(SIZE_ATTR)
    return int(raw) if raw is not None else None


def _outcome(kind: str, elem: ET.Element) -> tuple[ResultStatus, str, str, str]:
    """(status, raw status, message, trace) of one failure / error / skipped element."""
    message = elem.get("message") or ""
    etype = elem.get("type") or ""
    body = _text(elem)
    size = _chars(elem)
    stack = elem.find("stackTrace") if len(elem) else None
    if stack is not None:  # Surefire flaky / rerun elements carry a stackTrace child
        body = _text(stack)
        size = _chars(stack)
    if size is not None:  # cut while parsing: say how long it really was
        body = cap_text(body, 2 * CAPTURE_HALF, size)
    if kind == "skipped":
        return ResultStatus.SKIPPED, "skipped", message or body, ""
    status = ResultStatus.ERROR if kind.endswith(("error", "Error")) else ResultStatus.FAILED
    status = failure_status(etype, message or body[:200], status)
    if not message and body:
        message = body.splitlines()[0].strip()[:500]
    if etype and etype not in message:
        message = f"{etype}: {message}" if message else etype
    return status, kind, message, body


_OUTCOME_TAGS = ("failure", "error", "skipped")
_RANK = {ResultStatus.FAILED: 0, ResultStatus.TIMEOUT: 0, ResultStatus.ERROR: 1}
_FLAKY_TAGS = ("flakyFailure", "flakyError")
_RERUN_TAGS = ("rerunFailure", "rerunError")


# TestIdentity is a frozen dataclass: its ``__init__`` sets each field through
# ``object.__setattr__``, which costs as much as the rest of a passing testcase. The plain
# path builds it with ``object.__new__`` and the slot descriptors instead: the same fields,
# an equal instance with the same hash (a test checks this against the constructor).
_new = object.__new__
_set_name = vars(TestIdentity)["name"].__set__
_set_class = vars(TestIdentity)["class_name"].__set__
_set_parameters = vars(TestIdentity)["parameters"].__set__
_set_suite = vars(TestIdentity)["suite"].__set__


def _identity(test_name: str, class_name: str, suite: str) -> TestIdentity:
    """``TestIdentity.from_name(test_name, class_name, suite)``, built the fast way."""
    params = ""
    if test_name[-1] == "]":
        cut = test_name.find("[")
        if cut > 0 and len(test_name) - cut > 2:
            test_name, params = test_name[:cut], test_name[cut + 1 : -1]
    identity = _new(TestIdentity)
    _set_name(identity, test_name)
    _set_class(identity, class_name)
    _set_parameters(identity, params)
    _set_suite(identity, suite)
    return identity


def _case_attempts(
    elem: ET.Element, suite_name: str, suite_path: str, file_name: str
) -> tuple[list[ParsedAttempt], ResultStatus]:
    """The attempts of one testcase element, and its primary (non-rerun) outcome.

    ``elem``'s descendants carry local tag names (the reader strips namespaces).
    """
    attrib = elem.attrib
    get = attrib.get
    test_name = get("name") or "(unnamed)"
    class_name = get("classname") or get("class") or get("file") or suite_name
    identity = _identity(test_name, class_name, suite_path)
    raw_time = get("time")
    try:
        duration = float(raw_time) if raw_time else 0.0
        if not 0.0 <= duration <= MAX_DURATION:
            raise ValueError(raw_time)
    except ValueError:
        duration = _seconds(raw_time, f"testcase {identity.key!r}", file_name)
    metadata: dict[str, Any] = {}
    if "file" in attrib or "line" in attrib or "assertions" in attrib:
        for attr in ("file", "line", "assertions"):
            if attrib.get(attr):
                metadata[attr] = attrib[attr]
    if not len(elem) and "status" not in attrib and "result" not in attrib:
        # The common case: a passing testcase without children.
        return [
            ParsedAttempt(identity, ResultStatus.PASSED, "passed", duration, "", "", metadata)
        ], (ResultStatus.PASSED)
    outcomes: list[tuple[ResultStatus, str, str, str]] = []
    flaky: list[tuple[ResultStatus, str, str, str]] = []
    reruns: list[tuple[ResultStatus, str, str, str]] = []
    stdout: list[str] = []
    stderr: list[str] = []
    out_size = err_size = 0
    out_cut = err_cut = False
    properties: dict[str, str] = {}
    for child in elem:
        tag = child.tag
        if tag in _OUTCOME_TAGS:
            outcomes.append(_outcome(tag, child))
        elif tag in _FLAKY_TAGS:
            flaky.append(_outcome(tag, child))
        elif tag in _RERUN_TAGS:
            reruns.append(_outcome(tag, child))
        elif tag == "system-out":
            text = _text(child)
            size = _chars(child)
            out_cut = out_cut or size is not None
            out_size += size if size is not None else len(text)
            stdout.append(text)
        elif tag == "system-err":
            text = _text(child)
            size = _chars(child)
            err_cut = err_cut or size is not None
            err_size += size if size is not None else len(text)
            stderr.append(text)
        elif tag == "properties":
            for prop in child:
                if prop.get("name"):
                    properties[prop.get("name", "")] = prop.get("value") or _text(prop)
    if properties:
        metadata["properties"] = properties
    out_text = stdout[0] if len(stdout) == 1 else "\n".join(s for s in stdout if s)
    err_text = stderr[0] if len(stderr) == 1 else "\n".join(s for s in stderr if s)
    if out_text:
        metadata["stdout"] = cap_text(out_text, OUTPUT_CHARS, out_size if out_cut else None)
        if out_cut or len(out_text) > OUTPUT_CHARS:
            metadata["stdout_chars"] = out_size
    if err_text:
        metadata["stderr"] = cap_text(err_text, OUTPUT_CHARS, err_size if err_cut else None)
        if err_cut or len(err_text) > OUTPUT_CHARS:
            metadata["stderr_chars"] = err_size

    attempts = (
        [
            ParsedAttempt(identity, status, raw, 0.0, message, trace, {"rerun": True})
            for status, raw, message, trace in flaky
        ]
        if flaky
        else []
    )
    if len(outcomes) == 1:
        status, raw, message, trace = outcomes[0]
    elif outcomes:
        # Several outcome elements in one testcase: failure outranks error outranks skipped.
        primary = min(outcomes, key=lambda o: _RANK.get(o[0], 2))
        status = primary[0]
        message = "\n".join(o[2] for o in outcomes if o[2])
        trace = "\n\n".join(o[3] for o in outcomes if o[3])
        raw = "+".join(o[1] for o in outcomes)
    else:
        attr = get("status") or get("result") or ""
        status, raw, message, trace = ResultStatus.PASSED, "passed", "", ""
        if attr:
            raw = attr
            try:
                status = ResultStatus.parse(attr)
            except ValueError:
                status = ResultStatus.PASSED  # "run" and other non-outcome words
    attempts.append(ParsedAttempt(identity, status, raw, duration, message, trace, metadata))
    if reruns:
        attempts.extend(
            ParsedAttempt(identity, rstatus, rraw, 0.0, rmessage, rtrace, {"rerun": True})
            for rstatus, rraw, rmessage, rtrace in reruns
        )
    return attempts, status


_COUNT_KEY = {
    ResultStatus.FAILED: "failures",
    ResultStatus.TIMEOUT: "failures",
    ResultStatus.ERROR: "errors",
    ResultStatus.SKIPPED: "skipped",
}


def parse_junit(
    path: str | Path,
    stream: IO[bytes] | None = None,
    *,
    sink: Callable[[ParsedReport, list[ParsedAttempt]], None] | None = None,
    batch_size: int = 5_000,
) -> ParsedReport:
    """Read a JUnit XML file into a ``ParsedReport`` (raises ``ReportFileError`` subclasses).

    With ``sink``, attempts leave in batches while the file is read.
    """
    name = str(path)
    report = ParsedReport(path=name, format="junit", sink=sink, batch_size=batch_size)
    owned = stream is None
    handle: IO[bytes] = open(path, "rb") if stream is None else stream  # noqa: SIM115
    try:
        check_prolog(handle, name)
        _parse_stream(handle, name, report)
    finally:
        if owned:
            handle.close()
    return report


_PASSED = ResultStatus.PASSED
_INF = math.inf
#: The attributes a testcase may have and still take the reader's plain path.
_PLAIN_ATTRS = frozenset({"name", "classname", "class", "time", "timestamp", "hostname"})


class _Reader:
    """expat callbacks: suites tracked from their start tags, each testcase built on its own.

    A testcase without children and without the rarer attributes (the common case: a pass)
    becomes its attempt straight from expat's attribute dict, with no element at all. Only
    a testcase that has children exists as a small tree (an ``ET.TreeBuilder`` fed by the
    callbacks); everything around it is never materialised, so memory stays flat and no
    element is created for the suites' whitespace, properties or output.

    Counts are kept on the innermost suite only and added to the enclosing one when a suite
    ends, so each testcase costs one count, however deep the nesting. The callbacks are
    closures over local state (``start`` and ``end`` run once per element, so every
    attribute lookup saved counts).
    """

    def __init__(self, name: str, report: ParsedReport, parser: Any) -> None:
        self.root_declared: dict[str, int] = {}
        self.counted_all = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self.start, self.end = self._callbacks(name, report, parser)

    def _callbacks(
        self, file_name: str, report: ParsedReport, parser: Any
    ) -> tuple[Callable[[str, dict[str, str]], None], Callable[[str], None]]:
        attempts = report.attempts
        append = attempts.append
        suites: list[_Suite] = []
        # Repeat detection: hash of (class, name, parameters) -> invocations * 8 + status
        # code of the last one, in a compact table (it grows with the distinct tests).
        seen = _Seen()
        seen_add = seen.add
        report.distinct = 0
        passed_code = 8 + _STATUS_CODE[_PASSED]
        counted_all = self.counted_all
        counted = counted_all  # the innermost suite's counts
        suite_name = suite_path = ""  # of the innermost suite
        root_seen = False
        builder: ET.TreeBuilder | None = None
        elements: list[ET.Element] = []  # open elements of the testcase being built
        taken = 0  # characters of the open element's text seen so far
        tail: list[str] = []
        tail_len = 0
        half = CAPTURE_HALF
        in_case = False
        case_attrs: dict[str, str] = {}
        depth = 0  # element depth inside the current testcase
        plain_attrs = _PLAIN_ATTRS.issuperset
        new, cls = _new, TestIdentity
        set_name, set_class, set_parameters, set_suite = (
            _set_name,
            _set_class,
            _set_parameters,
            _set_suite,
        )
        attempt_of = ParsedAttempt
        passed = _PASSED
        max_duration = MAX_DURATION

        def data(chunk: str) -> None:
            """Text of the testcase's elements: head and tail kept, the middle counted."""
            nonlocal taken, tail_len
            assert builder is not None
            before = taken
            taken += len(chunk)
            if before < half:
                keep = chunk[: half - before]
                builder.data(keep)
                chunk = chunk[len(keep) :]
                if not chunk:
                    return
            tail.append(chunk)
            tail_len += len(chunk)
            while tail_len - len(tail[0]) >= half:
                tail_len -= len(tail.pop(0))

        def close_text() -> None:
            """End the open element's text: add its kept tail and, if cut, its real size."""
            nonlocal taken, tail_len
            if tail:
                assert builder is not None
                end_text = "".join(tail)[-half:]
                dropped = taken - half - len(end_text)
                if dropped > 0:
                    builder.data(f"\n… [{dropped} characters truncated] …\n")
                    elements[-1].set(SIZE_ATTR, str(taken))
                builder.data(end_text)
                tail.clear()
                tail_len = 0
            taken = 0

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal builder, in_case, case_attrs, depth, root_seen
            nonlocal suite_name, suite_path, counted
            if in_case:
                if builder is None:  # the testcase has children: build its small tree
                    builder = ET.TreeBuilder()
                    elements.append(builder.start("testcase", case_attrs))
                    parser.CharacterDataHandler = data
                close_text()
                depth += 1
                elements.append(builder.start(_local(tag) if "}" in tag else tag, attrs))
                return
            if "}" in tag:
                tag = _local(tag)
            if tag == "testcase":
                in_case = True
                case_attrs = attrs
                depth = 0
            elif tag == "testsuite":
                if len(suites) >= MAX_SUITE_DEPTH:
                    raise ReportFileError(
                        f"testsuite elements nest more than {MAX_SUITE_DEPTH} levels deep; "
                        "real reports nest a few levels, so the file is refused",
                        path=file_name,
                        line=parser.CurrentLineNumber,
                    )
                name = attrs.get("name") or ""
                path = f"{suite_path} / {name}" if suite_path and name else (suite_path or name)
                suite = _Suite(name, _declared(attrs, f"testsuite {name!r}", file_name), path)
                suites.append(suite)
                suite_name, suite_path, counted = name, path, suite.counted
            if not root_seen:
                root_seen = True
                if tag not in ("testsuites", "testsuite"):
                    raise UnsupportedFormatError(
                        f"the root element is <{tag}>, not <testsuites> or <testsuite>: "
                        "this is not JUnit XML (NUnit, TRX and xUnit.net v2 files need "
                        "converting to JUnit XML first)",
                        path=file_name,
                    )
                if tag == "testsuites":
                    self.root_declared = _declared(attrs, "<testsuites>", file_name)

        def end(tag: str) -> None:
            nonlocal builder, in_case, depth, suite_name, suite_path, counted
            if in_case:
                if depth:
                    depth -= 1
                    if builder is not None:
                        close_text()
                        elements.pop()
                        builder.end(_local(tag) if "}" in tag else tag)
                    return
                in_case = False
                if builder is None:  # no children: no tree to build
                    if plain_attrs(case_attrs) and plain(case_attrs):
                        return
                    case(ET.Element("testcase", case_attrs))
                    return
                close_text()
                elements.clear()
                builder.end("testcase")
                elem = builder.close()
                builder = None
                parser.CharacterDataHandler = None
                case(elem)
                return
            if suites and (tag == "testsuite" or _local(tag) == "testsuite"):
                suite = suites.pop()
                _check_totals(suite, report)
                if suites:
                    parent = suites[-1]
                    suite_name, suite_path, counted = parent.name, parent.path, parent.counted
                else:
                    suite_name, suite_path, counted = "", "", counted_all
                for key, value in suite.counted.items():
                    counted[key] += value

        def plain(attrs: dict[str, str]) -> bool:
            """A passing testcase with only name, class and time: its attempt, straight away.

            Returns False (nothing done) when the general path must handle it: an unnamed
            or repeated test, or a time that is not a plain non-negative number.
            """
            get = attrs.get
            test_name = get("name")
            if not test_name:
                return False
            class_name = get("classname") or get("class") or suite_name
            raw_time = get("time")
            if raw_time:
                try:
                    duration = float(raw_time)
                except ValueError:
                    return False
                if not 0.0 <= duration <= max_duration:
                    return False
            else:
                duration = 0.0
            params = ""
            if test_name[-1] == "]":  # pytest-style parameters, as in TestIdentity.from_name
                cut = test_name.find("[")
                if cut > 0 and len(test_name) - cut > 2:
                    test_name, params = test_name[:cut], test_name[cut + 1 : -1]
            if seen_add(hash((class_name, test_name, params)), passed_code):
                return False  # a repeat: left as it was for the general path
            identity = new(cls)  # TestIdentity(test_name, class_name, params, suite_path)
            set_name(identity, test_name)
            set_class(identity, class_name)
            set_parameters(identity, params)
            set_suite(identity, suite_path)
            append(attempt_of(identity, passed, "passed", duration, "", "", {}))
            report.distinct += 1  # type: ignore[operator]
            counted["tests"] += 1
            return True

        def case(elem: ET.Element) -> None:
            case_attempts, primary = _case_attempts(elem, suite_name, suite_path, file_name)
            first = case_attempts[0].identity
            raw_key = hash((first.class_name, first.name, first.parameters))
            unnamed = not elem.get("name")  # a test may really be called "(unnamed)"
            # add stores a new test's entry, or answers the earlier one's (left unchanged)
            if len(case_attempts) > 1 or unnamed or seen_add(raw_key, 8 + _STATUS_CODE[primary]):
                _link_repeats(case_attempts, seen, report, unnamed=unnamed)
            else:
                report.distinct += 1  # type: ignore[operator]
            attempts.extend(case_attempts)
            # Declared totals count testcase elements by their primary outcome.
            counted["tests"] += 1
            key = _COUNT_KEY.get(primary)
            if key:
                counted[key] += 1

        return start, end


def _refuse_dtd(*_: object) -> None:
    raise _DoctypeFound


class _DoctypeFound(Exception):
    pass


_CHUNK = 1 << 18


def _parse_stream(handle: IO[bytes], name: str, report: ParsedReport) -> None:
    parser = expat.ParserCreate(namespace_separator="}")
    reader = _Reader(name, report, parser)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.ordered_attributes = False
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    # A second line of defence behind check_prolog: any DTD stops the parse.
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    read, feed = handle.read, parser.Parse
    flush = report.flush if report.sink is not None else None
    try:
        while chunk := read(_CHUNK):  # large reads: few calls into expat, memory stays flat
            feed(chunk, False)
            if flush is not None:
                flush()  # parse, store, forget: full batches leave now
        feed(b"", True)
    except _DoctypeFound:
        raise UnsafeXMLError(
            "the document declares a DOCTYPE or entities; the file is refused",
            path=name,
            line=parser.CurrentLineNumber,
            column=parser.CurrentColumnNumber + 1,
        ) from None
    except expat.ExpatError as exc:
        reason = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
        raise ReportFileError(
            f"malformed XML: {reason}", path=name, line=exc.lineno, column=exc.offset + 1
        ) from None
    for key, declared in reader.root_declared.items():
        if declared != reader.counted_all[key]:
            report.warnings.append(
                f"{name}: <testsuites> declares {key}={declared} but its test cases give "
                f"{reader.counted_all[key]}; the counts from the test cases are used"
            )
    report.flush(final=True)


def _link_repeats(
    attempts: list[ParsedAttempt],
    seen: _Seen,
    report: ParsedReport,
    *,
    unnamed: bool = False,
) -> None:
    """Decide whether a repeated testcase is a retry or another invocation.

    A testcase repeating one already seen is a retry when the earlier one did not pass
    (TestNG reports a retried attempt as skipped or failed, then the next attempt); after
    a pass it is another invocation (data providers, ``-count=N``), kept apart as ``#n``.
    """
    identity = attempts[0].identity
    base = hash((identity.class_name, identity.name, identity.parameters))
    if unnamed:
        report.warnings.append(
            f"{report.path}: a testcase in {identity.class_name!r} has an empty name; "
            "stored as '(unnamed)'"
        )
    previous = seen.get(base)
    if not previous:
        seen.put(base, 8 + _STATUS_CODE[attempts[-1].status])
        report.distinct = (report.distinct or 0) + 1
        return
    count, last_status = previous >> 3, _STATUS_CODES[previous & 7]
    last_identity = identity
    if count > 1:
        params = f"{identity.parameters},#{count}" if identity.parameters else f"#{count}"
        last_identity = TestIdentity(identity.name, identity.class_name, params, identity.suite)
    if last_status is not ResultStatus.PASSED and not report.retry_warned:
        report.retry_warned = True
        report.warnings.append(
            f"{report.path}: testcase {identity.key!r} repeats after a failure and is stored "
            "as a retry of it (TestNG style); a runner that repeats tests instead (Playwright "
            "--repeat-each, go test -count) writes repeats the same way"
        )
    if last_status is ResultStatus.PASSED:
        count += 1
        report.distinct = (report.distinct or 0) + 1
        params = f"{identity.parameters},#{count}" if identity.parameters else f"#{count}"
        last_identity = TestIdentity(identity.name, identity.class_name, params, identity.suite)
    for attempt in attempts:
        attempt.identity = last_identity
    seen.put(base, min(count, 8191) * 8 + _STATUS_CODE[attempts[-1].status])


def _check_totals(suite: _Suite, report: ParsedReport) -> None:
    for key, declared in suite.declared.items():
        counted = suite.counted[key]
        if declared != counted:
            label = suite.name or "(unnamed)"
            report.warnings.append(
                f"{report.path}: testsuite {label!r} declares {key}={declared} but its test "
                f"cases give {counted}; the counts from the test cases are used"
            )
