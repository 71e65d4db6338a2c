"""The store's schema as an ordered list of migrations, one list per SQL dialect.

A store records the versions it has applied in ``maestro_results_schema``; opening a store
applies the missing ones in order inside one transaction, so a store written by 1.0 opens
in every later version. A store whose version is newer than this package knows is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SCHEMA_TABLE = "maestro_results_schema"
RESULTS = "maestro_results"
RUNS = "maestro_runs"

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL"},
    "postgresql": {
        "pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "real": "DOUBLE PRECISION",
    },
}

RESULT_COLUMNS = (
    "orchestration_id",
    "test_id",
    "attempt",
    "is_final",
    "category",
    "status",
    "raw_status",
    "duration",
    "recorded_at",
    "message",
    "trace",
    "metadata",
    "suite",
    "class_name",
    "name",
    "parameters",
    "commit_sha",
    "branch",
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: statements with ``{pk}`` / ``{real}`` filled per dialect."""

    version: int
    description: str
    statements: Sequence[str]

    def render(self, dialect: str) -> list[str]:
        """The statements for ``dialect`` ("sqlite" or "postgresql")."""
        return [s.format(**_TYPES[dialect]) for s in self.statements]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "results, runs and the indexes for summaries, trends, history and retention",
        (
            f"""CREATE TABLE {RUNS} (
                orchestration_id TEXT PRIMARY KEY,
                created_at TEXT NOT NULL,
                commit_sha TEXT NOT NULL DEFAULT '',
                branch TEXT NOT NULL DEFAULT ''
            )""",
            f"""CREATE TABLE {RESULTS} (
                id {{pk}},
                orchestration_id TEXT NOT NULL,
                test_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                is_final INTEGER NOT NULL,
                category TEXT NOT NULL,
                status TEXT NOT NULL,
                raw_status TEXT NOT NULL,
                duration {{real}} NOT NULL,
                recorded_at TEXT NOT NULL,
                message TEXT NOT NULL,
                trace TEXT NOT NULL,
                metadata TEXT NOT NULL,
                suite TEXT NOT NULL,
                class_name TEXT NOT NULL,
                name TEXT NOT NULL,
                parameters TEXT NOT NULL,
                commit_sha TEXT NOT NULL,
                branch TEXT NOT NULL
            )""",
            f"CREATE UNIQUE INDEX ix_{RESULTS}_run_test ON {RESULTS} "
            "(orchestration_id, test_id, attempt)",
            f"CREATE INDEX ix_{RESULTS}_category_time ON {RESULTS} "
            "(category, recorded_at, is_final, status, duration)",
            f"CREATE INDEX ix_{RESULTS}_test_time ON {RESULTS} (test_id, recorded_at)",
            f"CREATE INDEX ix_{RESULTS}_time ON {RESULTS} (recorded_at)",
            f"CREATE INDEX ix_{RUNS}_created ON {RUNS} (created_at)",
        ),
    ),
    Migration(
        2,
        "the category / time index keeps rows of one time in id order (cheap bulk inserts)",
        (
            # Rows of one import share category and time; ordered by id after them, an
            # import's entries go to the end of the B-tree instead of random places
            # (is_final, status and duration varied). Still covering for the trends query.
            f"DROP INDEX ix_{RESULTS}_category_time",
            f"CREATE INDEX ix_{RESULTS}_category_time ON {RESULTS} "
            "(category, recorded_at, id, is_final, status, duration)",
        ),
    ),
)

CURRENT_VERSION = MIGRATIONS[-1].version
