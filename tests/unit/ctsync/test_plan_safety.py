"""The scope-shrink gate."""

import pytest

from ctsync.errors import Blocked
from ctsync.planning.safety import check_scope_shrink, never_started


@pytest.mark.parametrize(
    ("in_scope", "leaving", "max_percent", "acknowledged", "blocked"),
    [
        (1000, 200, 20, False, False),  # exactly the limit passes
        (1000, 201, 20, False, True),
        (1000, 201, 20, True, False),
        (1000, 0, 0, False, False),
        (1000, 1, 0, False, True),
        (0, 50, 20, False, False),  # nobody in scope: nothing to lose
        (10, 50, 100, False, False),  # leaving counts more than are in scope: capped at 100%
        (3, 1, 33, False, True),  # 33.3% > 33%
    ],
)
def test_shrink_gate_boundaries(
    in_scope: int, leaving: int, max_percent: int, acknowledged: bool, blocked: bool
) -> None:
    if blocked:
        with pytest.raises(Blocked) as info:
            check_scope_shrink(in_scope, leaving, max_percent, acknowledged)
        assert info.value.reason == "ScopeShrinkBlocked" and info.value.stalls
    else:
        check_scope_shrink(in_scope, leaving, max_percent, acknowledged)


def test_shrink_message() -> None:
    with pytest.raises(Blocked) as info:
        check_scope_shrink(1000, 312, 20, False, generation=8)
    assert str(info.value) == (
        "312 of 1,000 users in scope (31.2%) would leave it; max 20%; "
        "annotate ctsync.io/acknowledge-shrink=8 to proceed"
    )
    with pytest.raises(Blocked, match=r"\(30%\).*=<generation> to proceed"):
        check_scope_shrink(10, 3, 20, False)


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
