"""Which target user the provisioning service made of which source user, as the service itself records it.

The service links the two by a hidden alternative security id that Graph does not expose, and the target
user's name follows whatever the mappings make of it (a mapping that changes userPrincipalName renames
every user). What Graph does expose is the provisioning log: every create, update and match it writes
names the source user's and the target user's object ids, which never change. So a target user is linked
to a source user by the latest successful log entry that names both; the log reaches back as far as the
tenant keeps it (30 days), and a user the service has not touched since is recognised by its external name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..graph.cts import SourceTenant

Json = Mapping[str, Any]
LINKING_ACTIONS = frozenset({"create", "update", "disable", "other"})  # "other": a match, or no change


async def provisioned_links(source: SourceTenant, job_id: str) -> dict[str, str]:
    """Target user id -> source user id (both lower-case), from the job's whole provisioning log. A failed
    read raises: counting from part of the log would call synced users missing."""
    links: dict[str, str] = {}
    async for page in source.provisioning_events(job_id, None):
        for entry in page:
            pair = link_of(entry)
            if pair is not None:
                links[pair[0]] = pair[1]  # oldest first: a later entry wins
    return links


def link_of(entry: Json) -> tuple[str, str] | None:
    """(target id, source id) of a log entry that shows the service writing or matching a target user."""
    if str((entry.get("provisioningStatusInfo") or {}).get("status") or "").lower() != "success":
        return None
    if str(entry.get("provisioningAction") or "").lower() not in LINKING_ACTIONS:
        return None
    source_id = str((entry.get("sourceIdentity") or {}).get("id") or "").lower()
    target_id = str((entry.get("targetIdentity") or {}).get("id") or "").lower()
    return (target_id, source_id) if source_id and target_id else None
