"""The client pool: pairs that sign in to a tenant as the same app share one client (one token, one
Retry-After), a changed Secret gets a new client, and a client no pair uses any more is closed."""

from __future__ import annotations

from typing import Any

from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.connections import ClientPool
from support.sim import tenant_pair_body


def pair(sim: Any, name: str) -> TenantPair:
    return TenantPair.from_body(tenant_pair_body(sim, name=name))


async def test_pairs_with_the_same_credentials_share_a_client(sim: Any, pool: ClientPool) -> None:
    first, second = await pool.for_pair(pair(sim, "one")), await pool.for_pair(pair(sim, "two"))
    assert first.source.client is second.source.client
    assert first.target.client is second.target.client
    assert first.source.client is not first.target.client  # another tenant, another side


async def test_a_client_closes_when_its_last_pair_lets_go(sim: Any, pool: ClientPool) -> None:
    one, two = pair(sim, "one"), pair(sim, "two")
    shared = (await pool.for_pair(one)).source.client
    await pool.for_pair(two)
    await pool.forget(one)
    assert not shared.closed  # "two" uses it
    assert "value" in await shared.get("/users", {"$top": "1"})  # and it still answers
    await pool.forget(two)
    assert shared.closed


async def test_a_changed_secret_gets_its_own_client(sim: Any, pool: ClientPool, secrets: dict) -> None:
    one, two = pair(sim, "one"), pair(sim, "two")
    before = (await pool.for_pair(one)).source.client
    await pool.for_pair(two)
    secrets["contoso-credentials"] = {**secrets["contoso-credentials"], "clientSecret": "rotated"}
    after = (await pool.for_pair(one)).source.client
    assert after is not before and not before.closed  # "two" still signs in with the old content
    assert (await pool.for_pair(two)).source.client is after
    assert before.closed
