"""The dynamic-group guardrail of the scope audit: which of the target's dynamic groups the synced users
would join, as a warning condition (it never makes a SyncScope un-Ready), an Event when that changes, and,
for a plan, the groups a change makes them join or leave."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api import conditions
from ..api.conditions import Condition
from ..api.syncscope import SyncScope
from ..planning.dynamic_groups import (
    Collisions,
    Projection,
    describe,
    find_collisions,
    graph_select,
    membership_changes,
    projection_of,
    rules_properties,
)
from ..planning.mappings import MergedMappings
from ..planning.schema import build_desired_schema
from ..planning.syncscope import SyncScopeObserved
from .connections import TenantClients
from .outcome import Event
from .scope import ScopeReader

Json = Mapping[str, Any]


@dataclass
class DynamicGroupAudit:
    condition: Condition
    events: list[Event] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # groups the pending change makes synced users join or leave


async def audit_sync_scope(
    scope: SyncScope,
    clients: TenantClients,
    observed: SyncScopeObserved,
    merged: MergedMappings | None,
    reader: ScopeReader,
    previous: Json,
) -> DynamicGroupAudit | None:
    """The audit for a SyncScope; None before the job has a schema. "Now" is the configuration as observed
    at the start of the pass, "after" the job's schema with `merged` and the spec's scope (the reader has
    read both scopes already for the shrink gate and the counts)."""
    if observed.schema is None:
        return None
    syncs_all = str((observed.secrets or {}).get("SyncAll")).lower() == "true"
    current = await (reader.everyone() if syncs_all else reader.users_of(observed.assignments))
    desired = await (reader.everyone() if scope.scope.sync_all else reader.users_of(observed.desired_principals))
    desired_schema = build_desired_schema(observed.schema, merged, scope.scoping_filters)
    return await audit_dynamic_groups(
        clients, (observed.schema, desired_schema), (frozenset(current), frozenset(desired)), previous, scope.generation
    )


async def audit_dynamic_groups(
    clients: TenantClients,
    schemas: tuple[Json, Json],
    in_scope: tuple[Collection[str], Collection[str]],
    previous: Json,
    generation: int,
) -> DynamicGroupAudit:
    """`schemas` and `in_scope` are (now, after this pass's changes): the job's schema and the ids of the
    users in scope. One read of the target's dynamic groups; when there are any, one read of the source's
    users with the attributes their rules need, and one rule evaluation per group per user in scope."""
    groups = await clients.target.dynamic_groups()
    if not groups:
        return DynamicGroupAudit(_condition(Collisions(), generation))
    before, after = projection_of(schemas[0]), projection_of(schemas[1])
    wanted = set(in_scope[0]) | set(in_scope[1])
    users = await _source_users(clients, wanted, (before, after), rules_properties(groups))
    now = find_collisions(groups, {i: users[i] for i in in_scope[1] if i in users}, after)
    audit = DynamicGroupAudit(_condition(now, generation))
    if (schemas[0], set(in_scope[0])) != (schemas[1], set(in_scope[1])):
        then = find_collisions(groups, {i: users[i] for i in in_scope[0] if i in users}, before)
        audit.changes = membership_changes(then, now)
    if audit.condition.status != "False" and audit.condition.message != _previous_message(previous):
        audit.events.append(Event("Warning", conditions.DYNAMIC_GROUP_COLLISION, audit.condition.message))
    return audit


async def _source_users(
    clients: TenantClients, ids: set[str], projections: tuple[Projection, ...], properties: set[str]
) -> dict[str, Json]:
    attributes = set().union(*(p.source_attributes(properties) for p in projections))
    fields = sorted({"displayName", *(graph_select(a) for a in attributes)})
    users = await clients.source.member_users(fields)
    return {u["id"].lower(): u for u in users if u["id"].lower() in ids}


def _condition(collisions: Collisions, generation: int) -> Condition:
    kind = conditions.DYNAMIC_GROUP_COLLISION
    if collisions.matches:
        return Condition(kind, "True", conditions.GUESTS_JOIN_DYNAMIC_GROUPS, describe(collisions), generation)
    if collisions.not_evaluated:  # never "safe": True, as ctsync sets every condition True or False
        return Condition(kind, "True", conditions.RULES_NOT_EVALUATED, describe(collisions), generation)
    message = "no dynamic group of the target takes in the synced users"
    return Condition(kind, "False", conditions.NO_COLLISION, message, generation)


def _previous_message(status: Json) -> str | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == conditions.DYNAMIC_GROUP_COLLISION:
            return str(condition.get("message"))
    return None
