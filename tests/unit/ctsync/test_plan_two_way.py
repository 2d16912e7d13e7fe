"""Two-way synchronization: two TenantPairs in opposite directions write the same two partner policies.

Each pair owns one key of automaticUserConsentSettings in each policy (inboundAllowed in its target's,
outboundAllowed in its source's) but sends the section whole, with the other key as it observed it. These
tests apply both pairs' plans to one pair of tenants and show that they converge instead of fighting.
"""

import copy
from typing import Any

import pytest
from ctsync_samples import SOURCE, TARGET, TENANT_PAIR, body

from ctsync.api.tenantpair import TenantPair
from ctsync.planning.plan import Plan
from ctsync.planning.tenantpair import TenantPairObserved, plan_tenant_pair

CONTOSO, FABRIKAM = SOURCE, TARGET


def pair(name: str, source: str, target: str, **spec: Any) -> TenantPair:
    sides = {
        "source": {"tenantId": source, "credentialsRef": {"name": f"{name}-source"}},
        "target": {"tenantId": target, "credentialsRef": {"name": f"{name}-target"}},
    }
    manifest = body(TENANT_PAIR, **sides, **spec)
    manifest["metadata"]["name"] = name
    return TenantPair.from_body(manifest)


class Tenants:
    """Both tenants' cross-tenant access objects, written as Graph writes them: a PATCH sets the properties
    it names, and a nested object replaces the stored one as a whole."""

    def __init__(self) -> None:
        self.partners: dict[tuple[str, str], dict[str, Any]] = {}  # (tenant, partner tenant) -> policy
        self.identity_syncs: dict[tuple[str, str], dict[str, Any]] = {}

    def observe(self, pair: TenantPair) -> TenantPairObserved:
        source, target = pair.source.tenant_id, pair.target.tenant_id
        return TenantPairObserved(
            target_partner=copy.deepcopy(self.partners.get((target, source))),
            target_identity_sync=copy.deepcopy(self.identity_syncs.get((target, source))),
            source_partner=copy.deepcopy(self.partners.get((source, target))),
        )

    def apply(self, pair: TenantPair, plan: Plan) -> None:
        for action in plan.actions:
            tenant = pair.target.tenant_id if action.tenant == "target" else pair.source.tenant_id
            store = self.identity_syncs if action.step == "target.identitySync" else self.partners
            key = (tenant, action.key)
            if action.verb == "create" and key in store:
                continue  # a 409 Conflict, which ctsync takes as "exists"
            store.setdefault(key, {}).update(copy.deepcopy(dict(action.body or {})))

    def consent(self, tenant: str, partner: str) -> dict[str, bool]:
        settings = self.partners[(tenant, partner)]["automaticUserConsentSettings"]
        return {key: bool(value) for key, value in settings.items()}


def converged(tenants: Tenants, *pairs: TenantPair) -> bool:
    return all(plan_tenant_pair(p, tenants.observe(p)).empty for p in pairs)


FORWARD = pair("contoso-to-fabrikam", CONTOSO, FABRIKAM, trust={"mfa": True})
REVERSE = pair("fabrikam-to-contoso", FABRIKAM, CONTOSO, trust={"compliantDevice": True})


@pytest.mark.parametrize("first", [FORWARD, REVERSE], ids=lambda p: f"{p.name}-first")
def test_alternating_passes_converge_in_one_pass_each(first: TenantPair) -> None:
    second = REVERSE if first is FORWARD else FORWARD
    tenants = Tenants()
    for p in (first, second):
        tenants.apply(p, plan_tenant_pair(p, tenants.observe(p)))

    assert converged(tenants, FORWARD, REVERSE)
    both = {"inboundAllowed": True, "outboundAllowed": True}
    assert tenants.consent(CONTOSO, FABRIKAM) == both
    assert tenants.consent(FABRIKAM, CONTOSO) == both
    # Each tenant's inbound trust is set by the pair that targets it only.
    assert tenants.partners[(FABRIKAM, CONTOSO)]["inboundTrust"]["isMfaAccepted"] is True
    assert tenants.partners[(CONTOSO, FABRIKAM)]["inboundTrust"]["isCompliantDeviceAccepted"] is True
    assert tenants.partners[(CONTOSO, FABRIKAM)]["inboundTrust"]["isMfaAccepted"] is False


def test_passes_planned_from_one_read_lose_a_key_once_and_converge_on_the_next() -> None:
    # Both operators' passes read the fresh tenants before either writes (two operators, or one with both
    # pairs in flight): the later write carries the other pair's key as it read it, unset.
    tenants = Tenants()
    plans = [(p, plan_tenant_pair(p, tenants.observe(p))) for p in (FORWARD, REVERSE)]
    for p, plan in plans:
        tenants.apply(p, plan)
    assert tenants.consent(CONTOSO, FABRIKAM) == {"inboundAllowed": True, "outboundAllowed": False}
    assert tenants.consent(FABRIKAM, CONTOSO) == {"inboundAllowed": False, "outboundAllowed": True}

    # The forward pair's next pass restores its own keys and keeps the reverse pair's: one more write.
    repair = plan_tenant_pair(FORWARD, tenants.observe(FORWARD))
    assert {key for a in repair.actions for key in a.changes} == {
        "automaticUserConsentSettings.inboundAllowed",
        "automaticUserConsentSettings.outboundAllowed",
    }
    tenants.apply(FORWARD, repair)
    assert converged(tenants, FORWARD, REVERSE)


def test_opposite_redemption_settings_do_not_fight() -> None:
    # Each pair's automaticRedemption is its own key: one direction may auto-redeem while the other does not.
    reverse_without = pair("fabrikam-to-contoso", FABRIKAM, CONTOSO, automaticRedemption=False)
    tenants = Tenants()
    for _ in range(2):
        for p in (FORWARD, reverse_without):
            tenants.apply(p, plan_tenant_pair(p, tenants.observe(p)))
    assert converged(tenants, FORWARD, reverse_without)
    assert tenants.consent(CONTOSO, FABRIKAM) == {"inboundAllowed": False, "outboundAllowed": True}
    assert tenants.consent(FABRIKAM, CONTOSO) == {"inboundAllowed": True, "outboundAllowed": False}
