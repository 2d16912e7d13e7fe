"""A SyncScope job's provisioning log, read incrementally (log_reader.py) so that every entry is returned
exactly once, however polls overlap and however often the operator restarts. The watermark is kept in the
SyncScope's status (`provisioningWatermark`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..api.tenantpair import TenantPair
from ..errors import CtsyncError
from ..graph.cts import SourceTenant
from ..graph.provisioning_failures import failure_reason
from .connections import ClientPool
from .log_reader import MAX_NEW_ENTRIES_PER_POLL, Watermark, parse_time, read_new

Json = Mapping[str, Any]
ACTIONS = frozenset({"create", "update", "disable", "delete", "stageddelete"})  # anything else is "other"
STATUSES = frozenset({"success", "failure", "skipped", "warning"})
UNKNOWN_STATUS = "warning"  # a status Graph adds later is reported, neither as a success nor as a failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProvisioningEntry:
    """What the metrics need of one provisioningObjectSummary. The source user id is kept only to match a
    create with the moment its user entered scope, and the raw error code only for logs; neither becomes a
    label. `reason` is the error code folded into graph.provisioning_failures.REASONS, for entries that
    failed or were skipped ("" for the others)."""

    id: str
    time: datetime  # activityDateTime
    action: str  # one of ACTIONS or "other"
    status: str  # one of STATUSES
    duration_seconds: float
    cycle_id: str
    source_user_id: str
    error_code: str = ""
    reason: str = ""
    change_id: str = ""  # the same id provisionOnDemand answers with, for its own entry

    @classmethod
    def from_graph(cls, doc: Json) -> ProvisioningEntry:
        action = str(doc.get("provisioningAction") or "").lower()
        info = doc.get("provisioningStatusInfo") or {}
        status = str(info.get("status") or "").lower()
        code = str((info.get("errorInformation") or {}).get("errorCode") or "")
        return cls(
            id=str(doc["id"]),
            time=parse_time(doc["activityDateTime"]),
            action=action if action in ACTIONS else "other",
            status=status if status in STATUSES else UNKNOWN_STATUS,
            duration_seconds=(doc.get("durationInMilliseconds") or 0) / 1000,
            cycle_id=str(doc.get("cycleId") or ""),
            source_user_id=str((doc.get("sourceIdentity") or {}).get("id") or "").lower(),
            error_code=code,
            reason=failure_reason(status, code) if status in ("failure", "skipped") else "",
            change_id=str(doc.get("changeId") or ""),
        )


async def read_new_events(
    source: SourceTenant, job_id: str, watermark: Watermark
) -> tuple[list[ProvisioningEntry], Watermark]:
    """The job's log entries not returned before, oldest first, and the watermark to keep for the next poll.
    A failed read returns nothing and the old watermark: entries are never counted from a partial read."""

    def pages(since: str | None) -> AsyncIterator[list[dict[str, Any]]]:
        return source.provisioning_events(job_id, since)

    what = f"provisioning log of job {job_id}"
    entries, mark = await read_new(pages, ProvisioningEntry.from_graph, watermark, what, MAX_NEW_ENTRIES_PER_POLL)
    _log_failures(job_id, entries)
    return entries, mark


def _log_failures(job_id: str, entries: Iterable[ProvisioningEntry]) -> None:
    """The raw error codes of the new failed entries, which the metrics fold into reasons, once per poll."""
    codes = Counter((e.error_code or "(none)", e.reason) for e in entries if e.status == "failure")
    if codes:
        summary = ", ".join(f"{code} x{n} ({reason})" for (code, reason), n in codes.most_common())
        log.info("job %s: %d new failed provisioning entries: %s", job_id, codes.total(), summary)


async def poll_provisioning(
    pool: ClientPool, pair: TenantPair, status: Json
) -> tuple[list[ProvisioningEntry], Watermark] | None:
    """A SyncScope's new log entries and its next watermark, from its status after a pass (`jobId`,
    `provisioningWatermark`). None when there is nothing to read: no job yet, or no clients for the pair
    (the pass needed the same clients, so its outcome already says what is wrong)."""
    job_id = status.get("jobId")
    if not job_id:
        return None
    try:
        clients = await pool.for_pair(pair)
    except CtsyncError:
        return None
    return await read_new_events(clients.source, job_id, Watermark.from_status(status))
