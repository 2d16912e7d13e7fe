"""Plan a SyncScope's configuration in the source tenant.

Order: configuration (instantiate + owner tag, or adopt), secrets, job, assignments, schema, job state.
Steps that need an object that does not exist yet are planned on the next pass, once it is observed: the
schema and the first start wait for the job to exist, so a new job never runs a cycle with the template's
default mappings (which would flow denied attributes).

Contract with the applier: see ctsync.planning.configuration for `source.configuration` create.
Assignment bodies carry `principalId`; the applier adds `resourceId` and `appRoleId` (the configuration's
single msiam_access role).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctsync.api import constants
from ctsync.api.syncscope import SyncScope
from ctsync.errors import ReadIncomplete
from ctsync.planning.configuration import choose_configuration, create_configuration, tag_configuration
from ctsync.planning.mappings import MergedMappings
from ctsync.planning.plan import Action, Json, Plan, Verb, short_id, summary
from ctsync.planning.schema import plan_schema
from ctsync.planning.secrets import plan_secrets

# resetScope of the restart annotations. restart-job is the portal's "Restart provisioning" (spelled out
# rather than relying on empty criteria meaning the same); allow-deletions releases what the deletion
# threshold holds and nothing else.
RESTART_SCOPE: Final = ("QuarantineState", "Watermark", "Escrows")
ALLOW_DELETIONS_SCOPE: Final = ("ForceDeletes",)
_RUNNING_CODES: Final = ("Active", "NotRun")


@dataclass(frozen=True)
class SyncScopeObserved:
    """What the reconciler read from the source tenant (Graph JSON shapes)."""

    # The configuration's service principal: found by the id in status, or the one choose_configuration
    # picked from `candidates`; None when there is none and one must be created.
    configuration: Json | None = None
    # Service principals named configurationName, with `tags` and `applicationTemplateId`: plan_sync_scope
    # re-checks that a new configuration may be created.
    candidates: Sequence[Json] = ()
    secrets: Mapping[str, str] | None = None  # None: never set (a failed read must raise, not pass None)
    jobs: Sequence[Json] = ()
    schema: Json | None = None  # the Azure2Azure job's schema, when that job exists
    assignments: Sequence[Json] = ()  # appRoleAssignedTo: {id, principalId, principalType}
    desired_principals: Sequence[Json] = ()  # the spec's groups/users resolved: {id, type, displayName?}
    # Annotation values already acted on (kept in status), so each request restarts the job once.
    handled_restart: str | None = None
    handled_allow_deletions: str | None = None


def find_job(jobs: Sequence[Json]) -> Json | None:
    return next((job for job in jobs if job.get("templateId") == constants.JOB_TEMPLATE_ID), None)


def plan_sync_scope(
    scope: SyncScope,
    observed: SyncScopeObserved,
    target_tenant_id: str,
    mappings: MergedMappings | None = None,
) -> Plan:
    """The writes that bring the source tenant's configuration to the spec.

    `mappings` is the merge of the SyncScope's AttributeMappings; None leaves the attribute mappings
    of the job schema alone (no AttributeMapping refers to this SyncScope). `observed` holds only whole
    reads: a read that failed or stopped part-way raised before planning, so nothing is planned from it.
    """
    configuration = choose_configuration(scope, observed.configuration, observed.candidates)
    if configuration is not observed.configuration:
        raise ValueError("observed.configuration must be the configuration choose_configuration picked")
    job = find_job(observed.jobs) if configuration is not None else None
    if scope.suspend:
        actions = _pause(job) if job is not None else []
    elif configuration is None:
        actions = [
            create_configuration(scope),
            *plan_secrets(scope, None, target_tenant_id),
            _create_job(),
            *_assignments(scope, observed),
        ]
    else:
        actions = [
            *tag_configuration(scope, configuration),
            *plan_secrets(scope, observed.secrets, target_tenant_id),
            *([] if job is not None else [_create_job()]),
            *_assignments(scope, observed),
            *(_schema_and_state(scope, observed, job, mappings) if job is not None else []),
        ]
    return Plan(tuple(actions))


def _create_job() -> Action:
    subject = f"source synchronization job {constants.JOB_TEMPLATE_ID}"
    body = {"templateId": constants.JOB_TEMPLATE_ID}
    return Action("source", "source.job", "create", summary("create", subject), body=body)


def _assignments(scope: SyncScope, observed: SyncScopeObserved) -> list[Action]:
    """Assignments of users and groups (the scope): add the missing, remove the unlisted.

    A removed assignment takes its users out of scope (they are soft-deleted in the target), except
    under syncAll, where everyone is in scope anyway.
    """
    wanted = {str(p["id"]).lower(): p for p in observed.desired_principals}
    current = {
        str(a["principalId"]).lower(): a for a in observed.assignments if a.get("principalType") in ("User", "Group")
    }
    adds = [
        _assignment("create", pid, p.get("type"), p.get("displayName"), key=pid, body={"principalId": pid})
        for pid, p in wanted.items()
        if pid not in current
    ]
    removals = [
        _assignment(
            "delete",
            pid,
            a.get("principalType"),
            a.get("principalDisplayName"),
            key=str(a["id"]),
            destructive=not scope.scope.sync_all,
        )
        for pid, a in current.items()
        if pid not in wanted
    ]
    return adds + removals


def _assignment(
    verb: Verb,
    principal_id: str,
    kind: Any,
    name: Any,
    key: str,
    body: Json | None = None,
    destructive: bool = False,
) -> Action:
    named = f" ({name})" if name else ""
    subject = f"source assignment of {str(kind or 'principal').lower()} {short_id(principal_id)}{named}"
    return Action(
        "source",
        "source.assignments",
        verb,
        summary(verb, subject),
        destructive=destructive,
        body=body,
        key=key,
    )


def _schema_and_state(
    scope: SyncScope, observed: SyncScopeObserved, job: Json, mappings: MergedMappings | None
) -> list[Action]:
    if observed.schema is None:
        raise ReadIncomplete("the synchronization job's schema")
    return [*plan_schema(observed.schema, mappings, scope.scoping_filters), *_job_state(scope, observed, job)]


def _job_status(job: Json) -> tuple[str, str, bool]:
    """(status code, schedule state, running) of a job."""
    code = str((job.get("status") or {}).get("code"))
    state = str((job.get("schedule") or {}).get("state"))
    return code, state, state == "Active" or code in _RUNNING_CODES


def _job_action(job: Json, verb: Verb, what: str, destructive: bool = False, body: Json | None = None) -> Action:
    code, state, _ = _job_status(job)
    subject = f"source synchronization job: {what} (status {code}, schedule {state})"
    return Action(
        "source",
        "source.jobState",
        verb,
        summary(verb, subject),
        destructive=destructive,
        body=body,
        key=str(job.get("id")),
    )


def _pause(job: Json) -> list[Action]:
    code, _, running = _job_status(job)
    return [_job_action(job, "pause", "pause (spec.suspend)")] if running or code == "Quarantine" else []


def _job_state(scope: SyncScope, observed: SyncScopeObserved, job: Json) -> list[Action]:
    actions = []
    criteria: list[str] = []
    if scope.restart_request and scope.restart_request != observed.handled_restart:
        criteria.extend(RESTART_SCOPE)
    if scope.allow_deletions_request and scope.allow_deletions_request != observed.handled_allow_deletions:
        criteria.extend(ALLOW_DELETIONS_SCOPE)
    if criteria:
        reset_scope = ", ".join(criteria)
        actions.append(
            _job_action(
                job,
                "restart",
                f"restart ({reset_scope})",
                destructive="ForceDeletes" in criteria,  # releases deletions the threshold held back
                body={"criteria": {"resetScope": reset_scope}},
            )
        )
    code, _, running = _job_status(job)
    # A quarantined job waits for a human (restart-job annotation); starting it would only hide the cause.
    if not running and code != "Quarantine":
        actions.append(_job_action(job, "start", "start"))
    return actions
