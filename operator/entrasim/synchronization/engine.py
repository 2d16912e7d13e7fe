"""The simulated cross-tenant synchronization (CTS) provisioning engine.

A started job runs cycles on the simulated clock, 40 minutes apart from start to start (a cycle that
runs longer pushes the next one back). A cycle plans its work when it begins: the scope, the users to
look at (everything after a watermark reset, otherwise what changed since the last cycle) and the
accidental-deletion gate. It then processes one object at a time at its own cursor, each object costing
simulated seconds, so a long initial cycle spans many clock ticks and its log timestamps advance object
by object. `run_due(now)` catches up: every cycle that fell due while the clock jumped runs at its
scheduled time."""

from __future__ import annotations

import json
import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..auditlogs.models import Change, ProvisioningEvent, Step
from ..core.clock import NEVER, iso
from ..core.errors import Conflict, GraphError
from ..core.ids import new_guid
from ..directory.models import EXTENSION_ATTRIBUTES, USER_PROPERTIES
from . import expressions as ex
from .exceptions import PolicyCheckFailure, SyncPolicyCheckFailure
from .schema import (
    GRAPH_PROPERTY,
    MATCHING_ATTRIBUTE,
    SOURCE_DIRECTORY,
    TARGET_DIRECTORY,
    CompiledRule,
    FlowMapping,
)

if TYPE_CHECKING:
    from ..world import Tenant

CYCLE_INTERVAL_SECONDS = 40 * 60
# Simulated cost of one object. Microsoft's estimate for an initial cycle is 0.01-0.08 min per object,
# creating about twice as long as matching; incremental cycles only touch what changed and are quicker.
INITIAL_CREATE_SECONDS = 3.6
INITIAL_MATCH_SECONDS = 1.8
INCREMENTAL_EXPORT_SECONDS = 0.6
UNCHANGED_SECONDS = 0.06
# Quarantined jobs retry after 6 h, 12 h, then daily, and are disabled after four weeks.
QUARANTINE_RETRY_SECONDS = (6 * 3600, 12 * 3600, 24 * 3600)
QUARANTINE_GIVE_UP_SECONDS = 28 * 24 * 3600
DEFAULT_DELETE_THRESHOLD = 500
APP_ROLE = "msiam_access"
INITIATED_BY = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
JOB_SETTINGS = [
    {"name": "AzureIngestionAttributeOptimization", "value": "False"},
    {"name": "LookaheadQueryEnabled", "value": "False"},
]
_WRITABLE = USER_PROPERTIES - {"id", "createdDateTime", "deletedDateTime", "manager", "passwordProfile"}
_EMPTY: tuple[object, ...] = (None, "", [])
Flows = list[tuple[FlowMapping, object]]  # the value each mapping flows for one user, IGNORE_FLOW left out
_UNCHANGED = (0, "")


def net_id(user_id: str) -> str:
    """A PUID-shaped (16 hex digits) netId derived from the object id: CTS matches on it."""
    return "1003" + user_id.replace("-", "")[:12].upper()


def external_upn(upn: str, target_domain: str) -> str:
    return f"{upn.replace('@', '_')}#EXT#@{target_domain}"


def is_internal_member(user: Mapping[str, Any]) -> bool:
    """Only internal members are synchronized: no guests, no external users (so no loops)."""
    return user.get("userType", "Member") == "Member" and "#EXT#" not in str(user.get("userPrincipalName", ""))


class SourceView(Mapping[str, object]):
    """A source user's attributes by their schema names, computed on demand: scoping filters read only
    one or two of them, for every user in scope, every cycle."""

    __slots__ = ("_assigned", "_user")

    def __init__(self, user: Mapping[str, Any], assigned: bool) -> None:
        self._user, self._assigned = user, assigned

    def __getitem__(self, name: str) -> object:
        user = self._user
        if name in EXTENSION_ATTRIBUTES:
            return (user.get("onPremisesExtensionAttributes") or {}).get(name)
        if name == "netId":
            return net_id(user["id"])
        if name == "IsSoftDeleted":
            return False  # users in the recycle bin are out of scope, so every user read is live
        if name == "appRoleAssignments":
            return [APP_ROLE] if self._assigned else []
        return user.get(GRAPH_PROPERTY.get(name, name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._user)

    def __len__(self) -> int:
        return len(self._user)


_DERIVED = (*GRAPH_PROPERTY, "netId", "IsSoftDeleted", "appRoleAssignments")


def source_attributes(user: Mapping[str, Any], assigned: bool) -> dict[str, object]:
    """Every attribute of a source user by its schema name, for evaluating the mappings."""
    attributes: dict[str, object] = dict(user)
    attributes.update(user.get("onPremisesExtensionAttributes") or {})
    view = SourceView(user, assigned)
    for name in _DERIVED:
        attributes[name] = view[name]
    return attributes


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


# --- job state --------------------------------------------------------------------------------------------


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


def _execution(
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
_NOT_YET_RUN = _execution("Failed", NEVER, NEVER, error={"code": "None", "message": "", "tenantActionable": False})


@dataclass
class Managed:
    """A source user this job provisioned (created or matched) in the target."""

    target_id: str
    deleted: bool = False  # soft-deleted in the target by this job


@dataclass
class Pass:
    """What one processing pass shares: a cycle, or a single provisionOnDemand call."""

    id: str
    full: bool
    target_id: str
    assigned: frozenset[str]
    index: dict[str, str] | None = None  # matching key -> target user id, built on first use
    escrowed: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)


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
            self.status["lastExecution"] = dict(_NOT_YET_RUN)
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


# --- the engine -------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    action: str  # create | update | disable | delete | stageddelete | other
    status: str  # success | failure | skipped
    source: Mapping[str, Any] | None
    target: Mapping[str, Any] | None = None
    changes: tuple[Change, ...] = ()
    steps: tuple[Step, ...] = ()
    error: tuple[str, str] | None = None  # (code, reason)
    exported: bool = False


class Engine:
    """Runs one job against the source and target directories, for one call of run_due or on demand."""

    def __init__(self, source: Tenant, job: Job) -> None:
        self.source = source
        self.job = job
        self.rule = job.rule
        self.rng = random.Random()
        self._service_principal: dict[str, Any] | None = None

    # --- scheduling -------------------------------------------------------------------------------------
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
        status["lastExecution"] = _execution("Failed", iso(at), iso(at), error=detail)
        status["countSuccessiveCompleteFailures"] += 1
        self._next_after_quarantine(at, "EncounteredQuarantineException", detail)

    def _finish(self, cycle: Cycle) -> None:
        job, status, run = self.job, self.job.status, cycle.run
        end = cycle.cursor
        counts = {**run.counts, "entitled": len(cycle.scope)}
        state = "EntryLevelErrors" if run.escrowed else "Succeeded"
        execution = _execution(state, iso(cycle.began), iso(end), cycle_id=run.id, counts=counts)
        status["lastExecution"] = status["lastSuccessfulExecution"] = execution
        if run.counts["exported"]:
            status["lastSuccessfulExecutionWithExports"] = execution
        status["countSuccessiveCompleteFailures"] = 0
        if status["steadyStateFirstAchievedTime"] == NEVER:
            status["steadyStateFirstAchievedTime"] = iso(end)
        status["steadyStateLastAchievedTime"] = iso(end)
        if cycle.total or not status["synchronizedEntryCountByType"]:  # idle cycles change no count
            live = sum(1 for m in job.managed.values() if not m.deleted)
            status["synchronizedEntryCountByType"] = [{"key": "User", "value": live}]
        job.watermark, job.scope, job.escrows, job.cycle = cycle.watermark, cycle.scope, run.escrowed, None
        target = self.source.world.tenants.get(self._target_tenant_id())
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

    # --- planning ---------------------------------------------------------------------------------------
    def _assigned(self) -> frozenset[str]:
        """Users assigned directly, plus direct members of assigned groups (no nesting)."""
        members = self.source.directory.members
        ids: set[str] = set()
        for assignment in self.source.applications.assignments(self.job.sp_id):
            principal = str(assignment.get("principalId", "")).lower()
            if assignment.get("principalType") == "Group":
                ids.update(members.get(principal, ()))
            else:
                ids.add(principal)
        return frozenset(ids)

    def _sync_all(self) -> bool:
        return self.job.secrets.get("SyncAll", "").lower() == "true"

    def _scope(self, assigned: frozenset[str]) -> frozenset[str]:
        users = self.source.directory.users
        candidates: Iterable[str] = users if self._sync_all() else (uid for uid in assigned if uid in users)
        return frozenset(uid for uid in candidates if self._passes(users[uid], assigned))

    def _passes(self, user: Mapping[str, Any], assigned: frozenset[str]) -> bool:
        """Internal member and through the scoping filter (entitlement is checked by the caller)."""
        return is_internal_member(user) and self.rule.in_scope(SourceView(user, user["id"] in assigned))

    def _fingerprint(self) -> tuple[object, ...]:
        """What a cycle's outcome depends on besides the source changes the watermark tracks."""
        assignments = self.source.applications.assignments(self.job.sp_id)
        return (
            self._target_directory().sequence,
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
            self._target_tenant_id(),
            frozenset() if idle else self._assigned(),
        )
        if idle:
            return Cycle(run, at, at, directory.sequence, job.scope, deque(), 0, 0, fingerprint)
        scope = self._scope(run.assigned)
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
        target_users = self._target_directory().users
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
        target_users = self._target_directory().users
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
        target_user = self._target_directory().users.get(managed.target_id)
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

    # --- processing -------------------------------------------------------------------------------------
    def _target_directory(self) -> Any:
        return self.source.world.tenants[self._target_tenant_id()].directory

    def _target_tenant_id(self) -> str:
        return str(self.job.secrets.get("CompanyId", "")).lower()

    def _process(self, kind: str, uid: str, at: float, run: Pass) -> float:
        """Handles one object at simulated time `at`; returns what it cost in simulated seconds."""
        if self._target_tenant_id() not in self.source.world.tenants:
            return 0.0
        if kind == "sync":
            outcome = self.synchronize(uid, at, run)
        elif kind == "remove":
            outcome = self._remove(uid, run)
        else:
            outcome = self._stage(uid, run)
        if outcome is None:
            return UNCHANGED_SECONDS
        run.counts["imported"] += 1
        if outcome.status == "failure":
            run.escrowed.add(uid)
            run.counts["escrowed"] += 1
        if outcome.exported:
            run.counts["exported"] += 1
            run.counts["exports"] += 1
        duration = self._cost(outcome, run.full)
        if outcome.action != "other":  # unchanged users leave no log entry (RedundantExport)
            self.log(outcome, at, duration, run)
        return duration

    @staticmethod
    def _cost(outcome: Outcome, full: bool) -> float:
        if not full:
            return INCREMENTAL_EXPORT_SECONDS if outcome.exported else UNCHANGED_SECONDS
        return INITIAL_CREATE_SECONDS if outcome.action == "create" else INITIAL_MATCH_SECONDS

    def _desired(self, attributes: Mapping[str, object], at: float) -> Flows:
        context = {"now": datetime.fromtimestamp(at, UTC), "rng": self.rng}
        flows = []
        for mapping in self.rule.mappings:
            value = mapping.value(attributes, context)
            if value is not ex.IGNORE_FLOW:
                flows.append((mapping, value))
        return flows

    def synchronize(self, uid: str, at: float, run: Pass) -> Outcome | None:
        """Creates, matches, restores or updates one in-scope source user in the target."""
        user = self.source.directory.users.get(uid)
        if user is None:
            return None
        attributes = source_attributes(user, uid in run.assigned)
        steps = [
            self._import_step(user, attributes, uid in self.job.managed),
            self._in_scope_step(attributes, run),
        ]
        try:
            desired = self._desired(attributes, at)
            target, how = self._locate(uid, desired, run)
            if how == "left-alone":
                return None  # soft-deleted in the target by someone else: the engine does not restore it
            if target is None:
                return self._create(uid, user, desired, steps, run)
            return self._update(user, target, desired, steps, restored=how == "restored")
        except ex.EvaluationError as exc:
            return _failure(
                "update" if uid in self.job.managed else "create",
                user,
                steps,
                "ExpressionEvaluationFailure",
                str(exc),
            )
        except GraphError as exc:
            code = "AzureActiveDirectoryConflict" if isinstance(exc, Conflict) else "AzureActiveDirectoryInvalidInput"
            return _failure("update" if uid in self.job.managed else "create", user, steps, code, exc.message)

    def _locate(self, uid: str, desired: Flows, run: Pass) -> tuple[Any, str]:
        """The target user for a source user: the one this job manages, a restored one, or a match."""
        job, directory = self.job, self._target_directory()
        managed = job.managed.get(uid)
        if managed is not None and not managed.deleted:
            target = directory.users.get(managed.target_id)
            if target is not None:
                return target, "managed"
            if managed.target_id in directory.deleted:
                return None, "left-alone"
        if managed is not None and managed.deleted and managed.target_id in directory.deleted:
            target = directory.restore(managed.target_id)
            managed.deleted = False
            return target, "restored"
        job.managed.pop(uid, None)
        key = _matching_key(desired)
        target_id = self._index(run).get(key) if key else None
        target = directory.users.get(target_id) if target_id else None
        if target is None or key not in {a.get("key") for a in target.get(MATCHING_ATTRIBUTE) or []}:
            return None, "new"
        job.managed[uid] = Managed(target["id"])
        return target, "matched"

    def _index(self, run: Pass) -> dict[str, str]:
        if run.index is None:
            run.index = {
                alt["key"]: user["id"]
                for user in self._target_directory().users.values()
                for alt in user.get(MATCHING_ATTRIBUTE) or []
                if isinstance(alt, dict) and "key" in alt
            }
        return run.index

    def _graph_value(self, attribute: str, value: object) -> object:
        if attribute == "userPrincipalName" and isinstance(value, str):
            return external_upn(value, self.source.world.tenants[self._target_tenant_id()].initial_domain)
        return value

    def _create(self, uid: str, user: Mapping[str, Any], desired: Flows, steps: list[Step], run: Pass) -> Outcome:
        extensions: dict[str, object] = {}
        props: dict[str, Any] = {
            "creationType": "Invitation",
            "externalUserState": "Accepted",
            "showInAddressList": True,
            "userType": "Member",
        }
        changes = []
        for mapping, value in desired:
            changes.append((mapping.target, None, value))
            if value not in _EMPTY:
                _put(props, extensions, mapping.target, self._graph_value(mapping.target, value))
        if extensions:
            props["onPremisesExtensionAttributes"] = extensions
        props.setdefault("userPrincipalName", self._graph_value("userPrincipalName", user["userPrincipalName"]))
        props.setdefault("displayName", user.get("displayName"))
        props.setdefault("accountEnabled", user.get("accountEnabled", True))
        target = self._target_directory().create_user(props)
        self.job.managed[uid] = Managed(target["id"])
        if run.index is not None:
            run.index.update((alt["key"], target["id"]) for alt in target.get(MATCHING_ATTRIBUTE) or [])
        steps += [_matching_step(None), *_action_steps("create", user)]
        return Outcome("create", "success", user, target, tuple(changes), tuple(steps), exported=True)

    def _update(
        self,
        user: Mapping[str, Any],
        target: Mapping[str, Any],
        desired: Flows,
        steps: list[Step],
        *,
        restored: bool,
    ) -> Outcome:
        props: dict[str, Any] = {}
        extensions: dict[str, object] = {}
        changes: list[Change] = [("IsSoftDeleted", True, False)] if restored else []
        for mapping, value in desired:
            if mapping.flow_type == "ObjectAddOnly" or not _writable(mapping.target):
                continue
            value = self._graph_value(mapping.target, value)
            current = _current(target, mapping.target)
            if mapping.flow_type == "AttributeAddOnly" and current not in _EMPTY:
                continue
            if not _same(current, value):
                changes.append((mapping.target, current, value))
                _put(props, extensions, mapping.target, value)
        if extensions:
            props["onPremisesExtensionAttributes"] = extensions
        steps.append(_matching_step(target))
        if not changes:
            return Outcome("other", "skipped", user, target, (), tuple(steps))
        disabling = props.get("accountEnabled") is False and target.get("accountEnabled") is not False
        action = "disable" if disabling else "update"
        if props:
            target = self._target_directory().update_user(target["id"], props)
        steps += _action_steps(action, user)
        return Outcome(action, "success", user, target, tuple(changes), tuple(steps), exported=True)

    def _remove(self, uid: str, run: Pass) -> Outcome | None:
        """Soft-deletes the target user of a source user that left scope."""
        managed = self.job.managed.get(uid)
        directory = self._target_directory()
        if managed is None or managed.deleted or managed.target_id not in directory.users:
            return None
        user = self._source_user(uid)
        target = directory.users[managed.target_id]
        steps = [
            self._import_step(user, None, True),
            self._out_of_scope_step(uid, run),
            _matching_step(target),
        ]
        try:
            directory.delete_user(managed.target_id)
        except GraphError as exc:
            return _failure("delete", user, steps, "AzureActiveDirectoryInsufficientRights", exc.message, target)
        managed.deleted = True
        steps += _action_steps("delete", user)
        return Outcome(
            "delete", "success", user, target, (("IsSoftDeleted", False, True),), tuple(steps), exported=True
        )

    def _stage(self, uid: str, run: Pass) -> Outcome | None:
        """A delete or disable held back by the accidental-deletions threshold."""
        managed = self.job.managed.get(uid)
        if managed is None:
            return None
        user = self._source_user(uid)
        target = self._target_directory().users.get(managed.target_id)
        reason = (
            "The change was not applied: this cycle's deletions and disables exceed the accidental deletions threshold."
        )
        steps: tuple[Step, ...] = (
            self._import_step(user, None, True),
            _matching_step(target),
            ("EntrySynchronizationStagedDelete", "processing", "skipped", reason, {}),
        )
        return Outcome("stageddelete", "skipped", user, target, (), steps, error=("TooManyDeletes", reason))

    def _source_user(self, uid: str) -> Mapping[str, Any]:
        directory = self.source.directory
        return directory.users.get(uid) or directory.deleted.get(uid) or {"id": uid}

    # --- provisionOnDemand ------------------------------------------------------------------------------
    def provision_on_demand(self, user: Mapping[str, Any], now: float) -> tuple[Outcome, ProvisioningEvent]:
        """Provisions one user at once, outside the cycles, and logs it as the cycles do."""
        run = Pass(new_guid(), True, self._target_tenant_id(), self._assigned())
        error = check_policies(self.source, self.job.secrets.get("CompanyId"))
        if error is not None:
            outcome = _failure("create", user, [], error.code, error.message)
        elif not ((self._sync_all() or user["id"] in run.assigned) and self._passes(user, run.assigned)):
            outcome = self._not_entitled(user, run)
        else:
            outcome = self.synchronize(user["id"], now, run) or Outcome("other", "skipped", user)
        if outcome.action == "other" and outcome.error is None:
            outcome = replace(outcome, error=("RedundantExport", _REDUNDANT))
        return outcome, self.log(outcome, now, self._cost(outcome, True), run)

    def _not_entitled(self, user: Mapping[str, Any], run: Pass) -> Outcome:
        assigned = self._sync_all() or user["id"] in run.assigned
        attributes = source_attributes(user, assigned)
        in_scope = is_internal_member(user) and self.rule.in_scope(attributes)
        details = {
            "IsActive": "True",
            "Assigned": _text(assigned),
            "IsEffectivelyEntitledForProvisioning": _text(assigned and is_internal_member(user)),
            "IsInProvisioningScopeDisplayName": _text(in_scope),
            "ScopeEvaluationResult": json.dumps(self.rule.scope_result(attributes)),
        }
        reason = (
            f"The User '{user.get('userPrincipalName')}' will be skipped: it is not assigned to the "
            "application or is outside the provisioning scope."
        )
        steps: tuple[Step, ...] = (
            self._import_step(user, attributes, user["id"] in self.job.managed),
            ("EntrySynchronizationScoping", "scoping", "skipped", reason, details),
        )
        return Outcome("other", "skipped", user, None, (), steps, error=("NotEffectivelyEntitled", reason))

    # --- steps ------------------------------------------------------------------------------------------
    def _import_step(self, user: Mapping[str, Any], attributes: Mapping[str, object] | None, known: bool) -> Step:
        upn = user.get("userPrincipalName", user["id"])
        change = "Update" if known else "Add"
        if attributes is None:
            return (
                "EntryImport",
                "import",
                "success",
                f"Retrieved User '{upn}' from {SOURCE_DIRECTORY}",
                {"objectId": user["id"]},
            )
        details = {name: _text(attributes.get(name)) for name in _IMPORT_DETAILS}
        details["alternativeSecurityIds"] = "None"
        return (
            f"EntryImport{change}",
            "import",
            "success",
            f"Received User '{upn}' change of type ({change}) from {SOURCE_DIRECTORY}",
            details,
        )

    def _in_scope_step(self, attributes: Mapping[str, object], run: Pass) -> Step:
        assigned = _text(attributes["id"] in run.assigned)
        details = {
            "Active in the source system": "True",
            "Assigned to the application": assigned,
            "User has the required role": assigned,
            "Scoping filter evaluation passed": "True",
            "ScopeEvaluationResult": json.dumps(self.rule.scope_result(attributes)),
        }
        return _scoping_step(details)

    def _out_of_scope_step(self, uid: str, run: Pass) -> Step:
        user = self.source.directory.users.get(uid)
        assigned = uid in run.assigned or self._sync_all()
        details = {
            "Active in the source system": _text(user is not None),
            "Assigned to the application": _text(assigned),
            "Scoping filter evaluation passed": _text(
                user is not None and self.rule.in_scope(SourceView(user, assigned))
            ),
        }
        return _scoping_step(details)

    # --- provisioning logs --------------------------------------------------------------------------------
    def _principal(self) -> dict[str, Any]:
        if self._service_principal is None:
            try:
                self._service_principal = self.source.applications.service_principal(self.job.sp_id)
            except GraphError:
                self._service_principal = {"id": self.job.sp_id, "displayName": "", "appId": ""}
        return self._service_principal

    def log(self, outcome: Outcome, at: float, duration: float, run: Pass) -> ProvisioningEvent:
        sp = self._principal()
        user, target = outcome.source or {}, outcome.target or {}
        error = None
        if outcome.error is not None:
            category = "nonServiceFailure" if outcome.status == "skipped" else "failure"
            error = {
                "errorCode": outcome.error[0],
                "reason": outcome.error[1],
                "additionalDetails": None,
                "errorCategory": category,
                "recommendedAction": None,
            }
        core = {
            "id": new_guid(),
            "activityDateTime": iso(at),
            "tenantId": run.target_id,
            "jobId": self.job.id,
            "cycleId": run.id,
            "changeId": new_guid(),
            "provisioningAction": outcome.action,
            "durationInMilliseconds": int(duration * 1000),
            "servicePrincipal": {"id": self.job.sp_id, "displayName": sp.get("displayName")},
            "sourceSystem": {"id": self.source.id, "displayName": SOURCE_DIRECTORY, "details": {}},
            "targetSystem": {
                "id": run.target_id,
                "displayName": TARGET_DIRECTORY,
                "details": {
                    "ApplicationId": sp.get("appId"),
                    "ServicePrincipalId": self.job.sp_id,
                    "ServicePrincipalDisplayName": sp.get("displayName"),
                },
            },
            "initiatedBy": INITIATED_BY,
            "sourceIdentity": {
                "id": user.get("id", ""),
                "displayName": user.get("displayName") or "",
                "identityType": "User",
                "details": {
                    "id": user.get("id", ""),
                    "odatatype": "User",
                    "DisplayName": user.get("displayName") or "",
                    "UserPrincipalName": user.get("userPrincipalName") or "",
                },
            },
            "targetIdentity": {
                "id": target.get("id", ""),
                "displayName": target.get("displayName") or "",
                "identityType": "User",
                "details": {},
            },
            "provisioningStatusInfo": {"status": outcome.status, "errorInformation": error},
        }
        event = ProvisioningEvent(core, at, outcome.steps, outcome.changes)
        self.source.audit.record(event)
        return event


_IMPORT_DETAILS = (
    "objectId",
    "accountEnabled",
    "department",
    "displayName",
    "mailNickname",
    "userPrincipalName",
    "netId",
    "showInAddressList",
    "IsSoftDeleted",
    "appRoleAssignments",
)
_VERBS = {
    "create": ("Add", "created", "in"),
    "update": ("Update", "updated", "in"),
    "disable": ("Update", "disabled", "in"),
    "delete": ("Delete", "deleted", "from"),
}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _matching_key(desired: Flows) -> str | None:
    for mapping, value in desired:
        if mapping.target == MATCHING_ATTRIBUTE and isinstance(value, list) and value:
            first = value[0]
            return first.get("key") if isinstance(first, dict) else None
    return None


def _writable(attribute: str) -> bool:
    """Whether a target attribute is a user property the engine writes (IsSoftDeleted and references such
    as manager are engine-internal or not modelled)."""
    return attribute in EXTENSION_ATTRIBUTES or GRAPH_PROPERTY.get(attribute, attribute) in _WRITABLE


def _put(props: dict[str, Any], extensions: dict[str, object], attribute: str, value: object) -> None:
    if attribute in EXTENSION_ATTRIBUTES:
        extensions[attribute] = value
    elif _writable(attribute):
        props[GRAPH_PROPERTY.get(attribute, attribute)] = value


def _current(target: Mapping[str, Any], attribute: str) -> object:
    if attribute in EXTENSION_ATTRIBUTES:
        return (target.get("onPremisesExtensionAttributes") or {}).get(attribute)
    return target.get(GRAPH_PROPERTY.get(attribute, attribute))


def _same(current: object, wanted: object) -> bool:
    return current == wanted or (current in _EMPTY and wanted in _EMPTY)


def _scoping_step(details: dict[str, str]) -> Step:
    return (
        "EntrySynchronizationScoping",
        "scoping",
        "success",
        "Determine if User in scope by evaluating against each scoping filter",
        details,
    )


def _matching_step(target: Mapping[str, Any] | None) -> Step:
    if target is None:
        return ("EntryImport", "matching", "success", f"No matching User was found in {TARGET_DIRECTORY}", {})
    return (
        "EntryImport",
        "matching",
        "success",
        f"Retrieved '{target.get('userPrincipalName', target.get('id'))}' from {TARGET_DIRECTORY}",
        {"id": str(target.get("id")), "userPrincipalName": str(target.get("userPrincipalName", ""))},
    )


_WHY = {
    "create": f" (User is active and assigned in {SOURCE_DIRECTORY}, but no matching User was found in "
    f"{TARGET_DIRECTORY})",
    "delete": f" (User is not in scope in {SOURCE_DIRECTORY})",
}


def _action_steps(action: str, user: Mapping[str, Any]) -> list[Step]:
    """The processing step that decides an action and the export step that carries it out."""
    verb, done, preposition = _VERBS[action]
    upn = user.get("userPrincipalName", user.get("id"))
    where = f"{preposition} {TARGET_DIRECTORY}"
    return [
        (
            f"EntrySynchronization{verb}",
            "processing",
            "success",
            f"User '{upn}' will be {done} {where}{_WHY.get(action, '')}",
            {},
        ),
        (f"EntryExport{verb}", "export", "success", f"User '{upn}' was {done} {where}", {}),
    ]


def _failure(
    action: str,
    user: Mapping[str, Any],
    steps: list[Step],
    code: str,
    reason: str,
    target: Mapping[str, Any] | None = None,
) -> Outcome:
    verb = _VERBS[action][0]
    step: Step = (
        f"EntryExport{verb}",
        "export",
        "failure",
        reason,
        {"ReportableIdentifier": str(user.get("userPrincipalName", ""))},
    )
    return Outcome(action, "failure", user, target, (), (*steps, step), error=(code, reason))


_REDUNDANT = "The state of the user in both the source and target systems already match."
_RESULTS = {"success": "Success", "skipped": "Skipped", "failure": "Failure"}


def on_demand_result(outcome: Outcome, event: ProvisioningEvent) -> dict[str, str]:
    """provisionOnDemand's stringKeyStringValuePair (the API reference shape): JSON in both strings."""
    result = _RESULTS[outcome.status]
    details = {} if outcome.error is None else {"errorCode": outcome.error[0], "errorMessage": outcome.error[1]}
    started = event["activityDateTime"]
    user, target = outcome.source or {}, outcome.target or {}
    value = {
        "action": "Other" if outcome.action == "stageddelete" else outcome.action.capitalize(),
        "changeId": event["changeId"],
        "endTime": iso(event.timestamp + event["durationInMilliseconds"] / 1000),
        "modifiedProperties": event["modifiedProperties"],
        "provisioningSteps": [
            {
                "name": name,
                "type": kind.capitalize(),
                "status": status.capitalize(),
                "description": description,
                "timestamp": started,
                "details": dict(step_details),
            }
            for name, kind, status, description, step_details in outcome.steps
        ],
        "reportableIdentifier": user.get("userPrincipalName"),
        "startTime": started,
        "statusInfo": {
            "status": result,
            "errorCode": details.get("errorCode"),
            "reason": details.get("errorMessage"),
            "additionalDetails": None,
            "errorCategory": None,
            "recommendedAction": None,
        },
        "sourceIdentity": {
            "id": user.get("id"),
            "type": "User",
            "displayName": user.get("displayName"),
            "details": None,
        },
        "sourceSystem": {"id": None, "name": SOURCE_DIRECTORY, "details": None},
        "targetIdentity": {
            "id": target.get("id"),
            "type": "User",
            "displayName": target.get("displayName"),
            "details": None,
        },
        "targetSystem": {"id": None, "name": TARGET_DIRECTORY, "details": None},
    }
    return {"key": json.dumps({"result": result, "details": details}), "value": json.dumps(value)}
