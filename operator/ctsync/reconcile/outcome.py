"""What one reconcile pass concluded, in a form the handler layer writes as status, Events and a requeue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..api import conditions
from ..api.conditions import Condition, Health
from ..errors import CtsyncError
from ..planning.cycle_estimate import CycleEstimate
from ..planning.plan import Plan

EventType = Literal["Normal", "Warning"]
RETRY_DEFAULT_SECONDS = 60.0


@dataclass(frozen=True)
class Event:
    type: EventType
    reason: str
    message: str


@dataclass
class Outcome:
    health: Health
    reason: str
    message: str
    generation: int
    conditions: list[Condition] = field(default_factory=list)  # kind-specific, besides the kstatus triplet
    status: dict[str, Any] = field(default_factory=dict)  # kind-specific status fields
    events: list[Event] = field(default_factory=list)
    plan: Plan | None = None  # what the pass wrote, or would write in a dry run
    held: Plan = field(default_factory=Plan)  # what it planned but may not write (see reconcile.gate)
    retry_after: float | None = None  # when to try again (errors that resolve by themselves)
    error: CtsyncError | None = None
    drift: list[str] = field(default_factory=list)  # what differed from an already reconciled spec
    drift_corrected: bool = False  # whether this pass wrote the differences back
    # Ids of the users in scope when this pass audited it (for change-to-target latency); not status.
    scope_members: frozenset[str] | None = None
    users_leaving: int = 0  # users the plan takes out of scope (counted for the shrink gate)
    dynamic_groups: list[str] = field(default_factory=list)  # target dynamic groups the plan makes users join/leave
    cycle_estimate: CycleEstimate | None = None  # the cycle that provisions the users the plan brings into scope

    def all_conditions(self) -> list[Condition]:
        return [
            *conditions.kstatus_conditions(self.health, self.reason, self.message, self.generation),
            *self.conditions,
        ]

    @property
    def observed_generation(self) -> int | None:
        """Only an outcome that processed the whole spec (ready, or stalled on it) observed the generation."""
        return self.generation if self.health is not Health.RECONCILING or self.error is None else None


def retry_delay(outcome: Outcome, longest: float | None = None) -> float | None:
    """When to run the pass again (None: not before the next event or timer). Graph's Retry-After stands as
    given; any other wait is cut to `longest`, the drift interval, so a failed drift pass never pushes the next
    one further out than its interval."""
    if outcome.retry_after is None or longest is None:
        return outcome.retry_after
    if outcome.error is not None and outcome.error.retry_after is not None:
        return outcome.retry_after
    return min(outcome.retry_after, longest)


def from_error(error: CtsyncError, generation: int, **extra: Any) -> Outcome:
    """The one translation of a domain error into an outcome: stalling errors wait for a human,
    the others are retried (after Retry-After for Graph throttling)."""
    health = Health.STALLED if error.stalls else Health.RECONCILING
    retry = None if error.stalls else (error.retry_after or RETRY_DEFAULT_SECONDS)
    event = Event("Warning", error.reason, error.message)
    return Outcome(
        health,
        error.reason,
        error.message,
        generation,
        events=[event],
        retry_after=retry,
        error=error,
        **extra,
    )
