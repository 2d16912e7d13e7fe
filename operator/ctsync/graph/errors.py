"""The one place that reads Graph's error codes and turns failures into ctsync's domain errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .. import errors as domain
from ..errors import TenantRole

THROTTLED_STATUS = 429
BUSY_STATUSES = frozenset({503, 504})  # throttling too when Retry-After comes with them
DEFAULT_RETRY_AFTER = 30.0  # a 429 without Retry-After still holds the tenant's client this long

# Graph codes that mean "the object already exists" / "no such object", whatever the status.
CONFLICT_CODES = frozenset({"Request_MultipleObjectsWithSameKeyValue", "ObjectConflict", "Conflict"})
NOT_FOUND_CODES = frozenset(
    {"Request_ResourceNotFound", "ResourceNotFound", "Directory_ObjectNotFound", "NotFound", "ItemNotFound"}
)
# A delta token Graph no longer honours: expired (7 days), or the service reset its change tracking (410 Gone).
DELTA_EXPIRED_CODES = frozenset({"syncStateNotFound", "resyncRequired"})
GONE_STATUS = 410
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


class DeltaExpired(domain.GraphRequestFailed):
    """A delta link Graph no longer honours: the follower starts a full round again."""


class ServiceBusy(domain.GraphUnavailable):
    """503/504 without Retry-After: a request safe to repeat backs off and tries again within its own call;
    nothing holds the tenant's other callers."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After as delta-seconds or as an HTTP date (RFC 9110), in seconds from now; None when absent
    or unreadable."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by the RFC's rules
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def from_response(
    role: TenantRole, status: int, code: str | None, message: str | None, headers: Mapping[str, str] | None
) -> domain.CtsyncError:
    code = code or ""
    text = f"{role} tenant: {message or 'no message'}"
    retry_after = retry_after_seconds(headers)
    if status == THROTTLED_STATUS or (status in BUSY_STATUSES and retry_after is not None):
        return domain.Throttled(
            DEFAULT_RETRY_AFTER if retry_after is None else retry_after, f"{text} ({status} {code})"
        )
    if status in BUSY_STATUSES:
        return ServiceBusy(f"{text} ({status} {code})")
    if status == 401:
        return domain.AuthenticationFailed(role, text)
    if status == GONE_STATUS or code in DELTA_EXPIRED_CODES:
        return DeltaExpired(status, code, text)
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
