"""The optional bridge to maestro-test-result-aggregator (never a hard dependency)."""

from __future__ import annotations

from typing import Any

from ._errors import MissingExtraError

__all__ = ["result_status"]


def result_status(status: str) -> Any:
    """Map 'passed' / 'failed' / 'skipped' / 'error' to the aggregator's ResultStatus."""
    try:
        from maestro_test_result_aggregator import (  # type: ignore[import-not-found,unused-ignore]
            ResultStatus,
        )
    except ImportError:
        raise MissingExtraError(
            "aggregator",
            "maestro_test_result_aggregator",
            install="pip install maestro-test-result-aggregator",
            what="storing results",
        ) from None
    by_name = {member.name.lower(): member for member in ResultStatus}
    by_value = {str(member.value).lower(): member for member in ResultStatus}
    for candidate in (status, "error" if status == "error" else "failed"):
        if candidate in by_name:
            return by_name[candidate]
        if candidate in by_value:
            return by_value[candidate]
    raise LookupError(f"ResultStatus has no member for {status!r}")
