"""The one place that reads Graph's error codes and turns failures into ctsync's domain errors."""

from __future__ import annotations

from collections.abc import Mapping

from .. import errors as domain
from ..errors import TenantRole

THROTTLING_STATUSES = frozenset({429, 503, 504})
DEFAULT_RETRY_AFTER = 30.0

# Graph codes that mean "the object already exists" / "no such object", whatever the status.
CONFLICT_CODES = frozenset({"Request_MultipleObjectsWithSameKeyValue", "ObjectConflict", "Conflict"})
NOT_FOUND_CODES = frozenset(
    {"Request_ResourceNotFound", "ResourceNotFound", "Directory_ObjectNotFound", "NotFound", "ItemNotFound"}
)
ALREADY_ASSIGNED_MESSAGE = "Permission being assigned already exists"
# 400s Graph answers while an object a write refers to has not reached every replica yet: adding members
# or assignments of a new object, and a service principal for an application just created.
NOT_REPLICATED_MESSAGES = (
    "one of the objects being referenced don't exist",
    "does not reference a valid application object",
)


class GraphNotFound(domain.NotYetReplicated):
    """404 or a not-found code: callers that look objects up treat it as absence; anywhere else (a write, or a
    read under an object) the object may only not have replicated yet, and the pass is retried soon."""


class GraphConflict(domain.GraphRequestFailed):
    """The object exists already: an idempotent create reads it instead."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def from_response(
    role: TenantRole, status: int, code: str | None, message: str | None, headers: Mapping[str, str] | None
) -> domain.CtsyncError:
    code = code or ""
    text = f"{role} tenant: {message or 'no message'}"
    if status in THROTTLING_STATUSES:
        return domain.Throttled(retry_after_seconds(headers) or DEFAULT_RETRY_AFTER, f"{text} ({status} {code})")
    if status == 401:
        return domain.AuthenticationFailed(role, text)
    if status == 403 or code == "Authorization_RequestDenied":
        return domain.PermissionMissing(role, [], text)
    if status == 404 or code in NOT_FOUND_CODES:
        return GraphNotFound(status, code, text)
    if status == 400 and any(marker in (message or "") for marker in NOT_REPLICATED_MESSAGES):
        return domain.NotYetReplicated(status, code, text)
    if status == 409 or code in CONFLICT_CODES or ALREADY_ASSIGNED_MESSAGE in (message or ""):
        return GraphConflict(status, code, text)
    if status >= 500:
        return domain.GraphUnavailable(f"{text} ({status} {code})")
    return domain.GraphRequestFailed(status, code, text)


def is_policy_check_failure(error: domain.CtsyncError) -> bool:
    """validateCredentials' answer when automatic redemption is missing on either side."""
    return (
        isinstance(error, domain.GraphRequestFailed) and error.code == "AzureDirectoryB2BManagementPolicyCheckFailure"
    )
