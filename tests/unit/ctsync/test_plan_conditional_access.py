"""The Conditional Access evaluator: which policies reach synced users and need a trust the pair turns off."""

from __future__ import annotations

from typing import Any

import pytest

from ctsync.planning.conditional_access import (
    COMPLIANT_DEVICE,
    MFA,
    TRUST_KEYS,
    evaluate,
    mark_trust_risks,
)
from ctsync.planning.plan import Action, Plan

SOURCE = "11111111-1111-1111-1111-111111111111"
OTHER = "22222222-2222-2222-2222-222222222222"
NO_TRUST = dict.fromkeys(TRUST_KEYS, False)
FULL_TRUST = dict.fromkeys(TRUST_KEYS, True)


def policy(
    users: dict[str, Any] | None = None,
    *,
    state: str = "enabled",
    controls: tuple[str, ...] = ("mfa",),
    operator: str = "OR",
    **grant: Any,
) -> dict[str, Any]:
    return {
        "id": "0000aaaa-0000-0000-0000-000000000001",
        "displayName": "Guests need MFA",
        "state": state,
        "conditions": {
            "users": users if users is not None else {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
        },
        "grantControls": {"operator": operator, "builtInControls": list(controls), **grant},
    }


def guests(types: str = "b2bCollaborationMember", tenants: dict[str, Any] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"guestOrExternalUserTypes": types}
    if tenants is not None:
        value["externalTenants"] = tenants
    return value


def exposed(*policies: dict[str, Any], trust: dict[str, bool] = NO_TRUST) -> list[str]:
    return evaluate(policies, SOURCE).exposed(trust)


def test_enabled_mfa_for_all_users_is_exposed_without_mfa_trust_and_safe_with_it():
    (line,) = exposed(policy())
    assert "'Guests need MFA'" in line and "requires MFA from all users" in line
    assert exposed(policy(), trust={**NO_TRUST, MFA: True}) == []


def test_report_only_is_reported_as_such_and_disabled_never():
    (line,) = exposed(policy(state="enabledForReportingButNotEnforced"))
    assert "report-only" in line
    assert exposed(policy(state="disabled")) == []


@pytest.mark.parametrize(
    "users",
    [
        {"includeUsers": ["GuestsOrExternalUsers"]},
        {"includeGuestsOrExternalUsers": guests("internalGuest,b2bCollaborationMember")},
        {"includeGuestsOrExternalUsers": guests(tenants={"membershipKind": "all"})},
        {"includeGuestsOrExternalUsers": guests(tenants={"membershipKind": "enumerated", "members": [SOURCE.upper()]})},
        {"includeGuestsOrExternalUsers": guests("b2bCollaborationGuest")},
    ],
)
def test_policies_reaching_b2b_collaboration_users_of_the_source_apply(users):
    assert len(exposed(policy(users))) == 1


@pytest.mark.parametrize(
    "users",
    [
        {"includeUsers": ["None"]},
        {"includeGroups": ["3333aaaa-0000-0000-0000-000000000000"]},
        {"includeGuestsOrExternalUsers": guests("internalGuest,b2bDirectConnectUser")},
        {"includeGuestsOrExternalUsers": guests(tenants={"membershipKind": "enumerated", "members": [OTHER]})},
        {"includeUsers": ["All"], "excludeUsers": ["GuestsOrExternalUsers"]},
        {
            "includeUsers": ["All"],
            "excludeGuestsOrExternalUsers": guests(
                "b2bCollaborationMember,b2bCollaborationGuest",
                {"membershipKind": "enumerated", "members": [SOURCE]},
            ),
        },
    ],
)
def test_policies_missing_or_excluding_synced_users_do_not_apply(users):
    assert exposed(policy(users)) == []


def test_an_exclusion_of_members_only_leaves_guests_exposed():
    users = {"includeUsers": ["All"], "excludeGuestsOrExternalUsers": guests("b2bCollaborationMember")}
    (line,) = exposed(policy(users))
    assert "B2B collaboration guests" in line


def test_authentication_strength_needs_mfa_trust():
    strength = {"id": "00000000-0000-0000-0000-000000000002", "displayName": "Multifactor authentication"}
    (line,) = exposed(policy(controls=(), authenticationStrength=strength))
    assert "requires MFA" in line


def test_compliant_device_needs_device_trust():
    (line,) = exposed(policy(controls=("compliantDevice",)), trust={**NO_TRUST, MFA: True})
    assert "requires a compliant device" in line
    assert exposed(policy(controls=("compliantDevice",)), trust=FULL_TRUST) == []


def test_an_or_grant_is_exposed_only_when_every_trusted_option_is_off():
    either = policy(controls=("mfa", "compliantDevice"), operator="OR")
    assert exposed(either, trust={**NO_TRUST, COMPLIANT_DEVICE: True}) == []
    (line,) = exposed(either)
    assert "MFA or a compliant device" in line
    both = policy(controls=("mfa", "compliantDevice"), operator="AND")
    assert len(exposed(both, trust={**NO_TRUST, COMPLIANT_DEVICE: True})) == 1


def test_block_and_terms_of_use_alternatives_need_no_trust():
    assert exposed(policy(controls=("block",))) == []
    assert exposed(policy(termsOfUse=["4444aaaa-0000-0000-0000-000000000000"])) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "on"}, "state"),
        ({"conditions": {"users": "All"}}, "conditions.users"),
        ({"conditions": {"users": {"includeUsers": "All"}}}, "conditions.users.includeUsers"),
        (
            {"conditions": {"users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": ["b2b"]}}}},
            "guestOrExternalUserTypes",
        ),
        (
            {"conditions": {"users": {"includeGuestsOrExternalUsers": guests(tenants={"membershipKind": "some"})}}},
            "membershipKind",
        ),
        ({"grantControls": {"operator": "XOR", "builtInControls": ["mfa"]}}, "grantControls.operator"),
        ({"grantControls": {"builtInControls": "mfa"}}, "grantControls.builtInControls"),
    ],
)
def test_unreadable_policies_are_not_evaluated_naming_the_field_never_safe(change, field):
    evaluation = evaluate([{**policy(), **change}, policy()], SOURCE)
    (unread,) = evaluation.not_evaluated
    assert unread.name == "Guests need MFA" and field in unread.reason
    assert len(evaluation.findings) == 1


def test_a_change_turning_mfa_trust_off_is_marked_risky_naming_the_policies():
    turn_off = Action(
        "target",
        "target.partner",
        "update",
        "~ target partner policy",
        {"inboundTrust.isMfaAccepted": (True, False)},
    )
    unrelated = Action("source", "source.partner", "update", "~ source partner policy")
    plan = mark_trust_risks(Plan((turn_off, unrelated)), evaluate([policy()], SOURCE), NO_TRUST)
    (risk,) = plan.actions[0].risks
    assert "'Guests need MFA'" in risk
    assert plan.actions[1].risks == ()
    assert "[risky]" in plan.render() and "risk: 'Guests need MFA'" in plan.render()
    kept = mark_trust_risks(Plan((turn_off,)), evaluate([policy(controls=("compliantDevice",))], SOURCE), NO_TRUST)
    assert kept.actions[0].risks == ()
