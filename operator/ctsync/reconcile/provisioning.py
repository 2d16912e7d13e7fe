"""A SyncScope job's provisioning log, read incrementally so that every entry is returned exactly once,
however polls overlap and however often the operator restarts.

Graph pages provisioning logs by time, not by position. The poller keeps a watermark: the whole second of
the newest entry it returned, and the ids of the entries of that second it returned. The next read asks
for `activityDateTime ge <that second>`, which returns that second again (it may have gained entries since)
and skips the ids already returned. A second, not the exact timestamp, is the unit because Graph may
compare times more coarsely than it prints them. The watermark is kept in the SyncScope's status
(`provisioningWatermark`), so a restarted operator continues where the last one stopped."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..api.tenantpair import TenantPair
from ..errors import CtsyncError
from ..graph.cts import SourceTenant
from .connections import ClientPool

Json = Mapping[str, Any]
ACTIONS = frozenset({"create", "update", "disable", "delete", "stageddelete"})  # anything else is "other"
STATUSES = frozenset({"success", "failure", "skipped", "warning"})
UNKNOWN_STATUS = "warning"  # a status Graph adds later is reported, neither as a success nor as a failure
# A backlog (the first poll of a job, a long outage) drains over several polls instead of one large read.
MAX_NEW_ENTRIES_PER_POLL = 5000

log = logging.getLogger(__name__)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from Graph (seven fractional digits and a Z suffix allowed), as aware UTC."""
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class ProvisioningEntry:
    """What the metrics need of one provisioningObjectSummary. The source user id is kept only to match a
    create with the moment its user entered scope; it never becomes a label."""

    id: str
    time: datetime  # activityDateTime
    action: str  # one of ACTIONS or "other"
    status: str  # one of STATUSES
    duration_seconds: float
    cycle_id: str
    source_user_id: str
    change_id: str = ""  # the same id provisionOnDemand answers with, for its own entry

    @classmethod
    def from_graph(cls, doc: Json) -> ProvisioningEntry:
        action = str(doc.get("provisioningAction") or "").lower()
        status = str((doc.get("provisioningStatusInfo") or {}).get("status") or "").lower()
        return cls(
            id=str(doc["id"]),
            time=parse_time(doc["activityDateTime"]),
            action=action if action in ACTIONS else "other",
            status=status if status in STATUSES else UNKNOWN_STATUS,
            duration_seconds=(doc.get("durationInMilliseconds") or 0) / 1000,
            cycle_id=str(doc.get("cycleId") or ""),
            source_user_id=str((doc.get("sourceIdentity") or {}).get("id") or "").lower(),
            change_id=str(doc.get("changeId") or ""),
        )


@dataclass(frozen=True)
class Watermark:
    """How far a job's provisioning log has been read: a whole second (ISO 8601, UTC) and the ids of the
    entries of that second already returned. An empty watermark reads the log from its beginning."""

    time: str | None = None
    ids: frozenset[str] = frozenset()

    @classmethod
    def from_status(cls, status: Json) -> Watermark:
        doc = status.get("provisioningWatermark") or {}
        return cls(doc.get("time"), frozenset(doc.get("ids") or ()))

    def to_status(self) -> dict[str, Any]:
        return {"time": self.time, "ids": sorted(self.ids)}


def advance(watermark: Watermark, read: Iterable[ProvisioningEntry]) -> tuple[list[ProvisioningEntry], Watermark]:
    """The entries of `read` (a read from the watermark's second on, oldest first) not returned before, and
    the watermark after them."""
    floor = parse_time(watermark.time) if watermark.time else None
    known = set(watermark.ids)
    fresh: list[ProvisioningEntry] = []
    for entry in read:
        # Before the watermark's second: an earlier read returned it (Graph filtered more coarsely).
        if (floor is not None and _second(entry.time) < floor) or entry.id in known:
            continue
        known.add(entry.id)
        fresh.append(entry)
    if not fresh:
        return [], watermark
    latest = max(_second(e.time) for e in fresh)
    ids = {e.id for e in fresh if _second(e.time) == latest}
    if latest == floor:
        ids.update(watermark.ids)
    return fresh, Watermark(latest.strftime("%Y-%m-%dT%H:%M:%SZ"), frozenset(ids))


async def read_new_events(
    source: SourceTenant, job_id: str, watermark: Watermark
) -> tuple[list[ProvisioningEntry], Watermark]:
    """The job's log entries not returned before, oldest first, and the watermark to keep for the next poll.
    A failed read returns nothing and the old watermark: entries are never counted from a partial read."""
    entries: list[ProvisioningEntry] = []
    mark = watermark
    try:
        async for page in source.provisioning_events(job_id, watermark.time):
            fresh, mark = advance(mark, (ProvisioningEntry.from_graph(doc) for doc in page))
            entries.extend(fresh)
            if len(entries) >= MAX_NEW_ENTRIES_PER_POLL:
                break  # the watermark covers exactly what is returned; the next poll goes on from there
    except CtsyncError as error:
        log.warning("provisioning log of job %s not read, retried at the next poll: %s", job_id, error.message)
        return [], watermark
    return entries, mark


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
