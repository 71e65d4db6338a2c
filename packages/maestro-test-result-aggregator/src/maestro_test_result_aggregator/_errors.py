"""The error family of maestro-test-result-aggregator.

Every exception the package raises on purpose derives from ``MaestroResultsError``::

    MaestroResultsError
    ├── ConfigurationError (ValueError)      a bad argument (format, sizes, db_path / db_url)
    ├── InvalidResultError (ValueError)      a result that cannot be stored (nothing stored)
    ├── ReportFileError (ValueError)         a report file that cannot be imported
    │   ├── UnsafeXMLError                   DOCTYPE / entity declarations (XXE, billion laughs)
    │   └── UnsupportedFormatError           not JUnit XML, CTRF or pytest-json-report
    ├── StoreError                           the result store itself
    │   ├── NotAStoreError                   the database is not a result store, or is corrupt
    │   ├── SchemaVersionError               written by a newer, unknown schema version
    │   └── StoreUnavailableError (ConnectionError)   the database cannot be reached
    └── MissingExtraError (ImportError)      an optional extra is not installed

``ResultsWarning`` (a ``UserWarning``, and in the family like every exported class) is the
category of the warnings the package emits.
"""

from __future__ import annotations


class MaestroResultsError(Exception):
    """Base class of every error raised by maestro-test-result-aggregator."""


class ConfigurationError(MaestroResultsError, ValueError):
    """An argument is invalid; the message names it and the values it may take."""


class InvalidResultError(MaestroResultsError, ValueError):
    """A test result (or a batch containing it) was rejected; nothing was stored."""


class ReportFileError(MaestroResultsError, ValueError):
    """A report file could not be imported; nothing from it was stored.

    ``path``, ``line`` and ``column`` locate the problem when they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = ""
        if path is not None:
            where = path
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(f"{where}{message}")


class UnsafeXMLError(ReportFileError):
    """The XML declares a DOCTYPE or entities, which report files never need."""


class UnsupportedFormatError(ReportFileError):
    """The file is not JUnit XML, CTRF JSON or pytest-json-report JSON."""


class StoreError(MaestroResultsError):
    """The result store could not be opened or used."""


class NotAStoreError(StoreError):
    """The database exists but is not a result store (or is not a database at all)."""


class SchemaVersionError(StoreError):
    """The store was written by a newer version of this package."""


class StoreUnavailableError(StoreError, ConnectionError):
    """The database server cannot be reached."""


DISTRIBUTION = "maestro-test-result-aggregator"


class MissingExtraError(MaestroResultsError, ImportError):
    """An optional extra is not installed.

    ``MissingExtraError(feature, extra, module)``: the message reads
    ``"<feature> needs the <extra> extra: pip install 'maestro-test-result-aggregator[<extra>]'"``.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the {extra} extra: pip install '{DISTRIBUTION}[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        return (type(self), (self.feature, self.extra, self.module))


class ResultsWarning(MaestroResultsError, UserWarning):
    """A warning from maestro-test-result-aggregator (for example declared totals that disagree)."""


_FEATURES = {"analytics": "pandas DataFrames", "postgres": "PostgreSQL stores"}


def missing_extra(extra: str, module: str) -> MissingExtraError:
    """Build the error raised when ``module`` (from ``extra``) is not installed."""
    return MissingExtraError(_FEATURES.get(extra, "this feature"), extra, module)
