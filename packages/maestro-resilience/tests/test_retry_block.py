"""Retry over a block (for/async for + with attempt), and the process-wide testing switch."""

from __future__ import annotations

import time

import pytest
from maestro_resilience import Attempt, Retry, RetryState, is_testing, retry, set_testing
from maestro_testkit import FakeClock


def test_a_block_is_retried_until_it_succeeds(fake_clock: FakeClock) -> None:
    """The loop ends after the first attempt whose block did not raise."""
    waits: list[float] = []
    failures = iter([ConnectionError("a"), ConnectionError("b")])
    policy = Retry(
        max_attempts=5, delay=0.5, sleep=fake_clock.sleep, on_retry=lambda s: waits.append(s.delay)
    )
    seen: list[int] = []
    for attempt in policy:
        with attempt:
            seen.append(attempt.number)
            error = next(failures, None)
            if error is not None:
                raise error
    assert seen == [1, 2, 3]
    assert waits == [0.5, 1.0]
    assert fake_clock.sleeps == [0.5, 1.0]


def test_the_last_failure_is_raised_from_the_loop_with_its_note(fake_clock: FakeClock) -> None:
    """When attempts run out the for statement raises the last exception, noted once."""
    attempts: list[Attempt] = []

    def run() -> None:
        for attempt in Retry(max_attempts=3, delay=0, name="block"):
            with attempt:
                attempts.append(attempt)
                raise ConnectionError(f"down {attempt.number}")

    with pytest.raises(ConnectionError, match="down 3") as info:
        run()
    assert len(attempts) == 3
    assert any("retry 'block' gave up after 3" in note for note in info.value.__notes__)


def test_non_retryable_errors_and_interrupts_leave_at_once() -> None:
    """An error retry_on does not match, or a BaseException, propagates on the first attempt."""
    count = 0

    def wrong_error() -> None:
        nonlocal count
        for attempt in Retry(max_attempts=3, delay=0, retry_on=ConnectionError):
            with attempt:
                count += 1
                raise KeyError("x")

    def interrupted() -> None:
        for attempt in Retry(max_attempts=3, delay=0):
            with attempt:
                raise KeyboardInterrupt

    with pytest.raises(KeyError):
        wrong_error()
    assert count == 1
    with pytest.raises(KeyboardInterrupt):
        interrupted()


async def test_async_blocks_are_retried() -> None:
    """async for attempt in policy retries an awaited block; async on_retry hooks are awaited."""
    hooked: list[int] = []

    async def hook(state: RetryState) -> None:
        hooked.append(state.attempt)

    failures = iter([TimeoutError("slow")])
    async for attempt in Retry(max_attempts=3, delay=0, on_retry=hook):
        with attempt:
            error = next(failures, None)
            if error is not None:
                raise error
    assert hooked == [1]


def test_an_async_hook_needs_async_for() -> None:
    """A sync for loop over a policy with an async on_retry is refused with the fix."""

    async def hook(state: RetryState) -> None:
        return None

    with pytest.raises(TypeError, match="async for"):
        next(iter(Retry(on_retry=hook)))


def test_set_testing_turns_waits_off_and_caps_attempts() -> None:
    """In test mode no retry sleeps; attempts= caps every policy; the context restores."""
    calls = 0

    @retry(max_attempts=5, delay=30.0)
    def flaky() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    assert not is_testing()
    started = time.monotonic()
    with set_testing(attempts=2):
        assert is_testing()
        with pytest.raises(ConnectionError):
            flaky()
    assert calls == 2
    assert time.monotonic() - started < 5  # the 30 s backoff was not slept
    assert not is_testing()


async def test_set_testing_applies_to_async_retries_too() -> None:
    """Async retries skip their waits in test mode as well."""
    calls = 0

    @retry(max_attempts=3, delay=30.0)
    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")
        return "ok"

    with set_testing():
        assert await flaky() == "ok"
    assert calls == 3
