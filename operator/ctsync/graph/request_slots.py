"""How many Graph requests the operator has in flight: at most so many in all, and so many per tenant.

Graph throttles per app and tenant, and a hub tenant is the source of every pair it serves: without a
per-tenant bound, a hundred scopes auditing together would all read the hub at once and be throttled
together. The global bound keeps memory and sockets flat whatever the number of pairs. Requests wait for a
slot in arrival order (asyncio's semaphores are fair)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class RequestSlots:
    total: int
    per_tenant: int
    _all: asyncio.Semaphore = field(init=False)
    _tenants: dict[str, asyncio.Semaphore] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._all = asyncio.Semaphore(self.total)

    @asynccontextmanager
    async def hold(self, tenant_id: str) -> AsyncIterator[None]:
        """A slot of the tenant, then one of the whole operator: a request waiting for a busy tenant does
        not hold a global slot that a request to another tenant could use."""
        tenant = self._tenants.setdefault(tenant_id.lower(), asyncio.Semaphore(self.per_tenant))
        async with tenant, self._all:
            yield
