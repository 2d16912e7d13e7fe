"""SyncScope planning: adoption, creation, secrets, assignments and job state."""

import dataclasses
import json
from typing import Any

import pytest
from ctsync_samples import (
    GROUP_A,
    GROUP_B,
    OWNER,
    SYNC_SCOPE,
    TARGET,
    body,
    cts_schema,
    job,
    service_principal,
)

from ctsync.api.syncscope import SyncScope
from ctsync.errors import Blocked, DependencyNotReady, ReadIncomplete
from ctsync.planning.configuration import choose_configuration
from ctsync.planning.secrets import desired_secrets
from ctsync.planning.syncscope import SyncScopeObserved, plan_sync_scope

NAME = "Contoso to Fabrikam"
OURS = service_principal("sp-ours", NAME, (OWNER,))


def scope(annotations: dict[str, str] | None = None, **spec: Any) -> SyncScope:
    raw = body(SYNC_SCOPE, **spec)
    raw["metadata"]["annotations"] = annotations or {}
    return SyncScope.from_body(raw)


CONVERGED = SyncScopeObserved(
    configuration=OURS,
    secrets={
        "AuthenticationType": "SyncPolicy",
        "CompanyId": TARGET.upper(),
        "SyncNotificationSettings": json.dumps(
            {
                "Enabled": True,
                "Recipients": "ops@contoso.test",
                "DeleteThresholdEnabled": True,
                "DeleteThresholdValue": 500,
            }
        ),
        "SyncAll": "False",
    },
    jobs=[job("Active", "Active")],
    schema=cts_schema(),
    assignments=[
        {
            "id": "asg-a",
            "principalId": GROUP_A,
            "principalType": "Group",
            "principalDisplayName": "CTS-Fabrikam",
        }
    ],
    desired_principals=[{"id": GROUP_A, "type": "Group", "displayName": "CTS-Fabrikam"}],
)


def steps(observed: SyncScopeObserved, the_scope: SyncScope | None = None) -> list[tuple[str, str]]:
    plan = plan_sync_scope(the_scope or scope(), observed, TARGET)
    return [(a.step, a.verb) for a in plan.actions]


def test_converged_is_empty() -> None:
    assert plan_sync_scope(scope(), CONVERGED, TARGET).empty


def test_fresh_tenant_creates_then_waits_for_the_job() -> None:
    observed = SyncScopeObserved(desired_principals=CONVERGED.desired_principals)
    plan = plan_sync_scope(scope(), observed, TARGET)
    # Schema and start are planned once the new job is observed (no first cycle on default mappings).
    assert [(a.step, a.verb) for a in plan.actions] == [
        ("source.configuration", "create"),
        ("source.secrets", "update"),
        ("source.job", "create"),
        ("source.assignments", "create"),
    ]
    create, secrets, new_job, assign = plan.actions
    assert create.body == {"displayName": NAME} and create.changes["tags"] == (None, [OWNER])
    assert secrets.body == {
        "value": [
            {"key": "AuthenticationType", "value": "SyncPolicy"},
            {"key": "CompanyId", "value": TARGET},
            {
                "key": "SyncNotificationSettings",
                "value": '{"Enabled":false,"HumanResourcesLookaheadQueryEnabled":false,'
                '"DeleteThresholdEnabled":true,"DeleteThresholdValue":500}',
            },
            {"key": "SyncAll", "value": "false"},
        ]
    }
    assert new_job.body == {"templateId": "Azure2Azure"}
    assert (assign.body, assign.key) == ({"principalId": GROUP_A}, GROUP_A)
    assert assign.summary == "+ source assignment of group 11111111… (CTS-Fabrikam)"


def test_existing_configuration_without_job() -> None:
    observed = dataclasses.replace(CONVERGED, jobs=[], schema=None)
    assert steps(observed) == [("source.job", "create")]


# --- adoption


Candidates = tuple[SyncScope, None, list[dict[str, Any]]]


def candidates(*sps: dict[str, Any], policy: str = "AdoptOrCreate") -> Candidates:
    """choose_configuration's arguments before anything is recorded in status."""
    return scope(adoptionPolicy=policy), None, list(sps)


@pytest.mark.parametrize(
    ("found", "policy", "chosen"),
    [
        ([OURS], "AdoptOrCreate", "sp-ours"),
        ([OURS], "CreateOnly", "sp-ours"),  # tagged by this SyncScope: ctsync created it
        ([service_principal("sp-u", NAME)], "AdoptOrCreate", "sp-u"),
        ([service_principal("sp-u", NAME)], "AdoptOnly", "sp-u"),
        ([], "AdoptOrCreate", None),
        ([], "CreateOnly", None),
        (
            [service_principal("sp-app", NAME, template=None)],
            "AdoptOrCreate",
            None,
        ),  # not a CTS configuration
        ([OURS, service_principal("sp-u", NAME)], "AdoptOrCreate", "sp-ours"),
    ],
)
def test_choose_configuration(found: list[dict[str, Any]], policy: str, chosen: str | None) -> None:
    result = choose_configuration(*candidates(*found, policy=policy))
    assert (result or {}).get("id") == chosen


@pytest.mark.parametrize(
    ("found", "policy", "reason", "names"),
    [
        (
            [service_principal("sp-1", NAME), service_principal("sp-2", NAME)],
            "AdoptOrCreate",
            "AmbiguousReference",
            ["sp-1", "sp-2"],
        ),
        (
            [OURS, service_principal("sp-2", NAME, (OWNER,))],
            "AdoptOrCreate",
            "AmbiguousReference",
            ["sp-ours", "sp-2"],
        ),
        (
            [service_principal("sp-mto", "MTO_Sync_" + TARGET)],
            "AdoptOrCreate",
            "NotOwned",
            ["sp-mto", "Microsoft 365"],
        ),
        (
            [service_principal("sp-x", NAME, ("ctsync.io/owner=other/scope",))],
            "AdoptOrCreate",
            "NotOwned",
            ["other/scope"],
        ),
        ([service_principal("sp-u", NAME)], "CreateOnly", "NotOwned", ["sp-u", "CreateOnly"]),
    ],
)
def test_choose_configuration_blocks(found: list[dict[str, Any]], policy: str, reason: str, names: list[str]) -> None:
    with pytest.raises(Blocked) as info:
        choose_configuration(*candidates(*found, policy=policy))
    assert info.value.reason == reason and info.value.stalls
    assert all(name in str(info.value) for name in names)


def test_adopt_only_waits_for_a_configuration() -> None:
    with pytest.raises(DependencyNotReady, match="AdoptOnly"):
        choose_configuration(*candidates(policy="AdoptOnly"))


def test_recorded_configuration_owned_elsewhere_is_refused() -> None:
    observed = dataclasses.replace(CONVERGED, configuration=service_principal("sp-x", NAME, ("ctsync.io/owner=a/b",)))
    with pytest.raises(Blocked, match="a/b"):
        plan_sync_scope(scope(), observed, TARGET)


def test_adopting_an_untagged_configuration_tags_it_first() -> None:
    untagged = service_principal("sp-u", NAME)
    plan = plan_sync_scope(
        scope(), dataclasses.replace(CONVERGED, configuration=untagged, candidates=[untagged]), TARGET
    )
    (tag,) = plan.actions
    assert (tag.step, tag.verb, tag.key) == ("source.configuration", "update", "sp-u")
    assert tag.body == {"tags": ["WindowsAzureActiveDirectoryIntegratedApp", OWNER]}


def test_plan_refuses_candidates_not_chosen_first() -> None:
    with pytest.raises(ValueError, match="choose_configuration"):
        plan_sync_scope(scope(), SyncScopeObserved(candidates=[service_principal("sp-u", NAME)]), TARGET)


# --- assignments


def test_assignments_add_and_remove_destructively() -> None:
    observed = dataclasses.replace(
        CONVERGED,
        desired_principals=[{"id": GROUP_B.upper(), "type": "Group"}],
        assignments=[
            *CONVERGED.assignments,
            {"id": "asg-sp", "principalId": "x", "principalType": "ServicePrincipal"},
        ],
    )
    plan = plan_sync_scope(scope(), observed, TARGET)
    add, remove = plan.actions
    assert (add.verb, add.key, add.destructive) == ("create", GROUP_B, False)
    assert (remove.verb, remove.key, remove.destructive) == ("delete", "asg-a", True)
    assert remove.summary == "- source assignment of group 11111111… (CTS-Fabrikam)"
    assert plan.destructive and "[destructive]" in plan.render()


# --- job state


@pytest.mark.parametrize(
    ("code", "state", "suspend", "expected"),
    [
        ("Paused", "Disabled", False, [("source.jobState", "start")]),
        ("Paused", "Paused", False, [("source.jobState", "start")]),
        ("NotRun", "Active", False, []),
        ("Active", "Active", False, []),
        ("Quarantine", "Paused", False, []),  # waits for the restart-job annotation
        ("Active", "Active", True, [("source.jobState", "pause")]),
        ("Quarantine", "Active", True, [("source.jobState", "pause")]),
        ("Paused", "Paused", True, []),
    ],
)
def test_job_start_and_pause(code: str, state: str, suspend: bool, expected: list[tuple[str, str]]) -> None:
    observed = dataclasses.replace(CONVERGED, jobs=[job(code, state)])
    assert steps(observed, scope(suspend=suspend)) == expected


def test_suspend_plans_nothing_but_the_pause() -> None:
    drifted = dataclasses.replace(CONVERGED, secrets=None, assignments=[])
    assert steps(drifted, scope(suspend=True)) == [("source.jobState", "pause")]


@pytest.mark.parametrize(
    ("annotations", "handled", "reset_scope", "destructive"),
    [
        ({"ctsync.io/restart-job": "r1"}, {}, "QuarantineState, Watermark, Escrows", False),
        ({"ctsync.io/restart-job": "r1"}, {"handled_restart": "r1"}, None, False),
        ({"ctsync.io/allow-deletions": "d1"}, {}, "ForceDeletes", True),
        (
            {"ctsync.io/restart-job": "r2", "ctsync.io/allow-deletions": "d1"},
            {"handled_restart": "r1"},
            "QuarantineState, Watermark, Escrows, ForceDeletes",
            True,
        ),
    ],
)
def test_restart_annotations(
    annotations: dict[str, str], handled: dict[str, Any], reset_scope: str | None, destructive: bool
) -> None:
    observed = dataclasses.replace(CONVERGED, **handled)
    plan = plan_sync_scope(scope(annotations), observed, TARGET)
    if reset_scope is None:
        assert plan.empty
        return
    (restart,) = plan.actions
    assert (restart.step, restart.verb, restart.destructive) == ("source.jobState", "restart", destructive)
    assert restart.body == {"criteria": {"resetScope": reset_scope}}


# --- secrets


def test_secrets_keep_notification_settings_the_spec_does_not_own() -> None:
    wanted = desired_secrets(scope(deprovisioning={"deletionThreshold": 0}), CONVERGED.secrets, TARGET)
    assert json.loads(wanted["SyncNotificationSettings"]) == {
        "Enabled": True,
        "Recipients": "ops@contoso.test",
        "HumanResourcesLookaheadQueryEnabled": False,
        "DeleteThresholdEnabled": False,
    }


@pytest.mark.parametrize(
    ("spec", "changed", "destructive"),
    [
        (
            {"deprovisioning": {"deletionThreshold": 0}},
            {
                "SyncNotificationSettings.DeleteThresholdEnabled": (True, False),
                "SyncNotificationSettings.DeleteThresholdValue": (500, None),
            },
            False,
        ),
        (
            {"deprovisioning": {"deletionThreshold": 100}},
            {"SyncNotificationSettings.DeleteThresholdValue": (500, 100)},
            False,
        ),
        ({"scope": {"syncAll": True}}, {"SyncAll": ("False", "true")}, False),
    ],
)
def test_secret_changes(spec: dict[str, Any], changed: dict[str, Any], destructive: bool) -> None:
    observed = dataclasses.replace(CONVERGED, desired_principals=[], assignments=[])
    (action,) = plan_sync_scope(scope(**spec), observed, TARGET).actions
    assert (action.step, action.changes, action.destructive) == ("source.secrets", changed, destructive)


def test_sync_all_off_is_destructive() -> None:
    observed = dataclasses.replace(CONVERGED, secrets={**(CONVERGED.secrets or {}), "SyncAll": "true"})
    (action,) = plan_sync_scope(scope(), observed, TARGET).actions
    assert action.destructive and action.changes == {"SyncAll": ("true", "false")}


def test_threshold_value_as_string_is_equal() -> None:
    settings = '{"Enabled":false,"DeleteThresholdEnabled":"True","DeleteThresholdValue":"500"}'
    observed = dataclasses.replace(
        CONVERGED, secrets={**(CONVERGED.secrets or {}), "SyncNotificationSettings": settings}
    )
    assert plan_sync_scope(scope(), observed, TARGET).empty


# --- schema


def test_missing_schema_of_an_existing_job_is_an_incomplete_read() -> None:
    with pytest.raises(ReadIncomplete, match="schema"):
        plan_sync_scope(scope(), dataclasses.replace(CONVERGED, schema=None), TARGET)


def test_scoping_filters_put_the_schema_before_the_start() -> None:
    filters = [{"clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Finance"}]}]
    observed = dataclasses.replace(CONVERGED, jobs=[job("Paused", "Paused")])
    plan = plan_sync_scope(scope(scopingFilters=filters), observed, TARGET)
    assert [(a.step, a.verb) for a in plan.actions] == [
        ("source.schema", "update"),
        ("source.jobState", "start"),
    ]
    assert plan.actions[0].destructive  # a new filter can take users out of scope


def test_under_sync_all_removing_assignments_takes_nobody_out_of_scope() -> None:
    observed = dataclasses.replace(CONVERGED, desired_principals=[])
    plan = plan_sync_scope(scope(scope={"syncAll": True}), observed, TARGET)
    assert [(a.step, a.verb, a.destructive) for a in plan.actions] == [
        ("source.secrets", "update", False),
        ("source.assignments", "delete", False),
    ]
