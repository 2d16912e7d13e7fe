"""The one place a reconcile Outcome becomes kopf effects: the status patch, Kubernetes Events, a delayed
retry and the reconcile's metrics; and where domain errors raised outside the reconcilers (parsing a body,
finalizing) become outcomes.

kopf applies `patch` after the handler returns *and* after it raises (change handlers and timers alike), so
the status an outcome describes is written even when the pass ends in `kopf.TemporaryError`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from ..api import conditions
from ..api.conditions import Health, set_conditions
from ..errors import CtsyncError
from ..metrics import Metrics
from ..reconcile.converge import Pass, converge
from ..reconcile.outcome import RETRY_DEFAULT_SECONDS, Event, Outcome, from_error, retry_delay
from ..reconcile.replication import Recorder
from . import runtime
from .indexes import key_of
from .logs import StallLog

Finish = Callable[[Outcome], Awaitable[Outcome]]
STALLS = StallLog()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generation_of(body: Mapping[str, Any]) -> int:
    return int((body.get("metadata") or {}).get("generation") or 0)


def apply(
    outcome: Outcome, body: kopf.Body, patch: kopf.Patch, *, now: str | None = None, longest_wait: float | None = None
) -> None:
    """Writes the outcome as status and Events, logs a stall; raises kopf.TemporaryError when the outcome wants
    a retry (waiting at most `longest_wait`, the drift interval, unless Graph said how long)."""
    write(outcome, body, patch, now=now)
    STALLS.record(_resource(body), outcome)
    delay = retry_delay(outcome, longest_wait)
    if delay is not None:
        raise kopf.TemporaryError(f"{outcome.reason}: {outcome.message}", delay=delay)


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
    body: kopf.Body,
    patch: kopf.Patch,
    reconcile: Pass,
    metrics: Metrics,
    finish: Finish | None = None,
    status: Mapping[str, Any] | None = None,
    longest_wait: float | None = None,
) -> None:
    """Runs reconcile passes from `status` (by default the body's) until one writes nothing, records the
    reconcile in the metrics, lets `finish` amend the outcome (what a kind does after its passes), then applies it
    (see apply for `longest_wait`)."""
    started = time.monotonic()
    start = status if status is not None else body.get("status") or {}
    outcome = (await converge(reconcile, start, generation_of(body))).outcome
    namespace, name = key_of(body)
    metrics.record_outcome(str(body.get("kind")), namespace, name, outcome, time.monotonic() - started)
    if outcome.scope_members is not None:
        metrics.record_scope_members(namespace, name, outcome.scope_members)
    apply(await finish(outcome) if finish is not None else outcome, body, patch, longest_wait=longest_wait)


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
    STALLS.forget(_resource(body))


def _resource(body: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(body.get("kind")), *key_of(body))
