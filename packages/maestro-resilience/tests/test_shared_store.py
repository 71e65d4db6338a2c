"""Breaker state shared through Redis: two processes, one breaker (the [redis] extra)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from maestro_resilience import (
    CircuitBreaker,
    CircuitBreakerOpenError,
    CircuitState,
    ConfigurationError,
    MissingExtraError,
    RedisBreakerStore,
)

pytestmark = pytest.mark.service

REPLICA = """
import sys
from maestro_resilience import CircuitBreaker, CircuitBreakerOpenError, RedisBreakerStore

url, prefix, action = sys.argv[1:4]
store = RedisBreakerStore(url, key_prefix=prefix, sync_interval=0)
breaker = CircuitBreaker(failure_threshold=2, timeout=60, name="payments", store=store)
called = []

def pay():
    called.append(1)
    if action == "fail":
        raise ConnectionError("payments down")
    return "paid"

try:
    print(breaker.call(pay))
except CircuitBreakerOpenError:
    print("rejected")
except ConnectionError:
    print("failed")
print(breaker.state.value, len(called))
"""


def _replica(redis_url: str, prefix: str, action: str) -> list[str]:
    """Run one call of the shared breaker in a fresh process; its printed outcome and state."""
    done = subprocess.run(
        [sys.executable, "-c", REPLICA, redis_url, prefix, action],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()


@pytest.fixture
def prefix(unique_prefix: str, redis_url: str) -> Iterator[str]:
    """A unique key prefix; the test's key is deleted afterwards."""
    key_prefix = f"{unique_prefix}:breaker:"
    yield key_prefix
    RedisBreakerStore(redis_url, key_prefix=key_prefix).delete("payments")


def test_failures_in_two_processes_open_one_breaker(redis_url: str, prefix: str) -> None:
    """One failure in each of two processes reaches the threshold of 2 for both."""
    assert _replica(redis_url, prefix, "fail") == ["failed", "closed", "1"]
    assert _replica(redis_url, prefix, "fail") == ["failed", "open", "1"]
    # A third process is rejected without calling the function: it read the open state.
    assert _replica(redis_url, prefix, "succeed") == ["rejected", "open", "0"]


def test_an_open_breaker_is_seen_by_a_running_replica(redis_url: str, prefix: str) -> None:
    """A breaker in this process adopts an opening written by another process."""
    store = RedisBreakerStore(redis_url, key_prefix=prefix, sync_interval=0)
    local = CircuitBreaker(failure_threshold=2, timeout=60, name="payments", store=store)
    assert local.call(lambda: "ok") == "ok"
    _replica(redis_url, prefix, "fail")
    _replica(redis_url, prefix, "fail")
    with pytest.raises(CircuitBreakerOpenError) as info:
        local.call(lambda: "ok")
    assert 0 < info.value.retry_after <= 60
    assert local.state is CircuitState.OPEN


def test_a_success_resets_the_shared_count(redis_url: str, prefix: str) -> None:
    """Failures are consecutive across replicas: a success in between starts again."""
    assert _replica(redis_url, prefix, "fail")[:2] == ["failed", "closed"]
    assert _replica(redis_url, prefix, "succeed")[:2] == ["paid", "closed"]
    assert _replica(redis_url, prefix, "fail")[:2] == ["failed", "closed"]


def test_an_unreachable_redis_leaves_the_breaker_local(caplog: pytest.LogCaptureFixture) -> None:
    """With Redis down the breaker counts locally and logs one warning."""
    from maestro_testkit import free_port

    store = RedisBreakerStore(f"redis://127.0.0.1:{free_port()}/0", sync_interval=0)
    breaker = CircuitBreaker(failure_threshold=1, name="payments", store=store)
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)
    assert breaker.state is CircuitState.OPEN
    assert "shared breaker state unavailable" in caplog.text


def test_a_shared_breaker_needs_a_name_and_consecutive_mode(redis_url: str) -> None:
    """Without a name, or in rate mode, a store is a configuration error."""
    store = RedisBreakerStore(redis_url)
    with pytest.raises(ConfigurationError, match="needs a name"):
        CircuitBreaker(store=store)
    with pytest.raises(ConfigurationError, match="consecutive failures only"):
        CircuitBreaker(name="x", failure_rate_threshold=50, store=store)


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """RedisBreakerStore without redis installed raises the family's MissingExtraError."""
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingExtraError) as info:
        RedisBreakerStore()
    assert str(info.value) == (
        "Breaker state shared through Redis needs the redis extra: "
        "pip install 'maestro-resilience[redis]'"
    )
    assert info.value.name == "redis"
