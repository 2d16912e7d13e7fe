"""Provisioning cycles on the simulated clock: create, update, disable, soft delete, restore, the deletion
threshold, quarantine and catch-up scheduling."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_sync_backend import FABRIKAM, Cts, allow_sync, build_cts

from entrasim.core.clock import iso
from entrasim.synchronization.job import CYCLE_INTERVAL_SECONDS
from entrasim.synchronization.provisioning import (
    CREATE_SECONDS,
    INCREMENTAL_EXPORT_SECONDS,
    MATCH_SECONDS,
)
from entrasim.synchronization.scope import net_id

HOUR = 3600
DAY = 24 * HOUR


@pytest.fixture
def cts() -> Cts:
    return build_cts()


def _synced(cts: Cts, *names: str, **props: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A group of users assigned to the job, after the first cycle has provisioned them."""
    users = [cts.user(n, **props) for n in names]
    group = cts.group("team", *users)
    cts.assign(group)
    cts.start()
    cts.advance(CREATE_SECONDS * len(names) + 0.01)  # the cycle's cursor adds up the costs in floating point
    assert cts.job.status["code"] == "Active"
    return group, users


def _next_cycle(cts: Cts) -> None:
    cts.advance(CYCLE_INTERVAL_SECONDS)


def test_first_cycle_creates_external_members(cts: Cts) -> None:
    t0 = cts.world.clock.now()
    _, (ada, bob) = _synced(cts, "ada", "bob", department="Sales", jobTitle="Engineer")
    target = cts.target_user(ada)
    assert target is not None
    assert target["userPrincipalName"] == "ada_contoso.com#EXT#@fabrikam.onmicrosoft.com"
    assert (target["userType"], target["creationType"], target["externalUserState"]) == (
        "Member",
        "Invitation",
        "Accepted",
    )
    assert (target["showInAddressList"], target["accountEnabled"]) == (True, True)
    assert (target["displayName"], target["department"], target["jobTitle"], target["mail"]) == (
        "Ada",
        "Sales",
        "Engineer",
        "ada@contoso.com",
    )
    assert len(target["alternativeSecurityIds"]) == 1
    status = cts.job.status
    assert status["synchronizedEntryCountByType"] == [{"key": "User", "value": 2}]
    execution = status["lastExecution"]
    assert (execution["state"], execution["countExported"], execution["countEntitled"]) == ("Succeeded", 2, 2)
    assert execution["timeBegan"] == iso(t0)
    assert execution["timeEnded"] == iso(t0 + 2 * CREATE_SECONDS)
    assert status["steadyStateFirstAchievedTime"] == execution["timeEnded"]
    assert status["lastSuccessfulExecutionWithExports"] == execution
    creates = cts.events("create")
    assert [e["activityDateTime"] for e in creates] == [iso(t0), iso(t0 + CREATE_SECONDS)]
    first = creates[0]
    assert first["sourceIdentity"]["id"] == ada["id"] and first["targetIdentity"]["id"] == target["id"]
    assert (first["jobId"], first["tenantId"], first["durationInMilliseconds"]) == (
        cts.job.id,
        FABRIKAM,
        CREATE_SECONDS * 1000,
    )
    assert first["servicePrincipal"] == {"id": cts.sp["id"], "displayName": "Fabrikam"}
    assert first["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
    assert {"department", "userPrincipalName", "alternativeSecurityIds"} <= {
        p["displayName"] for p in first["modifiedProperties"]
    }
    assert [s["provisioningStepType"] for s in first["provisioningSteps"]] == [
        "import",
        "scoping",
        "matching",
        "processing",
        "export",
    ]
    assert first["provisioningSteps"][0]["details"]["netId"] == net_id(ada["id"])
    assert bob["id"] != ada["id"]


def test_incremental_cycles_export_only_changes_and_a_watermark_restart_re_evaluates_all(cts: Cts) -> None:
    _, users = _synced(cts, *(f"user{i:02d}" for i in range(20)), department="Sales")
    assert len(cts.target.directory.users) == 20
    assert cts.job.status["lastSuccessfulExecutionWithExports"]["countExported"] == 20
    for user in users[:3]:
        cts.source.directory.update_user(user["id"], {"department": "Ops"})
    cts.advance(CYCLE_INTERVAL_SECONDS + 3 * INCREMENTAL_EXPORT_SECONDS)
    execution = cts.job.status["lastSuccessfulExecutionWithExports"]
    assert (execution["countExported"], execution["countEntitled"]) == (3, 20)
    cts.sync.restart_job(cts.sp["id"], cts.job.id, {"resetScope": "Watermark"})
    cts.advance(20 * MATCH_SECONDS + 0.01)
    execution = cts.job.status["lastSuccessfulExecution"]
    assert (execution["countImported"], execution["countExported"], execution["countEntitled"]) == (20, 0, 20)


def test_users_entering_scope_cost_a_create_each_whatever_the_cycle(cts: Cts) -> None:
    """Microsoft gives 0.01 to 0.08 min per object, creating about twice as long as matching: a user that
    enters scope later is created just as one of the initial cycle is."""
    assert 0.01 * 60 <= MATCH_SECONDS < CREATE_SECONDS <= 0.08 * 60
    assert CREATE_SECONDS == 2 * MATCH_SECONDS
    _synced(cts, "ada")
    cts.assign(cts.group("newcomers", *(cts.user(f"new{i:02d}") for i in range(30))))
    began = cts.job.next_start
    cts.advance(CYCLE_INTERVAL_SECONDS + 30 * CREATE_SECONDS)
    execution = cts.job.status["lastExecution"]
    assert (execution["countExported"], execution["timeBegan"]) == (30, iso(began))
    assert execution["timeEnded"] == iso(began + 30 * CREATE_SECONDS)
    assert {e["durationInMilliseconds"] for e in cts.events("create")} == {CREATE_SECONDS * 1000}


def test_a_long_initial_cycle_spans_clock_ticks(cts: Cts) -> None:
    cts.assign(cts.group("team", *(cts.user(f"user{i}") for i in range(10))))
    cts.start()
    assert len(cts.target.directory.users) == 1  # the first object is processed the moment the cycle starts
    cts.advance(10)
    assert len(cts.target.directory.users) == 5  # objects at +0 s, +2.4 s, +4.8 s, +7.2 s and +9.6 s
    status = cts.job.status
    assert status["code"] == "NotRun"
    assert status["progress"][0]["completedUnits"] == 5 and status["progress"][0]["totalUnits"] == 10
    assert status["lastExecution"]["timeBegan"] == "0001-01-01T00:00:00Z"
    cts.advance(40)
    assert len(cts.target.directory.users) == 10
    assert status["code"] == "Active"


def test_catch_up_runs_every_due_cycle_at_its_scheduled_time(cts: Cts) -> None:
    t0 = cts.world.clock.now()
    _, (ada,) = _synced(cts, "ada")
    cts.source.directory.update_user(ada["id"], {"department": "Ops"})
    cts.advance(3 * HOUR)  # one jump: cycles were due at +40, +80, +120 and +160 minutes
    [update] = cts.events("update")
    assert update["activityDateTime"] == iso(t0 + CYCLE_INTERVAL_SECONDS)
    assert update["durationInMilliseconds"] == INCREMENTAL_EXPORT_SECONDS * 1000
    assert cts.job.status["lastExecution"]["timeBegan"] == iso(t0 + 4 * CYCLE_INTERVAL_SECONDS)
    assert cts.job.next_start == t0 + 5 * CYCLE_INTERVAL_SECONDS


def test_updates_flow_source_changes_and_keep_object_add_only_values(cts: Cts) -> None:
    _, (ada,) = _synced(cts, "ada", department="Sales")
    target = cts.target_user(ada)
    assert target is not None
    cts.target.directory.update_user(target["id"], {"userType": "Guest", "jobTitle": "Edited in target"})
    _next_cycle(cts)
    assert target["jobTitle"] == "Edited in target"  # target-side edits persist while the source is unchanged
    cts.source.directory.update_user(ada["id"], {"department": "Ops"})
    _next_cycle(cts)
    assert target["department"] == "Ops"
    assert target["jobTitle"] is None  # a source change overwrites what differs
    assert target["userType"] == "Guest"  # userType flows only when the object is created
    [update] = cts.events("update")
    assert {"displayName": "department", "oldValue": "Sales", "newValue": "Ops"} in update["modifiedProperties"]


def test_disabling_in_the_source_disables_in_the_target(cts: Cts) -> None:
    _, (ada,) = _synced(cts, "ada")
    cts.source.directory.update_user(ada["id"], {"accountEnabled": False})
    _next_cycle(cts)
    target = cts.target_user(ada)
    assert target is not None and target["accountEnabled"] is False and target["deletedDateTime"] is None
    assert len(cts.events("disable")) == 1
    cts.source.directory.update_user(ada["id"], {"accountEnabled": True})
    _next_cycle(cts)
    assert target["accountEnabled"] is True
    assert cts.events()[-1]["provisioningAction"] == "update"


def test_leaving_scope_soft_deletes_and_returning_restores(cts: Cts) -> None:
    group, (ada, bob) = _synced(cts, "ada", "bob")
    target = cts.target_user(ada)
    assert target is not None
    cts.source.directory.remove_member(group["id"], ada["id"])
    _next_cycle(cts)
    assert target["id"] in cts.target.directory.deleted
    assert cts.job.status["synchronizedEntryCountByType"] == [{"key": "User", "value": 1}]
    [delete] = cts.events("delete")
    assert delete["targetIdentity"]["id"] == target["id"]
    cts.advance(10 * DAY)
    cts.source.directory.add_member(group["id"], ada["id"])
    _next_cycle(cts)
    assert target["id"] in cts.target.directory.users  # the same object, restored
    restore = cts.events()[-1]
    assert restore["provisioningAction"] == "update"
    assert {"displayName": "IsSoftDeleted", "oldValue": "True", "newValue": "False"} in restore["modifiedProperties"]
    assert cts.target_user(bob)["deletedDateTime"] is None  # type: ignore[index]


def test_returning_after_the_recycle_bin_emptied_creates_a_new_user(cts: Cts) -> None:
    group, (ada,) = _synced(cts, "ada")
    first = cts.target_user(ada)
    cts.source.directory.remove_member(group["id"], ada["id"])
    _next_cycle(cts)
    cts.advance(31 * DAY)
    assert cts.target_user(ada) is None  # purged after 30 days
    cts.source.directory.add_member(group["id"], ada["id"])
    _next_cycle(cts)
    again = cts.target_user(ada)
    assert again is not None and again["id"] != first["id"]  # type: ignore[index]


def test_deleted_in_the_source_then_restored(cts: Cts) -> None:
    _, (ada,) = _synced(cts, "ada")
    target = cts.target_user(ada)
    assert target is not None
    cts.source.directory.delete_user(ada["id"])
    _next_cycle(cts)
    assert target["id"] in cts.target.directory.deleted
    cts.source.directory.restore(ada["id"])  # rejoins the assigned group
    _next_cycle(cts)
    assert target["id"] in cts.target.directory.users


def test_disabled_then_removed_from_scope_is_not_deleted(cts: Cts) -> None:
    group, (ada,) = _synced(cts, "ada")
    cts.source.directory.update_user(ada["id"], {"accountEnabled": False})
    _next_cycle(cts)
    cts.source.directory.remove_member(group["id"], ada["id"])
    _next_cycle(cts)
    target = cts.target_user(ada)
    assert target is not None and target["deletedDateTime"] is None and target["accountEnabled"] is False
    assert cts.events("delete") == []


def test_no_delete_flow_type_leaves_users_that_leave_scope(cts: Cts) -> None:
    group, (ada,) = _synced(cts, "ada")
    cts.job.schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = "Add, Update"
    cts.sync.put_schema(cts.sp["id"], cts.job.id, cts.job.schema)
    cts.source.directory.remove_member(group["id"], ada["id"])
    cts.advance(3 * HOUR)
    assert cts.target_user(ada)["deletedDateTime"] is None  # type: ignore[index]
    assert cts.events("delete") == []


def test_users_deleted_in_the_target_are_left_alone_but_vanished_ones_come_back(cts: Cts) -> None:
    _, (ada, bob) = _synced(cts, "ada", "bob")
    ada_target, bob_target = cts.target_user(ada), cts.target_user(bob)
    assert ada_target is not None and bob_target is not None
    cts.target.directory.delete_user(ada_target["id"])
    cts.target.directory.delete_user(bob_target["id"])
    cts.target.directory.hard_delete(bob_target["id"])
    _next_cycle(cts)
    assert ada_target["id"] in cts.target.directory.deleted  # the engine does not restore it
    recreated = cts.target_user(bob)
    assert recreated is not None and recreated["id"] != bob_target["id"]


def test_a_new_configuration_matches_users_by_alternative_security_id(cts: Cts) -> None:
    _, (ada,) = _synced(cts, "ada")
    target = cts.target_user(ada)
    cts.sync.delete_job(cts.sp["id"], cts.job.id)
    cts.job = cts.sync.create_job(cts.sp["id"], "Azure2Azure")
    cts.start()
    assert cts.job.managed[ada["id"]].target_id == target["id"]  # type: ignore[index]
    assert len(cts.target.directory.users) == 1
    assert len(cts.events("create")) == 1


def test_create_conflicts_are_escrowed_and_retried() -> None:
    cts = build_cts()
    ada = cts.user("ada")
    squatter = cts.target.directory.create_user(
        {
            "userPrincipalName": "ada_contoso.com#EXT#@fabrikam.onmicrosoft.com",
            "displayName": "Someone else",
            "accountEnabled": True,
        }
    )
    cts.assign(ada)
    cts.start()
    cts.advance(CREATE_SECONDS)
    execution = cts.job.status["lastExecution"]
    assert (execution["state"], execution["countEscrowed"]) == ("EntryLevelErrors", 1)
    [failure] = cts.events("create")
    assert failure["provisioningStatusInfo"]["status"] == "failure"
    assert failure["provisioningStatusInfo"]["errorInformation"]["errorCode"] == "AzureActiveDirectoryConflict"
    cts.target.directory.delete_user(squatter["id"])
    _next_cycle(cts)
    assert cts.target_user(ada)["displayName"] == "Ada"  # type: ignore[index]
    assert cts.job.status["lastExecution"]["state"] == "Succeeded"


def test_schema_changes_re_evaluate_everyone(cts: Cts) -> None:
    _, users = _synced(cts, "ada", "bob")
    schema = copy.deepcopy(cts.job.schema)
    mappings = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    department = next(m for m in mappings if m["targetAttributeName"] == "department")
    department["source"] = {
        "expression": '"Contoso"',
        "name": "Contoso",
        "type": "Constant",
        "parameters": [],
    }
    cts.sync.put_schema(cts.sp["id"], cts.job.id, schema)
    _next_cycle(cts)
    assert [cts.target_user(u)["department"] for u in users] == ["Contoso", "Contoso"]  # type: ignore[index]


def test_ignore_flow_leaves_the_target_value_alone(cts: Cts) -> None:
    schema = copy.deepcopy(cts.job.schema)
    mappings = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    job_title = next(m for m in mappings if m["targetAttributeName"] == "jobTitle")
    job_title["source"] = {"expression": "IgnoreFlowIfNullOrEmpty([jobTitle])"}
    cts.sync.put_schema(cts.sp["id"], cts.job.id, schema)
    _, (ada,) = _synced(cts, "ada")
    target = cts.target_user(ada)
    assert target is not None and "jobTitle" not in target
    cts.target.directory.update_user(target["id"], {"jobTitle": "Set in the target"})
    cts.source.directory.update_user(ada["id"], {"department": "Ops"})
    _next_cycle(cts)
    assert (target["department"], target["jobTitle"]) == ("Ops", "Set in the target")
    cts.source.directory.update_user(ada["id"], {"jobTitle": "Engineer"})
    _next_cycle(cts)
    assert target["jobTitle"] == "Engineer"


def test_pause_stops_cycles_and_start_resumes(cts: Cts) -> None:
    _, (ada,) = _synced(cts, "ada")
    cts.sync.pause_job(cts.sp["id"], cts.job.id)
    cts.source.directory.update_user(ada["id"], {"department": "Ops"})
    cts.advance(5 * HOUR)
    assert cts.target_user(ada).get("department") is None  # type: ignore[union-attr]
    cts.start()
    assert cts.target_user(ada)["department"] == "Ops"  # type: ignore[index]


# --- accidental deletions threshold ------------------------------------------------------------------------


def test_deletion_threshold_stages_deletes_until_force_deletes() -> None:
    cts = build_cts(threshold=2)
    group, users = _synced(cts, "ada", "bob", "cy")
    for user in users:
        cts.source.directory.remove_member(group["id"], user["id"])
    _next_cycle(cts)
    assert all(cts.target_user(u)["deletedDateTime"] is None for u in users)  # type: ignore[index]
    status = cts.job.status
    assert status["code"] == "Quarantine"
    assert status["quarantine"]["reason"] == "TooManyDeletes"
    staged = cts.events("stageddelete")
    assert len(staged) == 3 and staged[0]["provisioningStatusInfo"]["status"] == "skipped"
    cts.sync.restart_job(cts.sp["id"], cts.job.id, {"resetScope": "ForceDeletes"})
    cts.advance(10)
    assert all(cts.target_user(u)["deletedDateTime"] is not None for u in users)  # type: ignore[index]
    assert len(cts.events("delete")) == 3
    assert (status["code"], status["quarantine"]) == ("Active", None)


def test_disables_count_towards_the_threshold() -> None:
    cts = build_cts(threshold=1)
    _, users = _synced(cts, "ada", "bob")
    for user in users:
        cts.source.directory.update_user(user["id"], {"accountEnabled": False})
    _next_cycle(cts)
    assert all(cts.target_user(u)["accountEnabled"] for u in users)  # type: ignore[index]
    assert cts.job.status["quarantine"]["reason"] == "TooManyDeletes"
    cts.sync.restart_job(cts.sp["id"], cts.job.id, {"resetScope": "ForceDeletes"})
    cts.advance(10)
    assert not any(cts.target_user(u)["accountEnabled"] for u in users)  # type: ignore[index]


def test_fixing_the_scope_and_restarting_clears_the_threshold_quarantine() -> None:
    cts = build_cts(threshold=1)
    group, users = _synced(cts, "ada", "bob")
    for user in users:
        cts.source.directory.remove_member(group["id"], user["id"])
    _next_cycle(cts)
    for user in users:
        cts.source.directory.add_member(group["id"], user["id"])
    cts.sync.restart_job(cts.sp["id"], cts.job.id, None)
    cts.advance(1)
    assert cts.job.status["quarantine"] is None
    assert cts.events("delete") == []


# --- quarantine ---------------------------------------------------------------------------------------------


def test_policy_failures_quarantine_then_recover() -> None:
    cts = build_cts(policies=False)
    ada = cts.user("ada")
    cts.assign(ada)
    t0 = cts.world.clock.now()
    cts.start()
    status = cts.job.status
    quarantine = status["quarantine"]
    assert status["code"] == "Quarantine"
    assert quarantine["reason"] == "EncounteredQuarantineException"
    assert quarantine["error"]["code"] == "AzureDirectoryB2BManagementPolicyCheckFailure"
    assert (quarantine["seriesCount"], quarantine["nextAttempt"]) == (1, iso(t0 + 6 * HOUR))
    assert status["countSuccessiveCompleteFailures"] == 1
    assert status["lastExecution"]["state"] == "Failed"
    cts.advance(6 * HOUR)
    assert (status["quarantine"]["seriesCount"], status["countSuccessiveCompleteFailures"]) == (2, 2)
    assert status["quarantine"]["nextAttempt"] == iso(t0 + 18 * HOUR)  # then 12 h
    assert status["quarantine"]["seriesBegan"] == iso(t0)
    allow_sync(cts.source, cts.target)
    cts.advance(12 * HOUR + CREATE_SECONDS)
    assert (status["code"], status["quarantine"], status["countSuccessiveCompleteFailures"]) == (
        "Active",
        None,
        0,
    )
    assert cts.target_user(ada) is not None


def test_missing_inbound_sync_is_its_own_error() -> None:
    cts = build_cts(policies=False)
    allow_sync(cts.source, cts.target, inbound_sync=False)
    cts.start()
    error = cts.job.status["quarantine"]["error"]
    assert error["code"] == "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure"


def test_quarantined_jobs_give_up_after_four_weeks() -> None:
    cts = build_cts(policies=False)
    cts.start()
    cts.advance(30 * DAY)
    assert cts.job.schedule_state == "Disabled"
    assert cts.job.status["code"] == "Quarantine"


def test_start_lifts_quarantine_and_retries_at_once() -> None:
    cts = build_cts(policies=False)
    ada = cts.user("ada")
    cts.assign(ada)
    cts.start()
    allow_sync(cts.source, cts.target)
    cts.start()
    assert cts.job.status["quarantine"] is None
    assert cts.target_user(ada) is not None
