"""The deployment environment a service runs in."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Environment"]


class Environment(StrEnum):
    """Where a service runs; selects `config/{environment}.yaml` on top of `config/base.yaml`.

    Parsing is case-insensitive (``"Production"`` is accepted); any other name is an error
    that lists the valid ones, never a silent fallback.
    """

    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @classmethod
    def _missing_(cls, value: object) -> Environment | None:
        if isinstance(value, str):
            lowered = value.strip().lower()
            for member in cls:
                if member.value == lowered:
                    return member
        return None
