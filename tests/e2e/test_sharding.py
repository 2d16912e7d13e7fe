"""`ctsync operator --shard INDEX/COUNT` against a real API server and entrasim: three shards split the
TenantPairs by the hash of namespace/name, a pair's SyncScope and AttributeMapping go with it, each resource is
handled by exactly one shard, and after resharding (stop all, start two) each resource has its new owner."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from ctsync.api.sharding import slot_of
from e2e.operator_fixtures import (
    PAIR,
    Kube,
    OperatorProcess,
    Sim,
    apply_pair,
    apply_scope_and_mapping,
    tenant_pair,
    wait_until,
)

pytestmark = pytest.mark.e2e

PER_SHARD = 2  # TenantPairs per shard, the example's included


def extra_pairs(namespace: str) -> list[str]:
    """Names that, with the example pair, give each of 3 shards PER_SHARD pairs (the namespace is random)."""
    taken = [slot_of(namespace, PAIR, 3)]
    names = []
    for n in range(1000):
        slot = slot_of(namespace, f"pair-{n}", 3)
        if taken.count(slot) < PER_SHARD:
            taken.append(slot)
            names.append(f"pair-{n}")
    return names[: 3 * PER_SHARD - 1]


def handled(operator: OperatorProcess, namespace: str, name: str) -> bool:
    """Whether the operator's log has a handler line of the object (kopf prefixes them "[namespace/name]")."""
    return (
        re.search(rf"\[{re.escape(namespace)}/{re.escape(name)}\] (Handler|Resuming|Creation|Updating)", operator.log())
        is not None
    )


def owners(shards: list[OperatorProcess], namespace: str, name: str) -> list[int]:
    return [i for i, shard in enumerate(shards) if handled(shard, namespace, name)]


def test_each_resource_is_handled_by_exactly_one_shard_and_moves_on_resharding(
    entrasim: Sim, tenants: Kube, operators: Callable[..., OperatorProcess]
) -> None:
    ns = tenants.namespace
    shards = [operators(f"shard-{i}-of-3", "--shard", f"{i}/3") for i in range(3)]
    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)
    tenants.wait_ready("attributemappings", PAIR)
    extra = extra_pairs(ns)
    for name in extra:
        body = tenant_pair(entrasim)
        body["metadata"]["name"] = name
        tenants.create(body)
    names = [PAIR, *extra]
    wait_until(
        lambda: all((tenants.get("tenantpairs", n) or {}).get("status", {}).get("conditions") for n in names),
        60,
        "every TenantPair has a status",
    )
    assert sorted(slot_of(ns, n, 3) for n in names) == [0, 0, 1, 1, 2, 2]
    for name in names:
        assert owners(shards, ns, name) == [slot_of(ns, name, 3)], name
    # The example pair's SyncScope and AttributeMapping (same name) were handled with it, by its shard only.
    for shard in shards:
        assert ("syncscope.reconcile" in shard.log()) == (shard is shards[slot_of(ns, PAIR, 3)])
        assert ("attributemapping.reconcile" in shard.log()) == (shard is shards[slot_of(ns, PAIR, 3)])

    # Resharding: stop every shard, then start the new count; each resumes exactly the resources of its slot.
    for shard in shards:
        shard.stop()
    resharded = [operators(f"shard-{i}-of-2", "--shard", f"{i}/2") for i in range(2)]
    wait_until(lambda: all(owners(resharded, ns, n) for n in names), 30, "every TenantPair is resumed by a shard")
    for name in names:
        assert owners(resharded, ns, name) == [slot_of(ns, name, 2)], name
    # Slot 2 of 3 does not exist among 2: those pairs (two of them) have moved.
    assert any(slot_of(ns, n, 2) != slot_of(ns, n, 3) for n in names)
    tenants.wait_ready("syncscopes", PAIR)
