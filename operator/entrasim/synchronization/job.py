"""A CTS job's own state: schedule, status, what it provisioned, where its cycles stand. The rules that
move this state on are in scheduling.py; this module only says what the state is and how start, pause and
restart change it."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import NEVER
from .schema import CompiledRule

if TYPE_CHECKING:
    from .scheduling import Cycle

CYCLE_INTERVAL_SECONDS = 40 * 60
JOB_SETTINGS = [
    {"name": "AzureIngestionAttributeOptimization", "value": "False"},
    {"name": "LookaheadQueryEnabled", "value": "False"},
]


def initial_status() -> dict[str, Any]:
    return {
        "code": "Paused",
        "countSuccessiveCompleteFailures": 0,
        "escrowsPruned": False,
        "lastExecution": None,
        "lastSuccessfulExecution": None,
        "lastSuccessfulExecutionWithExports": None,
        "quarantine": None,
        "steadyStateFirstAchievedTime": NEVER,
        "steadyStateLastAchievedTime": NEVER,
        "troubleshootingUrl": None,
        "progress": [],
        "synchronizedEntryCountByType": [],
    }


def execution(
    state: str,
    began: str,
    ended: str,
    *,
    cycle_id: str | None = None,
    counts: Mapping[str, int] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    counts = counts or {}
    return {
        "activityIdentifier": cycle_id,
        "countEntitled": counts.get("entitled", 0),
        "countEntitledForProvisioning": counts.get("entitled", 0),
        "countEscrowed": counts.get("escrowed", 0),
        "countEscrowedRaw": counts.get("escrowed", 0),
        "countExported": counts.get("exported", 0),
        "countExports": counts.get("exports", 0),
        "countImported": counts.get("imported", 0),
        "countImportedDeltas": counts.get("imported", 0),
        "countImportedReferenceDeltas": 0,
        "state": state,
        "timeBegan": began,
        "timeEnded": ended,
        "error": error,
    }


# The placeholder execution a started job shows before its first cycle (as documented for CTS).
NOT_YET_RUN = execution("Failed", NEVER, NEVER, error={"code": "None", "message": "", "tenantActionable": False})


@dataclass
class Managed:
    """A source user this job provisioned (created or matched) in the target."""

    target_id: str
    deleted: bool = False  # soft-deleted in the target by this job


@dataclass
class Job:
    id: str
    sp_id: str
    secrets: dict[str, str]  # the service principal's, shared with its other jobs
    schema: dict[str, Any]
    rule: CompiledRule
    template_id: str = "Azure2Azure"
    schedule_state: str = "Disabled"
    status: dict[str, Any] = field(default_factory=initial_status)
    managed: dict[str, Managed] = field(default_factory=dict)
    watermark: int | None = None  # source change sequence seen by the last cycle; None = evaluate all
    scope: frozenset[str] = frozenset()
    escrows: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # disables/deletions staged by the deletion threshold
    force_deletes: bool = False
    cycle: Cycle | None = None
    next_start: float | None = None
    completed_cycles: int = 0
    quarantined_since: float | None = None
    fingerprint: tuple[object, ...] = ()
    on_demand_calls: deque[tuple[float, float]] = field(default_factory=deque)

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "templateId": self.template_id,
            "schedule": {"expiration": None, "interval": "PT40M", "state": self.schedule_state},
            "status": self.status,
            "synchronizationJobSettings": JOB_SETTINGS,
        }

    def running_code(self) -> str:
        return "Active" if self.completed_cycles else "NotRun"

    def clear_quarantine(self) -> None:
        self.status["quarantine"] = None
        self.quarantined_since = None
        if self.status["code"] == "Quarantine":
            self.status["code"] = self.running_code() if self.schedule_state == "Active" else "Paused"

    def start(self, now: float) -> None:
        """Resumes from where the job stopped; lifts quarantine and retries at once."""
        if self.status["quarantine"] is not None:
            self.clear_quarantine()
            self.next_start = now
        self.schedule_state = "Active"
        self.status["code"] = self.running_code()
        self.status["troubleshootingUrl"] = ""
        if self.status["lastExecution"] is None:
            self.status["lastExecution"] = dict(NOT_YET_RUN)
        if self.cycle is not None:
            self.cycle.cursor = max(self.cycle.cursor, now)
        elif self.next_start is None or self.next_start < now:
            self.next_start = now

    def pause(self) -> None:
        self.schedule_state = "Paused"
        self.status["code"] = "Paused"

    def restart(self, scopes: set[str], now: float) -> None:
        """`restart` with a resetScope subset; the job runs again at once."""
        full = "Full" in scopes
        if full or scopes & {"Watermark", "ConnectorDataStore"}:
            self.watermark, self.scope, self.cycle = None, frozenset(), None
        if full or "Escrows" in scopes:
            self.escrows.clear()
        if full or "ForceDeletes" in scopes:
            self.force_deletes = True
            if (self.status["quarantine"] or {}).get("reason") == "TooManyDeletes":
                self.clear_quarantine()
        if full or "QuarantineState" in scopes:
            self.clear_quarantine()
        self.start(now)
        if self.cycle is None:
            self.next_start = now

    def reset_watermark(self, now: float) -> None:
        """The next cycle re-evaluates everything in scope (a schema change does this); a cycle in progress
        is abandoned and the next one starts when the current one was due to end at the earliest."""
        if self.cycle is not None:
            self.next_start = max(now, self.cycle.began + CYCLE_INTERVAL_SECONDS)
        self.watermark, self.cycle = None, None
