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
import os
from collections.abc import Iterator
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
def _lock(directory: str | os.PathLike[str], mode: int) -> Iterator[None]:
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def shared_lock(directory: str | os.PathLike[str]) -> contextlib.AbstractContextManager[None]:
    """Held by a scrape while it reads the files."""
    return _lock(directory, fcntl.LOCK_SH)


def exclusive_lock(directory: str | os.PathLike[str]) -> contextlib.AbstractContextManager[None]:
    """Held while a dead worker's files are compacted."""
    return _lock(directory, fcntl.LOCK_EX)


class FilesCollector:
    """Reads every worker's files, skipping files a starting worker has not initialised yet
    (prometheus_client's collector fails the whole scrape on a file still being created)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        from prometheus_client.multiprocess import MultiProcessCollector

        ready = []
        for file in glob.glob(os.path.join(self.directory, "*.db")):
            try:
                if os.path.getsize(file) >= 8:
                    ready.append(file)
            except FileNotFoundError:
                continue
        return MultiProcessCollector.merge(ready, accumulate=True)  # type: ignore[no-untyped-call]


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
    with exclusive_lock(directory):
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
    with exclusive_lock(directory):
        for file in sorted(glob.glob(os.path.join(directory, f"*_{pid}.db"))):
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
