"""The applier records what each create returned before its next write (Graph faked at the tenant calls)."""

from datetime import UTC, datetime
from typing import Any, cast

from ctsync_samples import SOURCE, TARGET, TENANT_PAIR, body

from ctsync.api.tenantpair import TenantPair
from ctsync.planning import pending
from ctsync.planning.tenantpair import TenantPairObserved, plan_tenant_pair
from ctsync.reconcile.apply import Applied, apply_plan
from ctsync.reconcile.connections import TenantClients

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)


class Side:
    """A tenant that logs its writes into the shared journal."""

    def __init__(self, name: str, journal: list[str]) -> None:
        self.name, self.journal = name, journal

    async def create_partner(self, tenant_id: str) -> bool:
        self.journal.append(f"{self.name} POST partner")
        return True

    async def update_partner(self, tenant_id: str, body: dict[str, Any]) -> None:
        self.journal.append(f"{self.name} PATCH partner")

    async def create_identity_sync(self, tenant_id: str, body: dict[str, Any]) -> bool:
        self.journal.append(f"{self.name} PUT identitySynchronization")
        return False  # it existed: not ctsync's


async def test_each_create_is_recorded_before_the_next_write() -> None:
    journal: list[str] = []
    recorded: list[dict[str, Any]] = []

    async def record(fields: dict[str, Any]) -> None:
        journal.append("status")
        recorded.append(fields)

    clients = cast(
        TenantClients, type("Clients", (), {"source": Side("source", journal), "target": Side("target", journal)})
    )
    plan = plan_tenant_pair(TenantPair.from_body(body(TENANT_PAIR)), TenantPairObserved())
    applied = Applied(record=record, clock=lambda: NOW, flags={"target.partner": "targetPartnerCreated"})
    await apply_plan(plan, clients, applied)

    assert journal == [
        "target POST partner",
        "status",
        "target PATCH partner",
        "target PUT identitySynchronization",  # found existing: nothing to record
        "source POST partner",
        "status",
        "source PATCH partner",
    ]
    assert recorded[0] == {
        "targetPartnerCreated": True,
        pending.STATUS_FIELD: [
            {"step": "target.partner", "key": SOURCE, "id": SOURCE, "since": "2026-12-05T07:00:00Z"}
        ],
    }
    assert [p.step for p in applied.pending] == ["target.partner", "source.partner"]
    assert recorded[-1][pending.STATUS_FIELD][-1]["id"] == TARGET
