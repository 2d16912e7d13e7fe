"""State and rules of the auditlogs service for one tenant: the provisioning logs the engine writes.

A provisioning event keeps the fields $filter and $orderby read as a plain dict and its bulky parts
(steps, modified properties) as tuples rendered on read, so a 10k-user cycle stays cheap to hold."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import ResourceNotFound
from ..core.odata import QueryOptions, apply_query

if TYPE_CHECKING:
    from ..world import Tenant

RETENTION_SECONDS = 30 * 24 * 3600  # premium tenants keep provisioning logs 30 days
MAX_EVENTS = 200_000  # the emulator's own bound per tenant, oldest dropped first

# (name, provisioningStepType, status, description, details)
Step = tuple[str, str, str, str, Mapping[str, str]]
# (displayName, oldValue, newValue)
Change = tuple[str, object, object]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return f"({len(value)} values)" if len(value) != 1 or isinstance(value[0], dict) else str(value[0])
    return str(value)


class ProvisioningEvent(Mapping[str, Any]):
    """One provisioningObjectSummary, readable as a Graph-shaped mapping."""

    __slots__ = ("changes", "core", "steps", "timestamp")

    def __init__(
        self, core: dict[str, Any], timestamp: float, steps: tuple[Step, ...], changes: tuple[Change, ...]
    ) -> None:
        self.core = core
        self.timestamp = timestamp
        self.steps = steps
        self.changes = changes

    def __getitem__(self, key: str) -> Any:
        if key == "provisioningSteps":
            return [
                {
                    "name": name,
                    "provisioningStepType": kind,
                    "status": status,
                    "description": description,
                    "details": dict(details),
                }
                for name, kind, status, description, details in self.steps
            ]
        if key == "modifiedProperties":
            return [
                {"displayName": name, "oldValue": _text(old), "newValue": _text(new)} for name, old, new in self.changes
            ]
        return self.core[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.core
        yield "provisioningSteps"
        yield "modifiedProperties"

    def __len__(self) -> int:
        return len(self.core) + 2


class AuditBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._events: list[ProvisioningEvent] = []  # ordered by activityDateTime
        self._times: list[float] = []
        self._by_id: dict[str, ProvisioningEvent] = {}

    def record(self, event: ProvisioningEvent) -> None:
        if not self._times or event.timestamp >= self._times[-1]:
            self._events.append(event)
            self._times.append(event.timestamp)
        else:  # a job catching up writes earlier times than another job's latest
            index = bisect.bisect_right(self._times, event.timestamp)
            self._events.insert(index, event)
            self._times.insert(index, event.timestamp)
        self._by_id[event.core["id"]] = event
        self._expire(self.tenant.world.clock.now())

    def _expire(self, now: float) -> None:
        drop = max(bisect.bisect_left(self._times, now - RETENTION_SECONDS), len(self._events) - MAX_EVENTS)
        if drop > 0:
            for event in self._events[:drop]:
                del self._by_id[event.core["id"]]
            del self._events[:drop]
            del self._times[:drop]

    def provisioning(self, opts: QueryOptions) -> list[Mapping[str, Any]]:
        """Filtered and ordered events; oldest first unless $orderby says otherwise."""
        events: list[Mapping[str, Any]] = list(self._events)
        if opts.filter is not None:
            events = [e for e in events if opts.filter(e)]
        if opts.orderby == [("activityDateTime", True)]:
            events.reverse()
        elif opts.orderby and opts.orderby != [("activityDateTime", False)]:
            events = apply_query(events, QueryOptions(orderby=opts.orderby))
        return events

    def provisioning_event(self, event_id: str) -> ProvisioningEvent:
        event = self._by_id.get(event_id)
        if event is None:
            raise ResourceNotFound(
                f"Resource '{event_id}' does not exist or one of its queried reference-property "
                "objects are not present."
            )
        return event
