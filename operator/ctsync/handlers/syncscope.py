"""SyncScope: reconciled on every change (including a new mappings revision), on operator start and on the
drift timer; finalized on deletion with its TenantPair's deletionPolicy."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import kopf

from ..api.syncscope import SyncScope
from ..config import Settings
from ..reconcile.outcome import Event, Outcome
from ..reconcile.syncscope import finalize_sync_scope, reconcile_sync_scope
from . import bridge, indexes, runtime


async def reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    tenant_pairs: indexes.TenantPairs,
    mappings_by_scope: indexes.MappingsByScope,
    **_: Any,
) -> None:
    rt = runtime.current()

    async def one_pass(status: Mapping[str, Any]) -> Outcome:
        scope = SyncScope.from_body(body)
        pair = indexes.pair_of(tenant_pairs, scope.namespace, scope.tenant_pair_name)
        mappings = indexes.mappings_of(mappings_by_scope, scope.namespace, scope.name)
        return await reconcile_sync_scope(scope, pair.pair, pair.ready, mappings, rt.pool, status)

    async with rt.serialized(body):
        await bridge.settle(body, patch, one_pass)


async def finalize(body: kopf.Body, patch: kopf.Patch, tenant_pairs: indexes.TenantPairs, **_: Any) -> None:
    rt = runtime.current()

    async def run() -> list[Event]:
        scope = SyncScope.from_body(body)
        pair = indexes.pair_of(tenant_pairs, scope.namespace, scope.tenant_pair_name)
        return await finalize_sync_scope(scope, pair.pair, rt.pool, body.get("status") or {})

    async with rt.serialized(body):
        await bridge.finalize(body, patch, run)


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    for cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        # kopf passes indexes as keyword arguments its handler protocols do not list.
        cause(*indexes.SYNC_SCOPES, registry=registry, id="syncscope.reconcile")(reconcile)  # type: ignore[arg-type]
    # Graph changes emit no Kubernetes events: the timer finds drift, and refreshes the job state and the
    # synced counts in status. The random first delay spreads the passes after a restart.
    kopf.timer(
        *indexes.SYNC_SCOPES,
        registry=registry,
        id="syncscope.drift",
        interval=config.drift_interval,
        initial_delay=lambda **_: random.uniform(0, config.drift_interval),
    )(reconcile)  # type: ignore[arg-type]
    kopf.on.delete(*indexes.SYNC_SCOPES, registry=registry, id="syncscope.finalize")(finalize)  # type: ignore[arg-type]
