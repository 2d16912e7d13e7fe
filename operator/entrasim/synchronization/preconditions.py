"""What must hold before anything is provisioned: automatic redemption on both sides and the target's
consent to inbound synchronization. Every cycle and every provisionOnDemand checks it first, and test
connection reports the same error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import GraphError
from .exceptions import PolicyCheckFailure, SyncPolicyCheckFailure

if TYPE_CHECKING:
    from ..world import Tenant


def check_policies(source: Tenant, company_id: str | None) -> GraphError | None:
    """Automatic redemption on both sides (source outbound, target inbound), then the target's consent
    to inbound synchronization from the source. Returns the error test connection reports, if any."""
    target = source.world.tenants.get((company_id or "").lower())
    if target is None or not (
        source.policies.outbound_auto_redemption(target.id) and target.policies.inbound_auto_redemption(source.id)
    ):
        return PolicyCheckFailure()
    if not target.policies.inbound_sync_allowed(source.id):
        return SyncPolicyCheckFailure()
    return None
