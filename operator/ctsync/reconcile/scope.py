"""Who is in a SyncScope's scope, counted the way the provisioning service counts it, and how many of them
are in the target tenant. Read-only: these numbers feed the shrink gate, status and metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
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
    filters compare and the dynamic groups' rules read (`properties`, Graph names).

    At 100k users what the reader holds is most of an audit's memory, so it keeps one record per internal
    member, read page by page, under the id it is known by (lower case, the same text object as the record's
    id), and hands it on without copies wherever one group, or everyone, is the whole scope."""

    def __init__(self, source: SourceTenant, properties: Iterable[str] = ()) -> None:
        self.source = source
        self.properties = tuple(sorted(properties))
        self._members: dict[str, dict[str, Json]] = {}
        self._everyone: dict[str, Json] | None = None

    async def in_scope(self, principals: Iterable[Json] | None, admitted: Filter) -> Mapping[str, Json]:
        """Who is in scope, by id: the users of these principals (None: syncAll, every member) that the
        scoping filter admits. The scope size, the synced counts, the shrink gate and the dynamic-group
        guardrail all ask this. Read-only: it may be what the reader keeps."""
        users = await (self.everyone() if principals is None else self.users_of(principals))
        return admitted.select(users)

    async def users_of(self, principals: Iterable[Json]) -> Mapping[str, Json]:
        """Internal member users in scope of these principals: assigned users plus DIRECT members of
        assigned groups (the service does not expand nested groups)."""
        each = [await self._users_of(principal) for principal in principals]
        if len(each) == 1:
            return each[0]
        users: dict[str, Json] = {}
        for some in each:
            users.update(some)
        return users

    async def _users_of(self, principal: Json) -> Mapping[str, Json]:
        # Resolved principals carry {id, type}; Graph's assignments {principalId, principalType}.
        pid = str(principal.get("principalId") or principal["id"]).lower()
        if (principal.get("principalType") or principal.get("type")) != "Group":
            user = await self.source.user(pid, self.properties)
            return _keep_members({}, [user] if user else [])
        if pid not in self._members:
            self._members[pid] = await _read_members(self.source.direct_member_user_pages(pid, self.properties))
        return self._members[pid]

    async def everyone(self) -> Mapping[str, Json]:
        """Every internal member of the source tenant (syncAll)."""
        if self._everyone is None:
            self._everyone = await _read_members(self.source.member_user_pages(self.properties))
        return self._everyone


async def _read_members(pages: AsyncIterable[Sequence[Json]]) -> dict[str, Json]:
    members: dict[str, Json] = {}
    async for page in pages:  # one page of Graph's objects at a time
        _keep_members(members, page)
    return members


def _keep_members(members: dict[str, Json], users: Iterable[Json]) -> dict[str, Json]:
    """Adds the internal members of `users`, each as Graph gave it but with its id in lower case (the same
    text as its key) and its userType one shared text."""
    for user in users:
        if user.get("userType", MEMBER) == MEMBER:
            uid = str(user["id"]).lower()
            members[uid] = {**user, "id": uid, **({"userType": MEMBER} if "userType" in user else {})}
    return members


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
    links.py), and a target user no log entry names by the external name the service gives it. The target
    is read a page at a time; only the names of the users no link names are kept until the scope is matched
    against them (few once the log is read: the scope's names are never all held twice)."""
    suffixes = tuple("_" + d.lower() + "#ext#@" for d in source_domains)
    found: set[str] = set()
    unlinked: Counter[str] = Counter()  # external name prefix -> target users no link names
    unlinked_disabled: Counter[str] = Counter()
    synced = disabled = orphans = 0
    domain = None
    async for page in target.external_member_pages():
        domain = domain or initial_domain_of(u.get("userPrincipalName", "") for u in page)
        for user in page:
            source_id = links.get(str(user.get("id", "")).lower())
            if source_id is None:
                unlinked[_upn_prefix(user)] += 1
                if user.get("accountEnabled") is False:
                    unlinked_disabled[_upn_prefix(user)] += 1
            elif source_id in in_scope:
                found.add(source_id)
                synced += 1
                disabled += user.get("accountEnabled") is False
            else:
                orphans += 1
    for uid, source_user in in_scope.items() if unlinked else ():
        prefix = external_upn_prefix(source_user.get("userPrincipalName", ""))
        if prefix in unlinked:
            found.add(uid)
            synced += unlinked.pop(prefix)
            disabled += unlinked_disabled[prefix]
    orphans += sum(count for prefix, count in unlinked.items() if prefix.endswith(suffixes))
    soft_deleted = sum(
        1
        for u in await target.deleted_users()
        if str(u.get("id", "")).lower() in links or _upn_prefix(u).endswith(suffixes)
    )
    return TargetCounts(synced, disabled, soft_deleted, max(len(in_scope) - len(found), 0), orphans, domain)


def _upn_prefix(user: Json) -> str:
    return str(user.get("userPrincipalName", "")).lower().split("#ext#@")[0] + "#ext#@"
