"""The estimate of a bulk scope change's provisioning cycle (planning/cycle_estimate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctsync.planning.cycle_estimate import (
    BULK_USERS,
    duration_text,
    estimate_cycle,
    left_to_the_cycle,
    recorded_completion,
)

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_the_figure_is_a_create_per_user_at_the_middle_of_the_documented_cost():
    estimate = estimate_cycle(4812, NOW)
    assert estimate is not None
    assert estimate.summary == "+4,812 users enter scope: the next cycle takes about 3 h 10 min"
    assert estimate.duration == timedelta(minutes=4812 * 0.04)
    assert (estimate.fastest, estimate.slowest) == (timedelta(minutes=48.12), timedelta(minutes=4812 * 0.08))
    # It may start one 40-minute interval from now, then runs its course.
    assert estimate.completion == NOW + timedelta(minutes=40 + 4812 * 0.04)
    assert (
        estimate.detail
        == "between 48 min and 6 h 20 min; starting within 40 min, it should end by about 2026-12-05T12:52:28Z"
    )


def test_no_estimate_up_to_the_bulk_threshold():
    assert estimate_cycle(BULK_USERS, NOW) is None
    assert estimate_cycle(BULK_USERS + 1, NOW) is not None


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0.2, "1 min"),
        (4.4, "4 min"),
        (59.4, "59 min"),
        (59.6, "1 h"),
        (64, "1 h"),
        (66, "1 h 10 min"),
        (192.5, "3 h 10 min"),
    ],
)
def test_durations_read_in_whole_minutes_then_ten_minute_steps(minutes, text):
    assert duration_text(timedelta(minutes=minutes)) == text


def test_a_recorded_estimate_stands_until_the_gap_closes_or_grows_by_another_bulk_change():
    first, made = recorded_completion(600, NOW, None, 0)
    assert made is not None and first == made.completion
    later = NOW + timedelta(hours=5)  # past the estimate: it is not pushed forward, so the alert can fire
    assert recorded_completion(550, later, first, 600) == (first, None)
    assert recorded_completion(600 + BULK_USERS, later, first, 600) == (first, None)
    grown, made = recorded_completion(601 + BULK_USERS, later, first, 600)
    assert made is not None and grown == later + timedelta(minutes=40 + (601 + BULK_USERS) * 0.04)
    assert recorded_completion(BULK_USERS, later, first, 600) == (None, None)


def test_what_a_burst_left_to_the_cycle_costs_is_said_at_the_same_rate():
    assert left_to_the_cycle(500) == (
        "500 users queued for the cycle, which starts within 40 min and takes about 20 min for them"
    )
