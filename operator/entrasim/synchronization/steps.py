"""The provisioning steps a log entry and provisionOnDemand report for one user: import, scoping,
matching, processing, export. Each is a `Step` tuple (name, type, status, description, details)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..auditlogs.models import Step
from .schema import SOURCE_DIRECTORY, TARGET_DIRECTORY, CompiledRule
from .scope import SourceView

_IMPORT_DETAILS = (
    "objectId",
    "accountEnabled",
    "department",
    "displayName",
    "mailNickname",
    "userPrincipalName",
    "netId",
    "showInAddressList",
    "IsSoftDeleted",
    "appRoleAssignments",
)
_VERBS = {
    "create": ("Add", "created", "in"),
    "update": ("Update", "updated", "in"),
    "disable": ("Update", "disabled", "in"),
    "delete": ("Delete", "deleted", "from"),
}


def text(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def import_step(user: Mapping[str, Any], attributes: Mapping[str, object] | None, known: bool) -> Step:
    """The source user read: with every attribute when the user is provisioned, by id when it leaves."""
    upn = user.get("userPrincipalName", user["id"])
    change = "Update" if known else "Add"
    if attributes is None:
        return (
            "EntryImport",
            "import",
            "success",
            f"Retrieved User '{upn}' from {SOURCE_DIRECTORY}",
            {"objectId": user["id"]},
        )
    details = {name: text(attributes.get(name)) for name in _IMPORT_DETAILS}
    details["alternativeSecurityIds"] = "None"
    return (
        f"EntryImport{change}",
        "import",
        "success",
        f"Received User '{upn}' change of type ({change}) from {SOURCE_DIRECTORY}",
        details,
    )


def in_scope_step(rule: CompiledRule, attributes: Mapping[str, object], assigned: bool) -> Step:
    details = {
        "Active in the source system": "True",
        "Assigned to the application": text(assigned),
        "User has the required role": text(assigned),
        "Scoping filter evaluation passed": "True",
        "ScopeEvaluationResult": json.dumps(rule.scope_result(attributes)),
    }
    return scoping_step(details)


def out_of_scope_step(rule: CompiledRule, user: Mapping[str, Any] | None, assigned: bool) -> Step:
    """Why a user the job provisioned is no longer in scope (`user` is None once it is deleted)."""
    details = {
        "Active in the source system": text(user is not None),
        "Assigned to the application": text(assigned),
        "Scoping filter evaluation passed": text(user is not None and rule.in_scope(SourceView(user, assigned))),
    }
    return scoping_step(details)


def scoping_step(details: dict[str, str]) -> Step:
    return (
        "EntrySynchronizationScoping",
        "scoping",
        "success",
        "Determine if User in scope by evaluating against each scoping filter",
        details,
    )


def matching_step(target: Mapping[str, Any] | None) -> Step:
    if target is None:
        return ("EntryImport", "matching", "success", f"No matching User was found in {TARGET_DIRECTORY}", {})
    return (
        "EntryImport",
        "matching",
        "success",
        f"Retrieved '{target.get('userPrincipalName', target.get('id'))}' from {TARGET_DIRECTORY}",
        {"id": str(target.get("id")), "userPrincipalName": str(target.get("userPrincipalName", ""))},
    )


_WHY = {
    "create": f" (User is active and assigned in {SOURCE_DIRECTORY}, but no matching User was found in "
    f"{TARGET_DIRECTORY})",
    "delete": f" (User is not in scope in {SOURCE_DIRECTORY})",
}


def action_steps(action: str, user: Mapping[str, Any]) -> list[Step]:
    """The processing step that decides an action and the export step that carries it out."""
    verb, done, preposition = _VERBS[action]
    upn = user.get("userPrincipalName", user.get("id"))
    where = f"{preposition} {TARGET_DIRECTORY}"
    return [
        (
            f"EntrySynchronization{verb}",
            "processing",
            "success",
            f"User '{upn}' will be {done} {where}{_WHY.get(action, '')}",
            {},
        ),
        (f"EntryExport{verb}", "export", "success", f"User '{upn}' was {done} {where}", {}),
    ]


def export_failure_step(action: str, user: Mapping[str, Any], reason: str) -> Step:
    return (
        f"EntryExport{_VERBS[action][0]}",
        "export",
        "failure",
        reason,
        {"ReportableIdentifier": str(user.get("userPrincipalName", ""))},
    )
