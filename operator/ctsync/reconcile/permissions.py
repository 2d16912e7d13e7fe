"""The application permissions each kind needs per tenant, checked against the tokens before any read or
write of a pass, so that a missing consent is reported by name and tenant instead of as a 403 halfway
through a plan (or, for the scope audit and the provisioning log, after the writes). docs/permissions.md
lists the same table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import PermissionMissing, TenantRole
from ..graph.client import GraphClient
from .connections import TenantClients


@dataclass(frozen=True)
class Need:
    """One thing a pass does in a tenant and the permissions that allow it: any one of `alternatives`,
    listed least privilege first."""

    feature: str
    alternatives: tuple[str, ...]

    def met_by(self, granted: set[str]) -> bool:
        return bool(granted.intersection(self.alternatives))

    def __str__(self) -> str:
        return f"{' or '.join(self.alternatives)} ({self.feature})"


Needs = Mapping[TenantRole, Sequence[Need]]

_POLICY_WRITE = ("Policy.ReadWrite.CrossTenantAccess",)
_POLICY_READ = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")

# What a TenantPair's pass does, by managementPolicy (Observe only reads); the target is checked first.
TENANT_PAIR: Mapping[str, Needs] = {
    "Manage": {
        "target": (Need("partner policy for the source, inbound user sync", _POLICY_WRITE),),
        "source": (Need("partner policy for the target, outbound consent", _POLICY_WRITE),),
    },
    "Observe": {
        "target": (Need("partner policy for the source, inbound user sync (read)", _POLICY_READ),),
        "source": (Need("partner policy for the target (read)", _POLICY_READ),),
    },
}

# Checks a TenantPair's pass runs only when granted: without the permission the check is skipped and a
# condition says so, the pair is not stalled.
TENANT_PAIR_OPTIONAL: Needs = {
    "target": (Need("Conditional Access policies (GuestMFARisk check)", ("Policy.Read.All",)),),
}

# Reads a SyncScope's pass makes only when granted: without the permission they are skipped and a
# condition says so, the SyncScope is not stalled.
SYNC_SCOPE_OPTIONAL: Needs = {
    "target": (Need("directory audit log: guests the sync service changed", ("AuditLog.Read.All",)),),
}

# What a SyncScope's pass does, including the scope audit and the provisioning log read after it.
SYNC_SCOPE: Needs = {
    "source": (
        Need(
            "the configuration: instantiate, tag, delete",
            ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"),
        ),
        Need(
            "synchronization secrets, job, schema, start and pause",
            ("Application.ReadWrite.OwnedBy", "Synchronization.ReadWrite.All"),
        ),
        Need("app role assignments of the scope", ("AppRoleAssignment.ReadWrite.All",)),
        Need(
            "groups and users of the scope, the assignments' resource",
            ("Directory.Read.All", "Directory.ReadWrite.All"),
        ),
        Need("provisioning log", ("AuditLog.Read.All",)),
    ),
    "target": (
        Need("scope audit: the synced users", ("User.Read.All", "Directory.Read.All")),
        Need("scope audit: dynamic groups the synced users would join", ("Group.Read.All", "Directory.Read.All")),
    ),
}


def missing(granted: Iterable[str], needs: Sequence[Need]) -> list[Need]:
    have = set(granted)
    return [need for need in needs if not need.met_by(have)]


async def require(client: GraphClient, role: TenantRole, needs: Sequence[Need]) -> None:
    lacking = missing(await client.granted_roles(), needs)
    if lacking:
        raise PermissionMissing(role, [str(need) for need in lacking])


async def require_all(clients: TenantClients, needs: Needs) -> None:
    """Every tenant's needs, in the order `needs` lists the tenants; raises PermissionMissing for the first
    tenant lacking any."""
    for role, tenant_needs in needs.items():
        tenant = clients.source if role == "source" else clients.target
        await require(tenant.client, role, tenant_needs)


def least_privilege(role: TenantRole, management_policy: str = "Manage") -> tuple[str, ...]:
    """What `ctsync bootstrap` grants a tenant's app: the least-privileged permission of every need of the
    role, optional checks included, in table order, once each."""
    tables: tuple[Needs, ...] = (TENANT_PAIR[management_policy], SYNC_SCOPE, TENANT_PAIR_OPTIONAL, SYNC_SCOPE_OPTIONAL)
    needs = [need for table in tables for need in table.get(role, ())]
    return tuple(dict.fromkeys(need.alternatives[0] for need in needs))
