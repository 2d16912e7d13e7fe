"""Status conditions (metav1.Condition shape) and the CamelCase reasons every layer reports.

Ready, Reconciling and Stalled follow kstatus: Reconciling and Stalled are "abnormal-true", i.e. True only
while something is in progress or stuck, so tools like Argo CD and `kubectl wait` read them without
knowing the kind.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from ctsync import errors

Status = Literal["True", "False", "Unknown"]

READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
SOURCE_CONFIGURED: Final = "SourceConfigured"
TARGET_CONFIGURED: Final = "TargetConfigured"
CREDENTIALS_VALID: Final = "CredentialsValid"
SYNCED: Final = "Synced"
DRIFTED: Final = "Drifted"
GUEST_MFA_RISK: Final = "GuestMFARisk"  # a warning: never changes Ready
WRITES_ALLOWED: Final = "WritesAllowed"  # SyncScope: whether it may write to its source tenant, and if not why
DYNAMIC_GROUP_COLLISION: Final = "DynamicGroupCollision"  # a warning: never makes a SyncScope un-Ready
BULK_SCOPE_CHANGE: Final = "BulkScopeChange"  # SyncScope: a bulk of users entering scope, with its estimate

# --- reasons: progress and success
RECONCILED: Final = "Reconciled"  # the tenants match the spec
PROGRESSING: Final = "Progressing"  # changes are being applied or waited for
SUSPENDED: Final = "Suspended"  # spec.suspend is true: nothing is written
OBSERVED: Final = "Observed"  # managementPolicy Observe: compared, nothing written
CONFIGURED: Final = "Configured"  # a tenant's side matches the spec
AUTHENTICATED: Final = "Authenticated"  # a token was obtained for the tenant
DRIFT_DETECTED: Final = "DriftDetected"  # the tenant differs from the spec
NO_DRIFT: Final = "NoDrift"  # the tenant matches the spec
JOB_RUNNING: Final = "JobRunning"  # the synchronization job runs on its schedule
JOB_PAUSED: Final = "JobPaused"  # the synchronization job is paused
INITIAL_CYCLE: Final = "InitialCycle"  # the job started and has not finished its first cycle
QUARANTINED: Final = "Quarantined"  # the provisioning service quarantined the job
DELETIONS_HELD: Final = "DeletionsHeld"  # the accidental-deletion threshold holds deletes for review
DELETING: Final = "Deleting"  # the resource is being deleted (finalizer running)
# --- reasons: the Conditional Access guardrail (GuestMFARisk)
POLICIES_NEED_TRUST: Final = "PoliciesNeedTrust"  # policies require what the inbound trust does not accept
NO_POLICY_EXPOSED: Final = "NoPolicyExposed"  # no policy applying to synced users needs a trust that is off
POLICIES_NOT_EVALUATED: Final = "PoliciesNotEvaluated"  # some policies could not be read or interpreted
POLICY_READ_DENIED: Final = "PolicyReadDenied"  # Policy.Read.All not granted in the target: check skipped
# --- reasons: the dynamic-group guardrail (DynamicGroupCollision)
GUESTS_JOIN_DYNAMIC_GROUPS: Final = "GuestsJoinDynamicGroups"  # a target dynamic group's rule takes in synced users
RULES_NOT_EVALUATED: Final = "RulesNotEvaluated"  # a dynamic group's rule ctsync cannot evaluate (never "safe")
NO_COLLISION: Final = "NoCollision"  # no dynamic group of the target takes in synced users
# --- reasons: the bulk-change estimate (BulkScopeChange)
USERS_ENTERING_SCOPE: Final = "UsersEnteringScope"  # more users than a bulk await provisioning
NO_BULK_CHANGE: Final = "NoBulkChange"  # no bulk of users awaits provisioning
MANAGED: Final = "Managed"  # the SyncScope, its TenantPair and its AttributeMappings all say Manage
# Why a SyncScope's writes are held: it plans and reports, and writes nothing (or not the job schema).
PAIR_OBSERVED: Final = "TenantPairObserved"  # its TenantPair's managementPolicy is Observe
PAIR_SUSPENDED: Final = "TenantPairSuspended"  # its TenantPair's spec.suspend is true
MAPPING_OBSERVED: Final = "AttributeMappingObserved"  # one of its AttributeMappings says Observe: schema held

# --- reasons: errors. ctsync.errors defines them with the errors that carry them (it imports nothing of
# ctsync, so that the api can raise those errors); every layer reads them here with the other reasons.
INVALID_SPEC: Final = errors.INVALID_SPEC
DEPENDENCY_NOT_READY: Final = errors.DEPENDENCY_NOT_READY
SCOPE_SHRINK_BLOCKED: Final = errors.SCOPE_SHRINK_BLOCKED
AMBIGUOUS_REFERENCE: Final = errors.AMBIGUOUS_REFERENCE
MAPPING_CONFLICT: Final = errors.MAPPING_CONFLICT
NOT_OWNED: Final = errors.NOT_OWNED
GRAPH_UNAVAILABLE: Final = errors.GRAPH_UNAVAILABLE
THROTTLED: Final = errors.THROTTLED
AUTHENTICATION_FAILED: Final = errors.AUTHENTICATION_FAILED
PERMISSION_MISSING: Final = errors.PERMISSION_MISSING
GRAPH_REQUEST_FAILED: Final = errors.GRAPH_REQUEST_FAILED
READ_INCOMPLETE: Final = errors.READ_INCOMPLETE
AWAITING_REPLICATION: Final = errors.AWAITING_REPLICATION
CREATE_NOT_VISIBLE: Final = errors.CREATE_NOT_VISIBLE
BLOCKED_REASONS: Final = errors.BLOCKED_REASONS


@dataclass(frozen=True)
class Condition:
    type: str
    status: Status
    reason: str
    message: str = ""
    observed_generation: int | None = None
    last_transition_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
        }
        if self.observed_generation is not None:
            out["observedGeneration"] = self.observed_generation
        if self.last_transition_time is not None:
            out["lastTransitionTime"] = self.last_transition_time
        return out


def set_condition(conditions: Sequence[Mapping[str, Any]], condition: Condition, now_iso: str) -> list[dict[str, Any]]:
    """Return a copy of `conditions` with `condition` set; lastTransitionTime moves only when status flips."""
    out: list[dict[str, Any]] = []
    replaced = False
    for current in conditions:
        if current.get("type") != condition.type:
            out.append(dict(current))
            continue
        same_status = current.get("status") == condition.status and current.get("lastTransitionTime")
        transition = current["lastTransitionTime"] if same_status else now_iso
        out.append(_with_time(condition, transition))
        replaced = True
    if not replaced:
        out.append(_with_time(condition, now_iso))
    return out


def set_conditions(
    conditions: Sequence[Mapping[str, Any]], updates: Iterable[Condition], now_iso: str
) -> list[dict[str, Any]]:
    out = [dict(c) for c in conditions]
    for condition in updates:
        out = set_condition(out, condition, now_iso)
    return out


def _with_time(condition: Condition, transition: str) -> dict[str, Any]:
    return {**condition.to_dict(), "lastTransitionTime": transition}


class Health(enum.Enum):
    """The kstatus summary of one reconcile outcome."""

    READY = "ready"  # converged
    RECONCILING = "reconciling"  # working on it, or waiting on something that resolves by itself
    STALLED = "stalled"  # cannot progress without a human (invalid spec, safety gate, missing permission)


def kstatus_conditions(health: Health, reason: str, message: str, generation: int) -> tuple[Condition, ...]:
    """The Ready/Reconciling/Stalled triplet for an outcome; the abnormal-true ones are False when normal."""

    def cond(type_: str, true: bool) -> Condition:
        return Condition(type_, "True" if true else "False", reason, message, generation)

    return (
        cond(READY, health is Health.READY),
        cond(RECONCILING, health is Health.RECONCILING),
        cond(STALLED, health is Health.STALLED),
    )
