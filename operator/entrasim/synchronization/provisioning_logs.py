"""Provisioning-log rendering: one `provisioningObjectSummary` event per outcome, recorded in the source
tenant's audit log, and for each change made in the target a directory audit there. Cycles log every
change and failure; provisionOnDemand logs every call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..auditlogs.models import ProvisioningEvent
from ..core.clock import iso
from ..core.errors import GraphError
from ..core.ids import new_guid
from .schema import SOURCE_DIRECTORY, TARGET_DIRECTORY
from .target_audit import directory_audit

if TYPE_CHECKING:
    from ..world import Tenant
    from .job import Job
    from .provisioning import Outcome, Pass

INITIATED_BY = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}


class ProvisioningLog:
    """Writes one job's provisioning events; reads the service principal once for all of them."""

    def __init__(self, source: Tenant, job: Job) -> None:
        self.source = source
        self.job = job
        self._service_principal: dict[str, Any] | None = None

    def _principal(self) -> dict[str, Any]:
        if self._service_principal is None:
            try:
                self._service_principal = self.source.applications.service_principal(self.job.sp_id)
            except GraphError:
                self._service_principal = {"id": self.job.sp_id, "displayName": "", "appId": ""}
        return self._service_principal

    def record(self, outcome: Outcome, at: float, duration: float, run: Pass) -> ProvisioningEvent:
        sp = self._principal()
        user, target = outcome.source or {}, outcome.target or {}
        error = None
        if outcome.error is not None:
            category = "nonServiceFailure" if outcome.status == "skipped" else "failure"
            error = {
                "errorCode": outcome.error[0],
                "reason": outcome.error[1],
                "additionalDetails": None,
                "errorCategory": category,
                "recommendedAction": None,
            }
        core = {
            "id": new_guid(),
            "activityDateTime": iso(at),
            "tenantId": run.target_id,
            "jobId": self.job.id,
            "cycleId": run.id,
            "changeId": new_guid(),
            "provisioningAction": outcome.action,
            "durationInMilliseconds": int(duration * 1000),
            "servicePrincipal": {"id": self.job.sp_id, "displayName": sp.get("displayName")},
            "sourceSystem": {"id": self.source.id, "displayName": SOURCE_DIRECTORY, "details": {}},
            "targetSystem": {
                "id": run.target_id,
                "displayName": TARGET_DIRECTORY,
                "details": {
                    "ApplicationId": sp.get("appId"),
                    "ServicePrincipalId": self.job.sp_id,
                    "ServicePrincipalDisplayName": sp.get("displayName"),
                },
            },
            "initiatedBy": INITIATED_BY,
            "sourceIdentity": {
                "id": user.get("id", ""),
                "displayName": user.get("displayName") or "",
                "identityType": "User",
                "details": {
                    "id": user.get("id", ""),
                    "odatatype": "User",
                    "DisplayName": user.get("displayName") or "",
                    "UserPrincipalName": user.get("userPrincipalName") or "",
                },
            },
            "targetIdentity": {
                "id": target.get("id", ""),
                "displayName": target.get("displayName") or "",
                "identityType": "User",
                "details": {},
            },
            "provisioningStatusInfo": {"status": outcome.status, "errorInformation": error},
        }
        event = ProvisioningEvent(core, at, outcome.steps, outcome.changes)
        self.source.audit.record(event)
        self._audit_in_target(outcome, at, run.target_id)
        return event

    def _audit_in_target(self, outcome: Outcome, at: float, target_id: str) -> None:
        """A change the engine made in the target shows in the target's own directory audit log too."""
        audit = directory_audit(outcome, at)
        target = self.source.world.tenants.get(target_id)
        if audit is not None and target is not None:
            target.audit.record_directory(audit, at)
