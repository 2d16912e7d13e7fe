"""The Conditional Access guardrail through the TenantPair reconciler, against policies seeded in the
emulated target tenant."""

from __future__ import annotations

from typing import Any

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from support.conditional_access import GUEST_MFA_POLICY as GUEST_MFA
from support.sim import CONTOSO, CTSYNC_APP, FABRIKAM, tenant_pair_body

NO_MFA_TRUST = {"mfa": False, "compliantDevice": False, "hybridJoinedDevice": False}


def seed_policy(sim, policy: dict[str, Any]) -> None:
    sim.call(lambda w: w.tenant(FABRIKAM).conditional_access.add(policy))


def guest_mfa_risk(outcome):
    return next(c for c in outcome.all_conditions() if c.type == conditions.GUEST_MFA_RISK)


async def test_a_guest_mfa_policy_without_mfa_trust_warns_and_the_pair_stays_ready(sim, pool):
    seed_policy(sim, GUEST_MFA)
    pair = TenantPair.from_body(tenant_pair_body(sim, trust=NO_MFA_TRUST))
    writing = await reconcile_tenant_pair(pair, pool, {})
    assert writing.health is Health.READY, writing.message
    assert guest_mfa_risk(writing).status == "True"
    # The handler runs another pass on the same status after one that wrote: that one warns, once.
    assert not [e for e in writing.events if e.reason == conditions.GUEST_MFA_RISK]
    outcome = await reconcile_tenant_pair(pair, pool, {})
    assert outcome.plan.empty and outcome.health is Health.READY
    risk = guest_mfa_risk(outcome)
    assert (risk.status, risk.reason) == ("True", conditions.POLICIES_NEED_TRUST)
    assert "Require MFA for B2B collaboration members" in risk.message and GUEST_MFA["id"] in risk.message
    (event,) = [e for e in outcome.events if e.reason == conditions.GUEST_MFA_RISK]
    assert event.type == "Warning" and event.message == risk.message

    status = {"observedGeneration": 1, "conditions": [risk.to_dict()]}
    again = await reconcile_tenant_pair(pair, pool, status)
    assert guest_mfa_risk(again).status == "True"
    assert not [e for e in again.events if e.reason == conditions.GUEST_MFA_RISK]  # said once, not every pass


async def test_mfa_trust_or_an_exclusion_of_the_source_removes_the_risk(sim, pool):
    seed_policy(sim, GUEST_MFA)
    trusted = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    assert (guest_mfa_risk(trusted).status, guest_mfa_risk(trusted).reason) == ("False", conditions.NO_POLICY_EXPOSED)

    users = GUEST_MFA["conditions"]["users"]  # type: ignore[index]
    excluded = {
        **GUEST_MFA,
        "id": "5b3f0c2e-7d4a-4c1b-9a8e-000000000002",
        "conditions": {
            **GUEST_MFA["conditions"],
            "users": {"includeUsers": ["All"], "excludeGuestsOrExternalUsers": users["includeGuestsOrExternalUsers"]},
        },  # type: ignore[dict-item]
    }
    sim.call(lambda w: w.tenant(FABRIKAM).conditional_access.policies.clear())
    seed_policy(sim, excluded)
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim, trust=NO_MFA_TRUST)), pool, {})
    assert guest_mfa_risk(outcome).status == "False"


async def test_compliant_device_policy_without_device_trust_warns(sim, pool):
    seed_policy(sim, {**GUEST_MFA, "grantControls": {"operator": "AND", "builtInControls": ["compliantDevice"]}})
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    risk = guest_mfa_risk(outcome)
    assert risk.status == "True" and "requires a compliant device" in risk.message


async def test_an_unreadable_policy_is_not_evaluated_never_safe(sim, pool):
    broken = {**GUEST_MFA, "conditions": {"users": {"includeUsers": "All"}}}
    seed_policy(sim, broken)
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim, trust=NO_MFA_TRUST)), pool, {})
    risk = guest_mfa_risk(outcome)
    assert (risk.status, risk.reason) == ("Unknown", conditions.POLICIES_NOT_EVALUATED)
    assert "Require MFA for B2B collaboration members" in risk.message and "includeUsers" in risk.message
    assert outcome.health is Health.READY


async def test_without_policy_read_all_the_check_is_skipped_and_said_once(sim, pool, control):
    seed_policy(sim, GUEST_MFA)
    sim.call(lambda w: w.tenant(FABRIKAM).identity.apps[CTSYNC_APP].roles.discard("Policy.Read.All"))
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim, trust=NO_MFA_TRUST)), pool, {})
    assert outcome.health is Health.READY, outcome.message
    risk = guest_mfa_risk(outcome)
    assert (risk.status, risk.reason) == ("Unknown", conditions.POLICY_READ_DENIED)
    assert "Policy.Read.All" in risk.message
    assert not [e for e in outcome.events if e.reason == conditions.GUEST_MFA_RISK]
    requests = control.get("/requests").json()["requests"]
    assert not [r for r in requests if "conditionalAccess" in r["path"]]


async def test_plan_marks_turning_mfa_trust_off_risky_naming_the_exposed_policy(sim, pool):
    seed_policy(sim, GUEST_MFA)
    await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    lowered = TenantPair.from_body(tenant_pair_body(sim, generation=2, trust=NO_MFA_TRUST))
    outcome = await reconcile_tenant_pair(lowered, pool, {"observedGeneration": 1}, dry_run=True)
    (action,) = outcome.plan.actions
    assert action.changes["inboundTrust.isMfaAccepted"] == (True, False)
    (risk,) = action.risks
    assert "Require MFA for B2B collaboration members" in risk
    assert "[risky]" in outcome.plan.render()
    partner = sim.call(lambda w: w.tenant(FABRIKAM).policies.partner(CONTOSO))
    assert partner["inboundTrust"]["isMfaAccepted"] is True  # a dry run writes nothing
