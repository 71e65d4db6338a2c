"""A retry budget shared by many retry policies: a token bucket, as the AWS SDKs use."""

from __future__ import annotations

import threading

from ._errors import ConfigurationError
from ._validate import name_of, number

__all__ = ["RetryBudget"]


class RetryBudget:
    """Stop retry storms: every retry spends tokens, every success earns some back.

    The bucket starts full with ``capacity`` tokens. A retry costs ``retry_cost``; when the
    bucket holds less, the retry policy gives up at once instead of retrying. A success on
    the first attempt refunds ``success_refund``; a success after retries refunds the
    ``retry_cost`` it spent. Share one budget between every retry policy that calls the same
    dependency: while it is down, retries stop after ``capacity / retry_cost`` of them, and
    resume as successes refill the bucket (AWS SDK "standard" mode: 500, 5, 1).
    """

    __slots__ = ("_capacity", "_lock", "_name", "_refund", "_retry_cost", "_tokens")

    def __init__(
        self,
        capacity: float = 500,
        retry_cost: float = 5,
        success_refund: float = 1,
        *,
        name: str | None = None,
    ) -> None:
        self._capacity = number("capacity", capacity, minimum=0, inclusive=False)
        self._retry_cost = number("retry_cost", retry_cost, minimum=0, inclusive=False)
        self._refund = number("success_refund", success_refund, minimum=0)
        if self._retry_cost > self._capacity:
            raise ConfigurationError(
                f"retry_cost must be <= capacity ({capacity!r}), got {retry_cost!r}"
            )
        self._name = name_of(name, "retry-budget")
        self._tokens: float = self._capacity
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The budget's name."""
        return self._name

    @property
    def available(self) -> float:
        """Tokens in the bucket now."""
        return self._tokens

    @property
    def capacity(self) -> float:
        """The most tokens the bucket holds."""
        return self._capacity

    def try_spend(self) -> bool:
        """Take one retry's cost if the bucket holds it; False means: do not retry."""
        with self._lock:
            if self._tokens < self._retry_cost:
                return False
            self._tokens -= self._retry_cost
            return True

    def record_success(self, retried: bool = False) -> None:
        """Refund tokens for a successful call (the retry cost if it needed retries)."""
        refund = self._retry_cost if retried else self._refund
        if not refund or self._tokens >= self._capacity:
            return
        with self._lock:
            self._tokens = min(self._capacity, self._tokens + refund)

    def __repr__(self) -> str:
        return f"<RetryBudget {self._name!r} {self._tokens:g}/{self._capacity:g} tokens>"
