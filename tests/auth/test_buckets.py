"""The per-token budget behind the phone look-ups: a bucket refilled evenly."""

from __future__ import annotations

from callerid.auth.buckets import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_spent_budget_says_how_long_to_wait_and_refills_evenly():
    clock = Clock()
    throttle = Throttle(60, clock)  # one a second
    assert [throttle.take("pbx") for _ in range(60)] == [0.0] * 60
    assert throttle.take("pbx") == 1.0
    clock.now += 1.0
    assert throttle.take("pbx") == 0.0
    assert throttle.take("pbx") > 0
    assert throttle.take("standby") == 0.0  # each key has its own budget


def test_keys_whose_budget_is_full_again_are_forgotten():
    clock = Clock()
    throttle = Throttle(60, clock)
    for key in range(1001):
        throttle.take(key)
    clock.now += 61
    throttle.take("new")
    assert len(throttle._buckets) <= 2
