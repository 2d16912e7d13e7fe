"""Which provisioning log entries link a target user to a source user."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ctsync.reconcile.links import Links, link_of
from support.memory import Held


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


def test_links_are_read_by_id_text_in_either_case() -> None:
    links = Links()
    links.link("5D1C3B2A-0F4E-4A8B-9C7D-6E5F4A3B2C1D", "0a1b2c3d-0f4e-4a8b-9c7d-6e5f4a3b2c1d")
    links.link("t-1", "S-1")  # not GUIDs: kept as text
    links.link("t-1", "s-2")  # a later entry wins
    assert links.get("5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d") == "0a1b2c3d-0f4e-4a8b-9c7d-6e5f4a3b2c1d"
    assert links.get("T-1") == "s-2" and links.get("t-2") is None
    assert "5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d" in links and "t-2" not in links and 1 not in links
    assert dict(links) == {"5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d": "0a1b2c3d-0f4e-4a8b-9c7d-6e5f4a3b2c1d", "t-1": "s-2"}


def test_links_of_guids_take_under_two_thirds_of_the_memory_of_their_text() -> None:
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(5_000)]
    with Held() as as_text:
        kept_as_text = {str(target): str(source) for target, source in pairs}
    with Held() as compact:
        links = Links()
        for target, source in pairs:
            links.link(str(target), str(source))
    assert len(links) == len(kept_as_text) and compact.bytes < as_text.bytes * 2 / 3
