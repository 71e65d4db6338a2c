"""RetryBudget: a token bucket shared by retry policies."""

from __future__ import annotations

import threading

from maestro_resilience import RetryBudget


def test_budget_refills_on_success() -> None:
    """Successes refund tokens: one per first-try success, the retry cost after retries."""
    budget = RetryBudget(capacity=10, retry_cost=5, success_refund=1)
    assert budget.try_spend()
    assert budget.try_spend()
    assert not budget.try_spend()
    budget.record_success()
    assert budget.available == 1
    budget.record_success(retried=True)
    assert budget.available == 6
    budget.record_success(retried=True)
    assert budget.available == 10
    assert "10/10" in repr(budget)


def test_concurrent_spending_never_overdraws() -> None:
    """Eight threads spending at once take exactly capacity / retry_cost retries."""
    budget = RetryBudget(capacity=100, retry_cost=5)
    granted: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def spend() -> None:
        barrier.wait()
        for _ in range(10):
            ok = budget.try_spend()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 20
    assert budget.available == 0
    assert budget.capacity == 100
    assert budget.name == "retry-budget"
