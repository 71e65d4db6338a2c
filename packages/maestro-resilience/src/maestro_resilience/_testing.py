"""A process-wide switch for test suites: retries stop waiting (as stamina's set_testing)."""

from __future__ import annotations

from types import TracebackType

from ._validate import positive_int

__all__ = ["TESTING", "is_testing", "set_testing"]


class _Testing:
    __slots__ = ("attempts", "enabled")

    def __init__(self) -> None:
        self.enabled = False
        self.attempts: int | None = None


TESTING = _Testing()


class _Restore:
    """Returned by :func:`set_testing`: as a context manager it restores the previous state."""

    __slots__ = ("_previous",)

    def __init__(self, previous: tuple[bool, int | None]) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        TESTING.enabled, TESTING.attempts = self._previous


def set_testing(enabled: bool = True, *, attempts: int | None = None) -> _Restore:
    """Turn test mode on or off for the whole process.

    In test mode every retry skips its waits (the backoff is still computed, reported to
    ``on_retry`` and listeners, but not slept), and with ``attempts`` no retry makes more
    than that many attempts. Call it in a conftest, or use it as a context manager to
    restore the previous mode afterwards: ``with set_testing(attempts=2): ...``.
    """
    if attempts is not None:
        attempts = positive_int("attempts", attempts)
    previous = (TESTING.enabled, TESTING.attempts)
    TESTING.enabled = bool(enabled)
    TESTING.attempts = attempts if enabled else None
    return _Restore(previous)


def is_testing() -> bool:
    """Whether :func:`set_testing` turned test mode on."""
    return TESTING.enabled
