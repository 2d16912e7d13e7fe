"""Graph requests in flight stay within the total and the per-tenant bound, and a busy tenant does not
starve the others."""

from __future__ import annotations

import asyncio
from collections import Counter

from ctsync.graph.request_slots import RequestSlots


async def _flood(slots: RequestSlots, tenants: list[str]) -> tuple[int, Counter[str]]:
    in_flight: Counter[str] = Counter()
    peak_total = 0
    peak: Counter[str] = Counter()

    async def request(tenant: str) -> None:
        nonlocal peak_total
        async with slots.hold(tenant):
            in_flight[tenant] += 1
            peak_total = max(peak_total, sum(in_flight.values()))
            peak[tenant] = max(peak[tenant], in_flight[tenant])
            await asyncio.sleep(0.001)
            in_flight[tenant] -= 1

    await asyncio.gather(*(request(t) for t in tenants))
    return peak_total, peak


def test_in_flight_requests_stay_within_both_bounds() -> None:
    tenants = ["hub"] * 40 + [f"target-{i}" for i in range(10)] * 3
    peak_total, peak = asyncio.run(_flood(RequestSlots(total=6, per_tenant=2), tenants))
    assert peak_total == 6
    assert peak["hub"] == 2
    assert all(peak[f"target-{i}"] <= 2 for i in range(10))


def test_tenant_ids_are_one_tenant_whatever_their_case() -> None:
    peak_total, _ = asyncio.run(_flood(RequestSlots(total=8, per_tenant=1), ["HUB", "hub", "Hub"] * 5))
    assert peak_total == 1


def test_a_busy_tenant_leaves_slots_to_the_others() -> None:
    """Thirty requests queued for one tenant take only its share of the total: the other tenant's requests
    run alongside them instead of waiting behind them."""

    async def scenario() -> list[str]:
        slots = RequestSlots(total=4, per_tenant=2)
        finished: list[str] = []

        async def request(tenant: str) -> None:
            async with slots.hold(tenant):
                await asyncio.sleep(0.01)
            finished.append(tenant)

        hub = [asyncio.create_task(request("hub")) for _ in range(30)]
        await asyncio.sleep(0)
        await asyncio.gather(*(request("target") for _ in range(2)))
        await asyncio.gather(*hub)
        return finished

    finished = asyncio.run(scenario())
    assert finished.index("target") < 4
