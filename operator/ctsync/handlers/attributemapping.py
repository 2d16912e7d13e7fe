"""AttributeMapping: validated on every change. A valid change moves its SyncScope's mappings revision, which
makes the SyncScope re-plan the job schema; the mapping turns Ready once the SyncScope has applied it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from ..api.attributemapping import AttributeMapping
from ..config import Settings
from ..errors import InvalidSpec
from ..reconcile.attributemapping import reconcile_attribute_mapping
from ..reconcile.outcome import Outcome
from . import bridge, indexes, runtime, sharding, syncscope


async def reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    sync_scopes: indexes.SyncScopes,
    mappings_by_scope: indexes.MappingsByScope,
    old: Mapping[str, Any] | None = None,
    **_: Any,
) -> None:
    async def one_pass(_: Mapping[str, Any]) -> Outcome:
        mapping = AttributeMapping.from_body(body)
        scope = indexes.one(sync_scopes, (mapping.namespace, mapping.sync_scope_name))
        siblings = indexes.mappings_of(mappings_by_scope, mapping.namespace, mapping.sync_scope_name)
        outcome = reconcile_attribute_mapping(mapping, scope.status if scope else None, siblings)
        if isinstance(outcome.error, InvalidSpec):
            return outcome
        # On a changed syncScopeRef the SyncScope it left must drop these mappings too.
        for name in {mapping.sync_scope_name, _scope_ref(old)} - {None}:
            await publish_revision(sync_scopes, mappings_by_scope, mapping.namespace, str(name))
        return outcome

    rt = runtime.current()
    await bridge.settle(body, patch, one_pass, rt.metrics, longest_wait=rt.config.drift_interval)


async def deleted(
    body: kopf.Body, sync_scopes: indexes.SyncScopes, mappings_by_scope: indexes.MappingsByScope, **_: Any
) -> None:
    bridge.forget(body, runtime.current().metrics)
    scope = _scope_ref(body)
    if scope is not None:
        await publish_revision(sync_scopes, mappings_by_scope, indexes.key_of(body)[0], scope)


async def publish_revision(
    sync_scopes: indexes.SyncScopes, mappings_by_scope: indexes.MappingsByScope, namespace: str, scope: str
) -> None:
    """Nudges the SyncScope with the digest of its mappings when that changed; a SyncScope that does not
    exist yet reads the mappings when it is created."""
    revision = indexes.mappings_revision(mappings_by_scope, namespace, scope)
    await syncscope.nudge(sync_scopes, namespace, scope, indexes.ANNOTATION_MAPPINGS_REVISION, revision)


def _scope_ref(essence: Mapping[str, Any] | None) -> str | None:
    name = (((essence or {}).get("spec") or {}).get("syncScopeRef") or {}).get("name")
    return str(name) if name else None


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    owned = sharding.owned(config.shard, indexes.ATTRIBUTE_MAPPINGS)  # every handler below: this shard's resources only
    for cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        # kopf passes indexes as keyword arguments its handler protocols do not list.
        cause(*indexes.ATTRIBUTE_MAPPINGS, registry=registry, when=owned, id="attributemapping.reconcile")(reconcile)  # type: ignore[arg-type]
    # Without a finalizer (nothing to clean up in Graph) a deletion is seen only as the watch's DELETED
    # event; the index has already dropped the mapping by then.
    kopf.on.event(
        *indexes.ATTRIBUTE_MAPPINGS,
        registry=registry,
        id="attributemapping.deleted",
        when=sharding.owned(config.shard, indexes.ATTRIBUTE_MAPPINGS, lambda type, **_: type == "DELETED"),
    )(deleted)  # type: ignore[arg-type]
