"""Multiprocess mode: prepare the directory, and compact a dead worker's files into archives.

prometheus_client keeps one file per worker and metric type; dead workers' files stay and
every scrape reads them all (scrapes slow down as workers come and go). ``mark_process_dead``
merges the dead worker's counters, histograms, summaries and aggregating gauges into one
archive file per type and removes its files, under an exclusive file lock that scrapes take
shared, so no scrape ever sees a value counted twice or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._errors import ConfigurationError

__all__ = [
    "LOCK_NAME",
    "FilesCollector",
    "exclusive_lock",
    "mark_process_dead",
    "prepare_multiproc",
    "shared_lock",
]

LOCK_NAME = ".maestro-monitoring.lock"
ARCHIVE = "archive"
# gauge modes whose values survive the worker, and how two values combine
_GAUGE_MERGE = {"sum": "sum", "max": "max", "min": "min", "mostrecent": "mostrecent"}


@contextlib.contextmanager
def _lock(directory: str | os.PathLike[str], mode: int) -> Iterator[int]:
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def shared_lock(directory: str | os.PathLike[str]) -> contextlib.AbstractContextManager[int]:
    """Held by a scrape while it reads the files (gives the lock file's descriptor)."""
    return _lock(directory, fcntl.LOCK_SH)


def exclusive_lock(directory: str | os.PathLike[str]) -> contextlib.AbstractContextManager[int]:
    """Held while a dead worker's files are compacted (gives the lock file's descriptor).

    The lock file holds a token that changes with the archives, so a scrape knows whether
    the archives it parsed before are still the same."""
    return _lock(directory, fcntl.LOCK_EX)


# Parsed mmap keys, shared by every scrape of the process: (metric name, sample name,
# sorted label pairs, help text, le bound or None, label pairs without le).
_Parsed = tuple[
    str, str, tuple[tuple[str, str], ...], str, float | None, tuple[tuple[str, str], ...]
]
_KEYS: dict[str, _Parsed] = {}
_HISTOGRAM_KEYS: dict[str, _Parsed] = {}
_KEYS_MAX = 200_000


def _parse_key(key: str, histogram: bool) -> _Parsed:
    metric_name, name, labels, help_text = json.loads(key)
    pairs = tuple(sorted(labels.items()))
    le: float | None = None
    without = pairs
    if histogram and "le" in labels:
        with contextlib.suppress(TypeError, ValueError):
            le = float(labels["le"])
            without = tuple(pair for pair in pairs if pair[0] != "le")
    keys = _HISTOGRAM_KEYS if histogram else _KEYS
    if len(keys) >= _KEYS_MAX:
        keys.clear()
    parsed: _Parsed = (metric_name, name, pairs, help_text, le, without)
    keys[key] = parsed
    return parsed


class _Family:
    """One metric's samples merged over every file."""

    __slots__ = ("buckets", "help", "mode", "name", "samples", "stamps", "type")

    def __init__(self, name: str, help_text: str, typ: str) -> None:
        self.name = name
        self.help = help_text
        self.type = typ
        self.mode = ""
        # (sample name, label pairs) -> value
        self.samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        # histogram: label pairs without le -> {bound: count}
        self.buckets: dict[tuple[tuple[str, str], ...], dict[float, float]] = {}
        self.stamps: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def copy(self) -> _Family:
        """A copy that merging into leaves this one as it is."""
        other = _Family(self.name, self.help, self.type)
        other.mode = self.mode
        other.samples = dict(self.samples)
        other.buckets = {labels: dict(bounds) for labels, bounds in self.buckets.items()}
        other.stamps = dict(self.stamps)
        return other


class FilesCollector:
    """Reads every worker's files into merged metrics, as prometheus_client's
    ``MultiProcessCollector`` does, with three differences: files a starting worker has not
    initialised yet are skipped (prometheus_client fails the whole scrape on them); the
    files are read under the directory's shared lock, so a compaction is seen entirely or
    not at all; and the compaction archives, which change only when a worker is marked
    dead, are read and merged once per compaction rather than at every scrape."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        # (generation, (archive path, inode, size)...) and the archives merged, or None
        self._archived: tuple[tuple[object, ...], dict[str, _Family]] | None = None

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        with shared_lock(self.directory) as fd:
            generation = _read_generation(fd)
            archives: list[tuple[str, os.stat_result]] = []
            others: list[tuple[str, os.stat_result]] = []
            for file in glob.glob(os.path.join(self.directory, "*.db")):
                try:
                    stat = os.stat(file)
                except FileNotFoundError:
                    continue
                if stat.st_size < 8:
                    continue  # a starting worker's file, not initialised yet
                (archives if file.endswith(f"_{ARCHIVE}.db") else others).append((file, stat))
            # the archives change only under the exclusive lock, with a new generation:
            # merged once per generation, then copied (at C speed) into each scrape
            identity = (generation, *sorted((f, st.st_ino, st.st_size) for f, st in archives))
            cached = self._archived
            if generation is not None and cached is not None and cached[0] == identity:
                families = {name: family.copy() for name, family in cached[1].items()}
            else:
                families = {}
                for file, _ in archives:
                    self._merge_file(file, families)
                self._archived = None
                if generation is not None:
                    kept = {name: family.copy() for name, family in families.items()}
                    self._archived = (identity, kept)
            for file, _ in others:
                self._merge_file(file, families)
        return [_metric(family) for family in families.values()]

    @staticmethod
    def _entries(file: str, histogram: bool) -> Iterable[tuple[_Parsed, float, float]]:
        import importlib

        mmap_dict: Any = importlib.import_module("prometheus_client.mmap_dict")
        # a key's parse depends on its file's type only through le, which only histogram
        # files read: the two kinds of file keep their parses apart
        keys = _HISTOGRAM_KEYS if histogram else _KEYS
        try:
            values = mmap_dict.MmapedDict.read_all_values_from_file(file)
            return [
                (keys.get(key) or _parse_key(key, histogram), value, timestamp)
                for key, value, timestamp, _ in values
            ]
        except FileNotFoundError:
            parts = os.path.basename(file).split("_")
            if parts[0] == "gauge" and parts[1].startswith("live"):
                return ()  # as prometheus_client: a live gauge's file may go at any time
            raise

    def _merge_file(self, file: str, families: dict[str, _Family]) -> None:
        parts = os.path.basename(file)[: -len(".db")].split("_")
        typ = parts[0]
        if typ not in ("counter", "gauge", "histogram", "summary"):
            return
        mode = parts[1] if typ == "gauge" and len(parts) > 1 else ""
        pid = parts[-1]
        how = _GAUGE_COMBINE.get(mode, "all") if typ == "gauge" else "sum"
        for parsed, value, timestamp in self._entries(file, typ == "histogram"):
            metric_name, name, pairs, help_text, le, without = parsed
            family = families.get(metric_name)
            if family is None:
                family = families[metric_name] = _Family(metric_name, help_text, typ)
            if le is not None:
                bounds = family.buckets.get(without)
                if bounds is None:
                    bounds = family.buckets[without] = {}
                bounds[le] = bounds.get(le, 0.0) + value
                continue
            samples = family.samples
            if how == "sum":
                key = (name, pairs)
                samples[key] = samples.get(key, 0.0) + value
                continue
            family.mode = mode
            if how == "all":
                samples[(name, (*pairs, ("pid", pid)))] = value
                continue
            key = (name, pairs)
            current = samples.get(key)
            if how == "max":
                if current is None or value > current:
                    samples[key] = value
            elif how == "min":
                if current is None or value < current:
                    samples[key] = value
            elif family.stamps.get(key, 0.0) < timestamp:  # mostrecent: the newest wins
                samples[key] = value
                family.stamps[key] = timestamp


# how the values of a gauge's files combine, by the mode in the file name
_GAUGE_COMBINE = {
    "sum": "sum",
    "livesum": "sum",
    "max": "max",
    "livemax": "max",
    "min": "min",
    "livemin": "min",
    "mostrecent": "mostrecent",
    "livemostrecent": "mostrecent",
}


def _metric(family: _Family) -> Any:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.utils import floatToGoString

    metric = Metric(family.name, family.help, family.type)
    add = metric.add_sample
    if family.type != "histogram":
        for (name, pairs), value in family.samples.items():
            add(name, dict(pairs), value)
        return metric
    # buckets made cumulative, _count from them (as prometheus_client), then _sum
    bucket_name = family.name + "_bucket"
    count_name = family.name + "_count"
    sum_name = family.name + "_sum"
    sums: dict[tuple[tuple[str, str], ...], float] = {}
    for (name, pairs), value in family.samples.items():
        if name == sum_name:
            sums[pairs] = value
        elif name != count_name:
            add(name, dict(pairs), value)
    for pairs, bounds in family.buckets.items():
        total = 0.0
        for bound in sorted(bounds):
            total += bounds[bound]
            le = floatToGoString(bound)  # type: ignore[no-untyped-call]
            add(bucket_name, dict((*pairs, ("le", le))), total)
        add(count_name, dict(pairs), total)
        if pairs in sums:
            add(sum_name, dict(pairs), sums.pop(pairs))
    for pairs, value in sums.items():
        add(sum_name, dict(pairs), value)
    return metric


def _read_generation(fd: int) -> str | None:
    """The archives' generation token, kept in the lock file (None: unknown)."""
    try:
        token = os.pread(fd, 64, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def _new_generation(fd: int) -> None:
    """Record in the lock file that the archives change (the exclusive lock held)."""
    token = os.urandom(16).hex().encode("ascii")
    os.ftruncate(fd, 0)
    os.pwrite(fd, token, 0)


def _directory(path: str | os.PathLike[str] | None) -> str:
    directory = os.fspath(path) if path is not None else os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        raise ConfigurationError(
            "no multiprocess directory: pass path= or set PROMETHEUS_MULTIPROC_DIR"
        )
    if not os.path.isdir(directory):
        raise ConfigurationError(
            f"multiprocess directory {directory!r} does not exist: run "
            f"'maestro-monitoring prepare-multiproc {directory}' before starting the workers"
        )
    return directory


def prepare_multiproc(path: str | os.PathLike[str]) -> int:
    """Create ``path`` or empty it of metric files (call before the workers start).

    Returns the number of files removed. Files that are not metric files are left alone.
    """
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ConfigurationError(f"{str(directory)!r} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    removed = 0
    with exclusive_lock(directory) as fd:
        _new_generation(fd)
        for file in directory.glob("*.db"):
            file.unlink()
            removed += 1
    return removed


def mark_process_dead(pid: int, path: str | os.PathLike[str] | None = None) -> int:
    """Compact worker ``pid``'s metric files into the archives (gunicorn's ``child_exit``).

    Counters, histograms and summaries are added to ``<type>_archive.db``; ``sum``, ``max``,
    ``min`` and ``mostrecent`` gauges are merged into ``gauge_<mode>_archive.db``; ``live*``
    and ``all`` gauges of the dead worker are dropped. Returns the number of files compacted.
    """
    import importlib

    # prometheus_client's mmap module is untyped
    mmap_dict: Any = importlib.import_module("prometheus_client.mmap_dict")
    MmapedDict = mmap_dict.MmapedDict

    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise ConfigurationError(f"pid must be a positive integer, got {pid!r}")
    directory = _directory(path)
    done = 0
    with exclusive_lock(directory) as fd:
        files = sorted(glob.glob(os.path.join(directory, f"*_{pid}.db")))
        if files:
            # before any archive changes: a scrape after this one re-reads the archives,
            # even if this compaction stops half-way
            _new_generation(fd)
        for file in files:
            parts = os.path.basename(file)[: -len(".db")].split("_")
            kind = parts[0]
            if kind == "gauge":
                if len(parts) != 3:
                    continue
                how = _GAUGE_MERGE.get(parts[1])
                archive = f"gauge_{parts[1]}_{ARCHIVE}.db"
            elif len(parts) == 2 and kind in ("counter", "histogram", "summary"):
                how = "sum"
                archive = f"{kind}_{ARCHIVE}.db"
            else:
                continue
            if how is not None:
                values = MmapedDict.read_all_values_from_file(file)
                target = MmapedDict(os.path.join(directory, archive))
                try:
                    for key, value, timestamp, _ in values:
                        old, old_ts = target.read_value(key)
                        if how == "sum":
                            new, new_ts = old + value, 0.0
                        elif how == "max":
                            new, new_ts = (value if value > old else old), 0.0
                        elif how == "min":  # timestamp 1.0 marks an archived value
                            fresh = old_ts == 0.0 and old == 0.0
                            new, new_ts = (value if fresh or value < old else old), 1.0
                        else:
                            new, new_ts = (
                                (value, timestamp) if timestamp >= old_ts else (old, old_ts)
                            )
                        target.write_value(key, new, new_ts)
                finally:
                    target.close()
            os.remove(file)
            done += 1
    return done
