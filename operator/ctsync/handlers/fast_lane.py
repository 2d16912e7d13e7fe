"""The fast lane: a kopf daemon per SyncScope with spec.fastLane.enabled, a delta round every
`--fast-lane-interval` seconds (reconcile/fast_lane.py does the round). Each provisionOnDemand becomes a
metric and, rate-limited, an Event; `status.fastLane` says what the lane does and holds the delta links a
restart resumes from."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import kopf

from ..api.constants import PLURAL_SYNC_SCOPES
from ..api.syncscope import SyncScope
from ..config import Settings
from ..errors import CtsyncError
from ..planning.fast_lane import Change
from ..reconcile.fast_lane import FastLane, Links, OnDemandResult, Report, held_because, links_of
from . import indexes, runtime, sharding

EVENT_SECONDS = 10.0  # at most one Event per outcome per SyncScope in this long; the rest are counted in it
_EVENTS = {"created": "FastLaneCreated", "updated": "FastLaneUpdated", "skipped": "FastLaneSkipped"}


class EventBudget:
    """One Event per outcome per window; what the window held back is counted in the next one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def message(self, outcome: str, text: str, now: float) -> str | None:
        if now - self._last.get(outcome, -self.seconds) < self.seconds:
            self._held[outcome] = self._held.get(outcome, 0) + 1
            return None
        self._last[outcome] = now
        held = self._held.pop(outcome, 0)
        return f"{text} (and {held} more since the last such Event)" if held else text


async def follow(
    body: kopf.Body, stopped: kopf.DaemonStopped, tenant_pairs: indexes.TenantPairs, logger: Any, **_: Any
) -> None:
    rt = runtime.current()
    namespace, name = indexes.key_of(body)
    budget = EventBudget(EVENT_SECONDS)
    lane: FastLane | None = None
    shown: dict[str, Any] | None = None

    def record(change: Change, result: OnDemandResult, seconds: float) -> None:
        rt.metrics.record_on_demand(namespace, name, result.outcome, seconds, result.change_id)
        detail = f": {result.detail}" if result.detail else ""
        text = f"user {change.user_id} ({change.reason}) provisioned on demand: {result.outcome}{detail}"
        message = budget.message(result.outcome, text, time.monotonic())
        if message is not None:
            kind = "Warning" if result.outcome == "failed" else "Normal"
            kopf.event(body, type=kind, reason=_EVENTS.get(result.outcome, "FastLaneFailed"), message=message)

    while not stopped:
        status = await rt.read_status(PLURAL_SYNC_SCOPES, namespace, name)
        if status is None:
            return
        scope = SyncScope.from_body(body)
        pair = indexes.pair_of(tenant_pairs, namespace, scope.tenant_pair_name)
        held = held_because(scope, pair.pair, pair.ready, status)
        if held is not None or pair.pair is None:
            lane, report, links = None, Report("Off", held or "no TenantPair"), Links()  # back on: a new baseline
        else:
            if lane is None or lane.scope.fast_lane != scope.fast_lane:
                lane = FastLane(scope, links_of(status) if lane is None else lane.links)
            try:
                source = (await rt.pool.for_pair(pair.pair)).source
                report = await lane.step(source, status, time.time, asyncio.sleep, record)
            except CtsyncError as exc:
                logger.warning(f"fast lane round failed, the next one tries again: {exc}")
                report = Report("Active", f"the last round failed: {exc}")
            links = lane.links
        fields = report.status(links)
        if fields != shown:
            await rt.patch_status(PLURAL_SYNC_SCOPES, namespace, name, {"fastLane": fields})
            shown = fields
        await stopped.wait(rt.config.fast_lane_interval)
    if stopped.reason is not None and stopped.reason & kopf.DaemonStoppingReason.FILTERS_MISMATCH:
        off = Report("Off", "not enabled").status(Links())
        await rt.patch_status(PLURAL_SYNC_SCOPES, namespace, name, {"fastLane": off})


def _enabled(spec: Mapping[str, Any], **_: Any) -> bool:
    return bool((spec.get("fastLane") or {}).get("enabled"))


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    kopf.daemon(
        *indexes.SYNC_SCOPES,
        registry=registry,
        id="syncscope.fastlane",
        when=sharding.owned(config.shard, indexes.SYNC_SCOPES, _enabled),
        cancellation_timeout=5.0,
    )(follow)  # type: ignore[arg-type]
