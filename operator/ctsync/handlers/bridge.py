"""The one place a reconcile Outcome becomes kopf effects: the status patch, Kubernetes Events, a delayed
retry and the reconcile's metrics; and where domain errors raised outside the reconcilers (parsing a body,
finalizing) become outcomes.

kopf applies `patch` after the handler returns *and* after it raises (change handlers and timers alike), so
the status an outcome describes is written even when the pass ends in `kopf.TemporaryError`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from ..api import conditions
from ..api.conditions import Health, set_conditions
from ..errors import CtsyncError
from ..metrics import Metrics
from ..reconcile.outcome import RETRY_DEFAULT_SECONDS, Event, Outcome, from_error
from ..reconcile.replication import Recorder
from . import runtime
from .indexes import key_of

# A pass plans steps that need an object created in the same pass for the next one (the job's schema waits
# for the job): passes repeat while one wrote something, up to this many.
MAX_PASSES = 4

Pass = Callable[[Mapping[str, Any]], Awaitable[Outcome]]
Finish = Callable[[Outcome], Awaitable[Outcome]]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generation_of(body: Mapping[str, Any]) -> int:
    return int((body.get("metadata") or {}).get("generation") or 0)


def apply(outcome: Outcome, body: kopf.Body, patch: kopf.Patch, *, now: str | None = None) -> None:
    """Writes the outcome as status and Events; raises kopf.TemporaryError when the outcome wants a retry."""
    write(outcome, body, patch, now=now)
    if outcome.retry_after is not None:
        raise kopf.TemporaryError(f"{outcome.reason}: {outcome.message}", delay=outcome.retry_after)


def write(outcome: Outcome, body: kopf.Body, patch: kopf.Patch, *, now: str | None = None) -> None:
    status = body.get("status") or {}
    if outcome.observed_generation is not None:
        patch.status["observedGeneration"] = outcome.observed_generation
    # A merge patch replaces the list whole: merging here keeps lastTransitionTime of unchanged conditions.
    patch.status["conditions"] = set_conditions(
        status.get("conditions") or [], outcome.all_conditions(), now or now_iso()
    )
    for key, value in outcome.status.items():
        patch.status[key] = value
    emit(body, outcome.events)


def emit(body: kopf.Body, events: Iterable[Event]) -> None:
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


async def settle(
    body: kopf.Body, patch: kopf.Patch, reconcile: Pass, metrics: Metrics, finish: Finish | None = None
) -> None:
    """Runs reconcile passes on the object's status until one writes nothing, records the reconcile in the
    metrics, lets `finish` amend the outcome (what a kind does after its passes), then applies it."""
    started = time.monotonic()
    outcome = await converge(body, reconcile)
    namespace, name = key_of(body)
    metrics.record_outcome(str(body.get("kind")), namespace, name, outcome, time.monotonic() - started)
    if outcome.scope_members is not None:
        metrics.record_scope_members(namespace, name, outcome.scope_members)
    apply(await finish(outcome) if finish is not None else outcome, body, patch)


async def converge(body: kopf.Body, reconcile: Pass) -> Outcome:
    """The outcome of up to MAX_PASSES passes: the last pass's health and conditions, every pass's Events,
    drift and status fields. Each pass sees the status fields of the passes before it (the ids of what they
    created), but not their observedGeneration: a change made for the spec is not drift."""
    seen = dict(body.get("status") or {})
    written: dict[str, Any] = {}
    events: list[Event] = []
    drift: list[str] = []
    corrected = False
    try:
        for _ in range(MAX_PASSES):
            outcome = await reconcile(seen)
            events += outcome.events
            drift += outcome.drift
            corrected = corrected or outcome.drift_corrected
            written.update(outcome.status)
            seen.update(outcome.status)
            if not _wrote(outcome):
                break
    except CtsyncError as error:  # the reconcilers catch their own: this is the body failing to parse
        outcome = from_error(error, generation_of(body))
        events += outcome.events
    return dataclasses.replace(outcome, events=events, status=written, drift=drift, drift_corrected=corrected)


def _wrote(outcome: Outcome) -> bool:
    """Whether the pass applied a non-empty plan (Observe, suspend and dry runs report plans they skip)."""
    applied = outcome.health is Health.READY and outcome.reason == conditions.RECONCILED
    return applied and outcome.plan is not None and not outcome.plan.empty


def recorder(body: kopf.Body, plural: str) -> Recorder:
    """Writes what a create returned to the resource's status before the pass's next Graph write: kopf's own
    patch comes only after the handler, too late if the operator dies in between."""
    namespace, name = key_of(body)

    async def record(fields: dict[str, Any]) -> None:
        await runtime.current().patch_status(plural, namespace, name, fields)

    return record


def wait(body: kopf.Body, patch: kopf.Patch, message: str, delay: float) -> None:
    """A finalizer that cannot run yet: says why in status and raises for a retry after `delay` seconds."""
    apply(
        Outcome(Health.RECONCILING, conditions.DELETING, message, generation_of(body), retry_after=delay),
        body,
        patch,
    )


async def finalize(
    body: kopf.Body, patch: kopf.Patch, finalizer: Callable[[], Awaitable[list[Event]]], metrics: Metrics
) -> None:
    """Runs a finalizer; on failure the status says why and kopf retries, since returning would let
    Kubernetes delete the resource with its tenant objects left behind. On success the resource's metrics go."""
    try:
        events = await finalizer()
    except CtsyncError as error:
        outcome = from_error(error, generation_of(body))
        write(outcome, body, patch)
        raise kopf.TemporaryError(
            f"{outcome.reason}: {outcome.message}", delay=outcome.retry_after or RETRY_DEFAULT_SECONDS
        ) from None
    emit(body, events)
    forget(body, metrics)


def forget(body: kopf.Body, metrics: Metrics) -> None:
    """Removes the series of a deleted resource."""
    metrics.forget(str(body.get("kind")), *key_of(body))
