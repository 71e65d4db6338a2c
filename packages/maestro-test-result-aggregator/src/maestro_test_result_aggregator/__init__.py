"""maestro-test-result-aggregator: test results from every runner in one store.

Store results (``store_result`` / ``store_results``) or import JUnit XML, CTRF and
pytest-json-report files into SQLite or PostgreSQL, then ask for summaries, trends, new
failures, failure categories, flaky and broken tests, and reports (HTML, Markdown, JSON,
CTRF). pandas DataFrames come with the ``[analytics]`` extra.
"""

from ._aggregator import ImportResult, RunSummary, TestResultAggregator
from ._analytics import (
    DayTrend,
    FlakinessOptions,
    FlakyVerdict,
    RunComparison,
    SlowTest,
    TrendAnalysis,
)
from ._categories import DEFAULT_RULES, CategoryRule, FailureGroup, categorize
from ._errors import (
    ConfigurationError,
    InvalidResultError,
    MaestroResultsError,
    MissingExtraError,
    NotAStoreError,
    ReportFileError,
    ResultsWarning,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
    UnsafeXMLError,
    UnsupportedFormatError,
)
from ._frames import dataframe
from ._model import ResultStatus, TestIdentity, TestResult
from ._report import Report
from ._version import __version__

__all__ = [  # noqa: RUF022 - plain sorted(), as the family contract checks
    "CategoryRule",
    "ConfigurationError",
    "DEFAULT_RULES",
    "DayTrend",
    "FailureGroup",
    "FlakinessOptions",
    "FlakyVerdict",
    "ImportResult",
    "InvalidResultError",
    "MaestroResultsError",
    "MissingExtraError",
    "NotAStoreError",
    "Report",
    "ReportFileError",
    "ResultStatus",
    "ResultsWarning",
    "RunComparison",
    "RunSummary",
    "SchemaVersionError",
    "SlowTest",
    "StoreError",
    "StoreUnavailableError",
    "TestIdentity",
    "TestResult",
    "TestResultAggregator",
    "TrendAnalysis",
    "UnsafeXMLError",
    "UnsupportedFormatError",
    "__version__",
    "categorize",
    "dataframe",
]
