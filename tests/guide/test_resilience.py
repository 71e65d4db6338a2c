"""The integration guide's maestro-resilience examples run verbatim against the package.

The snippets call `requests.get("https://api.example.com/data")`, `make_api_call()` and
`process_large_dataset()`; each block is exec()'d as written with those names supplied in
its globals as local fakes, so nothing here touches the network.
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable
from typing import Any

import maestro_resilience
import pytest

SECTION = "maestro-resilience"


class FakeResponse:
    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload

    def json(self) -> dict[str, Any]:
        return self._payload


class FakeRequests:
    """Stands in for the `requests` module: records URLs, answers or fails on demand."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.urls: list[str] = []

    def get(self, url: str) -> FakeResponse:
        self.urls.append(url)
        if self.fail:
            raise ConnectionError(f"cannot reach {url}")
        return FakeResponse({"items": [1, 2, 3]})


def run(block: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "guide_example", **names}
    exec(compile(block, "integration-guide.md", "exec"), namespace)
    return namespace


@pytest.fixture
def blocks(guide_blocks: Callable[..., list[str]]) -> list[str]:
    """The python blocks of the guide's maestro-resilience section."""
    found = guide_blocks(SECTION)
    assert len(found) == 5
    return found


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace time.sleep so backoff waits are recorded instead of slept."""
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    return sleeps


def test_circuit_breaker_block_returns_data(
    blocks: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The circuit breaker example runs and returns the service's JSON."""
    requests = FakeRequests()
    namespace = run(blocks[0], requests=requests)
    assert namespace["data"] == {"items": [1, 2, 3]}
    assert requests.urls == ["https://api.example.com/data"]
    assert capsys.readouterr().out == ""


def test_circuit_breaker_block_opens_after_five_failures(
    blocks: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """With the service down, the example's breaker opens after five failures."""
    requests = FakeRequests(fail=True)
    ns: dict[str, Any] = {"__name__": "guide_example", "requests": requests}
    with pytest.raises(ConnectionError):  # the block's own call is the first failure
        exec(compile(blocks[0], "integration-guide.md", "exec"), ns)
    call = ns["call_external_service"]
    for _ in range(4):
        with pytest.raises(ConnectionError):
            call()
    assert ns["breaker"].state is maestro_resilience.CircuitState.OPEN
    with pytest.raises(maestro_resilience.CircuitBreakerOpenError):
        call()
    assert len(requests.urls) == 5


def test_retry_block_waits_one_then_two_seconds(
    blocks: list[str], recorded_sleeps: list[float]
) -> None:
    """The retry example retries twice, waiting exactly 1 s then 2 s, then succeeds."""
    outcomes = iter([ConnectionError("1"), ConnectionError("2"), "result"])

    def make_api_call() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    namespace = run(blocks[1], make_api_call=make_api_call)
    assert namespace["unreliable_operation"]() == "result"
    assert recorded_sleeps == [1.0, 2.0]


def test_retry_block_gives_up_after_three_attempts(
    blocks: list[str], recorded_sleeps: list[float]
) -> None:
    """When every attempt fails, the last error is re-raised after three attempts."""
    calls: list[int] = []

    def make_api_call() -> str:
        calls.append(1)
        raise ConnectionError(f"attempt {len(calls)}")

    namespace = run(blocks[1], make_api_call=make_api_call)
    with pytest.raises(ConnectionError, match="attempt 3"):
        namespace["unreliable_operation"]()
    assert len(calls) == 3
    assert recorded_sleeps == [1.0, 2.0]


def test_timeout_block_runs(blocks: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The timeout example runs its work within the limit and prints nothing."""
    processed: list[bool] = []
    namespace = run(blocks[2], process_large_dataset=lambda: processed.append(True))
    assert processed == [True]
    assert namespace["result"] is None
    assert namespace["TimeoutError"] is maestro_resilience.TimeoutError
    assert issubclass(namespace["TimeoutError"], TimeoutError)
    assert capsys.readouterr().out == ""


def test_combining_block_calls_through_all_three(blocks: list[str]) -> None:
    """The combined breaker/retry/timeout example returns the service's JSON."""
    requests = FakeRequests()
    namespace = run(blocks[3], requests=requests)
    assert namespace["robust_api_call"]() == {"items": [1, 2, 3]}
    assert namespace["breaker"].stats().successes == 1


def test_migration_block_imports_resolve_to_the_package(
    blocks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migration example's AFTER imports replace the legacy local ones."""
    # The BEFORE lines import maestro-engine's old local modules; stand them in.
    for name in ("src", "src.resilience"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    legacy = {"circuit_breaker": "CircuitBreaker", "retry": "retry", "timeout": "timeout"}
    for module, attr in legacy.items():
        fake = types.ModuleType(f"src.resilience.{module}")
        setattr(fake, attr, object())
        monkeypatch.setitem(sys.modules, f"src.resilience.{module}", fake)
    namespace = run(blocks[4])
    assert namespace["CircuitBreaker"] is maestro_resilience.CircuitBreaker
    assert namespace["retry"] is maestro_resilience.retry
    assert namespace["timeout"] is maestro_resilience.timeout
