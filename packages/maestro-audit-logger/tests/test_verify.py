"""verify() reports each kind of tampering as what it is, and where."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from maestro_audit_logger import (
    AuditEvent,
    AuditLogger,
    Checkpoint,
    Ed25519Signer,
    HmacSigner,
    read_checkpoints,
    verify,
)

KEY = HmacSigner(b"k" * 32, key_id="audit-2026")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Checkpoint]]:
    """A signed log of 60 events over several segments, plus the checkpoints sent to a sink."""
    d = tmp_path_factory.mktemp("pristine") / "audit"
    sunk: list[Checkpoint] = []
    with AuditLogger(d, max_segment_bytes=4096, signer=KEY, checkpoint_sink=sunk.append) as log:
        for i in range(60):
            log.log(AuditEvent("tick.tock", user_id="u", details={"i": i, "pad": "x" * 150}))
    return d, sunk


@pytest.fixture
def copy(pristine: tuple[Path, list[Checkpoint]], tmp_path: Path) -> Path:
    """A writable copy of the pristine log to tamper with."""
    dst = tmp_path / "copy"
    shutil.copytree(pristine[0], dst)
    for p in dst.iterdir():
        p.chmod(0o640)
    return dst


def _segments(d: Path) -> list[Path]:
    return sorted(d.glob("audit-*.jsonl"))


def _locate(d: Path, seq: int) -> tuple[Path, list[bytes], int]:
    for seg in _segments(d):
        lines = seg.read_bytes().splitlines(keepends=True)
        for i, line in enumerate(lines):
            if orjson.loads(line)["sequence"] == seq:
                return seg, lines, i
    raise LookupError(seq)


def test_an_untouched_log_verifies(pristine: tuple[Path, list[Checkpoint]]) -> None:
    """The pristine log is truthy with no issues, every signature checked."""
    d, _ = pristine
    result = verify(d, keys=KEY, require_signatures=True)
    assert result, result.summary()
    assert result.records == 60
    assert result.segments > 3
    assert result.signatures_checked == result.checkpoints > 3


def test_modified_record_is_reported_at_its_sequence(copy: Path) -> None:
    """Editing one byte of record 7 is reported as 'modified' at sequence 7 in its segment."""
    seg, lines, i = _locate(copy, 7)
    lines[i] = lines[i].replace(b'"user_id":"u"', b'"user_id":"v"')
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert not result
    assert result.kinds() == {"modified"}
    (issue,) = result.issues
    assert issue.first_sequence == 7
    assert issue.segment == seg.name
    assert issue.line == i + 1


def test_modified_last_record_is_caught_by_its_checkpoint(copy: Path) -> None:
    """The newest record has no successor; the closing checkpoint still exposes an edit."""
    seg, lines, i = _locate(copy, 60)
    lines[i] = lines[i].replace(b'"user_id":"u"', b'"user_id":"v"')
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert result.kinds() == {"modified"}
    assert result.issues[0].first_sequence == 60


def test_deleted_record_is_reported_as_missing_sequences(copy: Path) -> None:
    """Removing records 9 and 10 is reported as missing sequences 9..10."""
    seg, lines, i = _locate(copy, 9)
    assert orjson.loads(lines[i + 1])["sequence"] == 10
    del lines[i : i + 2]
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert result.kinds() == {"missing"}
    assert (result.issues[0].first_sequence, result.issues[0].last_sequence) == (9, 10)


def test_swapped_records_are_reported_as_reordered(copy: Path) -> None:
    """Swapping two adjacent records is 'reordered', with an intact chain otherwise."""
    seg, lines, i = _locate(copy, 12)
    if i + 1 >= len(lines):
        seg, lines, i = _locate(copy, 13)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert result.kinds() == {"reordered"}


def test_replayed_record_is_reported_as_duplicate(copy: Path) -> None:
    """Appending a copy of an old record in the middle is a 'duplicate' sequence."""
    seg, lines, i = _locate(copy, 20)
    lines.insert(i + 1, lines[i])
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert result.kinds() == {"duplicate"}
    assert result.issues[0].first_sequence == 20


def test_cut_tail_is_reported_as_truncated_against_the_checkpoint(copy: Path) -> None:
    """Cutting the last three records is 'truncated' because a checkpoint vouches for them."""
    seg = _segments(copy)[-1]
    lines = seg.read_bytes().splitlines(keepends=True)
    seg.write_bytes(b"".join(lines[:-3]))
    result = verify(copy)
    assert result.kinds() == {"truncated"}
    assert (result.issues[0].first_sequence, result.issues[0].last_sequence) == (58, 60)


def test_cut_tail_with_local_checkpoints_erased_is_caught_by_the_sink(
    copy: Path, pristine: tuple[Path, list[Checkpoint]]
) -> None:
    """If checkpoints.jsonl is deleted too, the checkpoints kept by the sink still catch the cut."""
    seg = _segments(copy)[-1]
    lines = seg.read_bytes().splitlines(keepends=True)
    seg.write_bytes(b"".join(lines[:-3]))
    (copy / "checkpoints.jsonl").unlink()
    assert verify(copy)  # nothing left locally to compare with
    result = verify(copy, checkpoints=pristine[1], keys=KEY)
    assert result.kinds() == {"truncated"}


def test_deleted_segment_is_reported_with_its_range(copy: Path) -> None:
    """Deleting a middle segment is 'deleted_segment' with its sequence range, not a gap."""
    victim = _segments(copy)[1]
    first = orjson.loads(victim.read_bytes().splitlines()[0])["sequence"]
    last = orjson.loads(victim.read_bytes().splitlines()[-1])["sequence"]
    victim.unlink()
    result = verify(copy)
    assert result.kinds() == {"deleted_segment"}
    issue = result.issues[0]
    assert (issue.segment, issue.first_sequence, issue.last_sequence) == (victim.name, first, last)


def test_deleted_first_segment_is_reported(copy: Path) -> None:
    """Deleting the oldest segment is reported as a deleted segment too."""
    _segments(copy)[0].unlink()
    assert verify(copy).kinds() == {"deleted_segment"}


def test_forged_checkpoint_signature_is_reported(copy: Path) -> None:
    """A checkpoint whose fields were changed after signing fails as 'bad_signature'."""
    path = copy / "checkpoints.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    data = orjson.loads(lines[0])
    data["count"] += 1
    lines[0] = orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n"
    path.write_bytes(b"".join(lines))
    result = verify(copy, keys=KEY)
    assert "bad_signature" in result.kinds()


def test_wrong_key_is_reported_as_bad_signature(copy: Path) -> None:
    """Verifying with another key under the same id reports every checkpoint as badly signed."""
    other = HmacSigner(b"z" * 32, key_id="audit-2026")
    result = verify(copy, keys=other)
    assert result.kinds() == {"bad_signature"}
    assert len(result.issues) == result.checkpoints


def test_unknown_key_id_is_reported(copy: Path) -> None:
    """A checkpoint signed under a key id the verifier does not hold is reported."""
    result = verify(copy, keys=HmacSigner(b"k" * 32, key_id="other"))
    assert result.kinds() == {"bad_signature"}
    assert "unknown key id" in result.issues[0].message


def test_removed_checkpoint_line_breaks_the_checkpoint_chain(copy: Path) -> None:
    """Deleting a line from checkpoints.jsonl is reported: the next one no longer chains."""
    path = copy / "checkpoints.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[1]
    path.write_bytes(b"".join(lines))
    result = verify(copy)
    assert "bad_signature" in result.kinds()
    assert "does not chain" in result.summary()


def test_garbage_line_is_reported_as_malformed(copy: Path) -> None:
    """A line that is not a record is 'malformed' (and its sequence 'missing')."""
    seg, lines, i = _locate(copy, 30)
    lines[i] = b"not json at all\n"
    seg.write_bytes(b"".join(lines))
    result = verify(copy)
    assert result.kinds() == {"malformed", "missing"}
    assert [i.first_sequence for i in result.issues if i.kind == "missing"] == [30]


def test_unsigned_checkpoints_fail_when_signatures_are_required(tmp_path: Path) -> None:
    """require_signatures=True turns an unsigned checkpoint into an issue."""
    with AuditLogger(tmp_path / "a", signer=None) as log:
        log.log(AuditEvent("a.one"))
    assert verify(tmp_path / "a")
    assert verify(tmp_path / "a", require_signatures=True).kinds() == {"bad_signature"}


def test_ed25519_signed_checkpoints_verify_with_the_public_key_only(tmp_path: Path) -> None:
    """Ed25519 checkpoints verify with the public key; a different key is a bad signature."""
    signer = Ed25519Signer.generate("ed-1")
    with AuditLogger(tmp_path / "a", signer=signer) as log:
        log.log(AuditEvent("a.one"))
    cps = read_checkpoints(tmp_path / "a")
    assert cps[0].algorithm == "ed25519"
    good = verify(tmp_path / "a", keys=signer.verifier(), require_signatures=True)
    assert good, good.summary()
    assert good.signatures_checked == 1
    other = Ed25519Signer.generate("ed-1").verifier()
    assert verify(tmp_path / "a", keys=other).kinds() == {"bad_signature"}


def test_summary_names_each_issue(copy: Path) -> None:
    """summary() starts with FAILED and lists each issue with its kind."""
    _segments(copy)[1].unlink()
    text = verify(copy).summary()
    assert text.startswith("FAILED")
    assert "ISSUE deleted_segment" in text
