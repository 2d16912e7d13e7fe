"""Graph's identity-and-access throttling: resource units and writes, per app and tenant and wider.

Budgets follow Microsoft's published limits. Per app and tenant, always: per 10 s 3,500 RU for tenants
under 50 users, 5,000 up to 500, 8,000 above; 3,000 writes per 150 s. Wider ones, on in the production
profile (`wide`): per app across all tenants 150,000 RU per 20 s and 35,000 writes per 5 min; per tenant
across all apps 18,000 writes per 5 min. Windows are fixed and use wall time, because clients back off in
wall time whatever the simulated clock does; a test that must not depend on how fast the machine sends its
requests can measure them on the simulated clock instead (`Throttle.clock`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

RU_WINDOW_SECONDS = 10.0
WRITE_WINDOW_SECONDS = 150.0
WRITE_LIMIT = 3_000
WARN_RATIO = 0.8
ANY = "*"  # stands for every app or every tenant in a wider budget's key


@dataclass(frozen=True)
class Budget:
    scope: str  # Tenant_Application, Application or Tenant: what x-ms-throttle-scope starts with
    kind: str  # ReadWrite (resource units of every request) or Write (one per write)
    limit: int
    window: float  # seconds

    def key(self, app_id: str, tenant_id: str) -> tuple[str, str, str, str]:
        return (
            self.scope,
            self.kind,
            ANY if self.scope == "Tenant" else app_id,
            ANY if self.scope == "Application" else tenant_id,
        )


WIDE_BUDGETS = (
    Budget("Application", "ReadWrite", 150_000, 20.0),
    Budget("Application", "Write", 35_000, 300.0),
    Budget("Tenant", "Write", 18_000, 300.0),
)

# Base costs by route template prefix; every other GET costs 1 and every write 1.
_GET_COSTS = (
    ("/groups/{id}/transitiveMembers", 5),
    ("/groups/{id}/members", 3),
    ("/users", 2),
    ("/applications", 2),
    ("/servicePrincipals/{id}/appRoleAssignments", 2),
)


def ru_limit(user_count: int) -> int:
    if user_count < 50:
        return 3_500
    return 5_000 if user_count <= 500 else 8_000


def request_cost(method: str, template: str, query: dict[str, str]) -> int:
    if method != "GET":
        return 1
    cost = next((c for prefix, c in _GET_COSTS if template.startswith(prefix)), 1)
    if "$select" in query:
        cost -= 1
    if "$expand" in query:
        cost += 1
    top = query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(cost, 1)


@dataclass
class _Window:
    start: float
    used: int = 0


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: int = 0
    information: str = ""
    scope: str = ""


class Throttle:
    def __init__(self) -> None:
        self.enabled = True
        self.wide = False  # also the per-app and per-tenant budgets
        self._windows: dict[tuple[str, str, str, str], _Window] = {}
        self.throttled = 0
        self.clock: Callable[[], float] = time.monotonic  # what the windows are measured on, in seconds

    def charge(
        self, app_id: str, tenant_id: str, user_count: int, method: str, template: str, query: dict[str, str]
    ) -> Verdict:
        cost = request_cost(method, template, query)
        headers = {"x-ms-resource-unit": str(cost)}
        if not self.enabled:
            return Verdict(True, headers)
        now = self.clock()
        ru_limit_here = ru_limit(user_count)
        budgets = [Budget("Tenant_Application", "ReadWrite", ru_limit_here, RU_WINDOW_SECONDS)]
        if method != "GET":
            budgets.append(Budget("Tenant_Application", "Write", WRITE_LIMIT, WRITE_WINDOW_SECONDS))
        if self.wide:
            budgets += [b for b in WIDE_BUDGETS if b.kind == "ReadWrite" or method != "GET"]
        charged = []
        for budget in budgets:
            window = self._window(budget.key(app_id, tenant_id), now, budget.window)
            amount = cost if budget.kind == "ReadWrite" else 1
            if window.used + amount > budget.limit:
                return self._deny(window, now, budget, app_id, tenant_id, headers)
            charged.append((window, amount))
        for window, amount in charged:
            window.used += amount
        used = charged[0][0].used / ru_limit_here
        if used >= WARN_RATIO:
            headers["x-ms-throttle-limit-percentage"] = f"{used:.1f}"
        return Verdict(True, headers)

    def _window(self, key: tuple[str, str, str, str], now: float, length: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now - window.start >= length:
            window = self._windows[key] = _Window(now)
        return window

    def _deny(
        self, window: _Window, now: float, budget: Budget, app_id: str, tenant_id: str, headers: dict[str, str]
    ) -> Verdict:
        self.throttled += 1
        retry_after = max(1, math.ceil(window.start + budget.window - now))
        information = "ResourceUnitLimitExceeded" if budget.kind == "ReadWrite" else "WriteLimitExceeded"
        scope = f"{budget.scope}/{budget.kind}/{app_id}/{tenant_id}"
        headers = {
            **headers,
            "Retry-After": str(retry_after),
            "x-ms-throttle-scope": scope,
            "x-ms-throttle-information": information,
        }
        return Verdict(False, headers, retry_after, information, scope)
