"""The dynamic-group guardrail of the scope audit: which of the target's dynamic groups the synced users
would join, as a warning condition (it never makes a SyncScope un-Ready), an Event when that changes, and,
for a plan, the groups a change makes them join or leave."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..api import conditions
from ..api.conditions import Condition
from ..api.syncscope import SyncScope
from ..planning.dynamic_groups import (
    Collisions,
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

Json = Mapping[str, Any]


@dataclass
class DynamicGroupAudit:
    condition: Condition
    events: list[Event] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # groups the pending change makes synced users join or leave


@dataclass(frozen=True)
class DynamicGroups:
    """The target's dynamic groups, the job's schema (now, after this pass's changes) and the source user
    properties the rules read through either schema's mappings: the scope reader reads them with the
    scope, so the audit needs no read of its own."""

    groups: Sequence[Json]
    schemas: tuple[Json, Json]
    properties: frozenset[str] = frozenset()


async def read_dynamic_groups(
    scope: SyncScope, clients: TenantClients, observed: SyncScopeObserved, merged: MergedMappings | None
) -> DynamicGroups | None:
    """None before the job has a schema. "Now" is the schema as observed at the start of the pass, "after"
    the one with `merged` and the spec's scoping filters."""
    if observed.schema is None:
        return None
    schemas = (observed.schema, build_desired_schema(observed.schema, merged, scope.scoping_filters))
    groups = await clients.target.dynamic_groups()
    if not groups:
        return DynamicGroups(groups, schemas)
    wanted = rules_properties(groups)
    attributes = set().union(*(projection_of(s).source_attributes(wanted) for s in schemas))
    return DynamicGroups(groups, schemas, frozenset({"displayName", *(graph_select(a) for a in attributes)}))


def audit_dynamic_groups(
    found: DynamicGroups, in_scope: tuple[Mapping[str, Json], Mapping[str, Json]], previous: Json, generation: int
) -> DynamicGroupAudit:
    """`in_scope` is (now, after this pass's changes): the users in scope by id, as the scope reader read
    them (with `found.properties`). One rule evaluation per group per user in scope."""
    if not found.groups:
        return DynamicGroupAudit(_condition(Collisions(), generation))
    schemas, groups = found.schemas, found.groups
    before, after = projection_of(schemas[0]), projection_of(schemas[1])
    now = find_collisions(groups, in_scope[1], after)
    audit = DynamicGroupAudit(_condition(now, generation))
    if (schemas[0], set(in_scope[0])) != (schemas[1], set(in_scope[1])):
        audit.changes = membership_changes(find_collisions(groups, in_scope[0], before), now)
    if audit.condition.status != "False" and audit.condition.message != _previous_message(previous):
        audit.events.append(Event("Warning", conditions.DYNAMIC_GROUP_COLLISION, audit.condition.message))
    return audit


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
