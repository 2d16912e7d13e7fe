"""The domain error tree: reasons, whether the resource stalls, and messages."""

import pytest

from ctsync import errors
from ctsync.api import conditions


@pytest.mark.parametrize(
    ("error", "reason", "stalls"),
    [
        (errors.InvalidSpec("spec.scope", "selects nobody"), "InvalidSpec", True),
        (errors.DependencyNotReady("TenantPair x is not Ready"), "DependencyNotReady", False),
        (errors.Blocked(conditions.SCOPE_SHRINK_BLOCKED, "too many"), "ScopeShrinkBlocked", True),
        (errors.GraphUnavailable("connection reset"), "GraphUnavailable", False),
        (errors.Throttled(30), "Throttled", False),
        (
            errors.AuthenticationFailed("target", "AADSTS7000215: invalid client secret"),
            "AuthenticationFailed",
            True,
        ),
        (errors.PermissionMissing("source", ["Synchronization.ReadWrite.All"]), "PermissionMissing", True),
        (errors.GraphRequestFailed(400, "schemaInvalid", "bad mapping"), "GraphRequestFailed", True),
        (errors.GraphRequestFailed(503, "serviceUnavailable", "later"), "GraphRequestFailed", False),
        (
            errors.GraphRequestFailed(409, "Request_MultipleObjectsWithSameKeyValue", "exists"),
            "GraphRequestFailed",
            False,
        ),
        (errors.ReadIncomplete("appRoleAssignedTo"), "ReadIncomplete", False),
    ],
)
def test_reason_and_stall(error: errors.CtsyncError, reason: str, stalls: bool) -> None:
    assert isinstance(error, errors.CtsyncError)
    assert (error.reason, error.stalls) == (reason, stalls)


def test_throttled_is_graph_unavailable_with_retry_after() -> None:
    error = errors.Throttled(12.5)
    assert isinstance(error, errors.GraphUnavailable) and error.retry_after == 12.5
    assert "12.5s" in str(error)


def test_messages_name_the_field_and_tenant() -> None:
    assert str(errors.InvalidSpec("spec.source.tenantId", "is not a GUID")) == "spec.source.tenantId: is not a GUID"
    missing = errors.PermissionMissing("target", ["Policy.ReadWrite.CrossTenantAccess"])
    assert str(missing).startswith("target tenant:") and "Policy.ReadWrite.CrossTenantAccess" in str(missing)
    vague = errors.PermissionMissing("source", [], "Insufficient privileges to complete the operation.")
    assert "Insufficient privileges" in str(vague)


def test_blocked_accepts_only_gate_reasons() -> None:
    with pytest.raises(ValueError, match="not a Blocked reason"):
        errors.Blocked("InvalidSpec", "wrong tree")
