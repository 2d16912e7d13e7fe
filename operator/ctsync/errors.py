"""Domain errors shared by every layer.

Each error carries the CamelCase `reason` its condition reports and whether it `stalls` the resource
(a human must act) or only keeps it Reconciling (retried). Messages name fields, objects and ids, never
secret values.
"""

from collections.abc import Sequence
from typing import Final, Literal

TenantRole = Literal["source", "target"]

# The CamelCase reasons these errors carry (ctsync.api.conditions lists them with all the other reasons).
INVALID_SPEC: Final = "InvalidSpec"  # the spec is invalid; nothing is written until it changes
DEPENDENCY_NOT_READY: Final = "DependencyNotReady"  # a referenced resource or object is not ready yet
SCOPE_SHRINK_BLOCKED: Final = "ScopeShrinkBlocked"  # too many users would leave scope without acknowledgement
AMBIGUOUS_REFERENCE: Final = "AmbiguousReference"  # a name matches more than one object
MAPPING_CONFLICT: Final = "MappingConflict"  # two AttributeMappings disagree about one target attribute
NOT_OWNED: Final = "NotOwned"  # the object belongs to someone else and may not be adopted
GRAPH_UNAVAILABLE: Final = "GraphUnavailable"  # Microsoft Graph could not be reached or answered 5xx
THROTTLED: Final = "Throttled"  # Microsoft Graph asked to slow down (429)
AUTHENTICATION_FAILED: Final = "AuthenticationFailed"  # no token could be obtained for a tenant
PERMISSION_MISSING: Final = "PermissionMissing"  # the app registration lacks a Graph permission
GRAPH_REQUEST_FAILED: Final = "GraphRequestFailed"  # Microsoft Graph rejected a request
READ_INCOMPLETE: Final = "ReadIncomplete"  # a read failed or was partial; destructive changes withheld
AWAITING_REPLICATION: Final = "AwaitingReplication"  # Graph does not show an object ctsync just created, yet
CREATE_NOT_VISIBLE: Final = "CreateNotVisible"  # an object ctsync created stayed invisible past the bound

# Reasons a Blocked error may carry: gates a human resolves by changing the spec or an annotation.
BLOCKED_REASONS: Final = frozenset(
    {SCOPE_SHRINK_BLOCKED, AMBIGUOUS_REFERENCE, MAPPING_CONFLICT, NOT_OWNED, CREATE_NOT_VISIBLE}
)


class CtsyncError(Exception):
    reason: str  # set by every subclass
    stalls: bool = False
    retry_after: float | None = None  # seconds the service asked us to wait; None: the caller's own backoff

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidSpec(CtsyncError):
    """The spec cannot be applied as written; nothing is written to Graph until it changes."""

    reason = INVALID_SPEC
    stalls = True

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path


class DependencyNotReady(CtsyncError):
    """Something this resource needs (another resource, a Graph object) is not ready yet; retried."""

    reason = DEPENDENCY_NOT_READY


class Blocked(CtsyncError):
    """A safety gate holds the change until a human resolves it (spec change or annotation)."""

    stalls = True

    def __init__(self, reason: str, message: str) -> None:
        if reason not in BLOCKED_REASONS:
            raise ValueError(f"{reason!r} is not a Blocked reason")
        super().__init__(message)
        self.reason = reason


class GraphUnavailable(CtsyncError):
    """Graph could not be reached or answered with a server error; retried after `retry_after` seconds."""

    reason = GRAPH_UNAVAILABLE

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(GraphUnavailable):
    reason = THROTTLED
    retry_after: float

    def __init__(self, retry_after: float, message: str = "Microsoft Graph throttled the request") -> None:
        super().__init__(f"{message}; retry after {retry_after:g}s", retry_after)


class AuthenticationFailed(CtsyncError):
    reason = AUTHENTICATION_FAILED
    stalls = True

    def __init__(self, tenant_role: TenantRole, message: str) -> None:
        super().__init__(f"{tenant_role} tenant: {message}")
        self.tenant_role = tenant_role


class PermissionMissing(CtsyncError):
    reason = PERMISSION_MISSING
    stalls = True

    def __init__(self, tenant_role: TenantRole, permissions: Sequence[str], detail: str = "") -> None:
        """`permissions` is empty when Graph only says "insufficient privileges"; `detail` says that."""
        wanted = ", ".join(permissions) or "a Graph permission or directory role it lacks"
        said = f" ({detail})" if detail else ""
        super().__init__(f"{tenant_role} tenant: the app registration needs {wanted}{said}")
        self.tenant_role = tenant_role
        self.permissions = tuple(permissions)


# Statuses a later attempt can succeed on: timeouts, conflicts a re-read resolves, throttling, server errors.
_RETRYABLE_STATUSES = frozenset({408, 409, 412, 429})


class GraphRequestFailed(CtsyncError):
    reason = GRAPH_REQUEST_FAILED

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.stalls = not (status >= 500 or status in _RETRYABLE_STATUSES)


class ReadIncomplete(CtsyncError):
    """A read failed or returned a partial result: it must never be taken for "empty"."""

    reason = READ_INCOMPLETE

    def __init__(self, what: str) -> None:
        super().__init__(f"incomplete read of {what}; destructive changes are withheld until it succeeds")
        self.what = what


REPLICATION_RETRY_SECONDS = 5.0


class NotYetReplicated(GraphRequestFailed):
    """Graph says an object does not exist (404), or that one a write refers to does not (400): right after a
    create, Graph's replicas take seconds to agree. Retried soon, after observing again: an object that is
    really gone is then planned anew, one ctsync just created is waited for."""

    reason = AWAITING_REPLICATION

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.stalls = False
        self.retry_after = REPLICATION_RETRY_SECONDS


class AwaitingReplication(CtsyncError):
    """Objects ctsync created are not visible in Graph yet; the pass is repeated soon, nothing is created twice."""

    reason = AWAITING_REPLICATION
    retry_after = REPLICATION_RETRY_SECONDS
