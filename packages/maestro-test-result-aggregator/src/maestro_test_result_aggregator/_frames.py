"""pandas DataFrames of any query (the ``[analytics]`` extra), imported only when asked for."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import missing_extra


def _pandas() -> Any:
    try:
        # import_module keeps mypy from needing pandas-stubs; the frame is typed Any.
        return importlib.import_module("pandas")
    except ImportError:
        raise missing_extra("analytics", "pandas") from None


def _row(item: object) -> dict[str, Any]:
    to_dict = getattr(item, "to_dict", None)
    if callable(to_dict):
        out = to_dict()
        if isinstance(out, dict):
            return out
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"cannot make a DataFrame row of {type(item).__name__}")


def dataframe(items: Iterable[object]) -> Any:
    """A ``pandas.DataFrame`` with one row per item (results, trend points, verdicts...).

    Raises ``MissingExtraError`` naming ``pip install maestro-test-result-aggregator[analytics]``
    when pandas is not installed.
    """
    pandas = _pandas()
    rows = [_row(item) for item in items]
    frame = pandas.DataFrame(rows)
    for column in ("recorded_at", "day"):
        if column in frame.columns:
            frame[column] = pandas.to_datetime(frame[column], utc=column == "recorded_at")
    return frame
