"""The dynamic-group guardrail through the SyncScope reconciler: Fabrikam's dynamic groups against the
Contoso users in scope, as the job's mappings would make them."""

from __future__ import annotations

import pytest

from ctsync.api import conditions
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.syncscope import reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.seed import load_seed
from support.sim import (
    CTSYNC_APP,
    FABRIKAM,
    attribute_mapping_body,
    contoso_people,
    sync_scope_body,
    tenant_pair_body,
    two_tenant_seed,
)

FINANCE = {"displayName": "Finance", "membershipRule": 'user.department -eq "Finance"'}
FINANCE_STAFF = {
    "displayName": "Finance staff",
    "membershipRule": '(user.department -eq "Finance") -and (user.companyName -eq "Fabrikam")',
}
FINANCE_MEMBERS = {
    "displayName": "Finance members",
    "membershipRule": '(user.department -eq "Finance") and (user.userType -ne "Guest")',
}
NEW_HIRES = {"displayName": "New hires", "membershipRule": 'user.employeeHireDate -ge "2026-01-01"'}


async def reconciled(sim, pool, *dynamic_groups, mappings=(), **spec):
    """Contoso: 20 people in CTS-Fabrikam, 5 of them in Finance; Fabrikam: these dynamic groups."""
    seed = contoso_people(30, in_group=20)
    seed["groups"]["fabrikam"] = list(dynamic_groups)
    sim.call(lambda w: (w.reset(), load_seed(w, two_tenant_seed(**seed))))
    pair = TenantPair.from_body(tenant_pair_body(sim))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    scope = SyncScope.from_body(sync_scope_body(**spec))
    status: dict = {}
    for _ in range(3):
        outcome = await reconcile_sync_scope(scope, pair, True, mappings, pool, status)
        assert outcome.health is Health.READY, outcome.message
        status.update(outcome.status, conditions=[c.to_dict() for c in outcome.conditions])
        if outcome.plan.empty:
            return pair, outcome, status
    raise AssertionError("did not converge")


def collision(outcome):
    return next(c for c in outcome.conditions if c.type == conditions.DYNAMIC_GROUP_COLLISION)


async def test_a_dynamic_group_for_members_takes_in_the_synced_finance_users(sim, pool):
    _, outcome, _ = await reconciled(sim, pool, FINANCE)
    found = collision(outcome)
    assert outcome.health is Health.READY  # a warning only
    assert (found.status, found.reason) == ("True", conditions.GUESTS_JOIN_DYNAMIC_GROUPS)
    assert "'Finance' (user.department -eq \"Finance\"): 5 synced user(s) match" in found.message
    assert "Person 0000" in found.message


async def test_the_warning_is_an_event_once(sim, pool):
    pair, _, status = await reconciled(sim, pool, FINANCE)
    scope = SyncScope.from_body(sync_scope_body())
    again = await reconcile_sync_scope(scope, pair, True, [], pool, status)
    assert not [e for e in again.events if e.reason == conditions.DYNAMIC_GROUP_COLLISION]
    first = await reconcile_sync_scope(scope, pair, True, [], pool, {})
    assert [e.type for e in first.events if e.reason == conditions.DYNAMIC_GROUP_COLLISION] == ["Warning"]


async def test_a_rule_that_tells_synced_users_apart_does_not_warn(sim, pool):
    _, outcome, _ = await reconciled(sim, pool, FINANCE_STAFF)
    assert (collision(outcome).status, collision(outcome).reason) == ("False", conditions.NO_COLLISION)
    assert not [e for e in outcome.events if e.reason == conditions.DYNAMIC_GROUP_COLLISION]


@pytest.mark.parametrize(("user_type", "status"), [("Guest", "False"), ("Member", "True")])
async def test_a_user_type_check_discriminates_only_when_the_mapping_makes_guests(sim, pool, user_type, status):
    """CTS creates members by default: `userType -ne "Guest"` keeps them out only if the mapping says Guest."""
    body = attribute_mapping_body(mappings=[{"target": "userType", "source": f'"{user_type}"', "apply": "OnCreate"}])
    _, outcome, _ = await reconciled(sim, pool, FINANCE_MEMBERS, mappings=[AttributeMapping.from_body(body)])
    assert collision(outcome).status == status


async def test_a_rule_ctsync_cannot_evaluate_is_named_not_called_safe(sim, pool):
    _, outcome, _ = await reconciled(sim, pool, NEW_HIRES, FINANCE_STAFF)
    found = collision(outcome)
    assert (found.status, found.reason) == ("True", conditions.RULES_NOT_EVALUATED)
    assert "'New hires' not evaluated" in found.message and "employeeHireDate" in found.message


async def test_a_plan_lists_the_groups_a_mapping_change_makes_users_join_or_leave(sim, pool):
    pair, _, status = await reconciled(sim, pool, FINANCE, FINANCE_STAFF)
    scope = SyncScope.from_body(sync_scope_body())
    remap = attribute_mapping_body(
        mappings=[
            {"target": "department", "source": '"Finance"', "apply": "Always"},
            {"target": "companyName", "source": '"Fabrikam"', "apply": "Always"},
        ]
    )
    outcome = await reconcile_sync_scope(
        scope, pair, True, [AttributeMapping.from_body(remap)], pool, status, dry_run=True
    )
    assert outcome.dynamic_groups == [
        "15 synced user(s) would join dynamic group 'Finance'",
        "20 synced user(s) would join dynamic group 'Finance staff'",
    ]


async def test_a_plan_lists_the_groups_syncing_everyone_makes_users_join(sim, pool):
    pair, _, status = await reconciled(sim, pool, FINANCE, FINANCE_STAFF)
    everyone = SyncScope.from_body(sync_scope_body(generation=2, scope={"syncAll": True}))
    outcome = await reconcile_sync_scope(everyone, pair, True, [], pool, status, dry_run=True)
    assert outcome.dynamic_groups == ["3 synced user(s) would join dynamic group 'Finance'"]


async def test_a_plan_lists_the_groups_a_scope_change_makes_users_leave(sim, pool):
    pair, _, status = await reconciled(sim, pool, FINANCE)
    narrower = sync_scope_body(generation=2, scope={"users": [{"displayName": "Person 0001"}]})
    narrower["spec"]["deprovisioning"]["maxScopeShrinkPercent"] = 100
    outcome = await reconcile_sync_scope(SyncScope.from_body(narrower), pair, True, [], pool, status, dry_run=True)
    assert outcome.health is Health.READY, outcome.message
    assert outcome.dynamic_groups == ["5 synced user(s) would leave dynamic group 'Finance'"]


async def test_reading_the_dynamic_groups_needs_a_group_permission_in_the_target(sim, pool):
    pair, _, _ = await reconciled(sim, pool, FINANCE)
    roles = ("Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
    sim.call(lambda w: w.tenant(FABRIKAM).identity.apps[CTSYNC_APP].roles.difference_update(roles))
    await pool.forget(pair)  # a new token carries the roles as they are now
    outcome = await reconcile_sync_scope(SyncScope.from_body(sync_scope_body()), pair, True, [], pool, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.PERMISSION_MISSING
    assert "target tenant: the app registration needs Group.Read.All or Directory.Read.All" in outcome.message


def _department(operator: str) -> list[dict]:
    return [{"name": "finance", "clauses": [{"attribute": "department", "operator": operator, "value": "Finance"}]}]


@pytest.mark.parametrize(("operator", "status"), [("NOT EQUALS", "False"), ("EQUALS", "True")])
async def test_only_users_the_scoping_filter_admits_are_projected(sim, pool, operator, status):
    _, outcome, _ = await reconciled(sim, pool, FINANCE, scopingFilters=_department(operator))
    found = collision(outcome)
    assert found.status == status
    assert ("'Finance'" in found.message) is (status == "True")


async def test_a_plan_lists_the_groups_a_filter_change_makes_users_join(sim, pool):
    pair, _, status = await reconciled(sim, pool, FINANCE, scopingFilters=_department("NOT EQUALS"))
    wider = SyncScope.from_body(sync_scope_body(generation=2))
    outcome = await reconcile_sync_scope(wider, pair, True, [], pool, status, dry_run=True)
    assert outcome.dynamic_groups == ["5 synced user(s) would join dynamic group 'Finance'"]
