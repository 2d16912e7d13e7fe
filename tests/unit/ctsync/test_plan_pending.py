"""Pending creates: recorded in status, settled against what a read showed, holding the actions on objects
Graph does not show yet, and blocking past the bound."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from ctsync_samples import CTS_TEMPLATE, GROUP_A, GROUP_B, SOURCE, SYNC_SCOPE, TARGET, TENANT_PAIR, body, job

from ctsync.api import conditions
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.errors import Blocked
from ctsync.planning import pending
from ctsync.planning.configuration import choose_configuration
from ctsync.planning.pending import PendingCreate
from ctsync.planning.syncscope import SyncScopeObserved, plan_sync_scope
from ctsync.planning.tenantpair import TenantPairObserved, plan_tenant_pair

T0 = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
BOUND = pending.DEFAULT_BOUND_SECONDS
JOB = job()
CONFIGURATION = PendingCreate("source.configuration", "Contoso to Fabrikam", "sp-new", T0)
ASSIGNMENT = PendingCreate("source.assignments", GROUP_A, "asg-a", T0)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_status_round_trip_and_unreadable_entries_are_left_out() -> None:
    status = {pending.STATUS_FIELD: [*pending.to_status([CONFIGURATION, ASSIGNMENT]), {"step": "x"}]}
    assert pending.to_status([CONFIGURATION])[0]["since"] == "2026-12-05T06:00:00Z"
    assert pending.from_status(status) == (CONFIGURATION, ASSIGNMENT)
    assert pending.from_status({}) == ()


def test_a_newer_create_of_the_same_object_replaces_the_older() -> None:
    again = pending.recorded((CONFIGURATION, ASSIGNMENT), "source.configuration", CONFIGURATION.key, "sp-2", later(5))
    assert again == (ASSIGNMENT, PendingCreate("source.configuration", CONFIGURATION.key, "sp-2", later(5)))


def test_settle_drops_the_visible_waits_within_the_bound_and_flags_past_it() -> None:
    both = (CONFIGURATION, ASSIGNMENT)
    assert pending.settle(both, {("source.configuration", "SP-NEW")}, later(10), BOUND).waiting == (ASSIGNMENT,)
    assert pending.settle(both, set(), later(BOUND - 1), BOUND) == pending.Settled(waiting=both)
    # The same id under another step is another object.
    assert pending.settle(both, {("source.job", "sp-new")}, later(1), BOUND).waits_for("source.configuration")
    assert pending.settle(both, set(), later(BOUND), BOUND) == pending.Settled(overdue=both)


def test_past_the_bound_it_is_blocked_naming_the_object_and_its_id() -> None:
    settled = pending.settle((CONFIGURATION,), set(), later(BOUND + 1), BOUND)
    with pytest.raises(Blocked) as caught:
        pending.require_no_overdue(settled, BOUND)
    assert caught.value.reason == conditions.CREATE_NOT_VISIBLE and caught.value.stalls
    assert 'source configuration "Contoso to Fabrikam" (sp-new), created 2026-12-05T06:00:00Z' in str(caught.value)
    pending.require_no_overdue(pending.settle((CONFIGURATION,), set(), later(1), BOUND), BOUND)


def sync_scope() -> SyncScope:
    raw = body(SYNC_SCOPE, scope={"groups": [{"displayName": "CTS-Fabrikam"}, {"displayName": "Other"}]})
    return SyncScope.from_body(raw)


def test_an_assignment_not_visible_yet_is_not_made_again_the_others_are() -> None:
    observed = SyncScopeObserved(
        configuration={"id": "sp-new", "displayName": "Contoso to Fabrikam", "tags": [sync_scope().owner_tag]},
        secrets={},
        jobs=[],
        desired_principals=[{"id": GROUP_A, "type": "Group"}, {"id": GROUP_B, "type": "Group"}],
    )
    plan = plan_sync_scope(sync_scope(), observed, TARGET)
    held = pending.hold(plan, (ASSIGNMENT,))
    assert [(a.step, a.key) for a in plan.actions if a not in held.actions] == [("source.assignments", GROUP_A)]
    assert ("source.assignments", GROUP_B) in [(a.step, a.key) for a in held.actions]


def test_a_job_not_visible_yet_holds_its_create_schema_and_start() -> None:
    new_job = PendingCreate("source.job", "Azure2Azure", JOB["id"], T0)
    observed = SyncScopeObserved(
        configuration={"id": "sp-new", "displayName": "Contoso to Fabrikam", "tags": [sync_scope().owner_tag]},
        secrets={},
        desired_principals=[{"id": GROUP_A, "type": "Group"}],
    )
    held = pending.hold(plan_sync_scope(sync_scope(), observed, TARGET), (new_job,))
    assert {a.step for a in held.actions} == {"source.secrets", "source.assignments"}
    visible = pending.visible_in_sync_scope(dataclasses.replace(observed, jobs=[JOB]))
    assert ("source.job", JOB["id"]) in visible and ("source.configuration", "sp-new") in visible


def test_a_configuration_not_visible_yet_holds_everything_in_the_source() -> None:
    plan = plan_sync_scope(sync_scope(), SyncScopeObserved(desired_principals=[{"id": GROUP_A}]), TARGET)
    assert pending.hold(plan, (CONFIGURATION,)).empty


def test_a_partner_policy_not_visible_yet_holds_its_updates_and_identity_sync_not_the_other_side() -> None:
    pair = TenantPair.from_body(body(TENANT_PAIR))
    target_partner = PendingCreate("target.partner", SOURCE, SOURCE, T0)
    plan = plan_tenant_pair(pair, TenantPairObserved())
    held = pending.hold(plan, (target_partner,))
    assert {a.step for a in held.actions} == {"source.partner"}
    observed = TenantPairObserved(target_partner={"tenantId": SOURCE}, source_partner={"tenantId": TARGET})
    assert pending.visible_in_tenant_pair(observed, SOURCE, TARGET) == {
        ("target.partner", SOURCE),
        ("source.partner", TARGET),
    }


def test_a_create_whose_answer_was_lost_waits_for_its_name_then_counts_as_not_made() -> None:
    lost = PendingCreate("source.configuration", "Contoso to Fabrikam", "", T0)
    assert pending.settle((lost,), set(), later(10), BOUND).waiting == (lost,)
    shown = pending.visible_in_sync_scope(SyncScopeObserved(configuration={"id": "sp-x", "displayName": lost.key}))
    assert pending.settle((lost,), shown, later(10), BOUND) == pending.Settled()
    # Never shown within the bound: it was not made, and may be made now (nothing blocks).
    assert pending.settle((lost,), set(), later(BOUND), BOUND) == pending.Settled()
    assert "answer was lost" in lost.describe()


def test_under_create_only_the_untagged_configuration_of_a_lost_answer_is_ours() -> None:
    create_only = SyncScope.from_body(body(SYNC_SCOPE, adoptionPolicy="CreateOnly"))
    untagged = {"id": "sp-x", "displayName": "Contoso to Fabrikam", "applicationTemplateId": CTS_TEMPLATE, "tags": []}
    with pytest.raises(Blocked):
        choose_configuration(create_only, None, [untagged])
    assert choose_configuration(create_only, None, [untagged], answer_lost=True) is untagged
