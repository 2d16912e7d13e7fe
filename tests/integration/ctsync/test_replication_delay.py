"""Creates on entrasim's production profile: a new object Graph does not show yet is waited for, never made twice.

Graph copies a new object to its replicas within seconds; until then ctsync's own reads may answer 404 or leave
it out of lists. Here ctsync's reads never land on the replica that took its write (own-write visibility 0), so
every object it creates stays invisible to it until the simulated clock moves past the replication delay."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.errors import AwaitingReplication
from ctsync.reconcile.syncscope import finalize_sync_scope, reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.core.profile import PRODUCTION
from entrasim.seed import load_seed
from support.sim import CONTOSO, contoso_people, sync_scope_body, tenant_pair_body, two_tenant_seed

REPLICATED = PRODUCTION.replication_delay + 1  # simulated seconds after which every replica has every object
# Replication and latency as in production, without its random 503/504s: each answer below is the replica's.
BLIND = dataclasses.replace(PRODUCTION, own_write_visibility=0.0, transient_error_rate=0.0, latency_median=0.0)


@pytest.fixture
def sim(production_sim):
    """The production profile (seeded), ctsync blind to its own new objects until the clock moves."""

    def setup(world):
        world.reset()
        load_seed(world, two_tenant_seed(**contoso_people(30, in_group=20)))
        world.set_profile(BLIND)

    production_sim.call(setup)
    return production_sim


@pytest.fixture
async def pair(sim, pool):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    outcome = await reconcile_tenant_pair(pair, pool, {})
    assert outcome.health is Health.READY, outcome.message
    return pair


def advance(sim, seconds: float) -> None:
    sim.call(lambda w: (w.clock.advance(seconds), w.tick()))


def writes(sim, suffix: str) -> int:
    """POSTs sent to paths ending in `suffix`, whatever Graph answered."""
    return sim.call(
        lambda w: sum(1 for r in w.requests.since(0) if r["method"] == "POST" and r["path"].endswith(suffix))
    )


def configurations(sim) -> list[dict]:
    def read(world):
        sps = world.tenant(CONTOSO).applications.service_principals.values()
        return [dict(sp) for sp in sps if sp.get("applicationTemplateId") == CTS_TEMPLATE_ID]

    return sim.call(read)


async def passes(scope, pair, pool, status, count, **kwargs):
    """`count` passes, each on the status the ones before it wrote (as the operator keeps it), whatever
    their health; returns every outcome."""
    outcomes = []
    for _ in range(count):
        outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status, **kwargs)
        status.update(outcome.status)
        if outcome.observed_generation is not None:
            status["observedGeneration"] = outcome.observed_generation
        outcomes.append(outcome)
    return outcomes


@pytest.mark.parametrize("adoption", ["AdoptOrCreate", "CreateOnly"])
async def test_a_configuration_not_visible_yet_is_waited_for_then_used(sim, pool, pair, adoption):
    scope = SyncScope.from_body(sync_scope_body(adoptionPolicy=adoption))
    status: dict = {}
    waiting = await passes(scope, pair, pool, status, 3)
    assert [(o.health, o.message) for o in waiting if o.health is not Health.RECONCILING] == []
    assert writes(sim, "/instantiate") == 1
    assert {o.reason for o in waiting} == {conditions.AWAITING_REPLICATION}
    assert status["servicePrincipalId"] == configurations(sim)[0]["id"]  # what the create returned, recorded
    assert [p["step"] for p in status["pendingCreates"]] == ["source.configuration"]

    # Visible now: the pass tags and configures it, then waits for the new assignment the same way.
    advance(sim, REPLICATED)
    (*_, assigned) = await passes(scope, pair, pool, status, 3)
    assert (assigned.health, assigned.reason) == (Health.RECONCILING, conditions.AWAITING_REPLICATION)
    advance(sim, REPLICATED)
    done = await passes(scope, pair, pool, status, 3)
    assert done[-1].health is Health.READY, done[-1].message
    assert writes(sim, "/instantiate") == 1
    (configuration,) = configurations(sim)
    assert configuration["id"] == status["servicePrincipalId"] and scope.owner_tag in configuration["tags"]
    assert status["pendingCreates"] is None and status["jobCode"] != "NotConfigured"


async def test_an_assignment_not_visible_yet_is_not_made_again(sim, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    status: dict = {}
    await passes(scope, pair, pool, status, 1)
    advance(sim, REPLICATED)  # the configuration is visible: the next pass assigns the group
    outcomes = await passes(scope, pair, pool, status, 4)
    assert writes(sim, "/appRoleAssignedTo") == 1
    assert outcomes[-1].reason == conditions.AWAITING_REPLICATION, outcomes[-1].message
    assert "source assignment" in outcomes[-1].message

    advance(sim, REPLICATED)
    (done,) = await passes(scope, pair, pool, status, 1)
    assert done.health is Health.READY, done.message
    assert writes(sim, "/appRoleAssignedTo") == 1 and len(status["assignments"]) == 1


async def test_a_create_still_invisible_past_the_bound_stalls_naming_it(sim, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    status: dict = {}
    await passes(scope, pair, pool, status, 1)
    later = datetime.now(UTC) + timedelta(minutes=3)
    (stalled,) = await passes(scope, pair, pool, status, 1, clock=lambda: later)
    assert (stalled.health, stalled.reason) == (Health.STALLED, conditions.CREATE_NOT_VISIBLE)
    assert status["servicePrincipalId"] in stalled.message
    assert writes(sim, "/instantiate") == 1


# --- the reliability tests of test_reconcile_syncscope.py, on the production profile as it is -----------------


@pytest.fixture
def production(sim):
    """Own writes seen 80 % of the time, and transient 503/504s, as the production profile has them."""
    sim.call(lambda w: w.set_profile(dataclasses.replace(PRODUCTION, latency_median=0.0)))
    return sim


async def converge_on_production(sim, scope, pair, pool, status, max_passes=12):
    """Passes as the operator makes them, the clock moving past the replication delay after each that waits."""
    outcome = None
    for _ in range(max_passes):
        (outcome,) = await passes(scope, pair, pool, status, 1)
        if outcome.health is Health.READY and outcome.plan.empty:
            return outcome
        assert outcome.health is not Health.STALLED, outcome.message
        advance(sim, REPLICATED)
    raise AssertionError(f"not converged in {max_passes} passes: {outcome.message}")


async def test_on_production_a_fresh_scope_converges_with_one_of_everything(production, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    status: dict = {}
    await converge_on_production(production, scope, pair, pool, status)
    assert writes(production, "/instantiate") == 1 and len(configurations(production)) == 1
    sp_id = status["servicePrincipalId"]
    jobs = production.call(lambda w: list(w.tenant(CONTOSO).synchronization.jobs(sp_id)))
    assert len(jobs) == 1 and len(status["assignments"]) == 1 and status["pendingCreates"] is None


async def test_on_production_a_failed_read_never_removes_assignments(production, pool, pair, control):
    status: dict = {}
    await converge_on_production(production, SyncScope.from_body(sync_scope_body()), pair, pool, status)
    control.post("/faults", json={"path": "/appRoleAssignedTo$", "method": "GET", "status": 500})
    other = SyncScope.from_body(sync_scope_body(generation=2, scope={"syncAll": True}))
    (outcome,) = await passes(other, pair, pool, status, 1)
    assert outcome.health is Health.RECONCILING
    deletes = production.call(lambda w: [r for r in w.requests.since(0) if r["method"] == "DELETE"])
    assert deletes == []


async def test_a_configuration_deleted_before_it_is_visible_is_deleted_once_it_is(sim, pool):
    pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    scope = SyncScope.from_body(sync_scope_body())
    status: dict = {}
    await passes(scope, pair, pool, status, 1)
    with pytest.raises(AwaitingReplication):  # not "gone already": the finalizer is retried
        await finalize_sync_scope(scope, pair, pool, status)
    advance(sim, REPLICATED)
    events = await finalize_sync_scope(scope, pair, pool, status)
    assert [e.reason for e in events] == ["Deleted"] and configurations(sim) == []
