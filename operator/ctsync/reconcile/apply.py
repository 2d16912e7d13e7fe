"""Executes a plan's actions in order, one Graph call each, and says what it changed.

Objects created early in a plan (the configuration's service principal, its job) feed the later actions
through `Applied`; the planner leaves those ids out of action bodies because they do not exist yet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..planning.plan import Action, Plan
from .connections import TenantClients
from .outcome import Event


@dataclass
class Applied:
    """What the applier learnt or made while applying; read back by the reconciler for status."""

    owner_tag: str = ""
    service_principal: dict[str, Any] | None = None
    job: dict[str, Any] | None = None
    created_steps: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)

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
        return await side.create_partner(action.key)
    if action.verb == "update":
        await side.update_partner(action.key, dict(action.body or {}))
    else:
        await side.delete_partner(action.key)
    return None


async def _identity_sync(clients: TenantClients, action: Action, applied: Applied) -> bool | None:
    if action.verb == "create":
        return await clients.target.create_identity_sync(action.key, dict(action.body or {}))
    if action.verb == "update":
        await clients.target.update_identity_sync(action.key, dict(action.body or {}))
    else:
        await clients.target.delete_identity_sync(action.key)
    return None


async def _configuration(clients: TenantClients, action: Action, applied: Applied) -> None:
    if action.verb == "create":
        sp = await clients.source.instantiate(str((action.body or {})["displayName"]))
        tags = [*(sp.get("tags") or []), applied.owner_tag]
        await clients.source.set_tags(sp["id"], tags)  # first, so a crash right after still finds it as ours
        applied.service_principal = {**sp, "tags": tags}
    else:
        await clients.source.set_tags(action.key, list((action.body or {})["tags"]))


async def _secrets(clients: TenantClients, action: Action, applied: Applied) -> None:
    values = {item["key"]: item["value"] for item in (action.body or {})["value"]}
    await clients.source.put_secrets(applied.sp_id, values)


async def _job(clients: TenantClients, action: Action, applied: Applied) -> None:
    applied.job = await clients.source.create_job(applied.sp_id)


async def _assignment(clients: TenantClients, action: Action, applied: Applied) -> None:
    if action.verb == "create":
        await clients.source.assign(applied.sp_id, action.key, applied.app_role_id)
    else:
        await clients.source.unassign(applied.sp_id, action.key)


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
