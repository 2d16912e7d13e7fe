"""The fast lane's Events are rate-limited: one per outcome per window, the rest counted in the next."""

from ctsync.handlers.fast_lane import EventBudget


def test_one_event_per_outcome_per_window_and_the_held_ones_are_counted():
    budget = EventBudget(10.0)
    assert budget.message("created", "ada created", 0.0) == "ada created"
    assert budget.message("created", "bob created", 1.0) is None
    assert budget.message("created", "cy created", 2.0) is None
    assert budget.message("skipped", "dee skipped", 2.0) == "dee skipped"  # another outcome, its own window
    assert budget.message("created", "eve created", 10.0) == "eve created (and 2 more since the last such Event)"
    assert budget.message("created", "fay created", 25.0) == "fay created"
