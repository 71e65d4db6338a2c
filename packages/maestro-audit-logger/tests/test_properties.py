"""Property-based checks of the chain invariants (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from maestro_audit_logger import AuditEvent, AuditLogger, read_events, verify

# Integers stay in JSON's safe range: beyond it the logger refuses them (a tested error).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
details = st.dictionaries(st.sampled_from(["a", "b", "note", "count", "nested"]), json_values)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(details, min_size=1, max_size=12), st.integers(4096, 8192))
def test_any_details_round_trip_and_verify(batch: list[dict[str, Any]], seg_bytes: int) -> None:
    """Any JSON details, however segments rotate, read back equal and the log verifies."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "a"
        with AuditLogger(d, durability="os", max_segment_bytes=seg_bytes, mask_keys=()) as log:
            for item in batch:
                log.log(AuditEvent("prop.item", details=item))
        back = [e.details for e in read_events(d)]
        assert back == [orjson.loads(orjson.dumps(x)) for x in batch]
        result = verify(d)
        assert result, result.summary()
        assert result.records == len(batch)


@SETTINGS
@given(st.integers(10, 30), st.data())
def test_removed_lines_are_reported_as_exactly_those_sequences(n: int, data: st.DataObject) -> None:
    """Deleting any set of middle records is reported as missing exactly those sequences."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "a"
        with AuditLogger(d, durability="os") as log:
            log.log_many(AuditEvent("prop.item", details={"i": i}) for i in range(n))
        seg = next(d.glob("audit-*.jsonl"))
        lines = seg.read_bytes().splitlines(keepends=True)
        gone = data.draw(st.sets(st.integers(2, n - 1), min_size=1, max_size=5))
        seg.chmod(0o640)
        seg.write_bytes(b"".join(x for i, x in enumerate(lines, 1) if i not in gone))
        result = verify(d)
        assert result.kinds() == {"missing"}
        reported = {
            s
            for issue in result.issues
            for s in range(issue.first_sequence or 0, (issue.last_sequence or 0) + 1)
        }
        assert reported == gone
