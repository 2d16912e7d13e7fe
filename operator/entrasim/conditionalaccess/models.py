"""State and rules of the Conditional Access service for one tenant: the policies a seed declares.

The emulator serves them read-only (list and get); ctsync only reads them, to report what a sign-in of a
synchronized user will meet. Graph's create, update and delete of policies are not modelled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import BadRequest, ResourceNotFound
from ..core.ids import is_guid, new_guid

if TYPE_CHECKING:
    from ..world import Tenant

STATES = ("enabled", "disabled", "enabledForReportingButNotEnforced")
REQUIRED = ("displayName", "state", "conditions")
COMPLEX = ("conditions", "grantControls", "sessionControls")  # objects of complex types, stored as given
# The properties of a conditionalAccessPolicy in v1.0, in the order Graph returns them.
PROPERTIES = (
    "id",
    "templateId",
    "displayName",
    "createdDateTime",
    "modifiedDateTime",
    "state",
    "sessionControls",
    "conditions",
    "grantControls",
)
READ_ONLY = frozenset({"createdDateTime", "modifiedDateTime"})


def _invalid(name: str) -> BadRequest:
    return BadRequest(f"Invalid value specified for property '{name}' of resource 'ConditionalAccessPolicy'.")


def _check(props: Mapping[str, Any]) -> None:
    for key in props:
        if key not in PROPERTIES or key in READ_ONLY:
            raise BadRequest(f"Property '{key}' does not exist on type 'microsoft.graph.conditionalAccessPolicy'.")
    for key in REQUIRED:
        if props.get(key) is None:
            raise BadRequest(f"Property '{key}' is required on a conditionalAccessPolicy.")
    if not isinstance(props["displayName"], str) or not props["displayName"].strip():
        raise _invalid("displayName")
    if props["state"] not in STATES:
        raise _invalid("state")
    for key in COMPLEX:
        if props.get(key) is not None and not isinstance(props[key], dict):
            raise _invalid(key)
    if props.get("templateId") is not None and not isinstance(props["templateId"], str):
        raise _invalid("templateId")


class ConditionalAccessBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.policies: dict[str, dict[str, Any]] = {}  # lower-cased id -> policy, in creation order

    def add(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Stores a policy as Graph returns it; properties left out are null."""
        _check(props)
        policy_id = props.get("id") or new_guid()
        if not isinstance(policy_id, str) or not is_guid(policy_id):
            raise _invalid("id")
        if policy_id.lower() in self.policies:
            raise BadRequest(f"A conditionalAccessPolicy with id '{policy_id}' already exists.")
        key = policy_id.lower()
        policy = {name: props.get(name) for name in PROPERTIES}
        policy.update(id=key, createdDateTime=self.tenant.world.clock.iso_now())
        self.policies[key] = policy
        return policy

    def list(self) -> list[dict[str, Any]]:
        return list(self.policies.values())

    def get(self, policy_id: str) -> dict[str, Any]:
        policy = self.policies.get(policy_id.lower())
        if policy is None:
            raise ResourceNotFound(
                f"Resource '{policy_id}' does not exist or one of its queried reference-property objects "
                "are not present."
            )
        return policy
