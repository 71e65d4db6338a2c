"""verify(): replay the hash chain and the checkpoints and say what is wrong and where.

Reported issue kinds (the result is falsy when there is at least one):

``modified``         a record's bytes differ from what its successor (or a checkpoint) hashed
``malformed``        a line that is not an audit record at all
``missing``          sequence numbers absent from the segments
``reordered``        a record stored after records with higher sequence numbers
``duplicate``        the same sequence number stored twice
``truncated``        records a checkpoint vouches for are gone from the end of the log
``deleted_segment``  a checkpointed segment file is gone without a retention record
``bad_signature``    a checkpoint signature (or its chain, or its key id) does not check out
``missing_checkpoint`` (only with ``require_signatures``) ``checkpoints.jsonl`` is missing,
                     empty or older than the log: closed segments nothing vouches for

Without ``require_signatures`` a missing, empty or stale checkpoints file is a warning.
Records after the newest checkpoint are reported as not yet vouched for
(``VerifyResult.unvouched``). ``trusted_checkpoint`` is a checkpoint kept elsewhere (as a
Certificate Transparency client keeps a signed tree head): records it vouches for that
were cut or rewritten are issues even when ``checkpoints.jsonl`` was replaced.

A torn last line (a writer crashed mid-write; the next open trims it and logs
``audit.recovery``) and segments removed by retention are warnings, not issues.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson

from maestro_audit_logger._checkpoint import (
    CHECKPOINTS_FILE,
    Checkpoint,
    Verifier,
    checkpoint_line_hash,
    read_checkpoints,
)
from maestro_audit_logger._errors import ConfigurationError
from maestro_audit_logger._record import GENESIS_HASH
from maestro_audit_logger._storage import list_segments

IssueKind = Literal[
    "modified",
    "malformed",
    "missing",
    "reordered",
    "duplicate",
    "truncated",
    "deleted_segment",
    "bad_signature",
    "missing_checkpoint",
]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: its kind, a sentence, and where (segment, line, sequence range)."""

    kind: IssueKind
    message: str
    segment: str | None = None
    line: int | None = None
    first_sequence: int | None = None
    last_sequence: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(slots=True)
class VerifyResult:
    """Truthy when the log is intact; ``issues`` says what is wrong and where."""

    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    segments: int = 0
    checkpoints: int = 0
    signatures_checked: int = 0
    #: ``(first, last)`` sequences newer than every checkpoint, or None.
    unvouched: tuple[int, int] | None = None

    def __bool__(self) -> bool:
        return not self.issues

    @property
    def ok(self) -> bool:
        """True when no issue was found."""
        return not self.issues

    def kinds(self) -> set[str]:
        """The set of issue kinds found."""
        return {i.kind for i in self.issues}

    def summary(self) -> str:
        """A human-readable report, one line per issue and warning."""
        head = (
            f"{'OK' if self.ok else 'FAILED'}: {self.records} records in {self.segments} "
            f"segments, sequences {self.first_sequence}..{self.last_sequence}, "
            f"{self.checkpoints} checkpoints ({self.signatures_checked} signatures checked)"
        )
        lines = [head]
        lines += [f"  ISSUE {i}" for i in self.issues]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _ranges(gaps: dict[int, int]) -> list[tuple[int, int]]:
    return sorted(gaps.items())


def _check_checkpoints(
    cps: list[tuple[Checkpoint, bytes | None]],
    keys: dict[str, Verifier],
    require_signatures: bool,
    result: VerifyResult,
) -> None:
    prev_local = GENESIS_HASH
    for cp, line in cps:
        where = f"checkpoint for {cp.segment} ({cp.first_sequence}..{cp.last_sequence})"
        if line is not None:
            if cp.prev_checkpoint_hash != prev_local:
                result.issues.append(
                    Issue(
                        "bad_signature",
                        f"{where} does not chain to the checkpoint before it "
                        f"({CHECKPOINTS_FILE} was edited or had lines removed)",
                        segment=cp.segment,
                    )
                )
            prev_local = checkpoint_line_hash(line)
        if cp.signature is None:
            if require_signatures:
                result.issues.append(
                    Issue("bad_signature", f"{where} is not signed", segment=cp.segment)
                )
            continue
        if not keys:
            continue
        key = keys.get(cp.key_id or "")
        if key is None or key.algorithm != cp.algorithm:
            result.issues.append(
                Issue(
                    "bad_signature",
                    f"{where} is signed with unknown key id {cp.key_id!r} ({cp.algorithm})",
                    segment=cp.segment,
                )
            )
            continue
        result.signatures_checked += 1
        if not key.verify(cp.payload(), cp.signature):
            result.issues.append(
                Issue("bad_signature", f"{where} has a bad signature", segment=cp.segment)
            )
    if keys == {} and any(cp.signature for cp, _ in cps):
        result.warnings.append("checkpoint signatures were not checked: no key given")


def _load_checkpoints(
    d: Path | None,
    external: Iterable[Checkpoint] | str | os.PathLike[str] | None,
    result: VerifyResult,
) -> list[tuple[Checkpoint, bytes | None]]:
    out: list[tuple[Checkpoint, bytes | None]] = []
    path = d / CHECKPOINTS_FILE if d is not None else None
    if path is not None and path.exists():
        data = path.read_bytes()
        lines = data.split(b"\n")
        torn = lines.pop()  # b"" when the file ends with a newline
        if torn:
            result.warnings.append(
                f"{CHECKPOINTS_FILE} ends with a torn line of {len(torn)} bytes (a writer "
                "crashed while checkpointing); the next checkpoint drops it"
            )
        for n, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                out.append((Checkpoint.from_dict(orjson.loads(raw)), raw))
            except (orjson.JSONDecodeError, TypeError, ValueError):
                result.issues.append(
                    Issue(
                        "malformed",
                        f"line {n} of {CHECKPOINTS_FILE} is not a checkpoint",
                        segment=CHECKPOINTS_FILE,
                        line=n,
                    )
                )
    if external is not None:
        ext = (
            read_checkpoints(external)
            if isinstance(external, str | os.PathLike)
            else list(external)
        )
        local = {cp for cp, _ in out}
        out += [(cp, None) for cp in ext if cp not in local]
    return out


def _trusted(value: Checkpoint | str | os.PathLike[str] | None) -> Checkpoint | None:
    if value is None or isinstance(value, Checkpoint):
        return value
    try:
        found = read_checkpoints(value)
    except (OSError, ValueError, orjson.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read the trusted checkpoint {value}: {exc}") from exc
    if not found:
        raise ConfigurationError(f"the trusted checkpoint file {value} holds no checkpoint")
    return found[-1]


def _check_coverage(
    cps: list[tuple[Checkpoint, bytes | None]],
    segments: list[tuple[int, str]],
    result: VerifyResult,
    required: bool,
) -> None:
    """A checkpoints file that is missing, empty or older than the closed segments."""
    local = [cp for cp, line in cps if line is not None]
    problem = None
    if result.records and not local:
        problem = (
            f"no checkpoint vouches for the {result.records} records: {CHECKPOINTS_FILE} is "
            "missing or empty (deleted?); verify against a checkpoint kept elsewhere"
        )
    elif local and len(segments) > 1:
        closed_up_to = segments[-1][0] - 1
        newest = max(cp.last_sequence for cp in local)
        if closed_up_to > newest:
            problem = (
                f"{CHECKPOINTS_FILE} is older than the log: its newest checkpoint vouches for "
                f"records up to {newest}, but closed segments hold records up to "
                f"{closed_up_to} with no checkpoint (lines removed?)"
            )
    if problem is None:
        return
    if required:
        result.issues.append(
            Issue(
                "missing_checkpoint",
                problem,
                segment=CHECKPOINTS_FILE,
            )
        )
    else:
        result.warnings.append(problem)


_PREFIX = b'{"sequence":'
_PREV = b',"prev_hash":"'
_RETENTION = b'"event_type":"audit.retention"'
_CHUNK = 1 << 22
_TYPE_OFFSET = len(b'"event_id":"') + 36 + len(b'","timestamp":"') + 27 + len(b'",')


class _Scan:
    """Replays the chain record by record.

    In-order records take a fast path that keeps only the previous hash; anything out of
    order falls back to maps of unmatched hashes and gaps, so memory stays bounded for an
    intact log of any size.
    """

    def __init__(self, issues: list[Issue], vouched: dict[int, tuple[str, Checkpoint]]) -> None:
        self.issues = issues
        self.vouched = vouched
        self.hashes: dict[int, tuple[str, str, int]] = {}  # seq -> (hash, segment, line)
        self.prevs: dict[int, tuple[str, str, int]] = {}  # seq -> (prev_hash, segment, line)
        self.gaps: dict[int, int] = {}  # first missing -> last missing
        self.retention: set[str] = set()
        self.count = 0
        self.min_seen: int | None = None
        self.max_seen = 0
        # The newest in-order record: its sequence, hash and location.
        self.last_seq = 0
        self.last: tuple[str, str, int] | None = None

    def segment(self, path: Path, name: str, *, newest: bool, warnings: list[str]) -> None:
        issues = self.issues
        vouched = self.vouched
        sha256 = hashlib.sha256
        max_seen = self.max_seen
        last_seq = self.last_seq
        # Invariant: last_h is not None only when it is the hash of record max_seen.
        last_h, last_name, last_n = self.last if self.last is not None else (None, "", 0)
        last_hb = last_h.encode() if last_h is not None else b""
        malformed = 0
        n = 0
        rest = b""
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for n, line in enumerate(lines, n + 1):  # noqa: B020 - n continues across chunks
                    # Fast path: the line starts exactly as the next in-order record must
                    # (sequence max_seen + 1, prev_hash = hash of record max_seen).
                    prefix = b'{"sequence":%d,"prev_hash":"%s",' % (max_seen + 1, last_hb)
                    if last_h is not None and line.startswith(prefix):
                        h = sha256(line).hexdigest()
                        # The logger writes event_id (36) and timestamp (27) next, so a
                        # retention record's type sits at a fixed offset: no scan needed.
                        if line.startswith(_RETENTION, len(prefix) + _TYPE_OFFSET):
                            self._retention(line)
                        max_seen = last_seq = seq = max_seen + 1
                        last_h = h
                        last_hb = h.encode()
                        last_name = name
                        last_n = n
                    else:
                        parsed = self._fields(line, name, n, max_seen)
                        if parsed is None:
                            malformed += 1
                            continue
                        seq, prev = parsed
                        h = sha256(line).hexdigest()
                        if _RETENTION in line:
                            self._retention(line)
                        if seq == max_seen + 1 and last_h is not None:
                            if prev != last_h:
                                self._modified(
                                    seq - 1, last_name, last_n, f"record {seq}'s prev_hash"
                                )
                            max_seen = last_seq = seq
                            last_h = h
                            last_name = name
                            last_n = n
                        else:
                            if last_h is not None:
                                self.hashes[last_seq] = (last_h, last_name, last_n)
                                last_h = None
                            self.max_seen = max_seen
                            self._slow(seq, prev, h, name, n)
                            max_seen = self.max_seen
                            if seq == max_seen and seq in self.hashes:
                                last_seq = seq
                                last_h, last_name, last_n = self.hashes.pop(seq)
                        last_hb = last_h.encode() if last_h is not None else b""
                    if seq in vouched and vouched[seq][0] != h:
                        cp = vouched[seq][1]
                        self._modified(seq, name, n, f"the checkpoint of {cp.created_at}")
        if rest:
            if newest:
                warnings.append(
                    f"{name} ends with a torn line of {len(rest)} bytes (a writer "
                    "crashed mid-write); the next AuditLogger open trims it"
                )
            else:
                issues.append(
                    Issue(
                        "malformed",
                        f"{name} line {n + 1} is an unterminated line",
                        segment=name,
                        line=n + 1,
                    )
                )
        self.count += n - malformed
        self.max_seen = max_seen
        self.last_seq = last_seq
        self.last = (last_h, last_name, last_n) if last_h is not None else None

    def _retention(self, line: bytes) -> None:
        details = orjson.loads(line).get("details") or {}
        self.retention.update(details.get("segments") or [])

    def _fields(self, line: bytes, name: str, n: int, max_seen: int) -> tuple[int, str] | None:
        """Sequence and prev_hash of a line that is not the expected next record."""
        if line.startswith(_PREFIX):
            c = line.find(b",", 12)
            if line.startswith(_PREV, c) and line.startswith(b'"', c + 78):
                try:
                    seq = int(line[12:c])
                except ValueError:
                    seq = -1
                if seq >= 1:
                    return seq, line[c + 14 : c + 78].decode("ascii", "replace")
        return self._parse(line, name, n, max_seen)

    def _parse(self, line: bytes, name: str, n: int, max_seen: int) -> tuple[int, str] | None:
        """Slow path for a line without the usual prefix: parse it or report it malformed."""
        try:
            rec = orjson.loads(line)
            seq = rec["sequence"]
            prev = rec["prev_hash"]
            if type(seq) is not int or type(prev) is not str or seq < 1:
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.issues.append(
                Issue(
                    "malformed",
                    f"{name} line {n} is not an audit record (after sequence {max_seen})",
                    segment=name,
                    line=n,
                    first_sequence=max_seen + 1,
                )
            )
            return None
        return seq, prev

    def _modified(self, seq: int, name: str, n: int, against: str) -> None:
        self.issues.append(
            Issue(
                "modified",
                f"record {seq} was modified ({name} line {n}): its hash no longer matches "
                f"{against}",
                segment=name,
                line=n,
                first_sequence=seq,
                last_sequence=seq,
            )
        )

    def _slow(self, seq: int, prev: str, h: str, name: str, n: int) -> None:
        gaps = self.gaps
        if self.min_seen is None or seq < self.min_seen:
            self.min_seen = seq
        if seq == self.max_seen + 1:
            self.max_seen = seq
        elif seq > self.max_seen:
            gaps[self.max_seen + 1] = seq - 1
            self.max_seen = seq
        else:
            start = next((a for a, b in gaps.items() if a <= seq <= b), None)
            if start is None:
                self.issues.append(
                    Issue(
                        "duplicate",
                        f"sequence {seq} is stored twice ({name} line {n})",
                        segment=name,
                        line=n,
                        first_sequence=seq,
                        last_sequence=seq,
                    )
                )
                return
            end = gaps.pop(start)
            if start < seq:
                gaps[start] = seq - 1
            if seq < end:
                gaps[seq + 1] = end
            self.issues.append(
                Issue(
                    "reordered",
                    f"record {seq} is stored out of order, after record {self.max_seen} "
                    f"({name} line {n})",
                    segment=name,
                    line=n,
                    first_sequence=seq,
                    last_sequence=seq,
                )
            )
        before = self.hashes.pop(seq - 1, None)
        if before is not None:
            if before[0] != prev:
                self._modified(seq - 1, before[1], before[2], f"record {seq}'s prev_hash")
        elif seq == 1:
            if prev != GENESIS_HASH:
                self.issues.append(
                    Issue(
                        "modified",
                        f"record 1 was modified ({name} line {n}): its "
                        "prev_hash is not the genesis hash",
                        segment=name,
                        line=n,
                        first_sequence=1,
                        last_sequence=1,
                    )
                )
        else:
            self.prevs[seq] = (prev, name, n)
        after = self.prevs.pop(seq + 1, None)
        if after is not None:
            if after[0] != h:
                self._modified(seq, name, n, f"record {seq + 1}'s prev_hash")
        else:
            self.hashes[seq] = (h, name, n)


def verify(
    directory: str | os.PathLike[str],
    *,
    keys: Verifier | Iterable[Verifier] | None = None,
    checkpoints: Iterable[Checkpoint] | str | os.PathLike[str] | None = None,
    require_signatures: bool = False,
    trusted_checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
) -> VerifyResult:
    """Check every segment and checkpoint of an audit directory, or one JSON Lines file.

    A file (an unfiltered ``export_to_jsonl``, or one segment copied elsewhere) is checked
    as a chain starting at its first record, against ``checkpoints`` if given.

    ``keys`` are the HMAC signers / Ed25519 verifiers for the key ids in the checkpoints;
    ``checkpoints`` adds checkpoints kept outside the directory (a list, or a file or
    directory holding ``checkpoints.jsonl``), which is what catches a rewritten tail.
    ``trusted_checkpoint`` is one checkpoint kept elsewhere (or a file whose newest
    checkpoint is used): its range must be in the log with the hash it states.
    """
    path = Path(directory)
    single = path.is_file()
    if not single and not path.is_dir():
        raise ConfigurationError(f"'{path}' is neither an audit directory nor a JSON Lines file")
    d = path.parent if single else path
    result = VerifyResult()
    if keys is None:
        key_map: dict[str, Verifier] = {}
    elif isinstance(keys, Verifier):
        key_map = {keys.key_id: keys}
    else:
        key_map = {k.key_id: k for k in keys}
    trusted = _trusted(trusted_checkpoint)
    extra: list[Checkpoint] = []
    if checkpoints is not None:
        extra = (
            read_checkpoints(checkpoints)
            if isinstance(checkpoints, str | os.PathLike)
            else list(checkpoints)
        )
    if trusted is not None:
        extra.append(trusted)
    cps = _load_checkpoints(None if single else d, extra or None, result)
    _check_checkpoints(cps, key_map, require_signatures, result)
    result.checkpoints = len(cps)
    vouched: dict[int, tuple[str, Checkpoint]] = {
        cp.last_sequence: (cp.last_hash, cp) for cp, _ in cps
    }

    issues = result.issues
    segments = [(0, path.name)] if single else list_segments(d)
    result.segments = len(segments)
    present = {name for _, name in segments}
    scan = _Scan(issues, vouched)
    for idx, (_, name) in enumerate(segments):
        scan.segment(d / name, name, newest=idx == len(segments) - 1, warnings=result.warnings)
    count, min_seen, max_seen = scan.count, scan.min_seen, scan.max_seen
    # Removal by retention is stated by the audit.retention record and by the
    # retention-* checkpoint written after it (which outlives later pruning).
    scan.retention.update(cp.segment for cp, _ in cps if cp.reason.startswith("retention"))
    prevs, gaps, retention = scan.prevs, scan.gaps, scan.retention

    result.records = count
    result.first_sequence = min_seen
    result.last_sequence = max_seen or None

    # Segments the checkpoints know of that are gone.
    covered: list[tuple[int, int]] = []
    reported: set[str] = set()
    for cp, _ in [] if single else cps:
        if cp.segment in present or cp.segment in reported:
            continue
        reported.add(cp.segment)
        first = cp.first_sequence
        last = max(c.last_sequence for c, _ in cps if c.segment == cp.segment)
        covered.append((first, last))
        if cp.segment in retention:
            result.warnings.append(
                f"segment {cp.segment} (sequences {first}..{last}) was removed by retention"
            )
        else:
            issues.append(
                Issue(
                    "deleted_segment",
                    f"segment {cp.segment} (sequences {first}..{last}) was deleted",
                    segment=cp.segment,
                    first_sequence=first,
                    last_sequence=last,
                )
            )

    def is_covered(a: int, b: int) -> bool:
        return all(any(f <= s <= last for f, last in covered) for s in (a, b))

    # A log that starts after 1 must continue a checkpointed (removed) segment.
    if min_seen is not None and min_seen > 1 and not single:
        gaps[1] = min_seen - 1
    for seq, (prev, name, n) in prevs.items():
        if seq - 1 in vouched and vouched[seq - 1][0] != prev:
            issues.append(
                Issue(
                    "modified",
                    f"record {seq} ({name} line {n}) does not continue the "
                    f"checkpointed hash of record {seq - 1}",
                    segment=name,
                    line=n,
                    first_sequence=seq,
                    last_sequence=seq,
                )
            )
    for a, b in _ranges(gaps):
        if is_covered(a, b):
            continue
        issues.append(
            Issue("missing", f"sequences {a}..{b} are missing", first_sequence=a, last_sequence=b)
        )

    # Checkpoints that vouch for records beyond the end of the log.
    top = max((cp.last_sequence for cp, _ in cps), default=0)
    if top > max_seen and not is_covered(max_seen + 1, top):
        cp = vouched[top][1]
        issues.append(
            Issue(
                "truncated",
                f"the log ends at sequence {max_seen} but the checkpoint of {cp.created_at} "
                f"vouches for records up to {top}: sequences {max_seen + 1}..{top} were cut",
                segment=cp.segment,
                first_sequence=max_seen + 1,
                last_sequence=top,
            )
        )
    if not single:
        _check_coverage(cps, segments, result, require_signatures)
    top_vouched = max((cp.last_sequence for cp, _ in cps), default=0)
    if max_seen > top_vouched:
        first = top_vouched + 1 if top_vouched else (min_seen or 1)
        result.unvouched = (first, max_seen)
        result.warnings.append(
            f"records {first}..{max_seen} are not yet vouched for by a checkpoint "
            "(AuditLogger.checkpoint() or a rotation writes one)"
        )
    order = {k: i for i, k in enumerate(IssueKind.__args__)}  # type: ignore[attr-defined]
    issues.sort(key=lambda i: (i.first_sequence or 0, order[i.kind]))
    return result
