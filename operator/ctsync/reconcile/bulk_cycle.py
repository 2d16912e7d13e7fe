"""The bulk-change check of a SyncScope's scope audit: while more users in scope than a bulk change await
their first provisioning, the cycle's estimated completion (planning/cycle_estimate.py) goes to status
(`estimatedCycleCompletion`, hence a metric the scope-gap alert reads), to the `BulkScopeChange` condition
and, when a new estimate is made, to an Event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..api import conditions
from ..api.conditions import Condition
from ..planning.cycle_estimate import recorded_completion, rfc3339
from .outcome import Event
from .provisioning import parse_time

Json = Mapping[str, Any]
STATUS_FIELD = "estimatedCycleCompletion"
# Only a job that runs cycles provisions anyone: a paused or quarantined one has no cycle to estimate.
RUNNING_CODES = frozenset({"Active", "NotRun"})


@dataclass
class BulkCycle:
    condition: Condition
    status: dict[str, Any]
    events: list[Event] = field(default_factory=list)


def audit_bulk_cycle(report: Json, previous: Json, generation: int, now: datetime) -> BulkCycle | None:
    """From this pass's audited counts (`report`) and the status before it; None when the pass did not audit
    (the last word stands)."""
    if "missingUsers" not in report:
        return None
    entering = int(report["missingUsers"]) if report.get("jobCode") in RUNNING_CODES else 0
    recorded = previous.get(STATUS_FIELD)
    completion, made = recorded_completion(
        entering, now, parse_time(recorded) if recorded else None, int(previous.get("missingUsers") or 0)
    )
    if completion is None:
        message = "no bulk of users in scope awaits provisioning"
        condition = Condition(conditions.BULK_SCOPE_CHANGE, "False", conditions.NO_BULK_CHANGE, message, generation)
        return BulkCycle(condition, {STATUS_FIELD: None})
    message = (
        f"{entering:,} users in scope are not in the target yet; the provisioning cycle that creates them "
        f"should end by about {rfc3339(completion)}"
    )
    condition = Condition(conditions.BULK_SCOPE_CHANGE, "True", conditions.USERS_ENTERING_SCOPE, message, generation)
    events = [Event("Normal", conditions.BULK_SCOPE_CHANGE, f"{made.summary} ({made.detail})")] if made else []
    return BulkCycle(condition, {STATUS_FIELD: rfc3339(completion)}, events)
