"""The reconcile side of pending creates (ctsync.planning.pending): the clock, the recorder that writes status
before the next Graph write, and the outcome of a pass that waits for Graph to show what ctsync created."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import AwaitingReplication
from ..planning import pending
from .outcome import Event, Outcome, from_error

# Writes status fields to the resource at once (not at the end of the pass), so that what a create returned
# survives a crash before the next write.
Recorder = Callable[[dict[str, Any]], Awaitable[None]]
Clock = Callable[[], datetime]
BOUND_SECONDS = pending.DEFAULT_BOUND_SECONDS


def utc_now() -> datetime:
    return datetime.now(UTC)


def settle(status: Mapping[str, Any], visible: Collection[tuple[str, str]], clock: Clock) -> pending.Settled:
    """The creates recorded in `status` that a read has not shown yet; Blocked when one is past the bound."""
    settled = pending.settle(pending.from_status(status), visible, clock(), BOUND_SECONDS)
    pending.require_no_overdue(settled, BOUND_SECONDS)
    return settled


def awaiting(settled: pending.Settled, generation: int, status: dict[str, Any], events: list[Event]) -> Outcome:
    """Reconciling (AwaitingReplication), repeated soon: the pass wrote what it could."""
    outcome = from_error(AwaitingReplication(settled.message()), generation, status=status)
    return dataclasses.replace(outcome, events=[*events, *outcome.events])
