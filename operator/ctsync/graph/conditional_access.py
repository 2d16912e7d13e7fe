"""The target tenant's Conditional Access policies, read for the guardrails (never written)."""

from __future__ import annotations

from typing import Any

from .client import GraphClient

POLICIES = "/identity/conditionalAccess/policies"
FIELDS = "id,displayName,state,conditions,grantControls"


async def conditional_access_policies(client: GraphClient) -> list[dict[str, Any]]:
    """Every policy, all pages; a 403 raises PermissionMissing (Policy.Read.All not granted)."""
    return await client.list_all(POLICIES, {"$select": FIELDS})
