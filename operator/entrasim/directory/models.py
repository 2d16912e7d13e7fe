"""Directory state and rules for one tenant: users, groups, membership, recycle bin, change tracking.

Objects are stored as Graph-shaped dicts so $select/$filter work on them directly; bookkeeping that
Graph does not expose lives in separate maps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.errors import BadRequest, Conflict, ResourceNotFound
from ..core.ids import is_guid, new_guid

if TYPE_CHECKING:
    from ..world import Tenant

RECYCLE_BIN_SECONDS = 30 * 24 * 3600

# Properties GET /users returns when the caller gives no $select (Graph's default set).
USER_DEFAULT_PROPERTIES = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)
USER_PROPERTIES = frozenset(USER_DEFAULT_PROPERTIES) | {
    "accountEnabled", "ageGroup", "city", "companyName", "country", "createdDateTime", "creationType",
    "department", "employeeId", "employeeType", "externalUserState", "faxNumber", "identities",
    "mailNickname", "onPremisesExtensionAttributes", "otherMails", "passwordProfile", "postalCode",
    "preferredDataLocation", "proxyAddresses", "showInAddressList", "state", "streetAddress",
    "usageLocation", "userType", "deletedDateTime", "alternativeSecurityIds", "employeeHireDate",
    "manager", "telephoneNumber",
}
GROUP_PROPERTIES = frozenset({
    "id", "displayName", "description", "mailEnabled", "mailNickname", "securityEnabled", "groupTypes",
    "membershipRule", "membershipRuleProcessingState", "createdDateTime", "deletedDateTime",
    "isAssignableToRole", "visibility", "mail",
})
EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{i}" for i in range(1, 16))


class DirectoryBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}  # group id -> direct member ids
        self.deleted: dict[str, dict[str, Any]] = {}  # recycle bin: id -> object with deletedDateTime
        self.deleted_kind: dict[str, str] = {}  # id -> "user" | "group"
        self._upn_index: dict[str, str] = {}  # lower-cased UPN -> id
        # Change tracking for delta queries: object id -> (sequence, kind); sequence grows monotonically.
        self.sequence = 0
        self.changes: dict[str, tuple[int, str]] = {}

    # --- bookkeeping ---------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.tenant.world.clock.iso_now()

    def touch(self, object_id: str, kind: str) -> None:
        self.sequence += 1
        self.changes[object_id] = (self.sequence, kind)

    # --- users ---------------------------------------------------------------------------------------
    def create_user(self, props: Mapping[str, Any], *, object_id: str | None = None) -> dict[str, Any]:
        unknown = set(props) - USER_PROPERTIES
        if unknown:
            raise BadRequest(f"Property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.user'.")
        upn = props.get("userPrincipalName")
        if not isinstance(upn, str) or "@" not in upn:
            raise BadRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        if upn.lower() in self._upn_index:
            raise Conflict("Another object with the same value for property userPrincipalName already exists.")
        for required in ("displayName", "accountEnabled"):
            if required not in props:
                raise BadRequest(f"Property '{required}' is required when creating the user.")
        user_id = object_id or new_guid()
        user: dict[str, Any] = {
            "id": user_id,
            "businessPhones": [],
            "createdDateTime": self._now(),
            "userType": "Member",
            "creationType": None,
            "externalUserState": None,
            "onPremisesExtensionAttributes": dict.fromkeys(EXTENSION_ATTRIBUTES),
            "alternativeSecurityIds": [],
            "deletedDateTime": None,
        }
        user.update({k: v for k, v in props.items() if k != "passwordProfile"})
        user.setdefault("mailNickname", upn.split("@")[0])
        self.users[user_id] = user
        self._upn_index[upn.lower()] = user_id
        self.touch(user_id, "user")
        return user

    def get_user(self, id_or_upn: str) -> dict[str, Any]:
        key = id_or_upn if is_guid(id_or_upn) else self._upn_index.get(id_or_upn.lower(), "")
        user = self.users.get(key)
        if user is None:
            raise ResourceNotFound(f"Resource '{id_or_upn}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        return user

    def update_user(self, id_or_upn: str, props: Mapping[str, Any]) -> dict[str, Any]:
        user = self.get_user(id_or_upn)
        unknown = set(props) - USER_PROPERTIES
        if unknown:
            raise BadRequest(f"Property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.user'.")
        if "id" in props and props["id"] != user["id"]:
            raise BadRequest("Property 'id' is read-only and cannot be set.")
        new_upn = props.get("userPrincipalName")
        if new_upn and new_upn.lower() != user["userPrincipalName"].lower():
            if new_upn.lower() in self._upn_index:
                raise Conflict("Another object with the same value for property userPrincipalName already exists.")
            del self._upn_index[user["userPrincipalName"].lower()]
            self._upn_index[new_upn.lower()] = user["id"]
        for key, value in props.items():
            if key == "onPremisesExtensionAttributes" and isinstance(value, Mapping):
                user[key] = {**user[key], **value}
            elif key != "passwordProfile":
                user[key] = value
        self.touch(user["id"], "user")
        return user

    def delete_user(self, id_or_upn: str) -> None:
        """Soft delete: the user moves to the recycle bin for 30 days and leaves every group."""
        user = self.get_user(id_or_upn)
        del self.users[user["id"]]
        del self._upn_index[user["userPrincipalName"].lower()]
        for member_ids in self.members.values():
            member_ids.discard(user["id"])
        user["deletedDateTime"] = self._now()
        self.deleted[user["id"]] = user
        self.deleted_kind[user["id"]] = "user"
        self.touch(user["id"], "deleted")

    def restore(self, object_id: str) -> dict[str, Any]:
        obj = self.deleted.get(object_id)
        if obj is None:
            raise ResourceNotFound(f"Resource '{object_id}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        kind = self.deleted_kind[object_id]
        if kind == "user" and obj["userPrincipalName"].lower() in self._upn_index:
            raise Conflict("Another object with the same value for property userPrincipalName already exists.")
        del self.deleted[object_id]
        del self.deleted_kind[object_id]
        obj["deletedDateTime"] = None
        if kind == "user":
            self.users[object_id] = obj
            self._upn_index[obj["userPrincipalName"].lower()] = object_id
        else:
            self.groups[object_id] = obj
            self.members.setdefault(object_id, set())
        self.touch(object_id, kind)
        return obj

    def hard_delete(self, object_id: str) -> None:
        if self.deleted.pop(object_id, None) is None:
            raise ResourceNotFound(f"Resource '{object_id}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        del self.deleted_kind[object_id]
        self.changes.pop(object_id, None)

    def purge_recycle_bin(self, now: float) -> list[str]:
        """Hard-deletes what has been in the recycle bin for more than 30 days."""
        expired = [
            oid for oid, obj in self.deleted.items()
            if now - datetime.fromisoformat(obj["deletedDateTime"].replace("Z", "+00:00")).timestamp()
            > RECYCLE_BIN_SECONDS
        ]
        for oid in expired:
            self.hard_delete(oid)
        return expired

    # --- groups --------------------------------------------------------------------------------------
    def create_group(self, props: Mapping[str, Any], *, object_id: str | None = None) -> dict[str, Any]:
        unknown = set(props) - GROUP_PROPERTIES
        if unknown:
            raise BadRequest(f"Property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.group'.")
        for required in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
            if required not in props:
                raise BadRequest(f"Property '{required}' is required when creating the group.")
        group_id = object_id or new_guid()
        group: dict[str, Any] = {
            "id": group_id, "description": None, "groupTypes": [], "membershipRule": None,
            "membershipRuleProcessingState": None, "createdDateTime": self._now(), "deletedDateTime": None,
            "mail": None, "isAssignableToRole": None, "visibility": None,
        }
        group.update(props)
        self.groups[group_id] = group
        self.members[group_id] = set()
        self.touch(group_id, "group")
        return group

    def get_group(self, group_id: str) -> dict[str, Any]:
        group = self.groups.get(group_id)
        if group is None:
            raise ResourceNotFound(f"Resource '{group_id}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        return group

    def is_dynamic(self, group_id: str) -> bool:
        return "DynamicMembership" in (self.get_group(group_id).get("groupTypes") or [])

    def add_member(self, group_id: str, member_id: str) -> None:
        self.get_group(group_id)
        if member_id not in self.users and member_id not in self.groups:
            raise ResourceNotFound(f"Resource '{member_id}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        if member_id in self.members[group_id]:
            raise BadRequest("One or more added object references already exist for the following modified "
                             "properties: 'members'.")
        self.members[group_id].add(member_id)
        self.touch(group_id, "group")

    def remove_member(self, group_id: str, member_id: str) -> None:
        self.get_group(group_id)
        if member_id not in self.members[group_id]:
            raise ResourceNotFound(f"Resource '{member_id}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
        self.members[group_id].discard(member_id)
        self.touch(group_id, "group")

    def direct_members(self, group_id: str) -> list[dict[str, Any]]:
        self.get_group(group_id)
        return [self._object(mid) for mid in self.members[group_id] if self._exists(mid)]

    def transitive_members(self, group_id: str) -> list[dict[str, Any]]:
        seen: set[str] = set()
        stack = [group_id]
        self.get_group(group_id)
        while stack:
            for mid in self.members.get(stack.pop(), ()):
                if mid not in seen and self._exists(mid):
                    seen.add(mid)
                    if mid in self.groups:
                        stack.append(mid)
        return [self._object(mid) for mid in seen]

    def member_of(self, object_id: str) -> Iterable[str]:
        return (gid for gid, mids in self.members.items() if object_id in mids)

    def _exists(self, object_id: str) -> bool:
        return object_id in self.users or object_id in self.groups

    def _object(self, object_id: str) -> dict[str, Any]:
        return self.users.get(object_id) or self.groups[object_id]
