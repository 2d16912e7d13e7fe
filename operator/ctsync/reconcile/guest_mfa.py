"""The Conditional Access guardrail of a TenantPair: the target's policies that need an inbound trust the
pair does not accept, as the GuestMFARisk condition (a warning: it never changes Ready) and an Event when
what it says changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api import conditions
from ..api.conditions import Condition
from ..api.tenantpair import TenantPair
from ..errors import CtsyncError, PermissionMissing
from ..graph.conditional_access import conditional_access_policies
from ..planning import conditional_access
from ..planning.conditional_access import Evaluation
from ..planning.plan import Plan
from ..planning.tenantpair import TenantPairObserved
from . import permissions
from .connections import TenantClients
from .outcome import Event

_NEED = permissions.TENANT_PAIR_OPTIONAL["target"][0]


@dataclass(frozen=True)
class GuestMfaCheck:
    condition: Condition
    evaluation: Evaluation = field(default_factory=Evaluation)

    def mark(self, plan: Plan, pair: TenantPair) -> Plan:
        """The plan with its trust-lowering writes marked risky, naming the policies they expose."""
        return conditional_access.mark_trust_risks(plan, self.evaluation, spec_trust(pair))

    def events(self, status: Mapping[str, Any]) -> list[Event]:
        """A Warning when the pair is exposed and the message differs from the one already in status. Only a
        pass that writes nothing sends it: one that writes is followed by another on the same status."""
        if self.condition.status != "True":
            return []
        previous: Mapping[str, Any] = next(
            (c for c in status.get("conditions") or () if c.get("type") == self.condition.type), {}
        )
        if previous.get("status") == "True" and previous.get("message") == self.condition.message:
            return []
        return [Event("Warning", conditions.GUEST_MFA_RISK, self.condition.message)]


def spec_trust(pair: TenantPair) -> dict[str, bool]:
    wanted = (pair.trust.mfa, pair.trust.compliant_device, pair.trust.hybrid_joined_device)
    return dict(zip(conditional_access.TRUST_KEYS, wanted, strict=True))


def effective_trust(pair: TenantPair, observed: TenantPairObserved) -> dict[str, bool]:
    """The trust synced users meet: the spec's once ctsync writes it, the tenant's under Observe."""
    if pair.management_policy != "Observe":
        return spec_trust(pair)
    current = (observed.target_partner or {}).get("inboundTrust") or {}
    return {key: bool(current.get(key)) for key in conditional_access.TRUST_KEYS}


async def check(pair: TenantPair, clients: TenantClients, trust: Mapping[str, bool]) -> GuestMfaCheck:
    generation = pair.generation

    def condition(status: Any, reason: str, message: str) -> Condition:
        return Condition(conditions.GUEST_MFA_RISK, status, reason, message, generation)

    skipped = f"target tenant: {_NEED.alternatives[0]} is not granted, Conditional Access policies were not checked"
    client = clients.target.client
    if permissions.missing(await client.granted_roles(), [_NEED]):
        return GuestMfaCheck(condition("Unknown", conditions.POLICY_READ_DENIED, skipped))
    try:
        policies = await conditional_access_policies(client)
    except PermissionMissing:
        return GuestMfaCheck(condition("Unknown", conditions.POLICY_READ_DENIED, skipped))
    except CtsyncError as error:  # a warning check: its failure is reported, never taken for "no risk"
        message = f"Conditional Access policies could not be read: {error.message}"
        return GuestMfaCheck(condition("Unknown", conditions.POLICIES_NOT_EVALUATED, message))
    evaluation = conditional_access.evaluate(policies, pair.source.tenant_id)
    exposed = evaluation.exposed(trust)
    unread = [item.describe() for item in evaluation.not_evaluated]
    if exposed:
        message = "the inbound trust for the source does not accept what these policies require: " + "; ".join(
            exposed + unread
        )
        result = condition("True", conditions.POLICIES_NEED_TRUST, message)
    elif unread:
        result = condition("Unknown", conditions.POLICIES_NOT_EVALUATED, "; ".join(unread))
    else:
        message = "no Conditional Access policy reaching synced users needs a trust the pair does not accept"
        result = condition("False", conditions.NO_POLICY_EXPOSED, message)
    return GuestMfaCheck(result, evaluation)
