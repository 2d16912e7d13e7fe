"""Executes a plan's actions in order, one Graph call each, and says what it changed.

Objects created early in a plan (the configuration's service principal, its job) feed the later actions
through `Applied`; the planner leaves those ids out of action bodies because they do not exist yet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.constants import JOB_TEMPLATE_ID
from ..errors import GraphUnavailable, Throttled
from ..planning import pending
from ..planning.pending import PendingCreate
from ..planning.plan import Action, Plan
from .connections import TenantClients
from .outcome import Event
from .replication import Clock, Recorder, utc_now


@dataclass
class Applied:
    """What the applier learnt or made while applying; read back by the reconciler for status."""

    owner_tag: str = ""
    service_principal: dict[str, Any] | None = None
    job: dict[str, Any] | None = None
    created_steps: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)
    # Creates not visible in Graph yet: those of earlier passes still waited for, and this pass's.
    pending: tuple[PendingCreate, ...] = ()
    record: Recorder | None = None
    clock: Clock = utc_now
    flags: Mapping[str, str] = field(default_factory=dict)  # step -> status flag set once it created its object
    recorded: dict[str, Any] = field(default_factory=dict)  # the status fields recorded so far
    assigned: list[dict[str, Any]] = field(default_factory=list)  # assignments this pass made, as Graph returned
    unassigned: set[str] = field(default_factory=set)  # ids of the assignments this pass removed

    async def created(self, action: Action, object_id: str, key: str | None = None, **fields: Any) -> None:
        """Records what a create returned (its id, and `fields` for status) before anything else is written."""
        key = action.key if key is None else key
        self.pending = pending.recorded(self.pending, action.step, key, object_id, self.clock())
        self.recorded.update(fields, **{pending.STATUS_FIELD: pending.to_status(self.pending)})
        if action.step in self.flags:
            self.recorded[self.flags[action.step]] = True
        if self.record is not None:
            await self.record(dict(self.recorded))

    @property
    def sp_id(self) -> str:
        assert self.service_principal is not None, "a source action ran before the configuration existed"
        return str(self.service_principal["id"])

    @property
    def job_id(self) -> str:
        assert self.job is not None, "a job action ran before the job existed"
        return str(self.job["id"])

    @property
    def app_role_id(self) -> str:
        roles = (self.service_principal or {}).get("appRoles") or []
        return str(roles[0]["id"])  # a CTS configuration has exactly one role, msiam_access


# A step returns, for a create, whether this call made the object (False: it was there already, so it is
# not recorded as ctsync's to delete later); other verbs return None.
Step = Callable[[TenantClients, Action, Applied], Awaitable[bool | None]]


async def _partner(clients: TenantClients, action: Action, applied: Applied) -> bool | None:
    side = clients.target if action.tenant == "target" else clients.source
    if action.verb == "create":
        return await _record_made(action, applied, await side.create_partner(action.key))
    if action.verb == "update":
        await side.update_partner(action.key, dict(action.body or {}))
    else:
        await side.delete_partner(action.key)
    return None


async def _identity_sync(clients: TenantClients, action: Action, applied: Applied) -> bool | None:
    if action.verb == "create":
        made = await clients.target.create_identity_sync(action.key, dict(action.body or {}))
        return await _record_made(action, applied, made)
    if action.verb == "update":
        await clients.target.update_identity_sync(action.key, dict(action.body or {}))
    else:
        await clients.target.delete_identity_sync(action.key)
    return None


async def _configuration(clients: TenantClients, action: Action, applied: Applied) -> None:
    if action.verb == "create":
        name = str((action.body or {})["displayName"])
        try:
            sp = await clients.source.instantiate(name)
        except GraphUnavailable as error:
            if not isinstance(error, Throttled):  # the answer was lost: it may exist, unseen by the lookup
                await applied.created(action, "", name)
            raise
        applied.service_principal = sp
        await applied.created(action, sp["id"], name, servicePrincipalId=sp["id"], applicationId=sp.get("appId"))
        tags = [*(sp.get("tags") or []), applied.owner_tag]
        await clients.source.set_tags(sp["id"], tags)  # first, so a crash right after still finds it as ours
        applied.service_principal = {**sp, "tags": tags}
    else:
        await clients.source.set_tags(action.key, list((action.body or {})["tags"]))


async def _record_made(action: Action, applied: Applied, made: bool) -> bool:
    """Partner policies and identity synchronization are known by the partner's tenant id (the action's key)."""
    if made:
        await applied.created(action, action.key)
    return made


async def _secrets(clients: TenantClients, action: Action, applied: Applied) -> None:
    values = {item["key"]: item["value"] for item in (action.body or {})["value"]}
    await clients.source.put_secrets(applied.sp_id, values)


async def _job(clients: TenantClients, action: Action, applied: Applied) -> None:
    applied.job = await clients.source.create_job(applied.sp_id)
    await applied.created(action, applied.job_id, JOB_TEMPLATE_ID, jobId=applied.job_id)


async def _assignment(clients: TenantClients, action: Action, applied: Applied) -> None:
    if action.verb == "create":
        made = await clients.source.assign(applied.sp_id, action.key, applied.app_role_id)
        if made is not None:
            await applied.created(action, str(made["id"]))
            applied.assigned.append(made)
    else:
        await clients.source.unassign(applied.sp_id, action.key)
        applied.unassigned.add(action.key)


async def _schema(clients: TenantClients, action: Action, applied: Applied) -> None:
    await clients.source.put_schema(applied.sp_id, applied.job_id, dict(action.body or {}))


async def _job_state(clients: TenantClients, action: Action, applied: Applied) -> None:
    await clients.source.job_action(
        applied.sp_id, action.key or applied.job_id, action.verb, dict(action.body) if action.body else None
    )


STEPS: dict[str, Step] = {
    "target.partner": _partner,
    "source.partner": _partner,
    "target.identitySync": _identity_sync,
    "source.configuration": _configuration,
    "source.secrets": _secrets,
    "source.job": _job,
    "source.assignments": _assignment,
    "source.schema": _schema,
    "source.jobState": _job_state,
}


async def apply_plan(plan: Plan, clients: TenantClients, applied: Applied) -> Applied:
    """Runs every action in order; an error stops the plan where it is (the next pass resumes from what
    it then observes). Each write becomes a Normal Event naming what changed."""
    for action in plan.actions:
        made = await STEPS[action.step](clients, action, applied)
        if action.verb == "create" and made is not False:
            applied.created_steps.add(action.step)
        applied.events.append(Event("Normal", _event_reason(action), action.summary))
    return applied


def _event_reason(action: Action) -> str:
    return {
        "create": "Created",
        "update": "Updated",
        "delete": "Deleted",
        "start": "JobStarted",
        "pause": "JobPaused",
        "restart": "JobRestarted",
    }[action.verb]
