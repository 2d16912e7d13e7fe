"""The target's end of the pipe: the users the provisioning service created, updated and deleted in the
target tenant, as the target's own directory audit log records them, read incrementally (log_reader.py)
with the watermark kept in the SyncScope's status (`targetAuditWatermark`).

Reading it needs AuditLog.Read.All in the target, which is optional: without it nothing is read and the
TargetAuditLog condition says so; the SyncScope is reconciled all the same."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api import conditions
from ..api.conditions import Condition
from ..api.tenantpair import TenantPair
from ..errors import CtsyncError
from . import permissions
from .connections import ClientPool
from .log_reader import Watermark, parse_time, read_new

WATERMARK_FIELD = "targetAuditWatermark"
# The activities of the service's user changes (unconfirmed by Microsoft's documentation, see
# docs/metrics.md); anything else it logs about users is "other".
OPERATIONS = {"add user": "create", "update user": "update", "delete user": "delete"}
OTHER = "other"
_NEED = permissions.SYNC_SCOPE_OPTIONAL["target"][0]


@dataclass(frozen=True)
class TargetAuditEntry:
    """What the metrics need of one directoryAudit: when, and which operation on a user."""

    id: str
    time: datetime  # activityDateTime
    operation: str  # one of OPERATIONS' values or "other"

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> TargetAuditEntry:
        activity = str(doc.get("activityDisplayName") or "").strip().lower()
        return cls(str(doc["id"]), parse_time(doc["activityDateTime"]), OPERATIONS.get(activity, OTHER))


@dataclass(frozen=True)
class TargetAuditPoll:
    entries: list[TargetAuditEntry]
    watermark: Watermark
    condition: Condition


async def poll_target_audit(
    pool: ClientPool, pair: TenantPair, status: Mapping[str, Any], generation: int
) -> TargetAuditPoll | None:
    """The service's new user changes in the target and the next watermark, from a SyncScope's status after
    a pass. None when there is nothing to read yet (no job) or no clients for the pair (the pass needed the
    same clients, so its outcome already says what is wrong)."""
    if not status.get("jobId"):
        return None
    try:
        clients = await pool.for_pair(pair)
        granted = await clients.target.client.granted_roles()
    except CtsyncError:
        return None
    watermark = Watermark.from_status(status, WATERMARK_FIELD)
    if permissions.missing(granted, [_NEED]):
        message = (
            f"target tenant: {_NEED.alternatives[0]} is not granted, "
            "guests the sync service changed in the target are not counted"
        )
        condition = Condition(
            conditions.TARGET_AUDIT_LOG, "Unknown", conditions.AUDIT_LOG_READ_DENIED, message, generation
        )
        return TargetAuditPoll([], watermark, condition)

    def pages(since: str | None) -> AsyncIterator[list[dict[str, Any]]]:
        return clients.target.service_user_audits(since)

    entries, mark = await read_new(pages, TargetAuditEntry.from_graph, watermark, "target tenant's directory audit log")
    message = "guests the sync service changed in the target are counted from its directory audit log"
    condition = Condition(conditions.TARGET_AUDIT_LOG, "True", conditions.AUDIT_LOG_READ, message, generation)
    return TargetAuditPoll(entries, mark, condition)
