"""Directory state and rules for one tenant: users, groups, membership, recycle bin, change tracking.

Objects are stored as Graph-shaped dicts so $select/$filter work on them directly; bookkeeping that
Graph does not expose lives in separate maps and indexes."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import BadRequest, ResourceNotFound, UnsupportedQuery
from ..core.ids import is_guid, new_guid
from ..core.odata import FilterTerm, QueryOptions, apply_query, compile_search
from ..core.replication import hidden, unreplicated_reference, visible_only
from ..core.resources import RESOURCES, ResourceProperties
from .exceptions import DeltaReset, InvalidObjectIdentifier, ObjectConflict, SyncStateNotFound
from .membership_rules import Rule, compile_rule

if TYPE_CHECKING:
    from ..world import Tenant

RECYCLE_BIN_SECONDS = 30 * 24 * 3600
DELTA_TOKEN_SECONDS = 7 * 24 * 3600  # directory delta tokens stay valid for seven days
PROPERTY_HISTORY = 32  # per object: the latest changes whose properties a delta $select is compared with

# fmt: off
# Properties a user or group may be created or updated with; reads know more (core/resources.py).
USER_PROPERTIES = frozenset(RESOURCES["user"].default) | {
    "accountEnabled", "ageGroup", "city", "companyName", "country", "createdDateTime", "creationType",
    "department", "employeeId", "employeeType", "externalUserState", "faxNumber", "identities",
    "mailNickname", "onPremisesExtensionAttributes", "otherMails", "passwordProfile", "postalCode",
    "preferredDataLocation", "proxyAddresses", "showInAddressList", "state", "streetAddress",
    "usageLocation", "userType", "deletedDateTime", "alternativeSecurityIds", "employeeHireDate",
    "manager", "telephoneNumber", "onPremisesImmutableId", "onPremisesSyncEnabled", "passwordPolicies",
}
GROUP_PROPERTIES = frozenset({
    "id", "displayName", "description", "mailEnabled", "mailNickname", "securityEnabled", "groupTypes",
    "membershipRule", "membershipRuleProcessingState", "createdDateTime", "deletedDateTime",
    "isAssignableToRole", "visibility", "mail", "proxyAddresses",
})
# fmt: on
EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{i}" for i in range(1, 16))
READ_ONLY = frozenset({"id", "createdDateTime", "deletedDateTime"})
ODATA_TYPES = {"user": "#microsoft.graph.user", "group": "#microsoft.graph.group"}
DYNAMIC = "DynamicMembership"
UNIFIED = "Unified"
PROCESSING_STATES = ("On", "Paused")


def _not_found(object_id: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."
    )


def _existing(obj: dict[str, Any] | None, ref: str) -> dict[str, Any]:
    if obj is None or hidden(obj["id"]):
        raise _not_found(ref)
    return obj


def _reject_unknown(props: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in props:
        if key not in allowed and not key.startswith("@odata."):
            raise BadRequest(f"Property '{key}' does not exist as a declared property or extension property.")


# --- query capabilities ---------------------------------------------------------------------------------
# Directory objects answer only some $filter/$orderby forms by default; others need the advanced query
# parameters (header ConsistencyLevel: eventual and $count=true), and the rest are refused.

_ADVANCED_HINT = (
    "is not supported because the required parameters might be missing. Try adding $count=true "
    "query parameter and ConsistencyLevel:eventual header. Refer to "
    "https://aka.ms/graph-docs/advanced-queries for more information"
)
_ADVANCED_OPERATORS = {"not": "not", "ne": "ne", "ne null": "ne", "endswith": "endsWith"}
_REFUSED_OPERATORS = {"gt", "lt", "contains", "tolower", "toupper", "all"}


@dataclass(frozen=True)
class Capabilities:
    resource: str  # the type name Graph's errors use: User, Group
    declared: ResourceProperties  # every property of the type; its collections' `/$count` may be compared
    default: frozenset[str]  # filterable without advanced query parameters
    advanced: frozenset[str]  # filterable only with them
    endswith: frozenset[str]
    orderby: frozenset[str]
    orderby_advanced: frozenset[str]

    def unsupported(self, prop: str) -> UnsupportedQuery:
        return UnsupportedQuery(
            f"Unsupported or invalid query filter clause specified for property '{prop}' of resource '{self.resource}'."
        )

    def needs_advanced(self, prop: str) -> UnsupportedQuery:
        if prop.startswith("onPremisesExtensionAttributes/"):
            return UnsupportedQuery(
                f"Property '{prop.split('/')[-1]}' does not exist as a declared property or extension property."
            )
        return self.unsupported(prop)

    def unknown(self, prop: str) -> BadRequest:
        return self.declared.unknown(prop)


# fmt: off
CAPABILITIES = {
    "user": Capabilities(
        resource="User",
        declared=RESOURCES["user"],
        default=frozenset({
            "accountEnabled", "ageGroup", "assignedLicenses", "businessPhones", "city", "country", "createdDateTime",
            "creationType", "deletedDateTime", "department", "displayName", "employeeId", "externalUserState",
            "givenName", "id", "identities", "jobTitle", "mail", "mailNickname", "onPremisesSyncEnabled",
            "otherMails", "proxyAddresses", "state", "surname", "usageLocation", "userPrincipalName",
            "userType",
        }),
        advanced=frozenset({
            "companyName", "employeeHireDate", "employeeType", "mobilePhone", "officeLocation",
            "onPremisesImmutableId", "passwordPolicies", "postalCode", "preferredLanguage",
            "showInAddressList", "streetAddress",
            *(f"onPremisesExtensionAttributes/{name}" for name in EXTENSION_ATTRIBUTES),
        }),
        endswith=frozenset({"mail", "otherMails", "userPrincipalName", "proxyAddresses"}),
        orderby=frozenset({"displayName", "userPrincipalName"}),
        orderby_advanced=frozenset({"createdDateTime", "deletedDateTime"}),
    ),
    "group": Capabilities(
        resource="Group",
        declared=RESOURCES["group"],
        default=frozenset({
            "assignedLicenses", "createdDateTime", "deletedDateTime", "displayName", "groupTypes",
            "hasMembersWithLicenseErrors", "id", "isAssignableToRole",
            "mail", "mailEnabled", "mailNickname", "proxyAddresses", "securityEnabled",
        }),
        advanced=frozenset({"description", "membershipRule", "membershipRuleProcessingState", "visibility"}),
        endswith=frozenset({"mail", "proxyAddresses"}),
        orderby=frozenset({"displayName"}),
        orderby_advanced=frozenset({"deletedDateTime"}),
    ),
}
# fmt: on


def check_select(kind: str, select: Iterable[str] | None, *, listing: bool = True, extra: Iterable[str] = ()) -> None:
    RESOURCES[kind].check_select(select, listing=listing, extra=extra)


def check_query(kind: str, opts: QueryOptions, *, advanced: bool) -> None:
    """Refuses the $select/$filter/$orderby/$expand forms the directory refuses for this request."""
    caps = CAPABILITIES[kind]
    check_select(kind, opts.select)
    if opts.filter_clause:
        _check_filter(caps, opts.filter_clause.terms, advanced=advanced)
    if opts.orderby and opts.filter_clause and not advanced:
        raise UnsupportedQuery("Sorting not supported for current query.")
    for prop, _desc in opts.orderby:
        if prop not in caps.orderby and not (advanced and prop in caps.orderby_advanced):
            raise UnsupportedQuery("Sorting not supported for current query.")
    if opts.expand:
        raise UnsupportedQuery(f"Expanding '{opts.expand[0]}' is not supported on this collection.")


def _check_filter(caps: Capabilities, terms: Iterable[FilterTerm], *, advanced: bool) -> None:
    for prop, op in ((t.prop, t.op) for t in terms):
        if op in _ADVANCED_OPERATORS and not advanced:
            raise UnsupportedQuery(f"Operator '{_ADVANCED_OPERATORS[op]}' {_ADVANCED_HINT}")
        if not prop:
            continue
        if prop.split("/")[0] not in caps.declared.known:
            raise caps.unknown(prop)
        if prop.endswith("/$count"):  # a collection's size: `eq`/`ne` with advanced query parameters only
            if not advanced or op not in ("eq", "ne") or prop[: -len("/$count")] not in caps.declared.collections:
                raise caps.unsupported(prop)
            continue
        if op in _REFUSED_OPERATORS or (op == "endswith" and prop not in caps.endswith):
            raise caps.unsupported(prop)
        if prop in caps.default or (advanced and prop in caps.advanced):
            if op == "eq null" and not advanced:
                raise caps.unsupported(prop)
            continue
        if prop in caps.advanced:
            raise caps.needs_advanced(prop)
        raise caps.unsupported(prop)


# --- the backend ----------------------------------------------------------------------------------------


class DirectoryBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}  # group id -> direct member ids
        self.deleted: dict[str, dict[str, Any]] = {}  # recycle bin: id -> object with deletedDateTime
        self.deleted_kind: dict[str, str] = {}  # id -> "user" | "group"
        self._deleted_at: dict[str, float] = {}  # id -> clock time of the soft delete, in deletion order
        self._parked: dict[str, tuple[set[str], set[str]]] = {}  # soft-deleted id -> (its groups, its members)
        self._upn_index: dict[str, str] = {}  # lower-cased UPN -> id
        self._group_names: dict[str, set[str]] = {}  # lower-cased displayName -> group ids
        self._member_of: dict[str, set[str]] = {}  # object id -> groups it is a direct member of
        self._dynamic: dict[str, Rule] = {}  # dynamic groups whose rule is being processed
        self._listings: dict[str, tuple[int, list[Mapping[str, Any]]]] = {}  # kind -> (sequence, objects)
        # (group id, transitive, kind) -> members, valid while the sequence stays at _member_listings_at
        self._member_listings: dict[tuple[str, bool, str | None], list[dict[str, Any]]] = {}
        self._member_listings_at = -1
        # Change tracking for delta queries. `changes` holds each object's latest change; `_log` lists
        # (sequence, id) in sequence order (stale entries are compacted away) so a round reads a suffix.
        self.sequence = 0
        self.delta_epoch = 0  # bumped by reset_delta: tokens of an earlier epoch answer 410 Gone
        self.changes: dict[str, tuple[int, str]] = {}  # id -> (sequence, "user" | "group")
        self._log: list[tuple[int, str]] = []
        # id -> the latest (sequence, properties changed; None: the whole object), for a $select round
        self._changed: dict[str, deque[tuple[int, frozenset[str] | None]]] = {}
        self._gone: dict[str, float] = {}  # hard-deleted id -> time, reported as removed until tokens expire
        self._added_at: dict[str, dict[str, int]] = {}  # group -> member -> sequence of the addition
        self._removed: dict[str, dict[str, tuple[int, str]]] = {}  # group -> ex-member -> (sequence, @odata.type)
        self._removals: deque[tuple[float, str, str, int]] = deque()  # (time, group, ex-member, sequence)

    # --- bookkeeping ---------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.tenant.world.clock.iso_now()

    def _clock(self) -> float:
        return self.tenant.world.clock.now()

    def touch(self, object_id: str, kind: str, properties: Iterable[str] | None = None) -> None:
        """Records a change for delta rounds; `properties`: what an update set (None: the whole object)."""
        self.sequence += 1
        self.changes[object_id] = (self.sequence, kind)
        self._log.append((self.sequence, object_id))
        history = self._changed.setdefault(object_id, deque(maxlen=PROPERTY_HISTORY))
        history.append((self.sequence, None if properties is None else frozenset(properties)))
        if len(self._log) > 2 * len(self.changes) + 1024:
            self._log = sorted((seq, oid) for oid, (seq, _) in self.changes.items())

    def _new_id(self, candidate: Any) -> str:
        if candidate is None:
            return new_guid()
        if not is_guid(candidate):
            raise InvalidObjectIdentifier(str(candidate))
        object_id = str(candidate).lower()
        if object_id in self.users or object_id in self.groups or object_id in self.deleted:
            raise ObjectConflict("id")
        return object_id

    def kind_of(self, object_id: str) -> str | None:
        if object_id in self.users:
            return "user"
        if object_id in self.groups:
            return "group"
        return self.deleted_kind.get(object_id)

    # --- users ---------------------------------------------------------------------------------------
    def create_user(self, props: Mapping[str, Any], *, object_id: str | None = None) -> dict[str, Any]:
        _reject_unknown(props, USER_PROPERTIES)
        upn = props.get("userPrincipalName")
        if not isinstance(upn, str) or "@" not in upn:
            raise BadRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        if upn.lower() in self._upn_index:
            raise ObjectConflict("userPrincipalName")
        for required in ("displayName", "accountEnabled"):
            if required not in props:
                raise BadRequest(f"Property '{required}' is required when creating the user.")
        user_id = self._new_id(object_id or props.get("id"))
        user: dict[str, Any] = {
            "businessPhones": [],
            "createdDateTime": self._now(),
            "userType": "Member",
            "creationType": None,
            "externalUserState": None,
            "alternativeSecurityIds": [],
            "deletedDateTime": None,
        }
        user.update(props)
        user.pop("passwordProfile", None)  # write-only: Graph never returns it
        user["id"] = user_id
        user["onPremisesExtensionAttributes"] = {
            **dict.fromkeys(EXTENSION_ATTRIBUTES),
            **(props.get("onPremisesExtensionAttributes") or {}),
        }
        user.setdefault("mailNickname", upn.split("@")[0])
        self.users[user_id] = user
        self._upn_index[upn.lower()] = user_id
        self.touch(user_id, "user")
        self._evaluate_user(user_id)
        return user

    def create_user_from_api(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """POST /users: Graph also requires what a sign-in needs (the provisioning engine and seeds don't)."""
        for required in ("mailNickname", "passwordProfile"):
            if required not in props:
                raise BadRequest(f"Property '{required}' is required when creating the user.")
        for key in READ_ONLY.intersection(props):
            raise BadRequest(f"Property '{key}' is read-only and cannot be set.")
        return self.create_user(props)

    def get_user(self, id_or_upn: str) -> dict[str, Any]:
        key = id_or_upn.lower() if is_guid(id_or_upn) else self._upn_index.get(id_or_upn.lower(), "")
        return _existing(self.users.get(key), id_or_upn)

    def update_user(self, id_or_upn: str, props: Mapping[str, Any]) -> dict[str, Any]:
        user = self.get_user(id_or_upn)
        _reject_unknown(props, USER_PROPERTIES)
        if "id" in props and str(props["id"]).lower() != user["id"]:
            raise BadRequest("Property 'id' is read-only and cannot be set.")
        new_upn = props.get("userPrincipalName", user["userPrincipalName"])
        if not isinstance(new_upn, str) or "@" not in new_upn:
            raise BadRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        if new_upn.lower() != user["userPrincipalName"].lower():
            if new_upn.lower() in self._upn_index:
                raise ObjectConflict("userPrincipalName")
            del self._upn_index[user["userPrincipalName"].lower()]
            self._upn_index[new_upn.lower()] = user["id"]
        for key, value in props.items():
            if key == "onPremisesExtensionAttributes" and isinstance(value, Mapping):
                user[key] = {**user[key], **value}
            elif key not in READ_ONLY and key != "passwordProfile":
                user[key] = value
        self.touch(user["id"], "user", props)
        self._evaluate_user(user["id"])
        return user

    def delete_user(self, id_or_upn: str) -> None:
        """Soft delete: the user moves to the recycle bin for 30 days and leaves every group."""
        user = self.get_user(id_or_upn)
        del self.users[user["id"]]
        del self._upn_index[user["userPrincipalName"].lower()]
        self._to_recycle_bin(user, "user")

    # --- recycle bin ---------------------------------------------------------------------------------
    def _to_recycle_bin(self, obj: dict[str, Any], kind: str) -> None:
        object_id = obj["id"]
        self._parked[object_id] = self._detach(object_id)
        obj["deletedDateTime"] = self._now()
        self.deleted[object_id] = obj
        self.deleted_kind[object_id] = kind
        self._deleted_at[object_id] = self._clock()
        self.touch(object_id, kind)

    def get_deleted(self, object_id: str) -> dict[str, Any]:
        return _existing(self.deleted.get(object_id.lower()) if is_guid(object_id) else None, object_id)

    def deleted_items(self, kind: str) -> list[dict[str, Any]]:
        return [obj for oid, obj in self.deleted.items() if self.deleted_kind[oid] == kind]

    def restore(self, object_id: str) -> dict[str, Any]:
        obj = self.get_deleted(object_id)
        object_id = obj["id"]
        kind = self.deleted_kind[object_id]
        if kind == "user" and obj["userPrincipalName"].lower() in self._upn_index:
            raise ObjectConflict("userPrincipalName")
        del self.deleted[object_id]
        del self.deleted_kind[object_id]
        del self._deleted_at[object_id]
        obj["deletedDateTime"] = None
        if kind == "user":
            self.users[object_id] = obj
            self._upn_index[obj["userPrincipalName"].lower()] = object_id
        else:
            self.groups[object_id] = obj
            self._index_group_name(object_id, obj["displayName"])
        self.touch(object_id, kind)
        self._reattach(object_id, *self._parked.pop(object_id, (set(), set())))
        if kind == "user":
            self._evaluate_user(object_id)
        else:
            self._apply_rule(object_id)
        return obj

    def hard_delete(self, object_id: str) -> None:
        obj = self.get_deleted(object_id)
        object_id = obj["id"]
        kind = self.deleted_kind.pop(object_id)
        del self.deleted[object_id]
        del self._deleted_at[object_id]
        self._parked.pop(object_id, None)
        self._forget(object_id, kind)

    def _forget(self, object_id: str, kind: str) -> None:
        """Permanently gone; delta keeps reporting it as removed ("deleted") until delta tokens expire."""
        if kind == "group":
            self.members.pop(object_id, None)
            self._added_at.pop(object_id, None)
            self._removed.pop(object_id, None)
        self.touch(object_id, kind)
        self._gone[object_id] = self._clock()

    def purge_recycle_bin(self, now: float) -> list[str]:
        """Hard-deletes what has been in the recycle bin for more than 30 days, and drops delta bookkeeping
        older than any valid delta token."""
        expired = _expired_prefix(self._deleted_at, now - RECYCLE_BIN_SECONDS)
        for oid in expired:
            self.hard_delete(oid)
        horizon = now - DELTA_TOKEN_SECONDS
        for oid in _expired_prefix(self._gone, horizon):
            del self._gone[oid]
            self.changes.pop(oid, None)
            self._changed.pop(oid, None)
        while self._removals and self._removals[0][0] < horizon:
            _, gid, mid, seq = self._removals.popleft()
            if self._removed.get(gid, {}).get(mid, (None,))[0] == seq:
                del self._removed[gid][mid]
        return expired

    # --- groups --------------------------------------------------------------------------------------
    def create_group(
        self, props: Mapping[str, Any], *, object_id: str | None = None, members: Iterable[str] = ()
    ) -> dict[str, Any]:
        _reject_unknown(props, GROUP_PROPERTIES)
        for required in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
            if required not in props:
                raise BadRequest(f"Property '{required}' is required when creating the group.")
        types = props.get("groupTypes") or []
        self._check_group_shape(types, props, verb="create")
        member_ids = [self._resolve_member(m) for m in members]
        if member_ids:
            self._refuse_if_dynamic(props)
        group_id = self._new_id(object_id or props.get("id"))
        group: dict[str, Any] = {
            "description": None,
            "groupTypes": [],
            "membershipRule": None,
            "membershipRuleProcessingState": None,
            "createdDateTime": self._now(),
            "deletedDateTime": None,
            "mail": None,
            "isAssignableToRole": None,
            "visibility": None,
            "proxyAddresses": [],
        }
        group.update(props)
        group["id"] = group_id
        if UNIFIED in types:
            group["mail"] = f"{props['mailNickname']}@{self.tenant.initial_domain}"
            group["visibility"] = props.get("visibility") or "Public"
        if DYNAMIC in types:
            group["membershipRuleProcessingState"] = props.get("membershipRuleProcessingState") or "On"
        self.groups[group_id] = group
        self.members[group_id] = set()
        self._index_group_name(group_id, group["displayName"])
        self.touch(group_id, "group")
        if DYNAMIC in types:
            self._apply_rule(group_id)
        else:
            self._change_members(group_id, add=member_ids)
        return group

    @staticmethod
    def _check_group_shape(types: Any, props: Mapping[str, Any], *, verb: str) -> None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise BadRequest("Invalid value specified for property 'groupTypes' of resource 'Group'.")
        for key in ("displayName", "mailNickname"):
            if not isinstance(props.get(key), str) or not props[key]:
                raise BadRequest(f"Invalid value specified for property '{key}' of resource 'Group'.")
        if props.get("mailEnabled") and UNIFIED not in types:
            raise BadRequest(f"Cannot {verb} a mail-enabled security groups and or distribution list.")
        rule = props.get("membershipRule")
        if DYNAMIC not in types and rule is not None:
            raise BadRequest(
                "The membershipRule property can only be set on a group whose groupTypes contain 'DynamicMembership'."
            )
        if DYNAMIC in types:
            if not isinstance(rule, str):
                raise BadRequest(
                    "Dynamic membership rule validation error: The membershipRule property is "
                    "required for a group with dynamic membership."
                )
            compile_rule(rule)
        state = props.get("membershipRuleProcessingState")
        if state is not None and state not in PROCESSING_STATES:
            raise BadRequest(
                "Invalid value specified for property 'membershipRuleProcessingState' of resource 'Group'."
            )

    def get_group(self, group_id: str) -> dict[str, Any]:
        if not is_guid(group_id):
            raise InvalidObjectIdentifier(group_id)
        return _existing(self.groups.get(group_id.lower()), group_id)

    def update_group(self, group_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        group = self.get_group(group_id)
        _reject_unknown(props, GROUP_PROPERTIES)
        merged = {**group, **props}
        types = merged.get("groupTypes") or []
        if DYNAMIC in types and not merged.get("membershipRuleProcessingState"):
            merged["membershipRuleProcessingState"] = "On"
        if DYNAMIC not in types and "membershipRule" not in props:
            # Turning a dynamic group into an assigned one keeps its members and drops the rule.
            merged["membershipRule"] = merged["membershipRuleProcessingState"] = None
        self._check_group_shape(types, merged, verb="update")
        if merged["displayName"] != group["displayName"]:
            self._unindex_group_name(group["id"], group["displayName"])
            self._index_group_name(group["id"], merged["displayName"])
        group.update({k: v for k, v in merged.items() if k not in READ_ONLY})
        self.touch(group["id"], "group")
        self._apply_rule(group["id"])
        return group

    def delete_group(self, group_id: str) -> None:
        """Microsoft 365 groups go to the recycle bin; security groups are deleted permanently at once."""
        group = self.get_group(group_id)
        gid = group["id"]
        del self.groups[gid]
        self._dynamic.pop(gid, None)
        self._unindex_group_name(gid, group["displayName"])
        if UNIFIED in (group.get("groupTypes") or []):
            self._to_recycle_bin(group, "group")
        else:
            self._detach(gid)
            self._forget(gid, "group")

    def groups_named(self, display_name: str) -> list[dict[str, Any]]:
        return [self.groups[gid] for gid in self._group_names.get(display_name.lower(), ())]

    def _index_group_name(self, group_id: str, name: str) -> None:
        self._group_names.setdefault(name.lower(), set()).add(group_id)

    def _unindex_group_name(self, group_id: str, name: str) -> None:
        ids = self._group_names.get(name.lower(), set())
        ids.discard(group_id)
        if not ids:
            self._group_names.pop(name.lower(), None)

    # --- membership ----------------------------------------------------------------------------------
    def _resolve_member(self, ref: str) -> str:
        """A member given by id or (for users) by UPN, as seeds and @odata.bind references name them."""
        if is_guid(ref) and hidden(ref.lower()):
            raise unreplicated_reference()
        if is_guid(ref) and self._exists(ref.lower()):
            return ref.lower()
        if not is_guid(ref) and ref.lower() in self._upn_index:
            return self._upn_index[ref.lower()]
        raise _not_found(ref)

    def add_member(self, group_id: str, member_id: str) -> None:
        if hidden(group_id.lower()):
            raise unreplicated_reference()
        group = self.get_group(group_id)
        self._refuse_if_dynamic(group)
        mid = self._resolve_member(member_id)
        if mid in self.members[group["id"]]:
            raise BadRequest(
                "One or more added object references already exist for the following modified properties: 'members'."
            )
        self._change_members(group["id"], add=[mid])

    def remove_member(self, group_id: str, member_id: str) -> None:
        group = self.get_group(group_id)
        self._refuse_if_dynamic(group)
        mid = member_id.lower()
        if mid not in self.members[group["id"]]:
            raise _not_found(member_id)
        self._change_members(group["id"], remove=[mid])

    @staticmethod
    def _refuse_if_dynamic(group: Mapping[str, Any]) -> None:
        if DYNAMIC in (group.get("groupTypes") or []):
            raise BadRequest(
                "Members of a group with dynamic membership cannot be added or removed manually; "
                "its membership rule manages them."
            )

    def _change_members(self, group_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Links and unlinks members; one group change (one sequence number) covers the whole batch."""
        add, remove = list(add), list(remove)
        if not add and not remove:
            return
        self.touch(group_id, "group")
        seq, now = self.sequence, self._clock()
        members = self.members[group_id]
        added_at = self._added_at.setdefault(group_id, {})
        removed = self._removed.setdefault(group_id, {})
        for mid in remove:
            members.discard(mid)
            added_at.pop(mid, None)
            parents = self._member_of.get(mid)
            if parents is not None:
                parents.discard(group_id)
            removed[mid] = (seq, ODATA_TYPES[self.kind_of(mid) or "user"])
            self._removals.append((now, group_id, mid, seq))
        for mid in add:
            members.add(mid)
            added_at[mid] = seq
            removed.pop(mid, None)
            self._member_of.setdefault(mid, set()).add(group_id)

    def _detach(self, object_id: str) -> tuple[set[str], set[str]]:
        """Takes an object out of every group (and empties it, for a group); returns what was cut."""
        parents = set(self._member_of.pop(object_id, ()))
        for gid in parents:
            self._change_members(gid, remove=[object_id])
        own = set(self.members.get(object_id, ()))
        if own:
            self._change_members(object_id, remove=own)
        return parents, own

    def _reattach(self, object_id: str, parents: set[str], own: set[str]) -> None:
        """A restored object rejoins the static groups it was in; a restored group gets its members back."""
        for gid in parents:
            if self._is_static(gid) and object_id not in self.members[gid]:
                self._change_members(gid, add=[object_id])
        if self._is_static(object_id):
            self._change_members(object_id, add=[m for m in own if self._exists(m)])

    def _is_static(self, group_id: str) -> bool:
        group = self.groups.get(group_id)
        return group is not None and DYNAMIC not in (group.get("groupTypes") or [])

    def _ordered_members(self, group_id: str) -> list[str]:
        """A group's direct member ids in the order they were added: a stable order for paging, and one
        that reads the objects roughly in the order they were made, which is much kinder to the CPU cache
        than a set's order when a page renders a thousand of them."""
        members = self.members.get(group_id, set())
        return [mid for mid in self._added_at.get(group_id, {}) if mid in members]

    def direct_members(self, group_id: str) -> list[dict[str, Any]]:
        return visible_only(self._members_of(self.get_group(group_id)["id"], transitive=False))

    def transitive_members(self, group_id: str) -> list[dict[str, Any]]:
        return visible_only(self._members_of(self.get_group(group_id)["id"], transitive=True))

    def _members_of(self, group_id: str, *, transitive: bool) -> list[dict[str, Any]]:
        """Direct or transitive members as every replica will have them (callers filter what the reader's
        replica has); transitive members walk nested groups, group by group."""
        if not transitive:
            return [self._object(mid) for mid in self._ordered_members(group_id)]
        seen: dict[str, None] = {}  # insertion-ordered set
        stack = [group_id]
        while stack:
            for mid in self._ordered_members(stack.pop()):
                if mid not in seen:
                    seen[mid] = None
                    if mid in self.groups:
                        stack.append(mid)
        return [self._object(mid) for mid in seen]

    def member_listing(self, group_id: str, *, transitive: bool, kind: str | None = None) -> list[dict[str, Any]]:
        """A group's direct or transitive members (only users or groups when `kind` says so) as the
        reader's replica has them. The full listing is made again only after a directory change: paging
        through a 100k-member group reads the same list once per page instead of rebuilding it. Callers
        must not modify it."""
        gid = self.get_group(group_id)["id"]
        if self._member_listings_at != self.sequence:  # every change moves the sequence
            self._member_listings.clear()
            self._member_listings_at = self.sequence
        key = (gid, transitive, kind)
        listing = self._member_listings.get(key)
        if listing is None:
            listing = self._members_of(gid, transitive=transitive)
            if kind is not None:
                listing = [o for o in listing if self.kind_of(o["id"]) == kind]
            self._member_listings[key] = listing
        return visible_only(listing)

    def member_of(self, object_id: str) -> Iterable[str]:
        return iter(self._member_of.get(object_id, ()))

    def _exists(self, object_id: str) -> bool:
        return object_id in self.users or object_id in self.groups

    def _object(self, object_id: str) -> dict[str, Any]:
        return self.users.get(object_id) or self.groups[object_id]

    # --- dynamic membership --------------------------------------------------------------------------
    def _apply_rule(self, group_id: str) -> None:
        """(Re)computes a dynamic group whose rule is processed; other groups keep the members they have."""
        group = self.groups[group_id]
        if DYNAMIC not in (group.get("groupTypes") or []) or group.get("membershipRuleProcessingState") != "On":
            self._dynamic.pop(group_id, None)
            return
        rule = compile_rule(group["membershipRule"])
        self._dynamic[group_id] = rule
        want = {uid for uid, user in self.users.items() if rule(user)}
        have = self.members[group_id]
        self._change_members(group_id, add=want - have, remove=have - want)

    def _evaluate_user(self, user_id: str) -> None:
        user = self.users[user_id]
        for gid, rule in self._dynamic.items():
            wanted, present = rule(user), user_id in self.members[gid]
            if wanted != present:
                self._change_members(gid, add=[user_id] if wanted else [], remove=[] if wanted else [user_id])

    # --- queries -------------------------------------------------------------------------------------
    def find(
        self,
        kind: str,
        opts: QueryOptions,
        *,
        advanced: bool,
        search: str | None = None,
    ) -> list[Mapping[str, Any]]:
        """Users or groups matching $filter/$search, ordered by $orderby. An equality filter on an indexed
        property reads the index instead of scanning the directory."""
        check_query(kind, opts, advanced=advanced)
        if opts.filter is None and not opts.orderby and search is None:
            return visible_only(self._listing(kind))
        candidates = self._indexed(kind, opts.filter_clause.equality if opts.filter_clause else None)
        store = self.users if kind == "user" else self.groups
        items = apply_query(store.values() if candidates is None else candidates, opts)
        if search is not None:
            matches = compile_search(search, RESOURCES[kind])
            items = [o for o in items if matches(o)]
        return visible_only(items)

    def _listing(self, kind: str) -> list[Mapping[str, Any]]:
        """Every user (or group), listed again only after a change: paging through 100k users reads the
        same list once per page. Callers must not modify it."""
        cached = self._listings.get(kind)
        if cached is None or cached[0] != self.sequence:  # every add or removal moves the sequence
            cached = self._listings[kind] = (
                self.sequence,
                list((self.users if kind == "user" else self.groups).values()),
            )
        return cached[1]

    def _indexed(self, kind: str, equality: tuple[str, Any] | None) -> list[dict[str, Any]] | None:
        """The objects an equality filter on an indexed property names, or None to scan."""
        if equality is None or not isinstance(equality[1], str):
            return None
        prop, value = equality[0], equality[1].lower()
        store = self.users if kind == "user" else self.groups
        if prop == "id":
            return [store[value]] if value in store else []
        if kind == "user" and prop == "userPrincipalName":
            return [self.users[self._upn_index[value]]] if value in self._upn_index else []
        if kind == "group" and prop == "displayName":
            return self.groups_named(value)
        return None

    # --- delta ---------------------------------------------------------------------------------------
    def delta_state(self, kind: str, since: int | None, cursor: int = 0) -> dict[str, Any]:
        """What a $skiptoken/$deltatoken carries: the round's lower bound (None: the initial round) and
        the sequence the next page starts after."""
        return {"tid": self.tenant.id, "k": kind, "lo": since, "c": cursor, "t": self._clock(), "e": self.delta_epoch}

    def reset_delta(self) -> None:
        """The service dropped its change tracking (maintenance, migration): every token issued so far is gone."""
        self.delta_epoch += 1

    def open_delta_state(self, state: Mapping[str, Any], kind: str) -> tuple[int | None, int]:
        since, cursor, issued = state.get("lo"), state.get("c"), state.get("t")
        if not isinstance(cursor, int) or not isinstance(issued, int | float):
            raise SyncStateNotFound()
        if since is not None and not (isinstance(since, int) and 0 <= since <= self.sequence):
            raise SyncStateNotFound()
        if state.get("tid") != self.tenant.id or state.get("k") != kind:
            raise SyncStateNotFound()
        if self._clock() - issued > DELTA_TOKEN_SECONDS:
            raise SyncStateNotFound()
        if state.get("e", 0) != self.delta_epoch:
            raise DeltaReset()
        return since, cursor

    def delta_page(
        self,
        kind: str,
        since: int | None,
        cursor: int,
        limit: int,
        *,
        with_members: bool = True,
        select: frozenset[str] | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` objects of `kind` changed after `since`, reading the change log after `cursor`.
        Returns them with the cursor of the next page, or None when the round is complete (the next round
        then starts after `self.sequence`). The initial round (since=None) lists only existing objects.
        An object changed while a round is being paged moves to the end of the log, so the round still
        delivers its latest state; it may be delivered twice, which Graph allows (replays). With a `select`
        of user properties, a later round leaves out users none of whose selected properties changed."""
        items: list[dict[str, Any]] = []
        pos = bisect.bisect_left(self._log, (max(cursor, since or 0) + 1,))
        while pos < len(self._log) and len(items) < limit:
            seq, oid = self._log[pos]
            pos += 1
            if self.changes.get(oid) != (seq, kind):
                continue
            if select is not None and since is not None and not self._changed_since(oid, since, select):
                continue
            item = self._delta_item(oid, kind, since, with_members=with_members)
            if item is not None:
                items.append(item)
        return items, (self._log[pos - 1][0] if pos < len(self._log) else None)

    def _changed_since(self, object_id: str, since: int, select: frozenset[str]) -> bool:
        """Whether a selected property (or the whole object: created, deleted, restored) changed after `since`;
        True when the history no longer reaches back that far."""
        history = self._changed.get(object_id)
        if not history or (len(history) == history.maxlen and history[0][0] > since):
            return True
        return any(seq > since and (props is None or props & select) for seq, props in history)

    def _delta_item(
        self,
        object_id: str,
        kind: str,
        since: int | None,
        *,
        with_members: bool,
    ) -> dict[str, Any] | None:
        live = (self.users if kind == "user" else self.groups).get(object_id)
        if live is None:
            if since is None:
                return None
            return {
                "id": object_id,
                "@removed": {"reason": "changed" if object_id in self.deleted else "deleted"},
            }
        if kind == "group" and with_members:
            return {**live, "members@delta": self._members_delta(object_id, since)}
        return live

    def _members_delta(self, group_id: str, since: int | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"@odata.type": ODATA_TYPES[self.kind_of(mid) or "user"], "id": mid}
            for mid, seq in self._added_at.get(group_id, {}).items()
            if since is None or seq > since
        ]
        if since is not None:
            out += [
                {"@odata.type": odata_type, "id": mid, "@removed": {"reason": "deleted"}}
                for mid, (seq, odata_type) in self._removed.get(group_id, {}).items()
                if seq > since
            ]
        return out


def _expired_prefix(times: dict[str, float], horizon: float) -> list[str]:
    """Keys of an insertion-ordered (hence time-ordered) map whose time is before the horizon."""
    expired = []
    for key, at in times.items():
        if at >= horizon:
            break
        expired.append(key)
    return expired
