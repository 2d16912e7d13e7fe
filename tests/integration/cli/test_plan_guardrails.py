"""`ctsync plan` marks a change that turns the inbound MFA trust off as risky, naming the Conditional Access
policy of the target it exposes."""

from __future__ import annotations

import json

from entrasim.seed import load_seed
from support.cli import write_yaml
from support.conditional_access import GUEST_MFA_POLICY
from support.sim import CONTOSO, FABRIKAM, credentials_secrets, tenant_pair_body, two_tenant_seed

NO_MFA_TRUST = {"mfa": False, "compliantDevice": False, "hybridJoinedDevice": False}


def test_plan_marks_turning_mfa_trust_off_risky(ctsync, sim, tmp_path):
    seed = two_tenant_seed()
    next(t for t in seed["tenants"] if t["id"] == FABRIKAM)["conditionalAccessPolicies"] = [GUEST_MFA_POLICY]
    sim.call(lambda world: (world.reset(), load_seed(world, seed)))
    trusted = {"tenantId": CONTOSO, "inboundTrust": {"isMfaAccepted": True}}
    sim.call(lambda world: world.tenant(FABRIKAM).policies.create_partner(trusted))
    body = tenant_pair_body(sim, trust=NO_MFA_TRUST)
    body["metadata"] = {"name": body["metadata"]["name"]}
    manifests = write_yaml(tmp_path / "pair.yaml", body)
    credentials = write_yaml(tmp_path / "credentials.yaml", credentials_secrets(sim))

    result = ctsync("plan", str(manifests), "--credentials", str(credentials), "--namespace", "tenants")
    risky = [line.strip() for line in result.stdout.splitlines() if "isMfaAccepted" in line]
    assert risky and risky[0].endswith("[risky]"), result.stdout + result.stderr
    assert f"risk: '{GUEST_MFA_POLICY['displayName']}' ({GUEST_MFA_POLICY['id']})" in result.stdout

    as_json = ctsync("plan", str(manifests), "--credentials", str(credentials), "--namespace", "tenants", "-o", "json")
    actions = json.loads(as_json.stdout)["resources"][0]["actions"]
    (marked,) = [a for a in actions if a["risks"]]
    assert marked["changes"]["inboundTrust.isMfaAccepted"] == [True, False]
