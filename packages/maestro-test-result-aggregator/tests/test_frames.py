"""pandas DataFrames from the [analytics] extra, and the message when it is missing."""

from __future__ import annotations

import sys

import pytest
from maestro_test_result_aggregator import MissingExtraError, TestResultAggregator, dataframe

from .conftest import Clock


def test_results_and_trends_as_dataframes(agg: TestResultAggregator, clock: Clock) -> None:
    """Results, trend points and flaky verdicts become DataFrames with typed columns."""
    pd = pytest.importorskip("pandas")
    agg.store_result("a", "r", "c", "failed", 1.0, {"k": 1})
    agg.store_result("a", "r", "c", "passed", 2.0)
    frame = agg.results_dataframe(category="c", include_retries=True)
    assert list(frame["attempt"]) == [1, 2]
    assert str(frame["recorded_at"].dt.tz) == "UTC"
    trends = agg.analyze_trends("c", 7).to_dataframe()
    assert isinstance(trends, pd.DataFrame)
    assert trends.loc[0, "passed"] == 1
    flaky = dataframe(agg.flaky_tests())
    assert flaky.loc[0, "verdict"] == "flaky"


def test_missing_pandas_names_the_extra(
    agg: TestResultAggregator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pandas, DataFrame calls raise MissingExtraError naming the extra; the rest works."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    agg.store_result("a", "r", "c", "passed", 1.0)
    with pytest.raises(MissingExtraError) as info:
        agg.results_dataframe()
    assert str(info.value) == (
        "pandas DataFrames needs the analytics extra: "
        "pip install 'maestro-test-result-aggregator[analytics]'"
    )
    assert (info.value.extra, info.value.module) == ("analytics", "pandas")
    with pytest.raises(ImportError):
        agg.analyze_trends("c").to_dataframe()
    assert agg.analyze_trends("c").total == 1
    assert "<svg" in agg.generate_report("r", include_charts=True).content


def test_dataframe_rejects_unknown_items() -> None:
    """Items that are not records, dataclasses or mappings are refused."""
    pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="int"):
        dataframe([1])
