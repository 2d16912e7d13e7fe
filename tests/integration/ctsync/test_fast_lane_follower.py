"""The fast lane's follower against entrasim: a new member of the assigned group reaches the target on
demand, a restart resumes the rounds without provisioning again, a burst is left to the cycle, and a
mapping change restarts the users rounds with the new properties."""

from __future__ import annotations

from typing import Any

import pytest
from test_fast_lane_graph import add_new_hire
from test_provisioning_poller import cts_group, running  # noqa: F401 (a fixture)
from test_reconcile_syncscope import CYCLE, advance, converge

from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.graph.on_demand import OnDemandResult
from ctsync.planning.fast_lane import BURST_WINDOW_SECONDS, Change
from ctsync.reconcile.fast_lane import FastLane, Links, Report, held_because, links_of
from support.sim import CONTOSO, FABRIKAM, attribute_mapping_body, sync_scope_body, tenant_pair_body

SYNCED = {"type": "Synced", "status": "True", "reason": "JobRunning"}


class Clock:
    """Simulated seconds for the follower: sleeping moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def scope(**fast_lane: Any) -> SyncScope:
    return SyncScope.from_body(sync_scope_body(fastLane={"enabled": True, **fast_lane}))


def in_target(sim, user_id: str) -> bool:
    def look(w) -> bool:
        d = w.tenant(FABRIKAM).directory
        upn = w.tenant("contoso.onmicrosoft.com").directory.users[user_id]["userPrincipalName"]
        return any(u["userPrincipalName"].startswith(upn.replace("@", "_")) for u in d.users.values())

    return sim.call(look)


@pytest.fixture
def follow(running):  # noqa: F811
    source, status = running
    status = {**status, "conditions": [SYNCED]}
    clock, outcomes = Clock(), []

    def record(change: Change, result: OnDemandResult, latency: float) -> None:
        outcomes.append((change.user_id, result.outcome, latency))

    async def step(lane: FastLane):  # type: ignore[no-untyped-def]
        clock.now += 15
        return await lane.step(source, status, clock, clock.sleep, record)

    return step, outcomes, status


async def test_a_new_member_reaches_the_target_on_demand_and_a_restart_resumes(sim, follow):
    step, outcomes, _ = follow
    lane = FastLane(scope(), Links())
    report = await step(lane)  # the first round is a baseline: nobody is provisioned
    assert (report.state, outcomes) == ("Active", [])
    nina = add_new_hire(sim, "nina")
    await step(lane)
    assert [(u, o) for u, o, _ in outcomes] == [(nina, "created")] and in_target(sim, nina)
    assert 0 <= outcomes[0][2] < 15  # from the round that saw it

    restarted = FastLane(scope(), lane.links)
    assert (await step(restarted)).state == "Active" and len(outcomes) == 1  # resumed, nothing again
    omar = add_new_hire(sim, "omar")
    await step(restarted)
    assert [(u, o) for u, o, _ in outcomes[1:]] == [(omar, "created")]


async def test_a_burst_is_left_to_the_cycle(sim, follow):
    step, outcomes, _ = follow
    lane = FastLane(scope(burstSize=3), Links())
    await step(lane)
    hires = [add_new_hire(sim, f"hire{i}") for i in range(5)]
    report = await step(lane)
    assert (report.state, report.message, report.queued_for_cycle) == (
        "Bulk",
        "Bulk, 5 users queued for the cycle, which starts within 40 min and takes about 1 min for them",
        5,
    )
    assert outcomes == [] and not any(in_target(sim, h) for h in hires)
    advance(sim, CYCLE)  # the cycle carries them
    assert all(in_target(sim, h) for h in hires)
    states = [(await step(lane)).state for _ in range(int(BURST_WINDOW_SECONDS // 15) + 1)]  # 15 s a round
    assert states[0] == "Bulk" and states[-1] == "Active"  # back after a calm minute, on the follower's clock
    assert outcomes == []  # nobody provisioned on demand: the cycle did


def move_office(sim, user_id: str, office: str) -> None:
    sim.call(lambda w: w.tenant(CONTOSO).directory.update_user(user_id, {"officeLocation": office}))


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
async def test_a_mapping_change_restarts_the_users_rounds_with_the_new_properties(sim, follow, pool, restart):
    step, outcomes, status = follow
    lane = FastLane(scope(), Links())
    await step(lane)
    assert lane.links.user_properties is not None and "officeLocation" not in lane.links.user_properties
    member = str(sim.call(lambda w: w.tenant(CONTOSO).directory.direct_members(cts_group(w))[0]["id"]))

    office = {"target": "physicalDeliveryOfficeName", "source": "[physicalDeliveryOfficeName]", "apply": "Always"}
    mapping = AttributeMapping.from_body(attribute_mapping_body(mappings=[office]))
    pair = TenantPair.from_body(tenant_pair_body(sim))
    _, applied = await converge(SyncScope.from_body(sync_scope_body()), pair, pool, [mapping], status)
    status["appliedMappings"] = applied["appliedMappings"]
    move_office(sim, member, "Building 7")  # before the lane follows the office: left to the cycle
    if restart:  # the operator was stopped while the mapping changed: it resumes from the links it kept
        lane = FastLane(scope(), links_of({"fastLane": Report("Active", "").status(lane.links)}))
    await step(lane)  # a new users baseline with the office: nobody provisioned
    assert "officeLocation" in (lane.links.user_properties or ()) and outcomes == []

    move_office(sim, member, "Building 9")
    await step(lane)
    # Provisioned on demand (created: the job's first cycle has not reached this member yet).
    assert [(u, o) for u, o, _ in outcomes] == [(member, "created")]


def test_the_fast_lane_runs_only_where_and_when_writes_may(sim):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    running_job = {"conditions": [SYNCED], "jobId": "j", "servicePrincipalId": "s"}
    assert held_because(scope(), pair, True, running_job) is None
    assert held_because(SyncScope.from_body(sync_scope_body()), pair, True, running_job) == "not enabled"
    observed = SyncScope.from_body(sync_scope_body(managementPolicy="Observe", fastLane={"enabled": True}))
    assert "Observe" in (held_because(observed, pair, True, running_job) or "")
    suspended = SyncScope.from_body(sync_scope_body(suspend=True, fastLane={"enabled": True}))
    assert held_because(suspended, pair, True, running_job) == "the SyncScope is suspended"
    for reason in ("Quarantined", "DeletionsHeld", "InitialCycle"):
        held = {**running_job, "conditions": [{**SYNCED, "status": "False", "reason": reason}]}
        assert reason in (held_because(scope(), pair, True, held) or "")
    assert held_because(scope(), pair, False, running_job) is not None
