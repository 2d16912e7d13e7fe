"""A bulk scope change against the emulated tenants: the SyncScope's scope audit estimates when the cycle that
creates the new users ends (status, condition, Event, metric), keeps that estimate while they arrive, and
clears it once they are in the target, which the emulated service achieves by the estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.metrics import Metrics
from ctsync.reconcile.converge import converge as run_passes
from ctsync.reconcile.syncscope import reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.seed import load_seed
from support.sim import TENANTS, contoso_people, sync_scope_body, tenant_pair_body, two_tenant_seed

CYCLE = 40 * 60
NEW_HIRES = 310
GAUGE = "ctsync_scope_estimated_cycle_completion_timestamp_seconds"


@pytest.fixture
def people(sim):
    seed = contoso_people(20 + NEW_HIRES, in_group=20)
    domain = TENANTS["contoso"][1]
    hires = [f"person{i:04d}@{domain}" for i in range(20, 20 + NEW_HIRES)]
    seed["groups"]["contoso"].append({"displayName": "New-Hires", "members": hires})

    def reseed(world):
        world.reset()
        load_seed(world, two_tenant_seed(**seed))

    sim.call(reseed)


@pytest.fixture
async def pair(sim, pool, people):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    return pair


def sim_now(sim) -> datetime:
    return datetime.fromtimestamp(sim.call(lambda w: w.clock.now()), UTC)


def advance(sim, seconds: float) -> None:
    sim.call(lambda w: (w.clock.advance(seconds), w.tick()))


async def audit(sim, scope, pair, pool, status):
    """The operator's passes at the emulator's time; the outcome and the status it writes."""
    now = sim_now(sim)
    converged = await run_passes(
        lambda seen: reconcile_sync_scope(scope, pair, True, [], pool, seen, clock=lambda: now),
        status,
        scope.generation,
    )
    outcome = converged.outcome
    assert outcome.health is Health.READY, outcome.message
    return outcome, {**status, **outcome.status}


def bulk_condition(outcome):
    return next(c for c in outcome.conditions if c.type == conditions.BULK_SCOPE_CHANGE)


def gauge(outcome) -> float | None:
    metrics = Metrics()
    metrics.record_outcome("SyncScope", "tenants", "contoso-to-fabrikam", outcome, 1.0)
    labels = {"namespace": "tenants", "name": "contoso-to-fabrikam"}
    return metrics.registry.get_sample_value(GAUGE, labels)


async def test_a_bulk_scope_change_is_estimated_kept_and_cleared(sim, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    outcome, status = await audit(sim, scope, pair, pool, {})
    advance(sim, 2 * CYCLE)
    outcome, status = await audit(sim, scope, pair, pool, status)
    assert (status["syncedUsers"], status["missingUsers"]) == (20, 0)
    assert status["estimatedCycleCompletion"] is None and bulk_condition(outcome).status == "False"

    groups = [{"displayName": "CTS-Fabrikam"}, {"displayName": "New-Hires"}]
    grown = SyncScope.from_body(sync_scope_body(generation=2, scope={"syncAll": False, "groups": groups}))
    changed_at = sim_now(sim)
    outcome, status = await audit(sim, grown, pair, pool, status)
    assert status["missingUsers"] == NEW_HIRES
    # The next cycle starts within 40 minutes and creates each new user in 0.04 min.
    estimate = changed_at + timedelta(minutes=40) + NEW_HIRES * timedelta(minutes=0.04)
    assert status["estimatedCycleCompletion"] == estimate.strftime("%Y-%m-%dT%H:%M:%SZ")
    condition = bulk_condition(outcome)
    assert (condition.status, condition.reason) == ("True", conditions.USERS_ENTERING_SCOPE)
    assert f"{NEW_HIRES} users in scope are not in the target yet" in condition.message
    [event] = [e for e in outcome.events if e.reason == conditions.BULK_SCOPE_CHANGE]
    assert event.message.startswith("+310 users enter scope: the next cycle takes about 12 min (between 3 min and")
    assert gauge(outcome) == int(estimate.timestamp())

    advance(sim, 30 * 60)  # an audit while they arrive: the estimate stands, no new Event
    outcome, status = await audit(sim, grown, pair, pool, status)
    assert 0 < status["missingUsers"] <= NEW_HIRES
    assert status["estimatedCycleCompletion"] == estimate.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not [e for e in outcome.events if e.reason == conditions.BULK_SCOPE_CHANGE]

    advance(sim, (estimate - sim_now(sim)).total_seconds())  # the emulated service is done by the estimate
    outcome, status = await audit(sim, grown, pair, pool, status)
    assert (status["syncedUsers"], status["missingUsers"]) == (20 + NEW_HIRES, 0)
    assert status["estimatedCycleCompletion"] is None
    assert (bulk_condition(outcome).status, bulk_condition(outcome).reason) == ("False", conditions.NO_BULK_CHANGE)
    assert gauge(outcome) is None


async def test_the_plan_of_a_new_configuration_estimates_its_first_cycle(sim, pool, pair):
    groups = [{"displayName": "CTS-Fabrikam"}, {"displayName": "New-Hires"}]
    scope = SyncScope.from_body(sync_scope_body(scope={"syncAll": False, "groups": groups}))
    now = sim_now(sim)
    outcome = await reconcile_sync_scope(scope, pair, True, [], pool, {}, dry_run=True, clock=lambda: now)
    assert outcome.cycle_estimate is not None
    assert outcome.cycle_estimate.summary == "+330 users enter scope: the next cycle takes about 13 min"
