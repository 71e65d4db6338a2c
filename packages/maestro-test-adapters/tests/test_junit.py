"""JUnit XML parsing: per-test outcomes, and refusal of DOCTYPE / entity tricks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from maestro_test_adapters import CaseStatus, JUnitXMLError, parse_junit_xml

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.1">
<testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" line="3" time="0.010"/>
<testcase classname="tests.test_a" name="test_bad" time="0.020">
  <failure message="assert 1 == 2">traceback here</failure></testcase>
<testcase classname="tests.test_a" name="test_skip" time="0"><skipped type="pytest.skip"
  message="not today">reason</skipped></testcase>
<testcase classname="tests.test_a" name="test_err" time="0.001"><error message="fixture boom">
  E</error></testcase>
</testsuite></testsuites>"""


def test_statuses_durations_and_messages() -> None:
    """Each testcase yields its status, duration, location and failure message."""
    cases = parse_junit_xml(REPORT)
    assert [c.status for c in cases] == [
        CaseStatus.PASSED,
        CaseStatus.FAILED,
        CaseStatus.SKIPPED,
        CaseStatus.ERROR,
    ]
    assert cases[0].test_id == "tests.test_a::test_ok"
    assert (cases[0].file, cases[0].line, cases[0].duration) == ("tests/test_a.py", 3, 0.01)
    assert cases[1].message == "assert 1 == 2"
    assert cases[1].details == "traceback here"


_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")),
    min_size=1,
    max_size=20,
)


@given(st.lists(st.tuples(_names, _names, st.sampled_from(["", "failure", "error", "skipped"]))))
def test_any_names_round_trip(cases: list[tuple[str, str, str]]) -> None:
    """Whatever the names (quotes, <, &, unicode), each case comes back with its status."""
    suite = ET.Element("testsuite")
    for classname, name, outcome in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0.5")
        if outcome:
            ET.SubElement(case, outcome, message=f"{outcome} <&> {name}")
    parsed = parse_junit_xml(ET.tostring(suite))
    expected = {"": "passed", "failure": "failed", "error": "error", "skipped": "skipped"}
    assert [(c.classname, c.name, c.status.value) for c in parsed] == [
        (classname, name, expected[outcome]) for classname, name, outcome in cases
    ]


def test_reads_from_a_path(tmp_path: Path) -> None:
    """A path to the report is read from disk."""
    path = tmp_path / "junit.xml"
    path.write_text(REPORT)
    assert len(parse_junit_xml(path)) == 4


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<testsuites>&b;</testsuites>",
        '<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><testsuites/>',
        '<!doctype testsuites [<!entity e SYSTEM "http://127.0.0.1:1/x">]><testsuites>&e;</testsuites>',
    ],
)
def test_doctype_and_entities_are_refused(document: str) -> None:
    """Billion-laughs and external-entity documents are refused before parsing."""
    with pytest.raises(JUnitXMLError, match="DOCTYPE"):
        parse_junit_xml(document)


def test_malformed_and_foreign_documents_are_refused(tmp_path: Path) -> None:
    """Broken XML, a non-JUnit root and a missing file raise JUnitXMLError."""
    with pytest.raises(JUnitXMLError, match="malformed"):
        parse_junit_xml("<testsuites><testcase></testsuites>")
    with pytest.raises(JUnitXMLError, match="root element"):
        parse_junit_xml("<html/>")
    with pytest.raises(JUnitXMLError, match="cannot read"):
        parse_junit_xml(tmp_path / "missing.xml")
