"""Read the JUnit XML that pytest writes, refusing DOCTYPEs and entity declarations."""

from __future__ import annotations

import enum
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import JUnitXMLError

__all__ = ["CaseStatus", "PytestCaseResult", "parse_junit_xml"]

_MAX_BYTES = 64 * 1024 * 1024


class CaseStatus(enum.StrEnum):
    """The outcome of one test case as JUnit records it."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class PytestCaseResult:
    """One test case: ``test_id`` is ``classname::name`` (close to pytest's node id)."""

    classname: str
    name: str
    status: CaseStatus
    duration: float
    file: str | None = None
    line: int | None = None
    message: str | None = None
    details: str | None = None

    @property
    def test_id(self) -> str:
        """``classname::name``, the id used when storing results."""
        return f"{self.classname}::{self.name}" if self.classname else self.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "test_id": self.test_id,
            "classname": self.classname,
            "name": self.name,
            "status": self.status.value,
            "duration": self.duration,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


def _float(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def parse_junit_xml(source: str | bytes | os.PathLike[str]) -> tuple[PytestCaseResult, ...]:
    """Parse JUnit XML (a path, or the document as bytes/str) into per-test results."""
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and source.lstrip().startswith("<"):
        data = source.encode("utf-8")
    else:
        path = Path(source)
        try:
            if path.stat().st_size > _MAX_BYTES:
                raise JUnitXMLError(f"{path} is larger than {_MAX_BYTES} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise JUnitXMLError(f"cannot read JUnit XML {path}: {exc.strerror}") from None
    # pytest never writes a DOCTYPE; one here can only carry entity tricks (billion laughs,
    # external entities), so it is refused before the parser sees it.
    head = data.upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise JUnitXMLError("refusing JUnit XML with a DOCTYPE or entity declaration")
    try:
        root = ET.fromstring(data, parser=ET.XMLParser())
    except ET.ParseError as exc:
        raise JUnitXMLError(f"malformed JUnit XML: {exc}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitXMLError(f"not a JUnit report: the root element is <{root.tag}>")
    cases = []
    for case in root.iter("testcase"):
        status, message, details = CaseStatus.PASSED, None, None
        for child in case:
            tag = child.tag
            if tag in ("failure", "error", "skipped"):
                status = {
                    "failure": CaseStatus.FAILED,
                    "error": CaseStatus.ERROR,
                    "skipped": CaseStatus.SKIPPED,
                }[tag]
                message = child.get("message")
                details = (child.text or "").strip() or None
                if tag != "skipped":
                    break  # a failure/error outranks a later <skipped>
        line = case.get("line")
        cases.append(
            PytestCaseResult(
                classname=case.get("classname", ""),
                name=case.get("name", ""),
                status=status,
                duration=_float(case.get("time")),
                file=case.get("file"),
                line=int(line) if line and line.isdigit() else None,
                message=message,
                details=details,
            )
        )
    return tuple(cases)
