"""Graph's identity-and-access throttling: resource units per app per tenant, plus a write cap.

Budgets follow Microsoft's published limits (per 10 s: 3,500 RU for tenants under 50 users,
5,000 up to 500, 8,000 above; writes: 3,000 per 150 s). Windows are fixed and use wall time,
because clients back off in wall time whatever the simulated clock does."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

RU_WINDOW_SECONDS = 10.0
WRITE_WINDOW_SECONDS = 150.0
WRITE_LIMIT = 3_000
WARN_RATIO = 0.8

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
        self._ru: dict[tuple[str, str], _Window] = {}
        self._writes: dict[tuple[str, str], _Window] = {}
        self.throttled = 0

    def charge(
        self, app_id: str, tenant_id: str, user_count: int, method: str, template: str, query: dict[str, str]
    ) -> Verdict:
        cost = request_cost(method, template, query)
        headers = {"x-ms-resource-unit": str(cost)}
        if not self.enabled:
            return Verdict(True, headers)
        now = time.monotonic()
        key = (app_id, tenant_id)
        limit = ru_limit(user_count)
        ru = self._window(self._ru, key, now, RU_WINDOW_SECONDS)
        if ru.used + cost > limit:
            return self._deny(ru, now, RU_WINDOW_SECONDS, "ResourceUnitLimitExceeded", "ReadWrite", key, headers)
        if method != "GET":
            writes = self._window(self._writes, key, now, WRITE_WINDOW_SECONDS)
            if writes.used + 1 > WRITE_LIMIT:
                return self._deny(writes, now, WRITE_WINDOW_SECONDS, "WriteLimitExceeded", "Write", key, headers)
            writes.used += 1
        ru.used += cost
        if ru.used / limit >= WARN_RATIO:
            headers["x-ms-throttle-limit-percentage"] = f"{ru.used / limit:.1f}"
        return Verdict(True, headers)

    @staticmethod
    def _window(store: dict[tuple[str, str], _Window], key: tuple[str, str], now: float, length: float) -> _Window:
        window = store.get(key)
        if window is None or now - window.start >= length:
            window = store[key] = _Window(now)
        return window

    def _deny(
        self,
        window: _Window,
        now: float,
        length: float,
        information: str,
        kind: str,
        key: tuple[str, str],
        headers: dict[str, str],
    ) -> Verdict:
        self.throttled += 1
        retry_after = max(1, math.ceil(window.start + length - now))
        scope = f"Tenant_Application/{kind}/{key[0]}/{key[1]}"
        headers = {
            **headers,
            "Retry-After": str(retry_after),
            "x-ms-throttle-scope": scope,
            "x-ms-throttle-information": information,
        }
        return Verdict(False, headers, retry_after, information, scope)
