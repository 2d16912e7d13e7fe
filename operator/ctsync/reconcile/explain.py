"""`ctsync explain`: one report on a TenantPair and its SyncScope for the person paged about it.

Nothing here decides anew: the tenants are read by the operator's own passes run as dry runs (reads only),
warnings are the conditions those passes (or the operator, in status) set, judged healthy or not by
`api.fixes`, and provisioning failures are classified by `graph.provisioning_failures`. This module reads
and assembles; `commands/explain.py` renders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from ..api import conditions, fixes
from ..api.attributemapping import AttributeMapping
from ..api.syncscope import SyncScope
from ..api.tenantpair import TenantPair
from ..errors import CtsyncError
from ..graph.provisioning_failures import failure_reason
from ..planning.bootstrap import EXPIRY_WARNING_DAYS, expiring_credentials
from ..planning.plan import Plan
from .attributemapping import reconcile_attribute_mapping
from .connections import ClientPool
from .outcome import Outcome
from .syncscope import reconcile_sync_scope
from .tenantpair import reconcile_tenant_pair

Json = Mapping[str, Any]
FAILURE_WINDOW: Final = timedelta(hours=24)  # how far back the provisioning log is read
MAX_LOG_ENTRIES: Final = 5000  # a larger log is summarised from its first entries, and says so
COUNTS: Final = ("scopeSize", "syncedUsers", "syncedDisabledUsers", "softDeletedUsers", "missingUsers", "orphanedUsers")
JOB_FIELDS: Final = (
    "jobCode",
    "lastExecutionTime",
    "lastSuccessfulExecutionTime",
    "successiveFailures",
    "quarantine",
    "estimatedCycleCompletion",
)
# Which warnings come first: what stops ctsync, then what stops the provisioning service, then the rest.
_URGENCY: Final = {conditions.STALLED: 0, conditions.READY: 0, conditions.CREDENTIALS_VALID: 0, conditions.SYNCED: 1}


@dataclass(frozen=True)
class View:
    """One resource as explain sees it: its conditions, its status fields and, after a read of the tenants,
    what a pass would write (`pending`) and what it may not (`held`). `pending` is None without that read."""

    conditions: Sequence[Json] = ()
    status: Json = field(default_factory=dict)
    pending: Plan | None = None
    held: Plan = field(default_factory=Plan)
    reported: Json = field(default_factory=dict)  # the status the operator wrote ({} without a cluster)

    @classmethod
    def stored(cls, status: Json) -> View:
        """What the operator last wrote in status."""
        return cls(list(status.get("conditions") or ()), status, reported=status)

    @classmethod
    def live(cls, outcome: Outcome, stored: Json) -> View:
        """A dry-run pass; status fields it did not read (not audited, or written by the operator) stay. A
        pass that failed, or read nothing (a suspended pair), planned nothing: what it would write is unknown,
        not "nothing"."""
        return cls(
            [c.to_dict() for c in outcome.all_conditions()],
            {**stored, **outcome.status},
            None if outcome.error is not None else outcome.plan,
            outcome.held,
            stored,
        )


@dataclass(frozen=True)
class ActiveWarning:
    resource: str  # e.g. "SyncScope tenants/contoso-to-fabrikam"
    condition: str
    status: str
    reason: str
    message: str
    fix: str
    docs: str


@dataclass(frozen=True)
class FailureGroup:
    reason: str  # one of graph.provisioning_failures.REASONS
    count: int
    last_seen: str
    error_codes: tuple[str, ...]  # the service's codes folded into the reason
    example: str  # the latest failure: its user and what the service said
    fix: str
    docs: str


@dataclass(frozen=True)
class Failures:
    """The failed entries of the job's provisioning log since `since`, grouped by reason, most first."""

    since: str
    groups: tuple[FailureGroup, ...] = ()
    entries_read: int = 0
    complete: bool = True  # False: more than MAX_LOG_ENTRIES entries, summarised from the first ones
    unread: str = ""  # why the log was not read: never reported as "no failures"


@dataclass
class Explanation:
    pair: dict[str, Any]
    scope: dict[str, Any] | None
    tenants: dict[str, list[str]] | None  # pending writes per tenant; None: not compared (not read, or failed)
    held: list[str]
    warnings: list[ActiveWarning]
    failures: Failures | None
    next_steps: list[str]
    live: bool  # both tenants were read now
    live_error: str = ""

    @property
    def healthy(self) -> bool:
        failed = bool(self.failures and (self.failures.groups or self.failures.unread))
        pending = any(self.tenants.values()) if self.tenants else False
        return not (self.warnings or failed or pending or self.live_error)

    def to_dict(self) -> dict[str, Any]:
        failures = None
        if self.failures is not None:
            failures = {
                "since": self.failures.since,
                "entriesRead": self.failures.entries_read,
                "complete": self.failures.complete,
                "unread": self.failures.unread,
                "groups": [_camel(asdict(g)) for g in self.failures.groups],
            }
        return {
            "healthy": self.healthy,
            "live": self.live,
            "liveError": self.live_error,
            "tenantPair": self.pair,
            "syncScope": self.scope,
            "pendingChanges": self.tenants,
            "heldChanges": self.held,
            "warnings": [_camel(asdict(w)) for w in self.warnings],
            "provisioningFailures": failures,
            "nextSteps": self.next_steps,
        }


def _camel(data: dict[str, Any]) -> dict[str, Any]:
    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(word.title() for word in rest)

    return {camel(key): list(value) if isinstance(value, tuple) else value for key, value in data.items()}


# --- reading ------------------------------------------------------------------------------------------------


@dataclass
class LiveRead:
    pair: View
    scope: View | None
    mappings: list[View]
    failures: Failures | None
    error: str = ""  # why the tenants could not be read (the pair's pass failed); the scope's view is stored
    credentials: list[ActiveWarning] = field(default_factory=list)  # secrets or certificates ending soon


async def read_live(
    pair: TenantPair,
    scope: SyncScope | None,
    mappings: Sequence[AttributeMapping],
    pool: ClientPool,
    stored: tuple[Json, Json],
    now: datetime,
) -> LiveRead:
    """Both tenants as the operator's passes see them, in dry runs (no write), and the job's recent
    provisioning failures. `stored` is the status of the pair and the scope (empty without a cluster)."""
    pair_outcome = await reconcile_tenant_pair(pair, pool, stored[0], dry_run=True)
    read = LiveRead(View.live(pair_outcome, stored[0]), None if scope is None else View.stored(stored[1]), [], None)
    if pair_outcome.error is not None:
        read.error = f"{pair.ref}: {pair_outcome.message}"
        return read
    read.credentials = await credential_warnings(pool, pair, now)
    if scope is None:
        return read
    outcome = await reconcile_sync_scope(scope, pair, True, mappings, pool, stored[1], dry_run=True)
    read.scope = View.live(outcome, stored[1])
    job_id = read.scope.status.get("jobId")
    if job_id:  # the log is worth reading even when the pass failed: it may say why
        read.failures = await read_failures(pool, pair, str(job_id), now - FAILURE_WINDOW)
    if outcome.error is not None:  # its warning says why; the mappings keep their reported status
        if not job_id:
            unread = f"the job is not known: {scope.ref}: {outcome.message}"
            read.failures = Failures(_iso(now - FAILURE_WINDOW), unread=unread)
        return read
    read.mappings = [View.live(reconcile_attribute_mapping(m, read.scope.status, mappings), {}) for m in mappings]
    return read


async def read_failures(pool: ClientPool, pair: TenantPair, job_id: str, since: datetime) -> Failures:
    """The job's failed provisioning log entries from `since` on, grouped by failure_reason."""
    since_text = _iso(since)
    failed: list[Json] = []
    read = 0
    try:
        source = (await pool.for_pair(pair)).source
        async for page in source.provisioning_events(job_id, since_text):
            read += len(page)
            failed += [doc for doc in page if _status(doc) == "failure"]
            if read >= MAX_LOG_ENTRIES:
                return Failures(since_text, group_failures(failed), read, complete=False)
    except CtsyncError as error:
        return Failures(since_text, unread=f"the provisioning log could not be read: {error.message}")
    return Failures(since_text, group_failures(failed), read)


async def credential_warnings(pool: ClientPool, pair: TenantPair, now: datetime) -> list[ActiveWarning]:
    """A warning per tenant whose app holds a secret or certificate ending within 30 days. The app reads its
    own registration: without a permission that may (an Application.* one), that tenant is not checked."""
    clients = await pool.for_pair(pair)
    warn_before = _iso(now + timedelta(days=EXPIRY_WARNING_DAYS))
    out = []
    for role, client in (("source", clients.source.client), ("target", clients.target.client)):
        try:
            app_id = await client.own_app_id()
            query = {"$filter": f"appId eq '{app_id}'", "$select": "id,appId,passwordCredentials,keyCredentials"}
            apps = await client.list_all("/applications", query)
        except CtsyncError:
            continue
        ending = [text for app in apps for text in expiring_credentials(app, warn_before)]
        if ending:
            fix = fixes.CREDENTIAL_EXPIRING
            message = f"the {role} tenant's app {app_id}: " + "; ".join(ending)
            out.append(
                ActiveWarning(pair.ref, "Credentials", "Expiring", "CredentialExpiring", message, fix.text, fix.docs)
            )
    return out


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(doc: Json) -> str:
    return str((doc.get("provisioningStatusInfo") or {}).get("status") or "").lower()


def group_failures(entries: Iterable[Json]) -> tuple[FailureGroup, ...]:
    """Failed log entries (oldest first) grouped by reason, the largest group first."""
    groups: dict[str, list[Json]] = {}
    for doc in entries:
        code = _error(doc).get("errorCode")
        groups.setdefault(failure_reason(_status(doc), code), []).append(doc)
    out = []
    for reason, docs in groups.items():
        latest = docs[-1]
        user = latest.get("sourceIdentity") or {}
        who = (user.get("details") or {}).get("UserPrincipalName") or user.get("displayName") or user.get("id") or "?"
        fix = fixes.FAILURE_FIXES[reason]
        out.append(
            FailureGroup(
                reason,
                len(docs),
                str(latest.get("activityDateTime") or ""),
                tuple(sorted({str(_error(d).get("errorCode")) for d in docs if _error(d).get("errorCode")})),
                f"{who}: {_error(latest).get('reason') or _error(latest).get('errorCode') or 'no reason given'}",
                fix.text,
                fix.docs,
            )
        )
    return tuple(sorted(out, key=lambda g: (-g.count, g.reason)))


def _error(doc: Json) -> Json:
    return (doc.get("provisioningStatusInfo") or {}).get("errorInformation") or {}


# --- assembling ---------------------------------------------------------------------------------------------


def active_warnings(resource: str, found: Iterable[Json]) -> list[ActiveWarning]:
    """The conditions of one resource that are not in their healthy state (api.fixes.HEALTHY), except work
    under way; a reason and message repeated by several conditions (Ready and Stalled) is listed once."""
    out: list[ActiveWarning] = []
    seen = set()
    for condition in sorted(found, key=lambda c: _URGENCY.get(str(c.get("type")), 2)):
        type_, status, reason = str(condition.get("type")), str(condition.get("status")), str(condition.get("reason"))
        healthy = fixes.HEALTHY.get(type_)
        if healthy is None or status == healthy or reason in fixes.PROGRESS_REASONS:
            continue
        message = str(condition.get("message") or "")
        if (reason, message) in seen:
            continue
        seen.add((reason, message))
        fix = fixes.CONDITION_FIXES.get(reason, fixes.Fix("read the message; see the resource's reference", "docs/api"))
        out.append(ActiveWarning(resource, type_, status, reason, message, fix.text, fix.docs))
    return out


def assemble(
    pair: TenantPair,
    scope: SyncScope | None,
    mappings: Sequence[AttributeMapping],
    read: LiveRead,
    *,
    live: bool,
) -> Explanation:
    """The report, from what was read (`read`; with live=False only the stored status is in it)."""
    scope_view = read.scope
    warnings = active_warnings(pair.ref, read.pair.conditions) + read.credentials
    if scope is not None and scope_view is not None:
        warnings += active_warnings(scope.ref, scope_view.conditions)
    for mapping, view in zip(mappings, read.mappings, strict=False):
        warnings += active_warnings(mapping.ref, view.conditions)
    warnings.sort(key=lambda w: _URGENCY.get(w.condition, 2))
    tenants: dict[str, list[str]] | None = None
    held: list[str] = []
    views = [v for v in (read.pair, scope_view) if v is not None]
    if live and not read.error and all(v.pending is not None for v in views):
        tenants = {"target": [], "source": []}
        for view in views:
            assert view.pending is not None
            for action in view.pending.actions:
                tenants[action.tenant].append(action.summary)
            held += [action.summary for action in view.held.actions]
    explanation = Explanation(
        pair=_pair_report(pair, read.pair),
        scope=None if scope is None or scope_view is None else _scope_report(scope, scope_view),
        tenants=tenants,
        held=held,
        warnings=warnings,
        failures=read.failures,
        next_steps=[],
        live=live and not read.error,
        live_error=read.error,
    )
    explanation.next_steps = next_steps(explanation)
    return explanation


def _ready(found: Iterable[Json]) -> dict[str, Any]:
    ready = next((c for c in found if c.get("type") == conditions.READY), None)
    if ready is None:
        return {"status": "Unknown", "reason": "", "message": "not reported yet"}
    return {k: ready.get(k, "") for k in ("status", "reason", "message")}


def _reported(view: View, generation: int) -> dict[str, Any] | None:
    """What the operator last said (None without a cluster): its Ready, and whether it had seen this spec."""
    if not view.reported:
        return None
    current = view.reported.get("observedGeneration") == generation
    return {**_ready(view.reported.get("conditions") or ()), "current": current}


def _pair_report(pair: TenantPair, view: View) -> dict[str, Any]:
    return {
        "ref": pair.ref,
        "sourceTenantId": pair.source.tenant_id,
        "targetTenantId": pair.target.tenant_id,
        "managementPolicy": pair.management_policy,
        "suspend": pair.suspend,
        "ready": _ready(view.conditions),
        "reported": _reported(view, pair.generation),
    }


def _scope_report(scope: SyncScope, view: View) -> dict[str, Any]:
    status = view.status
    spec = scope.scope
    sample = status.get("upnSample") or []
    return {
        "ref": scope.ref,
        "configurationName": scope.configuration_name,
        "managementPolicy": scope.management_policy,
        "suspend": scope.suspend,
        "syncAll": spec.sync_all,
        "groups": [g.display_name or g.id for g in spec.groups],
        "users": [u.display_name or u.id for u in spec.users],
        "scopingFilters": len(scope.scoping_filters),
        "ready": _ready(view.conditions),
        "reported": _reported(view, scope.generation),
        "job": {name: status.get(name) for name in JOB_FIELDS} | {"jobId": status.get("jobId")},
        "counts": {name: status.get(name) for name in COUNTS},
        "upnExample": sample[0] if sample else None,
    }


def next_steps(explanation: Explanation) -> list[str]:
    """What to do, most urgent first: each warning's fix once, then pending changes, then failures."""
    steps: list[str] = []

    def add(step: str) -> None:
        if step not in steps:
            steps.append(step)

    if explanation.live_error:
        add(f"make the tenants readable first: {explanation.live_error}")
    for warning in explanation.warnings:
        add(f"{warning.reason}: {warning.fix} (see {warning.docs})")
    if explanation.tenants and any(explanation.tenants.values()):
        add("the tenants differ from the spec: the operator writes it on its next pass (`ctsync apply` without one)")
    failures = explanation.failures
    if failures is not None and failures.unread:
        add(f"read the provisioning log by hand: {failures.unread}")
    for group in failures.groups if failures else ():
        add(f"{group.count} provisioning failure(s) {group.reason}: {group.fix} (see {group.docs})")
    job = (explanation.scope or {}).get("job") or {}
    if not steps and job.get("jobCode") == "NotRun":
        add("wait for the first cycle to finish (the service runs every 40 minutes)")
    return steps or ["nothing to do"]
