"""`ctsync bootstrap` in one tenant, as a signed-in administrator: read what the tenant holds of ctsync's app
registration (planning/bootstrap.py decides what to change) and run the planned steps."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..graph.client import GraphClient
from ..planning.bootstrap import CTSYNC_TAG, GRAPH_APP_ID, Observed, Step

_PLACEHOLDER = re.compile(r"\{(application|servicePrincipal)\.(\w+)\}")


class AmbiguousApp(ValueError):
    """Several app registrations could be ctsync's: adopting one would be a guess."""


async def observe(client: GraphClient, display_name: str) -> Observed:
    """The signed-in user's roles and what the tenant holds of ctsync's app registration, before any write."""
    roles = await client.list_all("/me/memberOf/microsoft.graph.directoryRole")
    graph_sp = await client.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')", {"$select": "id,appRoles"})
    graph_roles = {
        r["value"]: r["id"]
        for r in graph_sp.get("appRoles", [])
        if "Application" in r.get("allowedMemberTypes", []) and r.get("value")
    }
    app = _pick(await client.list_all("/applications", {"$filter": f"displayName eq '{_quoted(display_name)}'"}))
    sp = None
    federated: list[dict[str, Any]] = []
    granted: frozenset[str] = frozenset()
    if app is not None:
        sp = await client.get_optional(f"/servicePrincipals(appId='{app['appId']}')")
        federated = await client.list_all(f"/applications/{app['id']}/federatedIdentityCredentials")
    if sp is not None:
        held = await client.list_all(f"/servicePrincipals/{sp['id']}/appRoleAssignments")
        granted = frozenset(a["appRoleId"] for a in held if a.get("resourceId") == graph_sp["id"])
    return Observed(
        user_roles=frozenset(r["roleTemplateId"] for r in roles),
        graph_sp_id=graph_sp["id"],
        graph_roles=graph_roles,
        app=app,
        sp=sp,
        granted_role_ids=granted,
        federated=federated,
    )


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _pick(apps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The app registration to adopt: the one tagged as ctsync's, else the only one of that name."""
    tagged = [a for a in apps if CTSYNC_TAG in (a.get("tags") or [])]
    candidates = tagged or apps
    if len(candidates) > 1:
        ids = ", ".join(a["appId"] for a in candidates)
        raise AmbiguousApp(f"several app registrations have this name ({ids}): pass another --app-name")
    return candidates[0] if candidates else None


def resolve(value: Any, saved: Mapping[str, Mapping[str, Any] | None]) -> Any:
    """`value` with the placeholders of earlier answers filled in (strings, lists and objects)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: str((saved.get(m.group(1)) or {}).get(m.group(2), m.group(0))), value)
    if isinstance(value, list):
        return [resolve(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, saved) for k, v in value.items()}
    return value


async def run(client: GraphClient, steps: Sequence[Step], observed: Observed) -> list[dict[str, Any] | None]:
    """Runs the steps in order; the answers, in order (a secret answer included: the caller outputs it)."""
    saved: dict[str, Mapping[str, Any] | None] = {"application": observed.app, "servicePrincipal": observed.sp}
    answers = []
    for step in steps:
        answer = await client.request(
            step.method, resolve(step.path, saved), body=resolve(step.body, saved), retry=step.method != "POST"
        )
        if step.saves:
            saved[step.saves] = answer
        answers.append(answer)
    return answers
