"""Graph's throttling budgets: the wider ones of the production profile."""

from __future__ import annotations

from entrasim.core.profile import FAST, PRODUCTION
from entrasim.core.throttling import Throttle
from entrasim.world import World

TENANT = "11111111-1111-4111-8111-111111111111"


def _writes(throttle: Throttle, app_id: str, tenant_id: str, count: int) -> list[bool]:
    return [throttle.charge(app_id, tenant_id, 10, "POST", "/groups", {}).allowed for _ in range(count)]


def test_the_production_profile_turns_on_the_wider_budgets() -> None:
    assert World(profile=PRODUCTION).throttle.wide
    assert not World(profile=FAST).throttle.wide


def test_a_tenant_takes_18000_writes_per_5_minutes_from_all_apps_together() -> None:
    throttle = Throttle()
    throttle.wide = True
    for n in range(6):
        assert all(_writes(throttle, f"app-{n}", TENANT, 2_900))  # each under its own 3,000
    assert all(_writes(throttle, "app-6", TENANT, 600))
    verdict = throttle.charge("app-6", TENANT, 10, "PATCH", "/groups/{id}", {})
    assert not verdict.allowed
    assert verdict.headers["x-ms-throttle-scope"] == f"Tenant/Write/app-6/{TENANT}"
    assert verdict.information == "WriteLimitExceeded"
    assert 1 <= verdict.retry_after <= 300
    assert throttle.charge("app-6", TENANT, 10, "GET", "/groups", {}).allowed  # reads are not writes


def test_an_app_takes_35000_writes_per_5_minutes_across_tenants() -> None:
    throttle = Throttle()
    throttle.wide = True
    tenants = [f"{n:08d}-1111-4111-8111-111111111111" for n in range(12)]
    for tenant in tenants[:-1]:
        assert all(_writes(throttle, "app", tenant, 2_950))  # 32,450
    allowed = _writes(throttle, "app", tenants[-1], 2_600)
    assert allowed.index(False) == 35_000 - 32_450
    denied = throttle.charge("app", tenants[-1], 10, "POST", "/groups", {})
    assert denied.headers["x-ms-throttle-scope"] == f"Application/Write/app/{tenants[-1]}"


def test_without_the_wider_budgets_only_app_and_tenant_counts() -> None:
    throttle = Throttle()
    for n in range(7):
        assert all(_writes(throttle, f"app-{n}", TENANT, 2_900))
    denied = _writes(throttle, "app-0", TENANT, 101)
    assert denied[:100] == [True] * 100 and denied[100] is False
