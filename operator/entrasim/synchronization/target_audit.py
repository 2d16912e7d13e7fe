"""What the provisioning service's changes leave in the target tenant's directory audit log: one
directoryAudit per user it created, updated, disabled or soft-deleted there, initiated by its first-party
app. Microsoft does not document these entries for cross-tenant synchronization: the actor's name is what
target admins see, the category and activity names are those of other user changes in the audit log, and
the app id is the one widely observed; all are choices here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..core.clock import iso
from ..core.ids import new_guid

if TYPE_CHECKING:
    from .provisioning import Outcome

SYNC_FABRIC = {
    "appId": "00000014-0000-0000-c000-000000000000",
    "displayName": "Microsoft.Azure.SyncFabric",
    "servicePrincipalId": None,
    "servicePrincipalName": None,
}
# provisioningAction -> (activityDisplayName, operationType); a disable is an update of accountEnabled.
ACTIVITIES = {
    "create": ("Add user", "Add"),
    "update": ("Update user", "Update"),
    "disable": ("Update user", "Update"),
    "delete": ("Delete user", "Delete"),
}


def _value(value: object) -> str:
    return json.dumps([] if value is None else [value])


def directory_audit(outcome: Outcome, at: float) -> dict[str, Any] | None:
    """The target's audit entry for a successful change of a target user; None for anything else."""
    activity = ACTIVITIES.get(outcome.action)
    if activity is None or outcome.status != "success" or outcome.target is None:
        return None
    target = outcome.target
    return {
        "id": f"Directory_{new_guid()}",
        "category": "UserManagement",
        "correlationId": new_guid(),
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity[0],
        "activityDateTime": iso(at),
        "loggedByService": "Core Directory",
        "operationType": activity[1],
        "initiatedBy": {"app": dict(SYNC_FABRIC), "user": None},
        "targetResources": [
            {
                "id": target.get("id"),
                "displayName": None,
                "type": "User",
                "userPrincipalName": target.get("userPrincipalName"),
                "groupType": None,
                "modifiedProperties": [
                    {"displayName": name, "oldValue": _value(old), "newValue": _value(new)}
                    for name, old, new in outcome.changes
                ],
            }
        ],
        "additionalDetails": [{"key": "UserType", "value": target.get("userType") or "Member"}],
    }
