"""State and rules of the auditlogs service for one tenant: the provisioning logs the engine writes, and the
directory audits of what it changed in a target tenant.

A provisioning event keeps the fields $filter and $orderby read as a plain dict and its bulky parts
(steps, modified properties) as tuples rendered on read, so a 10k-user cycle stays cheap to hold."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..core.errors import ResourceNotFound
from ..core.odata import QueryOptions, apply_query

if TYPE_CHECKING:
    from ..world import Tenant

RETENTION_SECONDS = 30 * 24 * 3600  # premium tenants keep provisioning logs 30 days
MAX_EVENTS = 200_000  # the emulator's own bound per tenant, oldest dropped first

E = TypeVar("E", bound=Mapping[str, Any])

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


class _TimedLog(Generic[E]):
    """Entries ordered by time, found by id, kept for the retention period and up to MAX_EVENTS."""

    def __init__(self) -> None:
        self.entries: list[E] = []  # ordered by time
        self._times: list[float] = []
        self._by_id: dict[str, E] = {}
        self._ids: list[str] = []

    def record(self, entry: E, entry_id: str, timestamp: float, now: float) -> None:
        if not self._times or timestamp >= self._times[-1]:
            index = len(self._times)
        else:  # a job catching up writes earlier times than another job's latest
            index = bisect.bisect_right(self._times, timestamp)
        self.entries.insert(index, entry)
        self._times.insert(index, timestamp)
        self._ids.insert(index, entry_id)
        self._by_id[entry_id] = entry
        drop = max(bisect.bisect_left(self._times, now - RETENTION_SECONDS), len(self.entries) - MAX_EVENTS)
        if drop > 0:
            for old in self._ids[:drop]:
                del self._by_id[old]
            del self.entries[:drop], self._times[:drop], self._ids[:drop]

    def get(self, entry_id: str) -> E:
        entry = self._by_id.get(entry_id)
        if entry is None:
            raise ResourceNotFound(
                f"Resource '{entry_id}' does not exist or one of its queried reference-property "
                "objects are not present."
            )
        return entry

    def query(self, opts: QueryOptions, *, newest_first: bool) -> list[Mapping[str, Any]]:
        """Filtered and ordered entries; by time as `newest_first` says unless $orderby says otherwise."""
        entries: list[Mapping[str, Any]] = list(self.entries)
        if opts.filter is not None:
            entries = [e for e in entries if opts.filter(e)]
        by_time = {(("activityDateTime", True),): True, (("activityDateTime", False),): False, (): newest_first}
        descending = by_time.get(tuple(opts.orderby))
        if descending is None:
            return apply_query(entries, QueryOptions(orderby=opts.orderby))
        if descending:
            entries.reverse()
        return entries


class AuditBackend:
    """The tenant's provisioning logs (written in the source tenant of a job) and directory audits (here:
    what the provisioning service changed in this tenant as a job's target)."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._provisioning: _TimedLog[ProvisioningEvent] = _TimedLog()
        self._directory: _TimedLog[dict[str, Any]] = _TimedLog()

    def record(self, event: ProvisioningEvent) -> None:
        self._provisioning.record(event, event.core["id"], event.timestamp, self.tenant.world.clock.now())

    def provisioning(self, opts: QueryOptions) -> list[Mapping[str, Any]]:
        """Filtered and ordered events; oldest first unless $orderby says otherwise."""
        return self._provisioning.query(opts, newest_first=False)

    def provisioning_event(self, event_id: str) -> ProvisioningEvent:
        return self._provisioning.get(event_id)

    def record_directory(self, audit: dict[str, Any], timestamp: float) -> None:
        self._directory.record(audit, audit["id"], timestamp, self.tenant.world.clock.now())

    def directory_audits(self, opts: QueryOptions) -> list[Mapping[str, Any]]:
        """Filtered and ordered directory audits; newest first (as Graph lists them) unless $orderby says
        otherwise."""
        return self._directory.query(opts, newest_first=True)

    def directory_audit(self, audit_id: str) -> Mapping[str, Any]:
        return self._directory.get(audit_id)
