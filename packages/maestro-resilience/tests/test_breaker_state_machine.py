"""Property-based test: the breaker follows its specified state machine under any sequence."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from maestro_resilience import CircuitBreaker, CircuitBreakerOpenError, CircuitState

THRESHOLD = 3
TIMEOUT = 10.0
MAX_TRIALS = 3
SUCCESSES = 2


class Expected(Exception):
    pass


class Unexpected(Exception):
    pass


class Model:
    """The specification written out plainly, independent of the implementation's tricks."""

    def __init__(self) -> None:
        self.now = 0.0
        self.state = "closed"
        self.consecutive = 0
        self.open_until = 0.0
        self.gen = 0
        self.trials = 0
        self.trial_successes = 0
        self.last_trial = 0.0
        self.forced = False
        self.successes = self.failures = self.rejected = self.ignored = 0

    def to(self, new: str) -> None:
        self.gen += 1
        self.state = new
        self.trials = self.trial_successes = 0
        if new == "open":
            self.open_until = self.now + TIMEOUT
        if new != "half_open":
            self.consecutive = 0

    def read(self) -> str:
        if self.state == "open" and not self.forced and self.now >= self.open_until:
            self.to("half_open")
        return self.state

    def admit(self) -> int | float:
        """The call's generation, or the retry_after of the rejection as a float."""
        self.read()
        if self.state == "closed":
            return self.gen
        if self.state == "half_open":
            target = max(MAX_TRIALS, SUCCESSES)
            full = self.trials >= MAX_TRIALS or self.trials + self.trial_successes >= target
            if full and self.trials and self.now - self.last_trial >= TIMEOUT:
                self.gen += 1
                self.trials = self.trial_successes = 0
            if self.trials < MAX_TRIALS and self.trials + self.trial_successes < target:
                self.trials += 1
                self.last_trial = self.now
                return self.gen
            self.rejected += 1
            return float(max(0.0, self.last_trial + TIMEOUT - self.now))
        self.rejected += 1
        return float(max(0.0, self.open_until - self.now))

    def finish(self, gen: int, outcome: str) -> None:
        if outcome == "ok":
            self.successes += 1
        elif outcome == "fail":
            self.failures += 1
        else:
            self.ignored += 1
        if gen != self.gen:
            return
        if outcome == "ignored":
            if self.state == "half_open":
                self.trials -= 1
        elif outcome == "ok":
            if self.state == "closed":
                self.consecutive = 0
            elif self.state == "half_open":
                self.trials -= 1
                self.trial_successes += 1
                if self.trial_successes >= max(MAX_TRIALS, SUCCESSES):
                    self.to("closed")
        elif self.state == "closed":
            self.consecutive += 1
            if self.consecutive >= THRESHOLD:
                self.to("open")
        elif self.state == "half_open":
            self.to("open")


OUTCOMES = st.sampled_from(["ok", "fail", "ignored"])


class BreakerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.breaker = CircuitBreaker(
            failure_threshold=THRESHOLD,
            timeout=TIMEOUT,
            expected_exception=Expected,
            half_open_max_calls=MAX_TRIALS,
            success_threshold=SUCCESSES,
            monotonic=lambda: self.model.now,
        )
        self.held: list[int] = []

    def run(self, outcome: str) -> None:
        if outcome == "fail":
            raise Expected
        if outcome == "ignored":
            raise Unexpected

    @rule(outcome=OUTCOMES, times=st.integers(min_value=1, max_value=4))
    def calls(self, outcome: str, times: int) -> None:
        for _ in range(times):
            self.call(outcome)

    def call(self, outcome: str) -> None:
        expected = self.model.admit()
        ran = []

        def body() -> None:
            ran.append(1)
            self.run(outcome)

        if isinstance(expected, float):
            with pytest.raises(CircuitBreakerOpenError) as info:
                self.breaker.call(body)
            assert info.value.retry_after == pytest.approx(expected)
            assert ran == []
            return
        if outcome == "ok":
            self.breaker.call(body)
        else:
            with pytest.raises(Expected if outcome == "fail" else Unexpected):
                self.breaker.call(body)
        assert ran == [1]
        self.model.finish(expected, outcome)

    @precondition(lambda self: len(self.held) < 4)
    @rule()
    def start_slow_call(self) -> None:
        expected = self.model.admit()
        if isinstance(expected, float):
            with pytest.raises(CircuitBreakerOpenError):
                self.breaker._acquire()
            return
        token = self.breaker._acquire()
        assert token == expected
        self.held.append(token)

    @precondition(lambda self: bool(self.held))
    @rule(index=st.integers(min_value=0, max_value=3), outcome=OUTCOMES)
    def finish_slow_call(self, index: int, outcome: str) -> None:
        token = self.held.pop(index % len(self.held))
        if outcome == "ok":
            self.breaker._on_success(token)
        else:
            self.breaker._on_error(Expected() if outcome == "fail" else Unexpected(), token)
        self.model.finish(token, outcome)

    @precondition(lambda self: bool(self.held))
    @rule()
    def lose_slow_call(self) -> None:
        self.held.pop()  # its caller never reports

    @rule(seconds=st.sampled_from([0.5, 3.0, 9.99, 10.0, 25.0]))
    def advance(self, seconds: float) -> None:
        self.model.now += seconds

    @rule()
    def reset(self) -> None:
        self.breaker.reset()
        self.model.forced = False
        self.model.to("closed")

    @rule()
    def force_open(self) -> None:
        self.breaker.force_open()
        self.model.forced = True
        self.model.to("open")
        self.model.open_until = float("inf")

    @invariant()
    def same_state_and_counters(self) -> None:
        assert self.breaker.state is CircuitState(self.model.read())
        stats = self.breaker.stats()
        model = self.model
        assert stats.consecutive_failures == model.consecutive
        assert (stats.successes, stats.failures, stats.ignored, stats.rejected) == (
            model.successes,
            model.failures,
            model.ignored,
            model.rejected,
        )
        assert 0 <= self.breaker._trials <= MAX_TRIALS


BreakerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestBreakerStateMachine = BreakerMachine.TestCase
TestBreakerStateMachine.__doc__ = (
    "Random call sequences keep breaker and specification model in step."
)
