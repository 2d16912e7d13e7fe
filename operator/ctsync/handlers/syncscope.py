"""SyncScope: reconciled on every change (including a nudge from its TenantPair or an AttributeMapping), on
operator start and on the drift timer; finalized on deletion with its TenantPair's deletionPolicy. After each
reconcile it reads its job's new provisioning log entries, and the target's audit log of the users the sync
service changed there, into the metrics. Each time it turns Ready it
nudges its AttributeMappings, which wait for it to apply them."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Mapping
from typing import Any

import kopf

from ..api.constants import PLURAL_ATTRIBUTE_MAPPINGS, PLURAL_SYNC_SCOPES
from ..api.syncscope import SyncScope
from ..api.tenantpair import TenantPair
from ..config import Settings
from ..reconcile.outcome import Event, Outcome
from ..reconcile.provisioning import Watermark, poll_provisioning
from ..reconcile.syncscope import finalize_sync_scope, reconcile_sync_scope
from ..reconcile.target_audit import WATERMARK_FIELD, poll_target_audit
from . import bridge, indexes, runtime, sharding


async def reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    tenant_pairs: indexes.TenantPairs,
    mappings_by_scope: indexes.MappingsByScope,
    **_: Any,
) -> None:
    rt = runtime.current()
    key = indexes.key_of(body)
    generation = bridge.generation_of(body)
    pair = indexes.pair_of(tenant_pairs, key[0], indexes.pair_name_of(body))
    record = bridge.recorder(body, PLURAL_SYNC_SCOPES)

    async def one_pass(status: Mapping[str, Any]) -> Outcome:
        scope = SyncScope.from_body(body)
        mappings = indexes.mappings_of(mappings_by_scope, scope.namespace, scope.name)
        return await reconcile_sync_scope(
            scope, pair.pair, pair.ready, mappings, rt.pool, status, audit=audit, record=record, links=rt.links
        )

    async def finish(outcome: Outcome) -> Outcome:
        if outcome.scope_members is not None:
            rt.audits.done(key, generation)
        if pair.pair is None or not pair.ready:
            # The pair nudges this SyncScope when it turns Ready (and the drift timer comes anyway): a kopf
            # retry would wait out its delay even then.
            return dataclasses.replace(outcome, retry_after=None)
        previous = status if status is not None else body.get("status") or {}
        return await read_provisioning(rt, key, pair.pair, previous, outcome)

    # An audit waits for a free slot before it takes the object's lock, so a waiting pass blocks nobody.
    async with rt.audits.slots if rt.audits.due(key, generation) else contextlib.nullcontext():
        audit = rt.audits.due(key, generation)  # again: another pass may have audited while this one waited
        async with rt.serialized(body):
            status = await rt.read_status(PLURAL_SYNC_SCOPES, *key)
            await bridge.settle(
                body, patch, one_pass, rt.metrics, finish, status, longest_wait=rt.config.drift_interval
            )


async def read_provisioning(
    rt: runtime.Runtime, key: indexes.Key, pair: TenantPair, previous: Mapping[str, Any], outcome: Outcome
) -> Outcome:
    """Counts the job's provisioning log entries since the watermark in status, and moves the watermark; then
    the same for the target's end (read_target_audit)."""
    status = {**previous, **outcome.status}
    polled = await poll_provisioning(rt.pool, pair, status)
    if polled is not None:
        entries, read_to = polled
        rt.metrics.record_provisioning(*key, entries)
        if read_to != Watermark.from_status(status):
            outcome = dataclasses.replace(
                outcome, status={**outcome.status, "provisioningWatermark": read_to.to_status()}
            )
    return await read_target_audit(rt, key, pair, status, outcome)


async def read_target_audit(
    rt: runtime.Runtime, key: indexes.Key, pair: TenantPair, status: Mapping[str, Any], outcome: Outcome
) -> Outcome:
    """Counts the users the sync service changed in the target since the watermark in status, moves the
    watermark, and says in TargetAuditLog whether the target's audit log can be read."""
    polled = await poll_target_audit(rt.pool, pair, status, outcome.generation)
    if polled is None:
        return outcome
    rt.metrics.record_target_audit(*key, polled.entries)
    new_status = dict(outcome.status)
    if polled.watermark != Watermark.from_status(status, WATERMARK_FIELD):
        new_status[WATERMARK_FIELD] = polled.watermark.to_status()
    return dataclasses.replace(outcome, status=new_status, conditions=[*outcome.conditions, polled.condition])


async def nudge(sync_scopes: indexes.SyncScopes, namespace: str, name: str, annotation: str, value: str) -> bool:
    """Makes a SyncScope reconcile now by setting one of its nudge annotations (indexes.ANNOTATION_*): kopf
    runs its update handler for the changed metadata. Nothing when it has that value already, or when it is
    not in the index yet (a SyncScope being created reads everything anyway). True if annotated."""
    entry = indexes.one(sync_scopes, (namespace, name))
    if entry is None or entry.annotations.get(annotation) == value:
        return False
    return await runtime.current().annotate(PLURAL_SYNC_SCOPES, namespace, name, {annotation: value})


async def nudge_mappings(body: kopf.Body, mappings_by_scope: indexes.MappingsByScope, **_: Any) -> None:
    """On each event of a Ready SyncScope: its AttributeMappings that have not seen this Ready yet reconcile
    now, rather than at their next retry. A watch event, for the reason TenantPair nudges its SyncScopes so."""
    ready = indexes.ready_mark(body)
    if ready is None:
        return
    namespace, name = indexes.key_of(body)
    rt = runtime.current()
    for entry in mappings_by_scope.get((namespace, name), ()):
        if entry.annotations.get(indexes.ANNOTATION_SCOPE_READY) != ready:
            annotation = {indexes.ANNOTATION_SCOPE_READY: ready}
            await rt.annotate(PLURAL_ATTRIBUTE_MAPPINGS, namespace, entry.mapping.name, annotation)


async def finalize(body: kopf.Body, patch: kopf.Patch, tenant_pairs: indexes.TenantPairs, **_: Any) -> None:
    rt = runtime.current()

    async def run() -> list[Event]:
        scope = SyncScope.from_body(body)
        pair = indexes.pair_of(tenant_pairs, scope.namespace, scope.tenant_pair_name)
        return await finalize_sync_scope(scope, pair.pair, rt.pool, body.get("status") or {})

    async with rt.serialized(body):
        await bridge.finalize(body, patch, run, rt.metrics)
    rt.audits.forget(indexes.key_of(body))
    rt.links.forget((body.get("status") or {}).get("jobId"))


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    owned = sharding.owned(config.shard, indexes.SYNC_SCOPES)  # every handler below: this shard's resources only
    for cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        # kopf passes indexes as keyword arguments its handler protocols do not list.
        cause(*indexes.SYNC_SCOPES, registry=registry, when=owned, id="syncscope.reconcile")(reconcile)  # type: ignore[arg-type]
    # Graph changes emit no Kubernetes events: the timer finds drift, and refreshes the job state and the
    # synced counts in status. The random first delay spreads the passes after a restart.
    kopf.timer(
        *indexes.SYNC_SCOPES,
        registry=registry,
        when=owned,
        id="syncscope.drift",
        interval=config.drift_interval,
        initial_delay=lambda **_: random.uniform(0, config.drift_interval),
    )(reconcile)  # type: ignore[arg-type]
    kopf.on.delete(*indexes.SYNC_SCOPES, registry=registry, when=owned, id="syncscope.finalize")(finalize)  # type: ignore[arg-type]
    kopf.on.event(
        *indexes.SYNC_SCOPES,
        registry=registry,
        id="syncscope.nudge",
        when=sharding.owned(config.shard, indexes.SYNC_SCOPES, lambda type, **_: type != "DELETED"),
    )(nudge_mappings)  # type: ignore[arg-type]
