"""Who is in a SyncScope's scope, counted the way the provisioning service counts it, and how many of them
are in the target tenant. Read-only: these numbers feed the shrink gate, status and metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api import conditions
from ..api.syncscope import PrincipalRef, SyncScope
from ..errors import Blocked, DependencyNotReady
from ..graph.cts import SourceTenant, TargetTenant
from ..planning.scoping import Filter
from ..planning.upn import initial_domain_of, target_upn

Json = Mapping[str, Any]
MEMBER = "Member"  # only internal members are synchronized; guests never are


async def resolve_principals(scope: SyncScope, source: SourceTenant) -> list[dict[str, Any]]:
    """The spec's groups and users as objects: {id, type, displayName}. A display name must match exactly
    one object; an id must exist."""
    resolved = []
    for kind, refs in (("Group", scope.scope.groups), ("User", scope.scope.users)):
        for i, ref in enumerate(refs):
            path = f"spec.scope.{kind.lower()}s[{i}]"
            found = await _resolve(kind, ref, source, path)
            resolved.append({"id": found["id"].lower(), "type": kind, "displayName": found.get("displayName")})
    return resolved


async def _resolve(kind: str, ref: PrincipalRef, source: SourceTenant, path: str) -> Json:
    if ref.id is not None:
        found = await (source.group(ref.id) if kind == "Group" else source.user(ref.id))
        if found is None:
            raise DependencyNotReady(f"{path}: no {kind.lower()} with id {ref.id} in the source tenant")
        return found
    name = str(ref.display_name)
    matches = await (source.groups_named(name) if kind == "Group" else source.users_named(name))
    if not matches:
        raise DependencyNotReady(f"{path}: no {kind.lower()} named {name!r} in the source tenant")
    if len(matches) > 1:
        ids = ", ".join(m["id"] for m in matches)
        raise Blocked(
            conditions.AMBIGUOUS_REFERENCE,
            f"{path}: {len(matches)} {kind.lower()}s are named {name!r} ({ids}); refer to one by id",
        )
    return matches[0]


class ScopeReader:
    """Member users of principals, read once per group per reconcile, with the properties the scoping
    filters compare and the dynamic groups' rules read (`properties`, Graph names)."""

    def __init__(self, source: SourceTenant, properties: Iterable[str] = ()) -> None:
        self.source = source
        self.properties = tuple(sorted(properties))
        self._members: dict[str, list[dict[str, Any]]] = {}
        self._everyone: list[dict[str, Any]] | None = None

    async def in_scope(self, principals: Iterable[Json] | None, admitted: Filter) -> dict[str, Json]:
        """Who is in scope, by id: the users of these principals (None: syncAll, every member) that the
        scoping filter admits. The scope size, the synced counts, the shrink gate and the dynamic-group
        guardrail all ask this."""
        users = await (self.everyone() if principals is None else self.users_of(principals))
        return admitted.select(users)

    async def users_of(self, principals: Iterable[Json]) -> dict[str, Json]:
        """Internal member users in scope of these principals: assigned users plus DIRECT members of
        assigned groups (the service does not expand nested groups)."""
        users: dict[str, Json] = {}
        for principal in principals:
            # Resolved principals carry {id, type}; Graph's assignments {principalId, principalType}.
            pid = str(principal.get("principalId") or principal["id"]).lower()
            kind = principal.get("principalType") or principal.get("type")
            if kind == "Group":
                if pid not in self._members:
                    self._members[pid] = await self.source.direct_member_users(pid, self.properties)
                candidates: Sequence[Json] = self._members[pid]
            else:
                user = await self.source.user(pid, self.properties)
                candidates = [user] if user else []
            users.update({u["id"].lower(): u for u in candidates if u.get("userType", MEMBER) == MEMBER})
        return users

    async def everyone(self) -> dict[str, Json]:
        """Every internal member of the source tenant (syncAll)."""
        if self._everyone is None:
            self._everyone = await self.source.member_users(self.properties)
        return {u["id"].lower(): u for u in self._everyone if u.get("userType", MEMBER) == MEMBER}


@dataclass(frozen=True)
class TargetCounts:
    synced: int = 0  # users in the target provisioned from a user now in scope, enabled or not
    synced_disabled: int = 0
    soft_deleted: int = 0  # provisioned users in the target's recycle bin
    missing: int = 0  # in scope, not (yet) in the target
    orphans: int = 0  # provisioned from this source, out of scope, yet not soft-deleted
    initial_domain: str | None = None  # of the target, read off its external users' names (None: it has none)


def external_upn_prefix(source_upn: str) -> str:
    """CTS names a provisioned user <source UPN with @ as _>#EXT#@<target initial domain>."""
    return target_upn(source_upn, "").lower()


async def count_in_target(
    in_scope: Mapping[str, Json], source_domains: Sequence[str], target: TargetTenant, links: Mapping[str, str]
) -> TargetCounts:
    """Matches target users to source users by the provisioning log's links (target id -> source id, see
    links.py), and a target user no log entry names by the external name the service gives it."""
    by_name = {external_upn_prefix(u.get("userPrincipalName", "")): uid for uid, u in in_scope.items()}
    suffixes = tuple("_" + d.lower() + "#ext#@" for d in source_domains)
    found: set[str] = set()
    synced = disabled = orphans = 0
    domain = None
    async for page in target.external_member_pages():
        domain = domain or initial_domain_of(u.get("userPrincipalName", "") for u in page)
        for user in page:
            source_id = links.get(str(user.get("id", "")).lower())
            if source_id is None:
                source_id = by_name.get(_upn_prefix(user))
                if source_id is None:
                    orphans += _upn_prefix(user).endswith(suffixes)
                    continue
            if source_id in in_scope:
                found.add(source_id)
                synced += 1
                disabled += user.get("accountEnabled") is False
            else:
                orphans += 1
    soft_deleted = sum(
        1
        for u in await target.deleted_users()
        if str(u.get("id", "")).lower() in links or _upn_prefix(u).endswith(suffixes)
    )
    return TargetCounts(synced, disabled, soft_deleted, max(len(in_scope) - len(found), 0), orphans, domain)


def _upn_prefix(user: Json) -> str:
    return str(user.get("userPrincipalName", "")).lower().split("#ext#@")[0] + "#ext#@"
