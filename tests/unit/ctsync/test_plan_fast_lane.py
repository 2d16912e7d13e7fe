"""The fast lane's pure decisions: what counts as a change, coalescing, bursts, and the token bucket."""

from __future__ import annotations

from typing import Any

import pytest

from ctsync.planning.fast_lane import (
    BURST_WINDOW_SECONDS,
    ON_DEMAND_REQUESTS,
    ON_DEMAND_WINDOW_SECONDS,
    Change,
    OnDemandQueue,
    ScopeView,
    TokenBucket,
    followed_properties,
)

TEAM = "g-team"


def member(user_id: str, *, removed: bool = False, kind: str = "#microsoft.graph.user") -> dict[str, Any]:
    item: dict[str, Any] = {"@odata.type": kind, "id": user_id}
    if removed:
        item["@removed"] = {"reason": "deleted"}
    return item


def group(*members: dict[str, Any], group_id: str = TEAM) -> dict[str, Any]:
    return {"id": group_id, "members@delta": list(members)}


def seen(view: ScopeView, groups: list[dict[str, Any]] = [], users: list[dict[str, Any]] = []) -> list[tuple[str, str]]:  # noqa: B006
    return [(c.user_id, c.reason) for c in view.changes(groups, users, 100.0)]


@pytest.fixture
def view() -> ScopeView:
    v = ScopeView(groups=frozenset({TEAM}))
    v.baseline([group(member("ada"))], [{"id": "ada", "department": "R&D", "accountEnabled": True}])
    return v


def test_the_baseline_is_not_a_change_and_a_new_member_enters_scope(view: ScopeView) -> None:
    assert view.in_scope("ada") and not view.in_scope("bob")
    assert seen(view, [group(member("bob"))], [{"id": "bob", "department": "Sales", "accountEnabled": True}]) == [
        ("bob", "EnteredScope"),
        ("bob", "AttributeChanged"),  # coalesced by the queue
    ]


def test_members_of_other_groups_and_non_users_are_ignored(view: ScopeView) -> None:
    assert (
        seen(view, [group(member("bob"), group_id="other"), group(member("dev", kind="#microsoft.graph.device"))]) == []
    )
    assert seen(view, [], [{"id": "bob", "department": "Sales"}]) == []  # bob is not in scope


def test_attribute_changes_replays_disable_and_reenable(view: ScopeView) -> None:
    assert seen(view, [], [{"id": "ada", "department": "Legal", "accountEnabled": True}]) == [
        ("ada", "AttributeChanged")
    ]
    assert seen(view, [], [{"id": "ada", "department": "Legal", "accountEnabled": True}]) == []  # a replay
    assert seen(view, [], [{"id": "ada", "department": "Legal", "accountEnabled": False}]) == [("ada", "Disabled")]
    assert seen(view, [], [{"id": "ada", "department": "Legal", "accountEnabled": True}]) == [("ada", "Reenabled")]


def test_leaving_scope_is_seen_but_left_to_the_cycle(view: ScopeView) -> None:
    changes = view.changes([group(member("ada", removed=True))], [], 5.0)
    assert [(c.user_id, c.reason, c.on_demand) for c in changes] == [("ada", "LeftScope", False)]
    view.baseline([group(member("ada"))], [])
    assert [(c.reason, c.on_demand) for c in view.changes([], [{"id": "ada", "@removed": {}}], 6.0)] == [
        ("LeftScope", False)
    ]


def test_directly_assigned_users_and_sync_all_are_in_scope() -> None:
    direct = ScopeView(groups=frozenset(), users=frozenset({"cy"}))
    assert seen(direct, [], [{"id": "cy", "city": "Oslo"}, {"id": "dee", "city": "Rome"}]) == [
        ("cy", "AttributeChanged")
    ]
    everyone = ScopeView(groups=frozenset(), sync_all=True)
    assert seen(everyone, [], [{"id": "dee", "city": "Rome"}]) == [("dee", "AttributeChanged")]


def test_the_queue_coalesces_a_user_and_keeps_the_first_change_time() -> None:
    queue = OnDemandQueue(burst=30)
    queue.offer([Change("ada", "EnteredScope", 1.0), Change("ada", "AttributeChanged", 2.0)], 2.0)
    queue.offer([Change("bob", "AttributeChanged", 3.0)], 3.0)
    first = queue.take()
    assert first is not None and (first.user_id, first.reason, first.seen_at) == ("ada", "EnteredScope", 1.0)
    assert queue.take() == Change("bob", "AttributeChanged", 3.0)
    assert queue.take() is None


def test_a_disable_drops_a_queued_update() -> None:
    queue = OnDemandQueue(burst=30)
    queue.offer([Change("ada", "AttributeChanged", 1.0), Change("ada", "Disabled", 2.0)], 2.0)
    assert queue.take() is None


def test_a_burst_hands_everyone_to_the_cycle_until_a_calm_minute() -> None:
    queue = OnDemandQueue(burst=3)
    queue.offer([Change(f"u{i}", "EnteredScope", 0.0) for i in range(3)], 0.0)
    assert queue.state == "Active"
    queue.offer([Change("u3", "EnteredScope", 1.0)], 1.0)
    assert (queue.state, len(queue.bulk_users), queue.take()) == ("Bulk", 4, None)
    queue.offer([Change("u4", "AttributeChanged", 2.0)], 2.0)
    assert len(queue.bulk_users) == 5
    queue.settle(30.0)
    assert queue.state == "Bulk"
    queue.settle(2.0 + BURST_WINDOW_SECONDS)
    assert queue.state == "Active" and queue.take() is None  # the cycle carries what was queued


def test_the_bucket_never_exceeds_the_documented_limit_in_any_window() -> None:
    for per_minute in (30, 12, 1):
        bucket, now, sent = TokenBucket.per_minute(per_minute), 0.0, []
        while now < 120:
            wait = bucket.wait(now)
            if wait == 0:
                sent.append(now)
            now += max(wait, 0.01) if wait else 0.0
        for start in sent:
            in_window = [t for t in sent if start <= t < start + ON_DEMAND_WINDOW_SECONDS]
            assert len(in_window) <= ON_DEMAND_REQUESTS, (per_minute, start)
        assert len(sent) >= per_minute * 2 - 1  # the asked rate is reached over two minutes


def test_the_bucket_waits_out_a_429_then_resumes() -> None:
    bucket = TokenBucket.per_minute(30)
    assert bucket.wait(0.0) == 0.0
    bucket.throttled(0.5, retry_after=7.0)
    assert bucket.wait(1.0) == pytest.approx(6.5)
    assert bucket.wait(7.5) == 0.0
    assert bucket.wait(7.5) == pytest.approx(2.0)


def test_a_rate_above_the_limit_is_capped() -> None:
    assert TokenBucket.per_minute(600).rate == pytest.approx(0.5)


def test_followed_properties_are_what_the_mappings_read_and_the_filters_compare() -> None:
    schema = {
        "synchronizationRules": [
            {
                "objectMappings": [
                    {
                        "sourceObjectName": "User",
                        "targetObjectName": "User",
                        "attributeMappings": [
                            {"source": {"type": "Attribute", "name": "mobile", "expression": "[mobile]"}},
                            {"source": {"type": "Function", "expression": 'Join(" ", [givenName], [surname])'}},
                            {"source": {"type": "Attribute", "name": "netId", "expression": "[netId]"}},
                        ],
                        "scope": {"groups": [{"clauses": [{"sourceOperandName": "department"}]}]},
                    }
                ]
            }
        ]
    }
    assert followed_properties(schema) == {"mobilePhone", "givenName", "surname", "department"}
