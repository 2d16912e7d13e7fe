"""SyncScope: the CTS configuration in the source tenant (app + service principal, secrets, job, scope
assignments, schema) and the job's state, plus the numbers that say how far the sync has come."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api import conditions
from ..api.attributemapping import AttributeMapping
from ..api.conditions import Condition, Health
from ..api.syncscope import SyncScope
from ..api.tenantpair import TenantPair
from ..errors import AwaitingReplication, CtsyncError, DependencyNotReady, ReadIncomplete
from ..planning import pending, scoping
from ..planning.configuration import choose_configuration
from ..planning.cycle_estimate import estimate_cycle
from ..planning.mappings import merge_mappings
from ..planning.plan import Plan, describe_drift
from ..planning.safety import check_scope_shrink, check_uncountable_shrink, never_started
from ..planning.schema_names import check_names_in_job_schema
from ..planning.syncscope import SyncScopeObserved, find_job, plan_sync_scope
from ..planning.upn import upn_sample
from . import permissions, replication
from .apply import Applied, apply_plan
from .attributemapping import applied_key
from .bulk_cycle import audit_bulk_cycle
from .connections import ClientPool, TenantClients
from .dynamic_groups import DynamicGroups, audit_dynamic_groups, read_dynamic_groups
from .gate import SCHEMA_STEP, may_write
from .links import LinkCache
from .outcome import Event, Outcome, from_error
from .scope import ScopeReader, count_in_target, resolve_principals

Json = Mapping[str, Any]


async def observe(scope: SyncScope, clients: TenantClients, status: Json) -> SyncScopeObserved:
    source = clients.source
    recorded = (
        await source.service_principal(status["servicePrincipalId"]) if status.get("servicePrincipalId") else None
    )
    created = [p for p in pending.from_status(status) if p.step == "source.configuration"]
    if recorded is None and any(p.id for p in created):
        return SyncScopeObserved()  # just created and not visible yet: nothing under it can be read either
    # The configuration status names is ours whatever else carries its name: look for others only without it.
    candidates = [] if recorded is not None else await source.configurations_named(scope.configuration_name)
    configuration = choose_configuration(scope, recorded, candidates, answer_lost=bool(created))
    principals = await resolve_principals(scope, source)
    if configuration is None:
        return SyncScopeObserved(candidates=candidates, desired_principals=principals)
    sp_id = configuration["id"]
    jobs = await source.jobs(sp_id)
    job = find_job(jobs)
    return SyncScopeObserved(
        configuration=configuration,
        candidates=candidates,
        secrets=await source.secrets(sp_id),
        jobs=jobs,
        schema=await source.schema(sp_id, job["id"]) if job else None,
        assignments=await source.assignments(sp_id),
        desired_principals=principals,
        handled_restart=status.get("lastHandledRestart"),
        handled_allow_deletions=status.get("lastHandledAllowDeletions"),
    )


async def reconcile_sync_scope(
    scope: SyncScope,
    pair: TenantPair | None,
    pair_ready: bool,
    mappings: Sequence[AttributeMapping],
    pool: ClientPool,
    status: Json,
    *,
    dry_run: bool = False,
    audit: bool = True,
    record: replication.Recorder | None = None,
    clock: replication.Clock = replication.utc_now,
    links: LinkCache | None = None,
) -> Outcome:
    """One pass. `audit` also counts the scope and the synced users in the target (a full read of both:
    the drift timer does it less often than it checks the configuration). `record` writes what a create
    returned to status before the next write. `links`: the operator's link cache, so that an audit reads
    only the provisioning log's new entries."""
    applied = Applied(owner_tag=scope.owner_tag, record=record, clock=clock)
    try:
        scope.validate()
        decision = may_write(scope, pair, pair_ready, mappings)
        if pair is None or decision.waiting:
            raise DependencyNotReady(decision.message)
        clients = await pool.for_pair(pair)
        await permissions.require_all(clients, permissions.SYNC_SCOPE)
        merged = merge_mappings(mappings) if mappings else None
        observed = await observe(scope, clients, status)
        settled = replication.settle(status, pending.visible_in_sync_scope(observed), clock)
        applied.pending = settled.waiting
        if settled.waits_for("source.configuration"):
            return replication.awaiting(settled, scope.generation, {}, [])
        if observed.schema is not None:
            check_names_in_job_schema(scope, mappings, observed.schema)
        planned = pending.hold(plan_sync_scope(scope, observed, pair.target.tenant_id, merged), settled.waiting)
        plan, held = decision.split(planned)
        filters = _filters(scope, observed)
        effective = None if decision.holds(SCHEMA_STEP) else merged  # a held schema keeps its mappings
        dynamic_groups = await read_dynamic_groups(scope, clients, observed, effective) if audit else None
        reader = ScopeReader(clients.source, filters.graph_properties | _rule_properties(dynamic_groups))
        leaving = await _check_shrink(scope, observed, reader, plan, filters)
        already_reconciled = status.get("observedGeneration") == scope.generation
        drift = describe_drift(plan) if already_reconciled and not plan.empty else []
        applied.service_principal = _dict(observed.configuration)
        applied.job = _dict(find_job(observed.jobs))
        if not dry_run and not plan.empty:
            before_job, from_job = _split_at_job_creation(plan)
            await apply_plan(before_job, clients, applied)
            if from_job.actions:
                # Test the connection as the portal does before the first job: it fails while automatic
                # redemption is missing on either side (which the TenantPair should have set).
                await clients.source.validate_credentials(applied.sp_id, pair.target.tenant_id)
            await apply_plan(from_job, clients, applied)
        in_effect = filters.now if dry_run and filters.now is not None else filters.planned
        wrote = not dry_run and not plan.empty
        report, synced, members = await _report(
            scope,
            clients,
            applied,
            observed,
            _Audit(reader, in_effect, links or LinkCache()),
            mappings,
            status,
            audit,
            wrote,
        )
        report[pending.STATUS_FIELD] = pending.to_status(applied.pending) or None
        bulk = audit_bulk_cycle(report, status, scope.generation, clock())
        report.update(bulk.status if bulk else {})
        dynamic = estimate = None
        groups = dynamic_groups if members is not None else None  # audited once there is a configuration
        if audit and (groups is not None or (dry_run and not plan.empty)):  # a new configuration: its plan
            in_scope = await _in_scope_now_and_after(scope, observed, reader, filters)
            if groups is not None:
                dynamic = audit_dynamic_groups(groups, in_scope, status, scope.generation)
            estimate = estimate_cycle(len(in_scope[1].keys() - in_scope[0].keys()), clock())
    except CtsyncError as error:
        return from_error(error, scope.generation, status=applied.recorded)
    if decision.holds(SCHEMA_STEP) and (observed.schema is None or not held.empty):
        # The mappings reach the job schema only if it already matched them: otherwise the last word stands.
        report["appliedMappings"] = list(status.get("appliedMappings") or [])
    unwritten = describe_drift(held)
    events = applied.events
    if drift and not dry_run:
        events = [
            Event("Warning", "DriftCorrected", f"changed behind ctsync's back, now restored: {line}") for line in drift
        ] + events
    if already_reconciled and not dry_run:
        events += [Event("Warning", conditions.DRIFT_DETECTED, f"{line} ({decision.message})") for line in unwritten]
    if dynamic:
        events = [*events, *dynamic.events]
    if bulk and not dry_run:
        events = [*events, *bulk.events]
    if settled.waiting:
        return replication.awaiting(settled, scope.generation, report, events)
    dry = not plan.empty and dry_run
    message = f"{len(plan.actions)} change(s) pending (dry run)" if dry else "the configuration matches the spec"
    reason = conditions.RECONCILED
    if not held.empty:
        message = f"{len(held.actions)} change(s) pending; {decision.message}"
        reason = decision.reason if decision.held_steps is None else reason
    return Outcome(
        Health.READY,
        reason,
        message,
        scope.generation,
        conditions=[
            synced,
            _drifted(scope.generation, drift if dry_run else unwritten),
            decision.condition(scope.generation),
            *([dynamic.condition] if dynamic else []),
            *([bulk.condition] if bulk else []),
        ],
        status=report,
        events=events,
        plan=plan,
        held=held,
        drift=drift + (unwritten if already_reconciled else []),
        drift_corrected=bool(drift) and not dry_run and held.empty,
        scope_members=members,
        users_leaving=leaving,
        dynamic_groups=dynamic.changes if dynamic else [],
        cycle_estimate=estimate,
    )


def _dict(value: Json | None) -> dict[str, Any] | None:
    return dict(value) if value is not None else None


@dataclass(frozen=True)
class _Filters:
    now: scoping.Filter | None  # the job schema's scoping filter as read; None: ctsync cannot evaluate it
    planned: scoping.Filter  # the one the plan writes
    unreadable: str = ""  # why `now` is None

    @property
    def graph_properties(self) -> frozenset[str]:
        return self.planned.graph_properties | (self.now.graph_properties if self.now else frozenset())


def _filters(scope: SyncScope, observed: SyncScopeObserved) -> _Filters:
    planned = scoping.desired_filter(observed.schema, scope.scoping_filters)
    try:
        return _Filters(scoping.from_schema(observed.schema), planned)
    except ReadIncomplete as unknown:  # written by someone else, e.g. in the portal
        return _Filters(None, planned, unknown.what)


def _rule_properties(dynamic_groups: DynamicGroups | None) -> frozenset[str]:
    return dynamic_groups.properties if dynamic_groups else frozenset()


async def _in_scope_now_and_after(
    scope: SyncScope, observed: SyncScopeObserved, reader: ScopeReader, filters: _Filters
) -> tuple[Mapping[str, Json], Mapping[str, Json]]:
    """Who is in scope with the configuration as observed, and with the spec's. A scoping filter ctsync
    cannot read counts as the planned one: the change it makes is then not listed."""
    syncs_all = str((observed.secrets or {}).get("SyncAll")).lower() == "true"
    now = await reader.in_scope(
        None if syncs_all else observed.assignments, filters.now if filters.now is not None else filters.planned
    )
    after = await reader.in_scope(None if scope.scope.sync_all else observed.desired_principals, filters.planned)
    return now, after


@dataclass(frozen=True)
class _Audit:
    reader: ScopeReader
    filter: scoping.Filter  # the scoping filter in effect after this pass
    links: LinkCache  # the operator's, kept between audits; a fresh one reads the whole log


async def _check_shrink(
    scope: SyncScope, observed: SyncScopeObserved, reader: ScopeReader, plan: Plan, filters: _Filters
) -> int:
    """Before removing anyone from scope (fewer assignments, or a narrower scoping filter), count how many
    users in scope now would leave it; returns that count."""
    if not plan.destructive or observed.configuration is None or never_started(find_job(observed.jobs)):
        return 0
    if filters.now is None:
        check_uncountable_shrink(filters.unreadable, scope.shrink_acknowledged, scope.generation)
        return 0
    current_all = any(a.step == "source.secrets" and a.destructive for a in plan.actions)
    current = await reader.in_scope(None if current_all else observed.assignments, filters.now)
    desired = await reader.in_scope(None if scope.scope.sync_all else observed.desired_principals, filters.planned)
    leaving = len(set(current) - set(desired))
    check_scope_shrink(
        len(current),
        leaving,
        scope.deprovisioning.max_scope_shrink_percent,
        scope.shrink_acknowledged,
        scope.generation,
    )
    return leaving


def _split_at_job_creation(plan: Plan) -> tuple[Plan, Plan]:
    at = next(
        (i for i, a in enumerate(plan.actions) if a.step == "source.job" and a.verb == "create"),
        len(plan.actions),
    )
    return Plan(plan.actions[:at]), Plan(plan.actions[at:])


async def _report(
    scope: SyncScope,
    clients: TenantClients,
    applied: Applied,
    observed: SyncScopeObserved,
    scope_audit: _Audit,
    mappings: Sequence[AttributeMapping],
    previous: Json,
    audit: bool,
    wrote: bool,
) -> tuple[dict[str, Any], Condition, frozenset[str] | None]:
    """Status fields: the ids ctsync owns, the job's state and, when auditing, scope size and synced counts
    (a full read of the scope and of the target's users; without it the last counts stand). The job is read
    again only after this pass wrote: otherwise the state this pass observed is current."""
    status: dict[str, Any] = {
        "lastHandledRestart": scope.restart_request,
        "lastHandledAllowDeletions": scope.allow_deletions_request,
        "appliedMappings": sorted(applied_key(m) for m in mappings),
    }
    sp = applied.service_principal
    if sp is None:
        return (
            status,
            Condition(conditions.SYNCED, "False", conditions.PROGRESSING, "no configuration yet", scope.generation),
            None,
        )
    roles = sp.get("appRoles") or [{}]
    status.update(servicePrincipalId=sp["id"], applicationId=sp.get("appId"), appRoleId=roles[0].get("id"))
    # What this pass wrote, as Graph answered it: a read right after a write may not show it yet.
    assignments = [a for a in observed.assignments if a["id"] not in applied.unassigned] + applied.assigned
    status["assignments"] = [
        {"principalId": a["principalId"], "principalType": a.get("principalType"), "assignmentId": a["id"]}
        for a in assignments
    ]
    scope_size, synced = int(previous.get("scopeSize") or 0), int(previous.get("syncedUsers") or 0)
    members = None
    if audit:
        reader = scope_audit.reader
        in_scope = await reader.in_scope(None if scope.scope.sync_all else assignments, scope_audit.filter)
        domains = sorted({u.get("userPrincipalName", "@").split("@")[-1] for u in in_scope.values()})
        links = await scope_audit.links.links(clients.source, applied.job_id) if applied.job else {}
        counts = await count_in_target(in_scope, domains, clients.target, links)
        scope_size, synced, members = len(in_scope), counts.synced, frozenset(in_scope)
        status.update(
            scopeSize=scope_size,
            syncedUsers=synced,
            syncedDisabledUsers=counts.synced_disabled,
            softDeletedUsers=counts.soft_deleted,
            missingUsers=counts.missing,
            orphanedUsers=counts.orphans,
        )
        if counts.initial_domain:
            status["upnSample"] = upn_sample(in_scope.values(), counts.initial_domain)
    job = applied.job
    if job is not None and wrote:
        job = await clients.source.job(sp["id"], applied.job_id) or job
    status.update(_job_status(job))
    return status, _synced_condition(scope, job, scope_size, synced), members


def _job_status(job: Json | None) -> dict[str, Any]:
    if job is None:
        return {"jobCode": "NotConfigured"}
    state = job.get("status") or {}
    quarantine = state.get("quarantine")
    return {
        "jobId": job["id"],
        "jobCode": state.get("code"),
        "lastExecutionTime": _time_began(state.get("lastExecution")),
        "lastSuccessfulExecutionTime": _time_began(state.get("lastSuccessfulExecution")),
        "successiveFailures": state.get("countSuccessiveCompleteFailures"),
        "quarantine": None
        if not quarantine
        else {
            "reason": quarantine.get("reason"),
            "since": quarantine.get("currentBegan"),
            "nextAttempt": quarantine.get("nextAttempt"),
            "error": ((quarantine.get("error") or {}).get("code")),
        },
    }


def _time_began(execution: Json | None) -> str | None:
    began = (execution or {}).get("timeEnded") or (execution or {}).get("timeBegan")
    return None if not began or began.startswith("0001-") else began


def _synced_condition(scope: SyncScope, job: Json | None, scope_size: int, synced: int) -> Condition:
    generation = scope.generation
    counts = f"{synced} of {scope_size} users in scope are in the target"
    code = ((job or {}).get("status") or {}).get("code")
    quarantine = ((job or {}).get("status") or {}).get("quarantine") or {}
    if job is None:
        return Condition(conditions.SYNCED, "False", conditions.PROGRESSING, "the job does not exist yet", generation)
    if code == "Quarantine":
        reason = conditions.DELETIONS_HELD if quarantine.get("reason") == "TooManyDeletes" else conditions.QUARANTINED
        error = (quarantine.get("error") or {}).get("message") or quarantine.get("reason")
        return Condition(conditions.SYNCED, "False", reason, f"job quarantined: {error}; {counts}", generation)
    if code == "Paused":
        reason = conditions.SUSPENDED if scope.suspend else conditions.JOB_PAUSED
        return Condition(conditions.SYNCED, "False", reason, f"job paused; {counts}", generation)
    if code == "NotRun":
        return Condition(
            conditions.SYNCED, "False", conditions.INITIAL_CYCLE, f"first cycle running; {counts}", generation
        )
    return Condition(conditions.SYNCED, "True", conditions.JOB_RUNNING, counts, generation)


def _drifted(generation: int, drift: list[str]) -> Condition:
    if drift:
        return Condition(conditions.DRIFTED, "True", conditions.DRIFT_DETECTED, "; ".join(drift), generation)
    return Condition(conditions.DRIFTED, "False", conditions.NO_DRIFT, "no drift detected", generation)


async def finalize_sync_scope(scope: SyncScope, pair: TenantPair | None, pool: ClientPool, status: Json) -> list[Event]:
    """On deletion with the pair's deletionPolicy Delete: delete the configuration ctsync owns (its job and
    assignments go with it). Users already synced into the target are never deleted."""
    sp_id = status.get("servicePrincipalId")
    if pair is None or pair.deletion_policy != "Delete" or not sp_id:
        return []
    clients = await pool.for_pair(pair)
    sp = await clients.source.service_principal(sp_id)
    created = pending.settle(pending.from_status(status), (), replication.utc_now(), replication.BOUND_SECONDS)
    just_created = any(p.step == "source.configuration" and p.id == sp_id for p in created.waiting)
    if sp is None and just_created:
        raise AwaitingReplication(f"source configuration {sp_id}: created, not visible in Graph yet to delete it")
    if sp is None or not (just_created or scope.owner_tag in (sp.get("tags") or [])):
        return []  # gone already, or not ours to delete
    app = await clients.source.application_by_app_id(sp["appId"])
    if app is None:  # its service principal is there, so the application is too: not on this replica yet
        raise AwaitingReplication(f"source configuration {sp_id}: its application is not visible in Graph yet")
    await clients.source.delete_application(app["id"])
    return [Event("Normal", "Deleted", f"- source configuration {sp.get('displayName')!r} ({sp_id})")]
