"""JUnit XML import: every real fixture, every dialect feature, safety and atomicity."""

from __future__ import annotations

import dataclasses
import io
import tracemalloc
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from maestro_test_result_aggregator import (
    ReportFileError,
    ResultStatus,
    TestIdentity,
    TestResultAggregator,
    UnsafeXMLError,
    UnsupportedFormatError,
)
from maestro_test_result_aggregator._importers import read_report
from maestro_test_result_aggregator._importers.parsed import ParsedReport

from .conftest import shared_fixtures

# file: (tests, attempts, passed, failed, error, skipped, warnings), final outcomes per test
EXPECTED = {
    "03-dorny-python-xunit-pytest.xml": (10, 10, 6, 2, 0, 2, 1),
    "05-dorny-python-xunit-unittest.xml": (8, 8, 4, 1, 1, 2, 0),
    # TestNG retries (a testcase repeated after a failure) now say how they were read.
    "10-dorny-pulsar-test-report.xml": (800, 808, 793, 1, 0, 6, 1),
    "11-dorny-TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml": (1, 2, 0, 1, 0, 0, 1),
    "16-junitparser-jenkins.xml": (3, 3, 1, 1, 0, 1, 0),
    "17-dorny-jest-junit.xml": (6, 6, 1, 3, 0, 1, 0),  # + 1 timeout (jest's "Timeout test")
    "18-dorny-jest-test-results.xml": (4239, 4239, 4207, 2, 0, 30, 1),
    "19-dorny-jest-test-results.xml": (2, 2, 0, 0, 2, 0, 3),
    "22-gojunitreport-001-report.xml": (5, 5, 2, 1, 0, 2, 0),
    "23-gojunitreport-012-report.xml": (11, 11, 6, 4, 0, 1, 0),
    "24-gojunitreport-013-report.xml": (5, 5, 2, 0, 3, 0, 0),
    "25-gojunitreport-030-report.xml": (17, 17, 8, 9, 0, 0, 0),
    "27-dorny-phpunit.xml": (12, 12, 10, 2, 0, 0, 0),
    "28-dorny-phpcheckstyle-phpunit.xml": (30, 30, 28, 2, 0, 0, 0),
    "29-dorny-tester-v1.7-report.xml": (65, 65, 61, 1, 0, 3, 1),
    "36-dorny-swift-xunit.xml": (3, 3, 2, 1, 0, 0, 0),
    "50-dorny-jest-junit-empty-testsuite.xml": (0, 0, 0, 0, 0, 0, 0),
}
NEGATIVE = "neg07-dorny-dotnet-nunit.xml"


def _finals(report: ParsedReport) -> Counter[str]:
    final: dict[str, str] = {}
    for attempt in report.attempts:
        final[attempt.identity.key] = attempt.status.value
    return Counter(final.values())


def test_every_shared_junit_fixture_is_covered() -> None:
    """The expectations name every JUnit file in the shared fixtures, and nothing else."""
    names = {p.name for p in shared_fixtures("junit")}
    assert names == {*EXPECTED, NEGATIVE}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_junit_files_import_with_counts_from_the_test_cases(name: str, tmp_path: Path) -> None:
    """Each real file gives the expected tests, attempts and outcomes, stored and summarised."""
    path = next(p for p in shared_fixtures("junit") if p.name == name)
    tests, attempts, passed, failed, error, skipped, warnings = EXPECTED[name]
    report = read_report(path)
    assert report.format == "junit"
    assert (report.tests, len(report.attempts)) == (tests, attempts)
    finals = _finals(report)
    assert (finals["passed"], finals["failed"], finals["error"], finals["skipped"]) == (
        passed,
        failed,
        error,
        skipped,
    )
    assert len(report.warnings) == warnings
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        result = agg.import_file(path, orchestration_id="run")
        summary = agg.get_summary("run")
    assert result.tests == tests
    assert result.attempts == attempts
    assert (summary["total"], summary["passed"], summary["failed"], summary["error"]) == (
        tests,
        passed,
        failed,
        error,
    )
    assert summary["attempts"] == attempts
    assert all(v >= 0 for v in summary.values() if isinstance(v, int))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_testcase_elements_agree_with_junitparser(name: str) -> None:
    """Every testcase element junitparser sees is an attempt here with the same outcome."""
    junitparser = pytest.importorskip("junitparser")
    path = next(p for p in shared_fixtures("junit") if p.name == name)
    theirs: Counter[str] = Counter()
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)

    def walk(suite: object) -> None:
        for item in suite:  # type: ignore[attr-defined]
            if isinstance(item, junitparser.TestSuite):
                walk(item)
                continue
            kinds = {type(r).__name__ for r in item.result}
            theirs[
                "failed"
                if "Failure" in kinds
                else "error"
                if "Error" in kinds
                else "skipped"
                if "Skipped" in kinds
                else "passed"
            ] += 1

    for suite in suites:
        walk(suite)
    # junitparser has no timeout: a timeout is one of its failures.
    ours = Counter(
        "failed" if a.status is ResultStatus.TIMEOUT else a.status.value
        for a in read_report(path).attempts
    )
    assert ours == theirs


def test_nunit_file_is_rejected_with_a_typed_error(tmp_path: Path) -> None:
    """The NUnit file among the fixtures is refused as not JUnit, naming it, storing nothing."""
    path = next(p for p in shared_fixtures("junit") if p.name == NEGATIVE)
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        with pytest.raises(UnsupportedFormatError, match=r"neg07.*<test-run>.*not JUnit"):
            agg.import_file(path, orchestration_id="run")
        assert agg.get_summary("run")["total"] == 0


def test_declared_totals_that_disagree_warn_and_never_go_negative() -> None:
    """The pytest file declares 15 tests for 10 test cases: a warning, counts from the cases."""
    path = next(p for p in shared_fixtures("junit") if p.name.startswith("03-"))
    report = read_report(path)
    assert any("declares tests=15" in w and "give 10" in w for w in report.warnings)


def write(tmp_path: Path, text: str | bytes, name: str = "r.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite><testcase name="&lol3;"/></testsuite>"""
XXE = """<?xml version="1.0"?>
<!-- a comment first -->
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="&xxe;"/></testsuite>"""


@pytest.mark.parametrize(
    "text", [BILLION_LAUGHS, XXE, '<!doctype x SYSTEM "http://example.invalid/x.dtd"><testsuite/>']
)
def test_doctype_and_entities_are_refused(tmp_path: Path, text: str) -> None:
    """Entity expansion and external entities never run: the DOCTYPE is refused, located."""
    path = write(tmp_path, text)
    with pytest.raises(UnsafeXMLError, match="DOCTYPE") as info:
        read_report(path)
    assert info.value.path == str(path)
    assert info.value.line is not None


def test_doctype_in_utf16_is_refused(tmp_path: Path) -> None:
    """A UTF-16 document with a DOCTYPE is refused too."""
    path = write(tmp_path, XXE.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16"))
    with pytest.raises(UnsafeXMLError):
        read_report(path)


def test_malformed_xml_names_file_line_and_column_and_stores_nothing(tmp_path: Path) -> None:
    """A truncated file raises ReportFileError with the position; earlier cases are not stored."""
    path = write(
        tmp_path,
        '<testsuite>\n  <testcase name="a"/>\n  <testcase name="b">\n  <failure>x</testsuite>',
    )
    with TestResultAggregator(db_path=tmp_path / "r.db") as agg:
        with pytest.raises(ReportFileError, match=r"r\.xml:4:\d+: malformed XML") as info:
            agg.import_file(path, orchestration_id="run")
        assert info.value.line == 4
        assert info.value.column is not None
        assert agg.get_summary("run")["total"] == 0


def test_undefined_entity_is_a_parse_error(tmp_path: Path) -> None:
    """An entity reference without a declaration is malformed XML, not an expansion."""
    path = write(tmp_path, '<testsuite><testcase name="&nope;"/></testsuite>')
    with pytest.raises(ReportFileError, match="undefined entity"):
        read_report(path)


def test_bom_character_references_and_utf16(tmp_path: Path) -> None:
    """UTF-8 BOM, UTF-16 and predefined / numeric character references all decode."""
    body = (
        '<?xml version="1.0" encoding="{enc}"?><testsuite>'
        '<testcase classname="a&amp;b" name="t&#233;st &lt;1&gt; &#x2713;"/></testsuite>'
    )
    one = read_report(
        write(tmp_path, b"\xef\xbb\xbf" + body.format(enc="UTF-8").encode(), "bom.xml")
    )
    two = read_report(write(tmp_path, body.format(enc="UTF-16").encode("utf-16"), "u16.xml"))
    for report in (one, two):
        assert report.attempts[0].identity.key == "a&b::tést <1> ✓"


def test_surefire_flaky_and_rerun_elements_become_attempts(tmp_path: Path) -> None:
    """flakyFailure before a pass and rerunFailure after a failure are attempts of one test."""
    path = write(
        tmp_path,
        """<testsuite name="s" tests="2" failures="1">
      <testcase classname="C" name="flaky" time="0.5">
        <flakyFailure message="first" type="java.lang.AssertionError">
          <stackTrace>at C.flaky</stackTrace></flakyFailure>
        <flakyError message="second" type="java.io.IOException"/>
      </testcase>
      <testcase classname="C" name="broken" time="0.1">
        <failure message="no" type="AssertionError">trace</failure>
        <rerunFailure message="still no" type="AssertionError"/>
        <rerunFailure message="and again" type="AssertionError"/>
      </testcase></testsuite>""",
    )
    report = read_report(path)
    flaky = [(a.status, a.message) for a in report.attempts if a.identity.name == "flaky"]
    assert flaky == [
        (ResultStatus.FAILED, "java.lang.AssertionError: first"),
        (ResultStatus.ERROR, "java.io.IOException: second"),
        (ResultStatus.PASSED, ""),
    ]
    assert report.attempts[0].trace == "at C.flaky"
    broken = [a.status for a in report.attempts if a.identity.name == "broken"]
    assert broken == [ResultStatus.FAILED] * 3
    assert report.tests == 2
    assert not report.warnings


def test_several_outcomes_in_one_testcase(tmp_path: Path) -> None:
    """A failure plus a teardown error is one failed attempt keeping both messages."""
    path = write(
        tmp_path,
        '<testsuite><testcase name="t"><failure message="assert 1"/><error message="teardown '
        'boom"/></testcase></testsuite>',
    )
    (attempt,) = read_report(path).attempts
    assert attempt.status is ResultStatus.FAILED
    assert attempt.raw_status == "failure+error"
    assert "assert 1" in attempt.message
    assert "teardown boom" in attempt.message


@pytest.mark.parametrize(
    ("attr", "status"),
    [
        ('status="notrun"', ResultStatus.SKIPPED),
        ('status="run"', ResultStatus.PASSED),
        ('result="Skipped"', ResultStatus.SKIPPED),
        ('status="Passed"', ResultStatus.PASSED),
    ],
)
def test_status_attributes(tmp_path: Path, attr: str, status: ResultStatus) -> None:
    """status / result attributes (Ant, xUnit.net and NUnit transforms) set the outcome."""
    path = write(
        tmp_path, f'<testsuites><testsuite><testcase name="t" {attr}/></testsuite></testsuites>'
    )
    (attempt,) = read_report(path).attempts
    assert attempt.status is status
    assert attempt.raw_status == attr.split('"')[1]


def test_timeouts_are_recognised(tmp_path: Path) -> None:
    """A failure typed or worded as a timeout is stored as timeout with the raw kind kept."""
    path = write(
        tmp_path,
        """<testsuite>
      <testcase name="a"><failure type="org.junit.runners.model.TestTimedOutException"
        message="test timed out after 10 milliseconds"/></testcase>
      <testcase name="b"><failure message="Failed: Timeout &gt;1.0s"/></testcase>
      <testcase name="c"><failure message="assert timeout == 5"/></testcase></testsuite>""",
    )
    statuses = [a.status for a in read_report(path).attempts]
    assert statuses == [ResultStatus.TIMEOUT, ResultStatus.TIMEOUT, ResultStatus.FAILED]


def test_repeated_testcases_are_retries_after_a_failure_and_invocations_after_a_pass(
    tmp_path: Path,
) -> None:
    """TestNG's skip-then-fail is one test with two attempts; pass-then-pass is two invocations."""
    path = write(
        tmp_path,
        """<testsuite>
      <testcase classname="C" name="retry"><skipped/></testcase>
      <testcase classname="C" name="retry"><failure message="x"/></testcase>
      <testcase classname="C" name="data"/><testcase classname="C" name="data"/>
      <testcase classname="C" name="data"><failure message="y"/></testcase>
      <testcase classname="C" name="data"/></testsuite>""",
    )
    report = read_report(path)
    keys = [a.identity.key for a in report.attempts]
    assert keys == ["C::retry", "C::retry", "C::data", "C::data[#2]", "C::data[#3]", "C::data[#3]"]
    assert report.tests == 4


def test_nested_suites_and_missing_classnames(tmp_path: Path) -> None:
    """Nested suites give a suite path; a case without classname takes its file or suite."""
    path = write(
        tmp_path,
        """<testsuites><testsuite name="outer" tests="2"><testsuite name="inner" tests="1">
      <testcase name="a" file="x.spec.js"/></testsuite><testcase name="b"/></testsuite>
      </testsuites>""",
    )
    a, b = read_report(path).attempts
    assert a.identity.suite == "outer / inner"
    assert a.identity.class_name == "x.spec.js"
    assert b.identity.class_name == "outer"


def test_namespaced_and_unnamed_cases(tmp_path: Path) -> None:
    """Namespaced tags are read; an empty test name becomes '(unnamed)' with a warning."""
    path = write(tmp_path, '<j:testsuite xmlns:j="urn:x"><j:testcase name=""/></j:testsuite>')
    report = read_report(path)
    assert report.attempts[0].identity.name == "(unnamed)"
    assert any("empty name" in w for w in report.warnings)


@pytest.mark.parametrize("time", ["-1", "NaN", "abc"])
def test_bad_times_reject_the_file(tmp_path: Path, time: str) -> None:
    """A negative, NaN or non-numeric time rejects the file naming the test case."""
    path = write(
        tmp_path, f'<testsuite><testcase classname="C" name="t" time="{time}"/></testsuite>'
    )
    with pytest.raises(ReportFileError, match="testcase 'C::t'"):
        read_report(path)


def test_surefire_thousands_separator_in_time(tmp_path: Path) -> None:
    """Surefire writes times over 1000 s as '1,234.5'; that is 1234.5 seconds."""
    path = write(tmp_path, '<testsuite><testcase name="t" time="1,234.5"/></testsuite>')
    assert read_report(path).attempts[0].duration == 1234.5


def test_empty_and_non_xml_files(tmp_path: Path) -> None:
    """An empty file and a text file are clear errors naming the file."""
    with pytest.raises(ReportFileError, match="empty"):
        read_report(write(tmp_path, "", "e.xml"))
    with pytest.raises(UnsupportedFormatError, match="neither XML nor JSON"):
        read_report(write(tmp_path, "hello", "t.xml"))
    with pytest.raises(ReportFileError, match="cannot read"):
        read_report(tmp_path / "missing.xml")


def test_large_files_stream_in_flat_memory(tmp_path: Path) -> None:
    """A ~6 MB file parses with a peak far below the size of its element tree."""
    case = (
        '<testcase classname="pkg.Cls" name="test_{i}" time="0.01"><system-out>'
        + "x" * 200
        + "</system-out></testcase>\n"
    )
    path = tmp_path / "big.xml"
    with path.open("w") as fh:
        fh.write("<testsuites><testsuite name='s'>\n")
        for i in range(20_000):
            fh.write(case.format(i=i))
        fh.write("</testsuite></testsuites>")
    tracemalloc.start()
    report = read_report(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.tests == 20_000
    assert peak < 40_000_000


names = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and not s.endswith("]"))
outcomes = st.sampled_from(["pass", "failure", "error", "skipped"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(names, outcomes, st.floats(0, 1000, allow_nan=False)),
        max_size=15,
        unique_by=lambda t: t[0],
    )
)
def test_generated_junit_round_trips(tmp_path: Path, cases: list[tuple[str, str, float]]) -> None:
    """For any generated suite the parser finds each case once with its outcome and time."""
    body = "".join(
        f'<testcase classname={quoteattr("K")} name={quoteattr(n)} time="{t!r}">'
        + ("" if o == "pass" else f'<{o} message="m">{escape(n)}</{o}>')
        + "</testcase>"
        for n, o, t in cases
    )
    path = tmp_path / "gen.xml"
    path.write_text(f'<testsuite tests="{len(cases)}">{body}</testsuite>', encoding="utf-8")
    report = read_report(path)
    expected = {
        "pass": ResultStatus.PASSED,
        "failure": ResultStatus.FAILED,
        "error": ResultStatus.ERROR,
        "skipped": ResultStatus.SKIPPED,
    }
    assert [
        (
            a.identity.name + (f"[{a.identity.parameters}]" if a.identity.parameters else ""),
            a.status,
            a.duration,
        )
        for a in report.attempts
    ] == [(n, expected[o], t) for n, o, t in cases]
    assert not report.warnings


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE])
def test_the_parser_itself_also_refuses_dtds(text: str) -> None:
    """Behind the prolog check, the expat callbacks stop at a DOCTYPE before any expansion."""
    from maestro_test_result_aggregator._importers.junit import _parse_stream

    report = ParsedReport(path="x.xml", format="junit")
    with pytest.raises(UnsafeXMLError, match="DOCTYPE") as info:
        _parse_stream(io.BytesIO(text.encode()), "x.xml", report)
    assert info.value.line is not None
    assert report.attempts == []


def test_plain_testcases_match_the_general_path(tmp_path: Path) -> None:
    """A childless passing testcase read on the fast path equals the same one read in full."""
    cases = [  # (attributes, key, TestIdentity.from_name arguments)
        ('classname="C" name="t[a-b]" time="0.5"', "C::t[a-b]", ("t[a-b]", "C")),
        ('name="plain" time="1e-3"', "inner::plain", ("plain", "inner")),
        ('class="K" name="x[]" time=""', "K::x[]", ("x[]", "K")),
        ('classname="C" name="[p]" time="2"', "C::[p]", ("[p]", "C")),
    ]
    fast = read_report(
        write(
            tmp_path,
            '<testsuite name="outer"><testsuite name="inner">'
            + "".join(f"<testcase {attrs}/>" for attrs, _, _ in cases)
            + "</testsuite></testsuite>",
            "fast.xml",
        )
    )
    full = read_report(  # a status attribute sends each testcase through _case_attempts
        write(
            tmp_path,
            '<testsuite name="outer"><testsuite name="inner">'
            + "".join(f'<testcase {attrs} status="passed"/>' for attrs, _, _ in cases)
            + "</testsuite></testsuite>",
            "full.xml",
        )
    )
    assert [a.identity.key for a in fast.attempts] == [key for _, key, _ in cases]
    for one, other, (_, _, args) in zip(fast.attempts, full.attempts, cases, strict=True):
        assert (one.identity, one.status, one.duration) == (
            other.identity,
            other.status,
            other.duration,
        )
        assert hash(one.identity) == hash(other.identity)
        assert one.identity == TestIdentity.from_name(*args, "outer / inner")
        assert hash(one.identity) == hash(TestIdentity.from_name(*args, "outer / inner"))
        with pytest.raises(dataclasses.FrozenInstanceError):
            one.identity.name = "changed"  # type: ignore[misc]


def test_nested_suite_totals_roll_up_to_every_enclosing_suite(tmp_path: Path) -> None:
    """Counts kept on the innermost suite reach the outer suites and the <testsuites> root."""
    body = """<testsuites tests="4" failures="1" skipped="1">
      <testsuite name="outer" tests="3" failures="{outer_failures}" skipped="1">
        <testsuite name="a" tests="2" failures="1"><testcase name="t1"/>
          <testcase name="t2"><failure message="x"/></testcase></testsuite>
        <testsuite name="b" tests="1" skipped="1"><testcase name="t3"><skipped/></testcase>
        </testsuite></testsuite>
      <testsuite name="c" tests="1"><testcase name="t4"/></testsuite></testsuites>"""
    assert read_report(write(tmp_path, body.format(outer_failures=1), "ok.xml")).warnings == []
    warnings = read_report(write(tmp_path, body.format(outer_failures=0), "bad.xml")).warnings
    assert len(warnings) == 1
    assert "testsuite 'outer' declares failures=0 but its test cases give 1" in warnings[0]


def test_errors_past_the_first_read_chunk_keep_their_position(tmp_path: Path) -> None:
    """A file is fed to expat in large chunks; an error far in still names its line and column."""
    lines = ["<testsuite>"] + [f'<testcase classname="C" name="t{i}"/>' for i in range(30_000)]
    lines.append('  <testcase name="bad" time="1"></testcas>')
    path = write(tmp_path, "\n".join([*lines, "</testsuite>"]))
    assert path.stat().st_size > 1 << 20
    with pytest.raises(ReportFileError, match="malformed XML") as info:
        read_report(path)
    assert (info.value.line, info.value.column) == (30_002, 35)
