"""The `when=` filter that keeps a sharded replica (`--shard INDEX/COUNT`) to its own resources.

Every handler, timer and daemon of ctsync's kinds takes its filter from `owned`, so that a resource is handled
by exactly one shard. Indexes are not filtered: every shard indexes every resource, which is how an
AttributeMapping finds the TenantPair of its SyncScope, and so its shard.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..api.sharding import slot_of
from ..config import Shard
from . import indexes

When = Callable[..., bool]


def owner_key(resource: tuple[str, str, str], body: Mapping[str, Any], sync_scopes: indexes.SyncScopes) -> indexes.Key:
    """(namespace, TenantPair name) that decides a resource's shard. A SyncScope without a pair, or an
    AttributeMapping whose SyncScope is not there (yet), falls back to its own or its SyncScope's name: one
    shard reports what it waits for, and the mapping moves to its pair's shard once the SyncScope exists."""
    namespace, name = indexes.key_of(body)
    if resource == indexes.SYNC_SCOPES:
        return namespace, indexes.pair_name_of(body) or name
    if resource == indexes.ATTRIBUTE_MAPPINGS:
        scope = ((body.get("spec") or {}).get("syncScopeRef") or {}).get("name") or name
        entry = indexes.one(sync_scopes, (namespace, str(scope)))
        return namespace, (entry.pair_name if entry is not None and entry.pair_name else str(scope))
    return namespace, name


def owned(shard: Shard | None, resource: tuple[str, str, str], also: When | None = None) -> When | None:
    """The filter for a handler of `resource`: in this shard's slot, and `also` (the handler's own filter)."""
    if shard is None:
        return also

    def when(body: Mapping[str, Any], sync_scopes: indexes.SyncScopes, **kwargs: Any) -> bool:
        namespace, pair = owner_key(resource, body, sync_scopes)
        if slot_of(namespace, pair, shard.count) != shard.index:
            return False
        return also is None or also(body=body, sync_scopes=sync_scopes, **kwargs)

    return when
