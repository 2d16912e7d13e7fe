"""The backoff of a call Graph answered 503/504 without Retry-After: full jitter under a capped doubling."""

import random

from ctsync.graph.client import DEFAULT_BACKOFF, Backoff


def test_each_wait_is_drawn_below_a_doubling_cap():
    backoff = Backoff(attempts=4, base=0.5, cap=1.5)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 1.5), (4, 1.5)]:
        waits = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > 0.8 * ceiling and min(waits) < 0.2 * ceiling  # jittered over the whole range


def test_the_default_gives_up_within_seconds():
    assert 3 <= DEFAULT_BACKOFF.attempts <= 4
    assert sum(min(DEFAULT_BACKOFF.cap, DEFAULT_BACKOFF.base * 2**n) for n in range(DEFAULT_BACKOFF.attempts - 1)) <= 8
