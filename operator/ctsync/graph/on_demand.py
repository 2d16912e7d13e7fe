"""provisionOnDemand: one source user provisioned at once by the job's rule, and its answer read.

The answer is a stringKeyStringValuePair whose strings hold JSON, in one of two documented shapes: the
API reference puts `{"result", "details": {"errorCode", "errorMessage"}}` in `key` and the step report in
`value`; the cross-tenant how-to puts a type name in `key` and a list of step reports in `value`. Both are
read; what neither says is "failed" with the answer quoted, never guessed as success."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from .client import GraphClient

Outcome = Literal["created", "updated", "skipped", "failed"]
_ACTIONS: dict[str, Outcome] = {"create": "created", "update": "updated"}


@dataclass(frozen=True)
class OnDemandResult:
    outcome: Outcome
    detail: str = ""  # the skip reason or the error, as the service names it
    change_id: str = ""  # the id its provisioning log entry carries too


async def provision_on_demand(
    client: GraphClient, sp_id: str, job_id: str, rule_id: str, user_id: str
) -> OnDemandResult:
    """A 429 (the job's 5 requests per 10 s) is raised as Throttled to the caller's token bucket and holds
    no other caller of the tenant."""
    body = {"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": user_id, "objectTypeName": "User"}]}]}
    path = f"/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"
    return parse_result(await client.request("POST", path, body=body, retry=False, hold_tenant=False) or {})


def rule_id(schema: Mapping[str, Any]) -> str | None:
    """The schema's synchronization rule (an Azure2Azure schema has one)."""
    rules = schema.get("synchronizationRules") or []
    return str(rules[0]["id"]) if rules and rules[0].get("id") else None


def parse_result(pair: Mapping[str, Any]) -> OnDemandResult:
    key, report = _json(pair.get("key")), _report(_json(pair.get("value")))
    return replace(_read(key, report), change_id=str(report.get("changeId") or ""))


def _read(key: Any, report: Mapping[str, Any]) -> OnDemandResult:
    result = key.get("result") if isinstance(key, dict) else None
    if result is None:  # the how-to's shape: only the step report says what happened
        return _from_steps(report)
    details = key.get("details") or {}
    code, message = details.get("errorCode") or "", details.get("errorMessage") or ""
    if result == "Success":
        return OnDemandResult(_ACTIONS.get(str(report.get("action", "")).lower(), "updated"))
    if result == "Skipped":
        return OnDemandResult("skipped", code or message or "Skipped")
    return OnDemandResult("failed", ": ".join(p for p in (code, message) if p) or str(result))


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _report(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _from_steps(report: Mapping[str, Any]) -> OnDemandResult:
    steps = [s for s in report.get("provisioningSteps") or () if isinstance(s, dict)]
    for step in steps:
        if str(step.get("status", "")).lower() in ("failure", "failed"):
            return OnDemandResult("failed", str(step.get("description") or step.get("name")))
    for step in steps:
        if str(step.get("status", "")).lower() == "skipped" or step.get("name") == "EntrySynchronizationSkip":
            details = step.get("details") or {}
            return OnDemandResult("skipped", str(details.get("SkipReason") or step.get("description") or "Skipped"))
    exports = [str(s.get("name", "")) for s in steps if str(s.get("type", "")).lower() == "export"]
    if not exports:
        return OnDemandResult("failed", f"unreadable provisionOnDemand answer: {json.dumps(report)[:300]}")
    return OnDemandResult("created" if any("Add" in name or "Create" in name for name in exports) else "updated")
