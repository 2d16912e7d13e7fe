"""The guardrail's read failures, with the Graph client faked at its boundary: a 403 despite the permission
in the token, or a failed read, is reported as skipped or not evaluated, never as "no risk"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ctsync import errors
from ctsync.api import conditions
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile import guest_mfa

SOURCE, TARGET = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


class FailingClient:
    def __init__(self, error: errors.CtsyncError) -> None:
        self.error = error

    async def granted_roles(self) -> set[str]:
        return {"Policy.Read.All"}

    async def list_all(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        raise self.error


def pair() -> TenantPair:
    side = {"credentialsRef": {"name": "creds"}}
    return TenantPair.from_body(
        {
            "metadata": {"name": "p", "namespace": "n", "generation": 3},
            "spec": {"source": {"tenantId": SOURCE, **side}, "target": {"tenantId": TARGET, **side}},
        }
    )


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (errors.PermissionMissing("target", [], "Insufficient privileges"), "Unknown", conditions.POLICY_READ_DENIED),
        (errors.GraphUnavailable("target tenant: 503"), "Unknown", conditions.POLICIES_NOT_EVALUATED),
        (errors.ReadIncomplete("target tenant: page 2 failed"), "Unknown", conditions.POLICIES_NOT_EVALUATED),
    ],
)
async def test_a_failed_read_is_skipped_or_not_evaluated_never_safe(error, status, reason):
    clients = SimpleNamespace(target=SimpleNamespace(client=FailingClient(error)))
    result = await guest_mfa.check(pair(), clients, guest_mfa.spec_trust(pair()))  # type: ignore[arg-type]
    assert (result.condition.status, result.condition.reason) == (status, reason)
    assert result.condition.observed_generation == 3
    assert result.events({}) == []
