"""Which provisioning log entries link a target user to a source user."""

from __future__ import annotations

from typing import Any

import pytest

from ctsync.reconcile.links import link_of


def entry(action: str = "create", status: str = "success", source: str = "S-1", target: str = "T-1") -> dict[str, Any]:
    return {
        "provisioningAction": action,
        "provisioningStatusInfo": {"status": status},
        "sourceIdentity": {"id": source},
        "targetIdentity": {"id": target},
    }


@pytest.mark.parametrize(
    ("doc", "link"),
    [
        (entry(), ("t-1", "s-1")),
        (entry("update"), ("t-1", "s-1")),
        (entry("other"), ("t-1", "s-1")),  # a match, or nothing to change
        (entry("delete"), None),  # the target user is gone, not linked
        (entry(status="failure"), None),
        (entry(status="skipped"), None),
        (entry(target=""), None),  # nothing was created
        ({"provisioningAction": "create", "provisioningStatusInfo": {"status": "success"}}, None),
    ],
)
def test_links_come_from_successful_writes_and_matches(doc: dict[str, Any], link: tuple[str, str] | None) -> None:
    assert link_of(doc) == link
