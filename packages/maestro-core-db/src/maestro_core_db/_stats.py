"""Pool statistics and the health report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DatabaseHealth", "MigrationStatus", "PoolStats"]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """The connection pool right now, and its counters since the engine was created.

    ``waiting_total`` counts checkouts that found the pool full and had to wait;
    ``timeouts_total`` the waits that ended in ``PoolExhaustedError``.
    """

    size: int
    checked_out: int
    overflow: int
    waiting_total: int
    timeouts_total: int


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where the schema is: the current revision(s), the script heads, and whether they match."""

    current: tuple[str, ...]
    heads: tuple[str, ...]
    at_head: bool


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """One health check: reachable or not, the round-trip time, the pool, the migrations."""

    ok: bool
    latency: float | None
    """The round trip in seconds (None when the database did not answer)."""
    pool: PoolStats
    migrations: MigrationStatus | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``get_health_status()`` returns)."""
        data = asdict(self)
        data["status"] = "healthy" if self.ok else "unhealthy"
        return data
