"""Who a CTS job provisions: its scope.

`SyncAll=true` entitles every user; otherwise the users assigned to the service principal and the direct
members of assigned groups (no nesting). Of those, only internal members count (no guests, no external
users, so no loops), and only those the object mapping's scoping filter lets through. `in_scope` is the
answer for a job as it stands; the cycles and provisionOnDemand use the same pieces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..directory.models import EXTENSION_ATTRIBUTES
from .schema import GRAPH_PROPERTY, CompiledRule

if TYPE_CHECKING:
    from ..world import Tenant
    from .job import Job

APP_ROLE = "msiam_access"


def net_id(user_id: str) -> str:
    """A PUID-shaped (16 hex digits) netId derived from the object id: CTS matches on it."""
    return "1003" + user_id.replace("-", "")[:12].upper()


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


def assigned_ids(source: Tenant, sp_id: str) -> frozenset[str]:
    """Users assigned directly, plus direct members of assigned groups (no nesting)."""
    members = source.directory.members
    ids: set[str] = set()
    for assignment in source.applications.assignments(sp_id):
        principal = str(assignment.get("principalId", "")).lower()
        if assignment.get("principalType") == "Group":
            ids.update(members.get(principal, ()))
        else:
            ids.add(principal)
    return frozenset(ids)


def sync_all(secrets: Mapping[str, str]) -> bool:
    return secrets.get("SyncAll", "").lower() == "true"


def passes(rule: CompiledRule, user: Mapping[str, Any], assigned: frozenset[str]) -> bool:
    """Internal member and through the scoping filter (entitlement is checked by the caller)."""
    return is_internal_member(user) and rule.in_scope(SourceView(user, user["id"] in assigned))


def scope_of(source: Tenant, job: Job, assigned: frozenset[str]) -> frozenset[str]:
    """The ids of the source users in scope, given the ids `assigned_ids` found."""
    users = source.directory.users
    candidates: Iterable[str] = users if sync_all(job.secrets) else (uid for uid in assigned if uid in users)
    return frozenset(uid for uid in candidates if passes(job.rule, users[uid], assigned))


def in_scope(source: Tenant, job: Job) -> frozenset[str]:
    """The ids of the source users `job` provisions right now: entitled, internal members, through the
    scoping filter. A cycle that starts now works on exactly these."""
    return scope_of(source, job, assigned_ids(source, job.sp_id))
