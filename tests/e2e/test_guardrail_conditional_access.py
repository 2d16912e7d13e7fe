"""The Conditional Access guardrail on the operator path: a TenantPair whose inbound trust does not accept
MFA from the source, against a target holding a policy that requires MFA from its B2B collaboration users,
shows GuestMFARisk in the real API server and stays Ready."""

from __future__ import annotations

import time

import pytest

from e2e.operator_fixtures import DRIFT_INTERVAL, PAIR, Kube, OperatorProcess, Sim, apply_pair, wait_until
from support.conditional_access import GUEST_MFA_POLICY
from support.sim import FABRIKAM, contoso_people, two_tenant_seed

pytestmark = pytest.mark.e2e


def test_guest_mfa_risk_appears_on_the_tenant_pair_and_the_pair_stays_ready(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    seed = two_tenant_seed(**contoso_people(5, in_group=3))
    next(t for t in seed["tenants"] if t["id"] == FABRIKAM)["conditionalAccessPolicies"] = [GUEST_MFA_POLICY]
    entrasim.control("POST", "/reset")
    entrasim.control("POST", "/seed", seed)

    pair = apply_pair(tenants, entrasim, trust={"mfa": False, "compliantDevice": False, "hybridJoinedDevice": False})
    risk = next(c for c in pair["status"]["conditions"] if c["type"] == "GuestMFARisk")
    assert (risk["status"], risk["reason"]) == ("True", "PoliciesNeedTrust")
    assert GUEST_MFA_POLICY["displayName"] in risk["message"]
    events = wait_until(
        lambda: [e for e in tenants.events("TenantPair", PAIR) if e.reason == "GuestMFARisk"], 5, "a GuestMFARisk Event"
    )
    assert events[0].type == "Warning"

    # Timer passes repeat the check (the condition stays) without repeating the Event.
    time.sleep(DRIFT_INTERVAL * 2 + 2)
    assert len([e for e in tenants.events("TenantPair", PAIR) if e.reason == "GuestMFARisk"]) == 1
    assert (tenants.condition("tenantpairs", PAIR, "GuestMFARisk") or {}).get("status") == "True"
    assert (tenants.condition("tenantpairs", PAIR, "Ready") or {}).get("status") == "True"
