"""provisionOnDemand: one user provisioned at once, outside the cycles, with the same rules, and logged as
the cycles log. Unlike a cycle it always reports: why a user is not provisioned (`NotEffectivelyEntitled`),
that nothing had to change (`RedundantExport`), or the policy error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..auditlogs.models import ProvisioningEvent, Step
from ..core.clock import iso
from ..core.ids import new_guid
from .preconditions import check_policies
from .provisioning import Outcome, Pass, Provisioner, cost, failure
from .provisioning_logs import ProvisioningLog
from .schema import SOURCE_DIRECTORY, TARGET_DIRECTORY
from .scope import assigned_ids, is_internal_member, passes, source_attributes, sync_all
from .steps import import_step, text

if TYPE_CHECKING:
    from ..world import Tenant
    from .job import Job

_REDUNDANT = "The state of the user in both the source and target systems already match."
_RESULTS = {"success": "Success", "skipped": "Skipped", "failure": "Failure"}


def provision_on_demand(
    source: Tenant, job: Job, user: Mapping[str, Any], now: float
) -> tuple[Outcome, ProvisioningEvent]:
    """Provisions one user at once, outside the cycles, and logs it as the cycles do."""
    provisioner = Provisioner(source, job)
    run = Pass(new_guid(), True, provisioner.target_tenant_id(), assigned_ids(source, job.sp_id))
    entitled = sync_all(job.secrets) or user["id"] in run.assigned
    error = check_policies(source, job.secrets.get("CompanyId"))
    if error is not None:
        outcome = failure("create", user, [], error.code, error.message)
    elif not (entitled and passes(job.rule, user, run.assigned)):
        outcome = _not_entitled(job, user, run)
    else:
        outcome = provisioner.synchronize(user["id"], now, run) or Outcome("other", "skipped", user)
    if outcome.action == "other" and outcome.error is None:
        outcome = replace(outcome, error=("RedundantExport", _REDUNDANT))
    return outcome, ProvisioningLog(source, job).record(outcome, now, cost(outcome, True), run)


def _not_entitled(job: Job, user: Mapping[str, Any], run: Pass) -> Outcome:
    assigned = sync_all(job.secrets) or user["id"] in run.assigned
    attributes = source_attributes(user, assigned)
    in_scope = is_internal_member(user) and job.rule.in_scope(attributes)
    details = {
        "IsActive": "True",
        "Assigned": text(assigned),
        "IsEffectivelyEntitledForProvisioning": text(assigned and is_internal_member(user)),
        "IsInProvisioningScopeDisplayName": text(in_scope),
        "ScopeEvaluationResult": json.dumps(job.rule.scope_result(attributes)),
    }
    reason = (
        f"The User '{user.get('userPrincipalName')}' will be skipped: it is not assigned to the "
        "application or is outside the provisioning scope."
    )
    steps: tuple[Step, ...] = (
        import_step(user, attributes, user["id"] in job.managed),
        ("EntrySynchronizationScoping", "scoping", "skipped", reason, details),
    )
    return Outcome("other", "skipped", user, None, (), steps, error=("NotEffectivelyEntitled", reason))


def on_demand_result(outcome: Outcome, event: ProvisioningEvent) -> dict[str, str]:
    """provisionOnDemand's stringKeyStringValuePair (the API reference shape): JSON in both strings."""
    result = _RESULTS[outcome.status]
    details = {} if outcome.error is None else {"errorCode": outcome.error[0], "errorMessage": outcome.error[1]}
    started = event["activityDateTime"]
    user, target = outcome.source or {}, outcome.target or {}
    value = {
        "action": "Other" if outcome.action == "stageddelete" else outcome.action.capitalize(),
        "changeId": event["changeId"],
        "endTime": iso(event.timestamp + event["durationInMilliseconds"] / 1000),
        "modifiedProperties": event["modifiedProperties"],
        "provisioningSteps": [
            {
                "name": name,
                "type": kind.capitalize(),
                "status": status.capitalize(),
                "description": description,
                "timestamp": started,
                "details": dict(step_details),
            }
            for name, kind, status, description, step_details in outcome.steps
        ],
        "reportableIdentifier": user.get("userPrincipalName"),
        "startTime": started,
        "statusInfo": {
            "status": result,
            "errorCode": details.get("errorCode"),
            "reason": details.get("errorMessage"),
            "additionalDetails": None,
            "errorCategory": None,
            "recommendedAction": None,
        },
        "sourceIdentity": {
            "id": user.get("id"),
            "type": "User",
            "displayName": user.get("displayName"),
            "details": None,
        },
        "sourceSystem": {"id": None, "name": SOURCE_DIRECTORY, "details": None},
        "targetIdentity": {
            "id": target.get("id"),
            "type": "User",
            "displayName": target.get("displayName"),
            "details": None,
        },
        "targetSystem": {"id": None, "name": TARGET_DIRECTORY, "details": None},
    }
    return {"key": json.dumps({"result": result, "details": details}), "value": json.dumps(value)}
