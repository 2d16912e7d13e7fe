"""Shards: the slot of a TenantPair is stable and even, and a pair's SyncScopes and AttributeMappings follow it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ctsync.api.sharding import slot_of
from ctsync.config import MAX_SHARDS, Shard, parse_shard
from ctsync.handlers import indexes, sharding

NS = "team-a"


def test_the_slot_is_a_fixed_function_of_namespace_and_name() -> None:
    # Fixed values: a change of the hash would move every resource to another shard on upgrade.
    assert [slot_of(NS, f"pair-{i}", 3) for i in range(8)] == [slot_of(NS, f"pair-{i}", 3) for i in range(8)]
    assert slot_of("ns", "p0", 3) == 1 and slot_of("team-a", "contoso-to-fabrikam", 3) == 2
    assert slot_of(NS, "a", 1) == 0


@pytest.mark.parametrize("count", [2, 3, 16])
def test_pairs_spread_evenly_and_each_has_exactly_one_owner(count: int) -> None:
    owners = [[i for i in range(count) if slot_of(NS, f"pair-{n}", count) == i] for n in range(1600)]
    assert all(len(found) == 1 for found in owners)
    per_shard = Counter(found[0] for found in owners)
    assert min(per_shard.values()) > 0.7 * 1600 / count


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3", "'3' is not INDEX/COUNT"),
        ("a/3", "is not INDEX/COUNT"),
        ("-1/3", "is not INDEX/COUNT"),
        ("3/3", "INDEX must be from 0 to 2 (got 3)"),
        ("0/0", f"COUNT must be from 1 to {MAX_SHARDS} (got 0)"),
        ("0/17", f"COUNT must be from 1 to {MAX_SHARDS} (got 17)"),
    ],
)
def test_bad_shards_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_shard(text)
    assert message in str(raised.value)


def test_good_shards_parse() -> None:
    assert parse_shard("0/1") == Shard(0, 1) and parse_shard("15/16") == Shard(15, 16)
    assert str(Shard(2, 3)) == "2/3"


def body(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"namespace": NS, "name": name}, "spec": spec or {}}


class FakeIndex(dict[indexes.Key, list[indexes.ScopeEntry]]):
    """kopf.Index is a mapping of keys to collections of values."""


def scopes(**pairs: str) -> Any:
    return FakeIndex({(NS, scope): [indexes.ScopeEntry({}, {}, pair)] for scope, pair in pairs.items()})


def test_a_pair_its_scopes_and_their_mappings_share_an_owner_key() -> None:
    index = scopes(hr="contoso")
    pair = sharding.owner_key(indexes.TENANT_PAIRS, body("contoso"), index)
    scope = sharding.owner_key(indexes.SYNC_SCOPES, body("hr", {"tenantPairRef": {"name": "contoso"}}), index)
    mapping = sharding.owner_key(indexes.ATTRIBUTE_MAPPINGS, body("m", {"syncScopeRef": {"name": "hr"}}), index)
    assert pair == scope == mapping == (NS, "contoso")


def test_without_a_known_pair_a_resource_falls_back_to_a_name() -> None:
    index = scopes()
    assert sharding.owner_key(indexes.SYNC_SCOPES, body("hr"), index) == (NS, "hr")
    mapping = body("m", {"syncScopeRef": {"name": "missing"}})
    assert sharding.owner_key(indexes.ATTRIBUTE_MAPPINGS, mapping, index) == (NS, "missing")


def test_the_filter_passes_only_this_shards_resources_and_keeps_the_handlers_own() -> None:
    assert sharding.owned(None, indexes.TENANT_PAIRS) is None
    mine = next(n for n in range(50) if slot_of(NS, f"p{n}", 3) == 0)
    theirs = next(n for n in range(50) if slot_of(NS, f"p{n}", 3) != 0)
    when = sharding.owned(Shard(0, 3), indexes.TENANT_PAIRS)
    assert when is not None
    assert when(body=body(f"p{mine}"), sync_scopes=scopes()) is True
    assert when(body=body(f"p{theirs}"), sync_scopes=scopes()) is False
    not_deleted = sharding.owned(Shard(0, 3), indexes.TENANT_PAIRS, lambda type, **_: type != "DELETED")
    assert not_deleted is not None
    assert not_deleted(body=body(f"p{mine}"), sync_scopes=scopes(), type="MODIFIED") is True
    assert not_deleted(body=body(f"p{mine}"), sync_scopes=scopes(), type="DELETED") is False
