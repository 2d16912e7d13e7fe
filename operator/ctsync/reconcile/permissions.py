"""The application permissions each kind needs per tenant, checked against the token before any write,
so a missing consent is reported by name instead of as a 403 halfway through a plan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import PermissionMissing, TenantRole
from ..graph.client import GraphClient

# Each entry is a set of alternatives: any one of them grants what is needed.
Requirement = tuple[str, ...]

CROSS_TENANT_WRITE: Requirement = ("Policy.ReadWrite.CrossTenantAccess",)
CROSS_TENANT_READ: Requirement = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
CONFIGURATION: Sequence[Requirement] = (
    ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy"),
    ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy"),
    ("AppRoleAssignment.ReadWrite.All",),
    ("Directory.Read.All", "Directory.ReadWrite.All"),
)


def missing(granted: Iterable[str], required: Sequence[Requirement]) -> list[str]:
    have = set(granted)
    return [" or ".join(alternatives) for alternatives in required if not have & set(alternatives)]


async def require(client: GraphClient, role: TenantRole, required: Sequence[Requirement]) -> None:
    lacking = missing(await client.granted_roles(), required)
    if lacking:
        raise PermissionMissing(role, lacking)
