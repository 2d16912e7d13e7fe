"""Scoping filters in the SyncScope reconciler: the shrink gate, plan's users leaving scope and the scope
and synced counts, against the emulated provisioning service's own idea of who is in scope."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctsync.api import conditions
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.syncscope import reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.seed import load_seed
from entrasim.synchronization.scope import in_scope
from support.sim import (
    CONTOSO,
    FABRIKAM,
    attribute_mapping_body,
    contoso_people,
    sync_scope_body,
    tenant_pair_body,
    two_tenant_seed,
)

CYCLE = 40 * 60
EXAMPLE = Path(__file__).parents[3] / "examples" / "tenants" / "contoso-to-many" / "contoso-to-tailspin.yaml"


def _seed(sim, people: dict) -> None:
    def reseed(world):
        world.reset()
        load_seed(world, two_tenant_seed(**people))

    sim.call(reseed)


async def _pair(pool, sim):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    return pair


async def _converge(scope, pair, pool, status=None, passes=3, mappings=()):
    status = dict(status or {})
    for _ in range(passes):
        outcome = await reconcile_sync_scope(scope, pair, True, mappings, pool, status)
        assert outcome.health is Health.READY, outcome.message
        status.update(outcome.status, observedGeneration=outcome.observed_generation)
        if outcome.plan.empty:
            break
    return outcome, status


def _advance(sim, seconds: float) -> None:
    sim.call(lambda w: (w.clock.advance(seconds), w.tick()))


def _in_scope_per_service(sim) -> int:
    """How many users the emulated provisioning service has in the (single) job's scope."""

    def count(world) -> int:
        tenant = world.tenant(CONTOSO)
        (job,) = (job for config in tenant.synchronization.configs.values() for job in config.jobs.values())
        return len(in_scope(tenant, job))

    return sim.call(count)


def _requests(control, method: str, suffix: str) -> int:
    return sum(
        1
        for r in control.get("/requests").json()["requests"]
        if r["method"] == method and (r["route"] or "").endswith(suffix)
    )


FINANCE_ONLY = [{"name": "finance", "clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Finance"}]}]


async def test_a_filter_that_excludes_synced_users_is_held_by_the_shrink_gate(sim, pool, control):
    _seed(sim, contoso_people(3))  # Finance, Sales, Engineering, all in the group
    pair = await _pair(pool, sim)
    _, status = await _converge(SyncScope.from_body(sync_scope_body()), pair, pool)
    _advance(sim, 2 * CYCLE)
    _, status = await _converge(SyncScope.from_body(sync_scope_body()), pair, pool, status)
    assert status["syncedUsers"] == 3

    narrowed = SyncScope.from_body(sync_scope_body(generation=2, scopingFilters=FINANCE_ONLY))
    preview = await reconcile_sync_scope(narrowed, pair, True, [], pool, status, dry_run=True)
    assert preview.reason == conditions.SCOPE_SHRINK_BLOCKED and "2 of 3 users in scope" in preview.message
    control.delete("/requests")
    outcome = await reconcile_sync_scope(narrowed, pair, True, [], pool, status)
    assert outcome.health is Health.STALLED and outcome.reason == conditions.SCOPE_SHRINK_BLOCKED
    assert "2 of 3 users in scope (66.7%) would leave it" in outcome.message
    assert _requests(control, "PUT", "/schema") == 0

    acknowledged = SyncScope.from_body(
        sync_scope_body(generation=2, scopingFilters=FINANCE_ONLY, annotations={"ctsync.io/acknowledge-shrink": "2"})
    )
    outcome, status = await _converge(acknowledged, pair, pool, status)
    assert status["scopeSize"] == 1 == _in_scope_per_service(sim)


async def test_plan_counts_the_users_a_filter_takes_out_of_scope(sim, pool):
    _seed(sim, contoso_people(30, in_group=20))
    pair = await _pair(pool, sim)
    _, status = await _converge(SyncScope.from_body(sync_scope_body()), pair, pool)
    lenient = SyncScope.from_body(
        sync_scope_body(
            generation=2,
            scopingFilters=[
                {"clauses": [{"attribute": "department", "operator": "NOT EQUALS", "value": "Legal"}]},
            ],
            deprovisioning={"maxScopeShrinkPercent": 30},
        )
    )
    outcome = await reconcile_sync_scope(lenient, pair, True, [], pool, status, dry_run=True)
    assert outcome.health is Health.READY, outcome.message
    assert outcome.users_leaving == 5  # the group's five lawyers


async def test_the_tailspin_example_counts_who_the_service_has_in_scope(sim, pool):
    people = contoso_people(40, in_group=0)
    members = [u["userPrincipalName"] for u in people["users"]["contoso"][:30]]
    people["groups"]["contoso"].append({"displayName": "CTS-Tailspin", "members": members})
    _seed(sim, people)
    pair = await _pair(pool, sim)
    example = next(doc for doc in yaml.safe_load_all(EXAMPLE.read_text()) if doc["kind"] == "SyncScope")
    spec = {**example["spec"], "tenantPairRef": {"name": "contoso-to-fabrikam"}}
    scope = SyncScope.from_body(sync_scope_body(name="contoso-to-tailspin", **spec))

    _, status = await _converge(scope, pair, pool)
    _advance(sim, 2 * CYCLE)
    _, status = await _converge(scope, pair, pool, status)
    engineers = _in_scope_per_service(sim)
    assert engineers == 7  # of the 30 members, every fourth is an engineer
    assert status["scopeSize"] == engineers and status["syncedUsers"] == engineers
    assert status["missingUsers"] == 0
    synced = next(c for c in (await _converge(scope, pair, pool, status))[0].conditions if c.type == "Synced")
    assert f"{engineers} of {engineers} users in scope" in synced.message


@pytest.mark.parametrize(
    ("clause", "field"),
    [
        ({"attribute": "dept", "operator": "EQUALS", "value": "x"}, "spec.scopingFilters[0].clauses[0].attribute"),
        ({"attribute": "department", "operator": "LIKE", "value": "x"}, "spec.scopingFilters[0].clauses[0].operator"),
    ],
)
async def test_a_bad_filter_stalls_naming_the_field_before_any_graph_call(sim, pool, control, clause, field):
    _seed(sim, contoso_people(3))
    pair = await _pair(pool, sim)
    control.delete("/requests")
    scope = SyncScope.from_body(sync_scope_body(scopingFilters=[{"clauses": [clause]}]))
    outcome = await reconcile_sync_scope(scope, pair, True, [], pool, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.INVALID_SPEC
    assert field in outcome.message
    assert [r for r in control.get("/requests").json()["requests"] if r["path"].startswith("/")] == []


async def test_a_mapping_that_renames_users_keeps_them_counted(sim, pool):
    """Target users are known by the provisioning log's source and target ids, not by their name."""
    _seed(sim, contoso_people(6))
    pair = await _pair(pool, sim)
    renaming = AttributeMapping.from_body(
        attribute_mapping_body(
            mappings=[{"target": "userPrincipalName", "source": 'Join("", "ext.", [userPrincipalName])'}],
            acknowledgeRisks=["userPrincipalName"],
        )
    )
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await _converge(scope, pair, pool, mappings=[renaming])
    _advance(sim, 2 * CYCLE)
    _, status = await _converge(scope, pair, pool, status, mappings=[renaming])
    names = sim.call(lambda w: [u["userPrincipalName"] for u in w.tenant(FABRIKAM).directory.users.values()])
    assert sum(n.startswith("ext.person") for n in names) == 6
    assert status["syncedUsers"] == 6 and status["missingUsers"] == 0 and status["orphanedUsers"] == 0


async def test_a_filter_ctsync_cannot_evaluate_holds_a_narrowing_until_acknowledged(sim, pool):
    _seed(sim, contoso_people(3))
    pair = await _pair(pool, sim)
    _, status = await _converge(SyncScope.from_body(sync_scope_body()), pair, pool)

    def portal_filter(world) -> None:  # set in the portal, with an operator ctsync does not evaluate
        tenant = world.tenant(CONTOSO)
        (job,) = (job for config in tenant.synchronization.configs.values() for job in config.jobs.values())
        clause = {"sourceOperandName": "department", "operatorName": "IsMemberOf", "targetOperand": {"values": ["x"]}}
        job.schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = {
            "groups": [{"name": "portal", "clauses": [clause]}]
        }

    sim.call(portal_filter)
    narrowed = sync_scope_body(generation=2, scopingFilters=FINANCE_ONLY)
    outcome = await reconcile_sync_scope(SyncScope.from_body(narrowed), pair, True, [], pool, status)
    assert outcome.health is Health.STALLED and outcome.reason == conditions.SCOPE_SHRINK_BLOCKED
    assert "cannot count who would leave scope" in outcome.message and "IsMemberOf" in outcome.message
    narrowed["metadata"]["annotations"] = {"ctsync.io/acknowledge-shrink": "2"}
    outcome, status = await _converge(SyncScope.from_body(narrowed), pair, pool, status)
    assert status["scopeSize"] == 1
