"""Shards: which replica handles which resources when `ctsync operator --shard INDEX/COUNT` splits the work.

A resource belongs to the slot that a stable hash of its TenantPair's namespace and name falls in, so a
TenantPair, its SyncScopes and their AttributeMappings always land on the same shard: the SyncScope handler
reads its pair, and the AttributeMapping waits for its SyncScope, through the replica's own indexes.
"""

from __future__ import annotations

import hashlib


def slot_of(namespace: str, pair: str, count: int) -> int:
    """The slot (0..count-1) of a TenantPair; the same on every replica, Python version and restart."""
    digest = hashlib.sha256(f"{namespace}/{pair}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count
