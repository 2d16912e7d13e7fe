"""Reconcile passes until one writes nothing: how the operator, `ctsync apply`, the tests and the benchmark
all run a reconciler.

A pass can plan steps that need an object created in the same pass for the next one (the job's schema waits
for the job), so passes repeat while one wrote something, up to MAX_PASSES.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..api import conditions
from ..api.conditions import Health
from ..errors import CtsyncError
from ..planning.plan import Action, Plan
from .outcome import Event, Outcome, from_error

MAX_PASSES: Final = 4

Pass = Callable[[Mapping[str, Any]], Awaitable[Outcome]]


@dataclass(frozen=True)
class Converged:
    outcome: Outcome  # the last pass's health and conditions; every pass's Events, drift and status fields
    applied: Plan  # every action the passes wrote, in order


async def converge(one_pass: Pass, status: Mapping[str, Any], generation: int) -> Converged:
    """Runs `one_pass` from `status`. Each pass sees the status fields of the passes before it (the ids of
    what they created), but not their observedGeneration: a change made for the spec is not drift.
    A CtsyncError that a pass raises (rather than reports) ends the passes as an outcome at `generation`."""
    seen = dict(status)
    written: dict[str, Any] = {}
    events: list[Event] = []
    drift: list[str] = []
    done: list[Action] = []
    corrected = False
    try:
        for _ in range(MAX_PASSES):
            outcome = await one_pass(seen)
            events += outcome.events
            drift += outcome.drift
            corrected = corrected or outcome.drift_corrected
            written.update(outcome.status)
            seen.update(outcome.status)
            if not wrote(outcome):
                break
            assert outcome.plan is not None
            done += outcome.plan.actions
    except CtsyncError as error:  # the reconcilers catch their own: this is a body failing to parse
        outcome = from_error(error, generation)
        events += outcome.events
    final = dataclasses.replace(outcome, events=events, status=written, drift=drift, drift_corrected=corrected)
    return Converged(final, Plan(tuple(done)))


def wrote(outcome: Outcome) -> bool:
    """Whether the pass applied a non-empty plan: only a Reconciled pass applies its plan (Observe, suspend,
    held writes and dry runs report plans they skip)."""
    applied = outcome.health is Health.READY and outcome.reason == conditions.RECONCILED
    return applied and outcome.plan is not None and not outcome.plan.empty
