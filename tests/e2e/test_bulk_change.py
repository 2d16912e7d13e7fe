"""`ctsync operator` against a real API server and entrasim seeded with a bulk scope: the first cycle's
estimated completion reaches the SyncScope's status, its BulkScopeChange condition and Event, and the
operator's /metrics, and all of it goes once the users are in the target."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from e2e.operator_fixtures import (
    CYCLE,
    DRIFT_INTERVAL,
    PAIR,
    Kube,
    OperatorProcess,
    Sim,
    apply_pair,
    apply_scope_and_mapping,
    wait_until,
)
from support.sim import contoso_people, two_tenant_seed

pytestmark = pytest.mark.e2e

IN_GROUP = 110  # more than the 100 users of a bulk change
SLACK = 15.0
GAUGE = "ctsync_scope_estimated_cycle_completion_timestamp_seconds"


def gauge_line(operator: OperatorProcess) -> str | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return next((line for line in text.splitlines() if line.startswith(GAUGE + "{")), None)


def bulk_condition(kube: Kube) -> dict | None:
    return kube.condition("syncscopes", PAIR, "BulkScopeChange")


def test_a_bulk_first_cycle_is_estimated_then_cleared(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    entrasim.control("POST", "/reset")
    entrasim.control("POST", "/seed", two_tenant_seed(**contoso_people(IN_GROUP + 10, in_group=IN_GROUP)))
    applied_at = datetime.now(UTC)
    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)

    def estimated() -> str | None:
        return ((tenants.get("syncscopes", PAIR) or {}).get("status") or {}).get("estimatedCycleCompletion")

    completion = datetime.fromisoformat(wait_until(estimated, DRIFT_INTERVAL + SLACK, "the estimate in status"))
    # The first cycle starts within 40 minutes and creates each user in 0.04 min (4 min 24 s for 110).
    expected = applied_at + timedelta(minutes=40) + IN_GROUP * timedelta(minutes=0.04)
    assert expected - timedelta(seconds=5) <= completion <= expected + timedelta(seconds=DRIFT_INTERVAL + SLACK)
    condition = bulk_condition(tenants)
    assert condition is not None and (condition["status"], condition["reason"]) == ("True", "UsersEnteringScope")
    # kopf posts Events after the status patch: wait for it rather than read once.
    wait_until(
        lambda: "BulkScopeChange" in [e.reason for e in tenants.events("SyncScope", PAIR)] or None,
        SLACK,
        "the BulkScopeChange Event",
    )
    line = wait_until(lambda: gauge_line(ctsync_operator), SLACK, "the estimate on /metrics")
    assert float(line.rsplit(" ", 1)[1]) == completion.timestamp()

    entrasim.advance(CYCLE)  # the first cycle runs and creates everyone
    wait_until(lambda: True if estimated() is None else None, DRIFT_INTERVAL + SLACK, "the estimate cleared")
    condition = bulk_condition(tenants)
    assert condition is not None and (condition["status"], condition["reason"]) == ("False", "NoBulkChange")
    assert (tenants.get("syncscopes", PAIR) or {})["status"]["syncedUsers"] == IN_GROUP
    assert gauge_line(ctsync_operator) is None
