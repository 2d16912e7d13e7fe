"""The provisioning-log store: time order across jobs, retention, ordering and $filter on events."""

from __future__ import annotations

from typing import Any

import pytest

from entrasim.auditlogs import models
from entrasim.auditlogs.models import AuditBackend, ProvisioningEvent
from entrasim.core.clock import iso
from entrasim.core.errors import ResourceNotFound
from entrasim.core.odata import parse_query
from entrasim.world import World

DAY = 24 * 3600


@pytest.fixture
def audit() -> AuditBackend:
    world = World(time_scale=0)
    return world.add_tenant("5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10", "contoso.onmicrosoft.com", "Contoso").audit


def _event(event_id: str, at: float, action: str = "create") -> ProvisioningEvent:
    core: dict[str, Any] = {
        "id": event_id,
        "activityDateTime": iso(at),
        "provisioningAction": action,
        "provisioningStatusInfo": {"status": "success", "errorInformation": None},
    }
    steps = (("EntryExportAdd", "export", "success", "created", {"id": event_id}),)
    return ProvisioningEvent(core, at, steps, (("accountEnabled", None, True), ("otherMails", None, ["a", "b"])))


def _ids(audit: AuditBackend, **query: str) -> list[str]:
    return [e["id"] for e in audit.provisioning(parse_query(query))]


def test_events_render_steps_and_modified_properties_on_read(audit: AuditBackend) -> None:
    event = dict(_event("e1", audit.tenant.world.clock.now()))
    assert event["provisioningSteps"] == [
        {
            "name": "EntryExportAdd",
            "provisioningStepType": "export",
            "status": "success",
            "description": "created",
            "details": {"id": "e1"},
        }
    ]
    assert event["modifiedProperties"] == [
        {"displayName": "accountEnabled", "oldValue": None, "newValue": "True"},
        {"displayName": "otherMails", "oldValue": None, "newValue": "(2 values)"},
    ]


def test_events_stay_in_time_order_whatever_the_write_order(audit: AuditBackend) -> None:
    now = audit.tenant.world.clock.now()
    for event_id, offset in (("b", 20), ("c", 30), ("a", 10)):  # a catching-up job writes earlier times
        audit.record(_event(event_id, now + offset))
    assert _ids(audit) == ["a", "b", "c"]
    assert _ids(audit, **{"$orderby": "activityDateTime desc"}) == ["c", "b", "a"]
    assert _ids(audit, **{"$orderby": "id desc"}) == ["c", "b", "a"]


def test_filter_on_times_compares_instants(audit: AuditBackend) -> None:
    now = float(int(audit.tenant.world.clock.now()))  # a whole second: its text has .000
    audit.record(_event("early", now))
    audit.record(_event("late", now + 0.5, action="delete"))
    assert _ids(audit, **{"$filter": f"activityDateTime gt {iso(now)[:-5]}Z"}) == ["late"]
    assert _ids(audit, **{"$filter": "provisioningAction eq 'delete'"}) == ["late"]
    assert _ids(audit, **{"$filter": "provisioningStatusInfo/status eq 'success'"}) == ["early", "late"]


def test_retention_and_lookup(audit: AuditBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = audit.tenant.world.clock
    audit.record(_event("old", clock.now()))
    clock.advance(31 * DAY)
    audit.record(_event("new", clock.now()))
    assert _ids(audit) == ["new"]
    with pytest.raises(ResourceNotFound):
        audit.provisioning_event("old")
    monkeypatch.setattr(models, "MAX_EVENTS", 2)
    for i in range(3):
        audit.record(_event(f"more{i}", clock.now()))
    assert _ids(audit) == ["more1", "more2"]
    assert audit.provisioning_event("more2")["id"] == "more2"
