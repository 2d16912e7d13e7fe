"""The scope-shrink gate and the rule that an incomplete read never yields a destructive plan."""

import pytest

from ctsync.errors import Blocked, ReadIncomplete
from ctsync.planning.plan import Action, Plan
from ctsync.planning.safety import check_scope_shrink, forbid_destructive_on_incomplete, never_started


@pytest.mark.parametrize(
    ("synced", "leaving", "max_percent", "acknowledged", "blocked"),
    [
        (1000, 200, 20, False, False),  # exactly the limit passes
        (1000, 201, 20, False, True),
        (1000, 201, 20, True, False),
        (1000, 0, 0, False, False),
        (1000, 1, 0, False, True),
        (0, 50, 20, False, False),  # nothing synced yet: nothing to lose
        (10, 50, 100, False, False),  # leaving counts more than synced: capped at 100%
        (3, 1, 33, False, True),  # 33.3% > 33%
    ],
)
def test_shrink_gate_boundaries(synced: int, leaving: int, max_percent: int, acknowledged: bool, blocked: bool) -> None:
    if blocked:
        with pytest.raises(Blocked) as info:
            check_scope_shrink(synced, leaving, max_percent, acknowledged)
        assert info.value.reason == "ScopeShrinkBlocked" and info.value.stalls
    else:
        check_scope_shrink(synced, leaving, max_percent, acknowledged)


def test_shrink_message() -> None:
    with pytest.raises(Blocked) as info:
        check_scope_shrink(1000, 312, 20, False, generation=8)
    assert str(info.value) == (
        "312 of 1,000 synced users (31.2%) would leave scope; max 20%; "
        "annotate ctsync.io/acknowledge-shrink=8 to proceed"
    )
    with pytest.raises(Blocked, match=r"\(30%\).*=<generation> to proceed"):
        check_scope_shrink(10, 3, 20, False)


REMOVAL = Action("source", "source.assignments", "delete", "- source assignment of group 1…", destructive=True, key="a")
ADDITION = Action("source", "source.assignments", "create", "+ source assignment of group 2…", key="g")


def test_incomplete_read_and_destructive_plan() -> None:
    with pytest.raises(ReadIncomplete, match="group members"):
        forbid_destructive_on_incomplete(Plan((ADDITION, REMOVAL)), ["group members"])
    forbid_destructive_on_incomplete(Plan((ADDITION,)), ["group members"])
    forbid_destructive_on_incomplete(Plan((REMOVAL,)), [])


@pytest.mark.parametrize(
    ("job", "never"),
    [
        (None, True),
        ({"status": {"code": "Paused", "lastExecution": None}, "schedule": {"state": "Disabled"}}, True),
        ({"status": {"lastExecution": {"timeBegan": "0001-01-01T00:00:00Z"}}, "schedule": {"state": "Paused"}}, True),
        ({"status": {"code": "NotRun", "lastExecution": None}, "schedule": {"state": "Active"}}, False),
        ({"status": {"lastExecution": {"timeBegan": "2026-12-01T10:00:00Z"}}, "schedule": {"state": "Paused"}}, False),
    ],
)
def test_a_job_never_started_has_provisioned_nobody(job: dict | None, never: bool) -> None:
    assert never_started(job) is never
