"""TenantPair planning: the documented order, convergence, single-flag changes, null vs false, deletion."""

import dataclasses
from typing import Any

import pytest
from ctsync_samples import SOURCE, TARGET, TENANT_PAIR, body

from ctsync.api.tenantpair import TenantPair
from ctsync.planning.tenantpair import (
    CreatedFlags,
    TenantPairObserved,
    plan_tenant_pair,
    plan_tenant_pair_deletion,
)


def pair(**spec: Any) -> TenantPair:
    return TenantPair.from_body(body(TENANT_PAIR, **spec))


def partner(tenant_id: str, trust: dict[str, bool] | None = None, inbound: Any = None, outbound: Any = None) -> dict:
    return {
        "tenantId": tenant_id,
        "inboundTrust": trust,
        "automaticUserConsentSettings": {"inboundAllowed": inbound, "outboundAllowed": outbound},
        "b2bCollaborationInbound": None,
    }


MFA_ONLY = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": False,
    "isHybridAzureADJoinedDeviceAccepted": False,
}
CONVERGED = TenantPairObserved(
    target_partner=partner(SOURCE, MFA_ONLY, inbound=True),
    target_identity_sync={"tenantId": SOURCE, "displayName": "x", "userSyncInbound": {"isSyncAllowed": True}},
    source_partner=partner(TARGET, outbound=True),
)


def test_fresh_tenants_follow_the_documented_order() -> None:
    plan = plan_tenant_pair(pair(trust={"mfa": True}), TenantPairObserved())
    assert [(a.tenant, a.step, a.verb) for a in plan.actions] == [
        ("target", "target.partner", "create"),
        ("target", "target.partner", "update"),
        ("target", "target.identitySync", "create"),
        ("source", "source.partner", "create"),
        ("source", "source.partner", "update"),
    ]
    create, patch, sync, _, source_patch = plan.actions
    assert create.body == {"tenantId": SOURCE}
    assert patch.body == {
        "inboundTrust": MFA_ONLY,
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": None},
    }
    assert sync.body == {
        "displayName": "tenants/contoso-to-fabrikam",
        "userSyncInbound": {"isSyncAllowed": True},
    }
    assert source_patch.body == {"automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": True}}
    assert not plan.destructive
    assert list(plan.by_tenant()) == ["target", "source"]


def test_converged_is_empty() -> None:
    plan = plan_tenant_pair(pair(trust={"mfa": True}), CONVERGED)
    assert plan.empty and plan.render() == "No changes."


@pytest.mark.parametrize(
    ("spec", "step", "body", "summary"),
    [
        (
            {"trust": {"mfa": True, "compliantDevice": True}},
            "target.partner",
            {"inboundTrust": {**MFA_ONLY, "isCompliantDeviceAccepted": True}},
            "~ target partner policy for 3f1c5a9e…: inboundTrust.isCompliantDeviceAccepted false -> true",
        ),
        (
            {"trust": {"mfa": True}, "userSyncInbound": False},
            "target.identitySync",
            {"userSyncInbound": {"isSyncAllowed": False}},
            "~ target identity synchronization for 3f1c5a9e…: userSyncInbound.isSyncAllowed true -> false",
        ),
    ],
)
def test_one_flipped_flag_is_one_patch(spec: dict, step: str, body: dict, summary: str) -> None:
    (action,) = plan_tenant_pair(pair(**spec), CONVERGED).actions
    assert (action.step, action.verb, action.body, action.summary) == (step, "update", body, summary)


def test_automatic_redemption_off_patches_both_sides_keeping_the_other_key() -> None:
    observed = TenantPairObserved(
        target_partner=partner(SOURCE, MFA_ONLY, inbound=True, outbound=True),
        target_identity_sync=CONVERGED.target_identity_sync,
        source_partner=partner(TARGET, inbound=False, outbound=True),
    )
    plan = plan_tenant_pair(pair(trust={"mfa": True}, automaticRedemption=False), observed)
    assert [a.body for a in plan.actions] == [
        {"automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": True}},
        {"automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False}},
    ]
    assert plan.actions[0].changes == {"automaticUserConsentSettings.inboundAllowed": (True, False)}


def test_null_counts_as_false() -> None:
    observed = TenantPairObserved(
        target_partner=partner(SOURCE, trust=None, inbound=None),
        target_identity_sync={"tenantId": SOURCE, "userSyncInbound": {"isSyncAllowed": False}},
        source_partner=partner(TARGET, outbound=None),
    )
    plan = plan_tenant_pair(pair(automaticRedemption=False, userSyncInbound=False), observed)
    assert plan.empty


def test_null_to_true_shows_null() -> None:
    observed = dataclasses.replace(CONVERGED, source_partner=partner(TARGET))
    (action,) = plan_tenant_pair(pair(trust={"mfa": True}), observed).actions
    assert (
        action.summary
        == "~ source partner policy for b84e2c17…: automaticUserConsentSettings.outboundAllowed null -> true"
    )


ALL_CREATED = CreatedFlags(target_partner=True, identity_sync=True, source_partner=True)


def test_deletion_orphan_writes_nothing() -> None:
    assert plan_tenant_pair_deletion(pair(), CONVERGED, ALL_CREATED).empty


def test_deletion_removes_identity_sync_before_its_partner() -> None:
    plan = plan_tenant_pair_deletion(pair(deletionPolicy="Delete"), CONVERGED, ALL_CREATED)
    assert [(a.step, a.verb, a.key) for a in plan.actions] == [
        ("target.identitySync", "delete", SOURCE),
        ("target.partner", "delete", SOURCE),
        ("source.partner", "delete", TARGET),
    ]
    assert all(a.destructive for a in plan.actions)


@pytest.mark.parametrize(
    ("created", "observed", "steps"),
    [
        (CreatedFlags(source_partner=True), CONVERGED, ["source.partner"]),
        # The identity synchronization is not ours and stays, so its partner cannot be deleted either.
        (CreatedFlags(target_partner=True, source_partner=True), CONVERGED, ["source.partner"]),
        (ALL_CREATED, TenantPairObserved(target_partner=CONVERGED.target_partner), ["target.partner"]),
        (ALL_CREATED, TenantPairObserved(), []),
    ],
)
def test_deletion_only_removes_what_ctsync_created(
    created: CreatedFlags, observed: TenantPairObserved, steps: list[str]
) -> None:
    plan = plan_tenant_pair_deletion(pair(deletionPolicy="Delete"), observed, created)
    assert [a.step for a in plan.actions] == steps


def test_created_flags_from_status() -> None:
    status = {"targetPartnerCreated": True, "identitySyncCreated": False}
    assert CreatedFlags.from_status(status) == CreatedFlags(target_partner=True)


def test_deletion_in_a_two_way_pair_resets_only_this_directions_keys() -> None:
    # The reverse pair uses the target's partner policy for its outbound consent, and the source's partner
    # policy holds the reverse direction's identity synchronization.
    target_partner = {
        **CONVERGED.target_partner,
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
    }
    observed = TenantPairObserved(
        target_partner=target_partner,
        target_identity_sync=CONVERGED.target_identity_sync,
        source_partner=CONVERGED.source_partner,
        source_identity_sync={"tenantId": TARGET},
    )
    plan = plan_tenant_pair_deletion(pair(deletionPolicy="Delete"), observed, ALL_CREATED)
    assert [(a.step, a.verb) for a in plan.actions] == [
        ("target.identitySync", "delete"),
        ("target.partner", "update"),
        ("source.partner", "update"),
    ]
    target_reset, source_reset = plan.actions[1].body, plan.actions[2].body
    assert target_reset["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": True}
    assert target_reset["inboundTrust"] is None
    assert source_reset["automaticUserConsentSettings"]["outboundAllowed"] is None
