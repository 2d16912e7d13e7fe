"""Provisioning cycles on the simulated clock.

A started job runs cycles 40 minutes apart from start to start (a cycle that runs longer pushes the next
one back). A cycle plans its work when it begins: the scope, the users to look at (everything after a
watermark reset, otherwise what changed since the last cycle) and the accidental-deletion gate. It then
processes one object at a time at its own cursor, each object costing simulated seconds, so a long initial
cycle spans many clock ticks and its log timestamps advance object by object. `run_due(source, job, now)`
catches up: every cycle that fell due while the clock jumped runs at its scheduled time. Failures
quarantine the job, with Microsoft's retry intervals."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.clock import NEVER, iso
from ..core.errors import GraphError
from ..core.ids import new_guid
from .job import CYCLE_INTERVAL_SECONDS, execution
from .preconditions import check_policies
from .provisioning import UNCHANGED_SECONDS, Pass, Provisioner, cost
from .provisioning_logs import ProvisioningLog
from .scope import assigned_ids, scope_of

if TYPE_CHECKING:
    from ..world import Tenant
    from .job import Job

# Quarantined jobs retry after 6 h, 12 h, then daily, and are disabled after four weeks.
QUARANTINE_RETRY_SECONDS = (6 * 3600, 12 * 3600, 24 * 3600)
QUARANTINE_GIVE_UP_SECONDS = 28 * 24 * 3600
DEFAULT_DELETE_THRESHOLD = 500
_UNCHANGED = (0, "")


def delete_threshold(secrets: Mapping[str, str]) -> int | None:
    """The accidental-deletions threshold from SyncNotificationSettings; None when disabled."""
    try:
        settings = json.loads(secrets.get("SyncNotificationSettings") or "{}")
    except ValueError:
        settings = {}
    if not isinstance(settings, dict):
        settings = {}
    if settings.get("DeleteThresholdEnabled", True) in (False, "false", "False"):
        return None
    try:
        return int(settings.get("DeleteThresholdValue", DEFAULT_DELETE_THRESHOLD))
    except (TypeError, ValueError):
        return DEFAULT_DELETE_THRESHOLD


@dataclass
class Cycle:
    run: Pass
    began: float
    cursor: float
    watermark: int
    scope: frozenset[str]
    work: deque[tuple[str, str]]  # ("sync" | "remove" | "stage", source user id)
    total: int
    staged: int
    fingerprint: tuple[object, ...]


def run_due(source: Tenant, job: Job, now: float) -> None:
    """Runs (or goes on with) every cycle of `job` due by simulated time `now`."""
    Scheduler(source, job).run_due(now)


class Scheduler:
    """Moves one job's cycles forward, for one call of run_due."""

    def __init__(self, source: Tenant, job: Job) -> None:
        self.source = source
        self.job = job
        self.rule = job.rule
        self.provisioner = Provisioner(source, job)
        self.logs = ProvisioningLog(source, job)

    def run_due(self, now: float) -> None:
        job = self.job
        while job.schedule_state == "Active":
            if job.cycle is None:
                if job.next_start is None or job.next_start > now:
                    return
                self._begin(job.next_start)
                continue
            self._advance(job.cycle, now)
            if job.cycle is not None:
                return  # still running at `now`

    def _begin(self, at: float) -> None:
        job = self.job
        error = check_policies(self.source, job.secrets.get("CompanyId"))
        if error is not None:
            self._fail(at, error)
            return
        job.cycle = self._plan(at)
        job.status["code"] = job.running_code() if job.status["quarantine"] is None else "Quarantine"

    def _advance(self, cycle: Cycle, now: float) -> None:
        while cycle.work and cycle.cursor <= now:
            kind, source_id = cycle.work.popleft()
            cycle.cursor += self._process(kind, source_id, cycle.cursor, cycle.run)
        done = cycle.total - len(cycle.work)
        self.job.status["progress"] = [
            {
                "completedUnits": done,
                "totalUnits": cycle.total,
                "units": "Objects",
                "progressObservationDateTime": iso(min(cycle.cursor, now)),
            }
        ]
        if not cycle.work and cycle.cursor <= now:
            self._finish(cycle)

    def _next_after_quarantine(self, at: float, reason: str, error: dict[str, Any]) -> None:
        job, status = self.job, self.job.status
        previous = status["quarantine"]
        count = (previous["seriesCount"] if previous else 0) + 1
        job.quarantined_since = job.quarantined_since if previous and job.quarantined_since else at
        delay = QUARANTINE_RETRY_SECONDS[min(count, len(QUARANTINE_RETRY_SECONDS)) - 1]
        status["code"] = "Quarantine"
        status["quarantine"] = {
            "currentBegan": iso(at),
            "nextAttempt": iso(at + delay),
            "reason": reason,
            "seriesBegan": iso(job.quarantined_since),
            "seriesCount": count,
            "error": error,
        }
        job.next_start = at + delay
        if at - job.quarantined_since > QUARANTINE_GIVE_UP_SECONDS:
            job.schedule_state, job.next_start = "Disabled", None

    def _fail(self, at: float, error: GraphError) -> None:
        """A cycle that cannot reach the target: a complete failure, quarantined at once."""
        status = self.job.status
        detail = {"code": error.code, "message": error.message, "tenantActionable": False}
        status["lastExecution"] = execution("Failed", iso(at), iso(at), error=detail)
        status["countSuccessiveCompleteFailures"] += 1
        self._next_after_quarantine(at, "EncounteredQuarantineException", detail)

    def _finish(self, cycle: Cycle) -> None:
        job, status, run = self.job, self.job.status, cycle.run
        end = cycle.cursor
        counts = {**run.counts, "entitled": len(cycle.scope)}
        state = "EntryLevelErrors" if run.escrowed else "Succeeded"
        record = execution(state, iso(cycle.began), iso(end), cycle_id=run.id, counts=counts)
        status["lastExecution"] = status["lastSuccessfulExecution"] = record
        if run.counts["exported"]:
            status["lastSuccessfulExecutionWithExports"] = record
        status["countSuccessiveCompleteFailures"] = 0
        if status["steadyStateFirstAchievedTime"] == NEVER:
            status["steadyStateFirstAchievedTime"] = iso(end)
        status["steadyStateLastAchievedTime"] = iso(end)
        if cycle.total or not status["synchronizedEntryCountByType"]:  # idle cycles change no count
            live = sum(1 for m in job.managed.values() if not m.deleted)
            status["synchronizedEntryCountByType"] = [{"key": "User", "value": live}]
        job.watermark, job.scope, job.escrows, job.cycle = cycle.watermark, cycle.scope, run.escrowed, None
        target = self.source.world.tenants.get(self.provisioner.target_tenant_id())
        sequence = target.directory.sequence if target is not None else -1
        job.fingerprint = (sequence, *cycle.fingerprint[1:])  # taken after this cycle's own writes
        job.completed_cycles += 1
        if cycle.staged:
            threshold = delete_threshold(job.secrets)
            self._next_after_quarantine(
                end,
                "TooManyDeletes",
                {
                    "code": "TooManyDeletes",
                    "tenantActionable": True,
                    "message": f"{cycle.staged} deletions and disables exceed the accidental deletions "
                    f"threshold of {threshold}; they were not applied.",
                },
            )
            return
        job.clear_quarantine()
        status["code"] = "Active"
        job.next_start = max(cycle.began + CYCLE_INTERVAL_SECONDS, end)

    def _fingerprint(self) -> tuple[object, ...]:
        """What a cycle's outcome depends on besides the source changes the watermark tracks."""
        assignments = self.source.applications.assignments(self.job.sp_id)
        return (
            self.provisioner.target_directory().sequence,
            frozenset((a.get("principalId"), a.get("principalType")) for a in assignments),
            tuple(sorted(self.job.secrets.items())),
        )

    def _idle(self, fingerprint: tuple[object, ...]) -> bool:
        """Nothing changed since the last cycle: the cycle has nothing to look at."""
        job = self.job
        return (
            job.watermark == self.source.directory.sequence
            and job.fingerprint == fingerprint
            and not (job.escrows or job.held or job.force_deletes)
        )

    def _plan(self, at: float) -> Cycle:
        job, directory = self.job, self.source.directory
        fingerprint = self._fingerprint()
        idle = self._idle(fingerprint) or not self.rule.enabled  # a disabled mapping does nothing
        run = Pass(
            new_guid(),
            job.watermark is None,
            self.provisioner.target_tenant_id(),
            frozenset() if idle else assigned_ids(self.source, job.sp_id),
        )
        if idle:
            return Cycle(run, at, at, directory.sequence, job.scope, deque(), 0, 0, fingerprint)
        scope = scope_of(self.source, job, run.assigned)
        candidates = set(scope) if job.watermark is None else self._changed(scope, job.watermark)
        ordered = [uid for uid in directory.users if uid in candidates]
        removals = self._removals(scope)
        staged = self._gate([uid for uid in ordered if self._would_disable(uid)] + removals)
        work = deque(("stage" if uid in staged else "sync", uid) for uid in ordered)
        work.extend(("stage" if uid in staged else "remove", uid) for uid in removals)
        return Cycle(run, at, at, directory.sequence, scope, work, len(work), len(staged), fingerprint)

    def _changed(self, scope: frozenset[str], watermark: int) -> set[str]:
        """In-scope users an incremental cycle looks at: new in scope, not (or no longer) provisioned,
        changed since the watermark, escrowed or held back."""
        job, changes = self.job, self.source.directory.changes
        target_users = self.provisioner.target_directory().users
        candidates = set(scope - job.scope) | (scope & (job.escrows | job.held))
        for uid in scope:
            managed = job.managed.get(uid)
            if (
                managed is None
                or managed.deleted
                or managed.target_id not in target_users
                or changes.get(uid, _UNCHANGED)[0] > watermark
            ):
                candidates.add(uid)
        return candidates

    def _removals(self, scope: frozenset[str]) -> list[str]:
        """Managed users that left scope and would be soft-deleted; the others are let go untouched."""
        job, users = self.job, self.source.directory.users
        target_users = self.provisioner.target_directory().users
        removals = []
        for uid in job.managed.keys() - scope:
            managed = job.managed[uid]
            if managed.deleted:
                continue
            source_user = users.get(uid)
            # Documented: a user disabled in the source and then taken out of scope is not soft-deleted.
            disabled = source_user is not None and source_user.get("accountEnabled") is False
            if "Delete" in self.rule.flow_types and not disabled and managed.target_id in target_users:
                removals.append(uid)
            else:
                del job.managed[uid]
        return removals

    def _would_disable(self, uid: str) -> bool:
        managed = self.job.managed.get(uid)
        source_user = self.source.directory.users.get(uid)
        if managed is None or managed.deleted or source_user is None:
            return False
        target_user = self.provisioner.target_directory().users.get(managed.target_id)
        return (
            source_user.get("accountEnabled") is False
            and target_user is not None
            and target_user.get("accountEnabled") is not False
        )

    def _gate(self, pending: list[str]) -> set[str]:
        """Deletes and disables held back when a cycle would apply more than the threshold allows."""
        job = self.job
        threshold = delete_threshold(job.secrets)
        forced, job.force_deletes = job.force_deletes, False
        held = set(pending) if threshold is not None and len(pending) > threshold and not forced else set()
        job.held = held
        return held

    def _process(self, kind: str, uid: str, at: float, run: Pass) -> float:
        """Handles one object at simulated time `at`; returns what it cost in simulated seconds."""
        if self.provisioner.target_tenant_id() not in self.source.world.tenants:
            return 0.0
        if kind == "sync":
            outcome = self.provisioner.synchronize(uid, at, run)
        elif kind == "remove":
            outcome = self.provisioner.remove(uid, run)
        else:
            outcome = self.provisioner.stage(uid, run)
        if outcome is None:
            return UNCHANGED_SECONDS
        run.counts["imported"] += 1
        if outcome.status == "failure":
            run.escrowed.add(uid)
            run.counts["escrowed"] += 1
        if outcome.exported:
            run.counts["exported"] += 1
            run.counts["exports"] += 1
        duration = cost(outcome, run.full)
        if outcome.action != "other":  # unchanged users leave no log entry (RedundantExport)
            self.logs.record(outcome, at, duration, run)
        return duration
