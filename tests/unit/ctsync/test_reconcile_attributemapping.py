"""An AttributeMapping waiting for its SyncScope: a check of the operator's index, so it looks again soon."""

from __future__ import annotations

from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.conditions import Health
from ctsync.reconcile.attributemapping import SCOPE_WAIT_SECONDS, reconcile_attribute_mapping
from ctsync.reconcile.outcome import RETRY_DEFAULT_SECONDS
from support.sim import attribute_mapping_body


def test_a_mapping_whose_sync_scope_is_not_seen_yet_looks_again_within_seconds() -> None:
    """A SyncScope and its mapping are applied together; the mapping is often seen first."""
    mapping = AttributeMapping.from_body(attribute_mapping_body())
    outcome = reconcile_attribute_mapping(mapping, None)
    assert outcome.health is Health.RECONCILING
    assert outcome.retry_after == SCOPE_WAIT_SECONDS < RETRY_DEFAULT_SECONDS


def test_a_mapping_its_sync_scope_has_not_applied_yet_looks_again_within_seconds() -> None:
    mapping = AttributeMapping.from_body(attribute_mapping_body())
    outcome = reconcile_attribute_mapping(mapping, {"appliedMappings": [], "conditions": []})
    assert outcome.retry_after == SCOPE_WAIT_SECONDS
