"""TenantPair: reconciled on every change, on operator start and on the drift timer; finalized on deletion.
Its SyncScopes wait for it to be Ready: each time it becomes Ready it nudges them."""

from __future__ import annotations

import random
from typing import Any, Final

import kopf

from ..api.constants import PLURAL_TENANT_PAIRS
from ..api.tenantpair import TenantPair
from ..config import Settings
from ..reconcile.tenantpair import finalize_tenant_pair, reconcile_tenant_pair
from . import bridge, indexes, runtime, sharding, syncscope

# How often a pair whose deletion waits for its SyncScopes looks again.
DELETION_WAIT_SECONDS: Final = 10.0


async def reconcile(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    rt = runtime.current()
    async with rt.serialized(body):
        await bridge.settle(
            body,
            patch,
            lambda status: reconcile_tenant_pair(
                TenantPair.from_body(body), rt.pool, status, record=bridge.recorder(body, PLURAL_TENANT_PAIRS)
            ),
            rt.metrics,
            status=await rt.read_status(PLURAL_TENANT_PAIRS, *indexes.key_of(body)),
            longest_wait=rt.config.drift_interval,
        )


async def nudge_sync_scopes(
    body: kopf.Body, sync_scopes: indexes.SyncScopes, sync_scopes_by_pair: indexes.SyncScopesByPair, **_: Any
) -> None:
    """On each event of a Ready pair: its SyncScopes that have not seen this Ready yet reconcile now.

    A watch event rather than the reconcile handler: kopf writes the Ready status only after that handler
    returns, and a SyncScope nudged before the index shows the pair Ready would wait again."""
    ready = indexes.ready_mark(body)
    if ready is None:
        return
    namespace, name = indexes.key_of(body)
    for scope in indexes.scopes_of(sync_scopes_by_pair, namespace, name):
        await syncscope.nudge(sync_scopes, namespace, scope, indexes.ANNOTATION_PAIR_READY, ready)


async def finalize(body: kopf.Body, patch: kopf.Patch, sync_scopes_by_pair: indexes.SyncScopesByPair, **_: Any) -> None:
    namespace, name = indexes.key_of(body)
    scopes = indexes.scopes_of(sync_scopes_by_pair, namespace, name)
    if scopes and (body.get("spec") or {}).get("deletionPolicy") == "Delete":
        # Their finalizers delete their configurations with this pair's credentials and policy.
        bridge.wait(
            body, patch, f"waiting for SyncScope(s) {', '.join(scopes)} to be deleted first", DELETION_WAIT_SECONDS
        )
    rt = runtime.current()
    async with rt.serialized(body):
        await bridge.finalize(
            body,
            patch,
            lambda: finalize_tenant_pair(TenantPair.from_body(body), rt.pool, body.get("status") or {}),
            rt.metrics,
        )


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    owned = sharding.owned(config.shard, indexes.TENANT_PAIRS)  # every handler below: this shard's resources only
    for cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        cause(*indexes.TENANT_PAIRS, registry=registry, when=owned, id="tenantpair.reconcile")(reconcile)
    # Graph changes emit no Kubernetes events: the timer is how drift is found. The random first delay
    # spreads the passes of many pairs after a restart.
    kopf.timer(
        *indexes.TENANT_PAIRS,
        registry=registry,
        when=owned,
        id="tenantpair.drift",
        interval=config.drift_interval,
        initial_delay=lambda **_: random.uniform(0, config.drift_interval),
    )(reconcile)
    kopf.on.delete(*indexes.TENANT_PAIRS, registry=registry, when=owned, id="tenantpair.finalize")(finalize)  # type: ignore[arg-type]
    kopf.on.event(
        *indexes.TENANT_PAIRS,
        registry=registry,
        id="tenantpair.nudge",
        when=sharding.owned(config.shard, indexes.TENANT_PAIRS, lambda type, **_: type != "DELETED"),
    )(nudge_sync_scopes)  # type: ignore[arg-type]
