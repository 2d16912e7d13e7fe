"""The synchronization secrets of a CTS configuration: CompanyId, AuthenticationType, SyncAll and the
deletion threshold inside SyncNotificationSettings (all values are strings)."""

import json
from collections.abc import Mapping
from typing import Any, Final

from ctsync.api.syncscope import SyncScope
from ctsync.planning.plan import Action, Json, summary


def desired_secrets(scope: SyncScope, observed: Mapping[str, str] | None, target_tenant_id: str) -> dict[str, str]:
    """The synchronization secrets (all strings); notification settings the spec does not own are kept."""
    notification = _json_object((observed or {}).get("SyncNotificationSettings"))
    notification = {"Enabled": False, "HumanResourcesLookaheadQueryEnabled": False, **notification}
    threshold = scope.deprovisioning.deletion_threshold
    notification["DeleteThresholdEnabled"] = threshold > 0
    if threshold > 0:
        notification["DeleteThresholdValue"] = threshold
    else:
        notification.pop("DeleteThresholdValue", None)
    return {
        "AuthenticationType": "SyncPolicy",
        "CompanyId": target_tenant_id,
        "SyncNotificationSettings": json.dumps(notification, separators=(",", ":")),
        "SyncAll": "true" if scope.scope.sync_all else "false",
    }


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_THRESHOLD_KEYS: Final = ("DeleteThresholdEnabled", "DeleteThresholdValue")


def _threshold(settings: Json) -> tuple[bool, str | None]:
    """The deletion threshold of notification settings; the service may store booleans and numbers as text."""
    enabled = str(settings.get("DeleteThresholdEnabled")).lower() == "true"
    return enabled, str(settings.get("DeleteThresholdValue")) if enabled else None


def _secret_changes(key: str, current: str | None, wanted: str) -> dict[str, tuple[Any, Any]]:
    """Changes of one secret; of the notification settings only the threshold, which the spec owns."""
    if key != "SyncNotificationSettings":
        # GUIDs and "true"/"True" compare case-insensitively.
        same = current is not None and current.strip().lower() == wanted.lower()
        return {} if same else {key: (current, wanted)}
    have, want = _json_object(current), json.loads(wanted)
    if _threshold(have) == _threshold(want):
        return {}
    return {f"{key}.{k}": (have.get(k), want.get(k)) for k in _THRESHOLD_KEYS if have.get(k) != want.get(k)}


def plan_secrets(scope: SyncScope, observed: Mapping[str, str] | None, target_tenant_id: str) -> list[Action]:
    wanted = desired_secrets(scope, observed, target_tenant_id)
    current = observed or {}
    changes = {
        name: change
        for key, value in wanted.items()
        for name, change in _secret_changes(key, current.get(key), value).items()
    }
    if not changes:
        return []
    # SyncAll true -> false takes every unassigned user out of scope.
    narrows = "SyncAll" in changes and str(current.get("SyncAll")).lower() == "true"
    return [
        Action(
            "source",
            "source.secrets",
            "update",
            summary("update", "source synchronization secrets", changes),
            changes,
            destructive=narrows,
            body={"value": [{"key": k, "value": v} for k, v in wanted.items()]},
        )
    ]
