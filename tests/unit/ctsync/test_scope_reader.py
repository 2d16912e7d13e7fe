"""What the scope reader keeps of a large group: one record per internal member, not Graph's pages plus
copies of them (at 100k users it is most of an audit's memory)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

from ctsync.api.syncscope import Clause, ScopingFilter
from ctsync.graph.cts import SourceTenant
from ctsync.planning.scoping import Filter, from_spec
from ctsync.reconcile.scope import ScopeReader
from support.memory import Held

GROUP = {"id": "group-1", "type": "Group"}
PAGE = 999


def graph_user(n: int) -> dict[str, Any]:
    return {
        "id": f"{n:08X}-0F4E-4A8B-9C7D-6E5F4A3B2C1D",
        "userPrincipalName": f"person{n:06d}@contoso.example",
        "accountEnabled": n % 7 != 0,
        "userType": "Guest" if n % 10 == 9 else "Member",
    }


class PagedGroup:
    """A source tenant with one group of `count` users, given a page of freshly parsed JSON at a time as
    the Graph client gives them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.reads = 0

    async def direct_member_user_pages(self, group_id: str, properties: Iterable[str] = ()) -> AsyncIterator[Any]:
        self.reads += 1
        for start in range(0, self.count, PAGE):
            yield json.loads(json.dumps([graph_user(n) for n in range(start, min(start + PAGE, self.count))]))


def reader(group: PagedGroup) -> ScopeReader:
    return ScopeReader(cast(SourceTenant, group))


async def test_the_members_are_read_once_by_lower_case_id_without_guests() -> None:
    group = PagedGroup(30)
    scope_reader = reader(group)
    everyone = await scope_reader.in_scope([GROUP], Filter())
    enabled = await scope_reader.in_scope([GROUP], from_spec([ScopingFilter((Clause("accountEnabled", "IS TRUE"),))]))
    assert group.reads == 1
    assert len(everyone) == 27 and all(uid == u["id"] == uid.lower() for uid, u in everyone.items())
    assert set(enabled) == {uid for uid, u in everyone.items() if u["accountEnabled"]}


async def test_a_large_group_is_held_once_in_no_more_memory_than_graphs_objects() -> None:
    with Held() as graph_objects:
        pages = await all_pages(PagedGroup(10_000))
    scope_reader = reader(PagedGroup(10_000))
    with Held() as kept:
        in_scope = await scope_reader.in_scope([GROUP], Filter())
    assert len(in_scope) < len(pages) and kept.bytes < graph_objects.bytes * 1.1, (kept.bytes, graph_objects.bytes)


async def all_pages(group: PagedGroup) -> list[Any]:
    return [user async for page in group.direct_member_user_pages("group-1") for user in page]
