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


T1, S1, S2 = (str(uuid.UUID(int=n)) for n in (0x5D1C3B2A0F4E4A8B9C7D6E5F4A3B2C1D, 7, 1 << 100))


@pytest.mark.parametrize("settled", [False, True])
def test_links_are_read_by_id_text_in_either_case(settled: bool) -> None:
    links = Links()
    links.link(T1.upper(), S1)
    links.link("t-1", "S-1")  # not GUIDs: kept as text
    links.link(S1, "s-3")  # a GUID linked to text
    if settled:
        links.settle()
    links.link("t-1", "s-2")  # a later entry wins
    links.link(T1, S2)
    assert links.get(T1) == S2 and links.get(T1.upper()) == S2
    assert links.get("T-1") == "s-2" and links.get("t-2") is None and links.get(S1) == "s-3"
    assert T1 in links and "t-2" not in links and S2 not in links and 1 not in links
    assert dict(links) == {T1: S2, "t-1": "s-2", S1: "s-3"} and len(links) == 3
    links.settle()
    assert dict(links) == {T1: S2, "t-1": "s-2", S1: "s-3"} and len(links) == 3


def test_links_of_guids_once_settled_take_under_a_third_of_the_memory_of_their_text() -> None:
    """The operator keeps every job's links while it runs: hundreds of thousands at 100 pairs."""
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(5_000)]
    with Held() as as_text:
        kept_as_text = {str(target): str(source) for target, source in pairs}
    with Held() as compact:
        links = Links()
        for target, source in pairs:
            links.link(str(target), str(source))
        links.settle()
    assert dict(links) == kept_as_text and compact.bytes < as_text.bytes / 3, (compact.bytes, as_text.bytes)
