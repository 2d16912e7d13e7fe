"""Errors of the synchronization endpoints, one class per wire error code.

The synchronization workload answers in its own vocabulary (`BadRequest`, `schemaInvalid`, the CTS policy
check codes) rather than the directory's `Request_*` codes."""

from __future__ import annotations

from ..core.errors import GraphError, InvalidRequest

# Documented test-connection failure when automatic redemption is not on in both tenants.
B2B_POLICY_CODE = "AzureDirectoryB2BManagementPolicyCheckFailure"
B2B_POLICY_MESSAGE = "Policy permitting auto-redemption of invitations not configured."
# Reported by customers when the target has not allowed inbound synchronization from the source.
SYNC_POLICY_CODE = "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure"
SYNC_POLICY_MESSAGE = "Policy permitting cross-tenant synchronization of users into the target tenant not configured."


class SchemaInvalid(GraphError):
    status, code = 400, "schemaInvalid"


class _PolicyCheck(GraphError):
    """Test connection refused by a cross-tenant policy; each subclass carries its documented message."""

    status = 400
    default_message = ""

    def __init__(self) -> None:
        super().__init__(self.default_message)


class PolicyCheckFailure(_PolicyCheck):
    """Automatic redemption is not on in both tenants."""

    code, default_message = B2B_POLICY_CODE, B2B_POLICY_MESSAGE


class SyncPolicyCheckFailure(_PolicyCheck):
    """The target does not allow inbound user synchronization from the source."""

    code, default_message = SYNC_POLICY_CODE, SYNC_POLICY_MESSAGE


class RequestParameterInvalid(GraphError):
    status, code = 400, "RequestParameterInvalid"


class JobAlreadyExists(GraphError):
    """One configuration per source and target: a second Azure2Azure job on the same service principal."""

    status, code = 409, "Conflict"


class SyncObjectNotFound(GraphError):
    """A job or template id the service principal does not have."""

    status, code = 404, "ResourceNotFound"


class NoHttpResource(GraphError):
    """What the service behind Graph answers to a method it does not route, such as PATCH on a job schema:
    a 404 with code UnknownError whose message is the backend's own JSON."""

    status, code = 404, "UnknownError"

    def __init__(self, backend_path: str) -> None:
        super().__init__(
            '{"Message":"No HTTP resource was found that matches the request URI '
            f"'https://syncfabric.windowsazure.com/api/{backend_path}?api-version=2.0'.\"}}"
        )


class InvalidSecret(InvalidRequest):
    """A secrets PUT with a key outside the synchronizationSecret enum or a non-string value."""
