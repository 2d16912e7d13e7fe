"""AttributeMapping: checked on its own; its mappings reach the job through its SyncScope's schema step."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ..api import conditions
from ..api.attributemapping import AttributeMapping
from ..api.conditions import Condition, Health
from ..errors import Blocked, CtsyncError, DependencyNotReady
from ..planning.mappings import merge_mappings, validate_attribute_mapping
from .outcome import Outcome, from_error

# Waiting for the SyncScope costs nothing (its status comes from the operator's index), and a mapping applied
# with its SyncScope is often seen before the SyncScope is: look again soon rather than at the usual retry.
SCOPE_WAIT_SECONDS: Final = 5.0


def _check_conflicts(mapping: AttributeMapping, siblings: Sequence[AttributeMapping]) -> None:
    others = [m for m in siblings if (m.namespace, m.name) != (mapping.namespace, mapping.name)]
    try:
        merge_mappings([mapping, *others])
    except Blocked as conflict:
        if mapping.ref in conflict.message:  # a conflict between two other mappings is theirs to report
            raise
    except DependencyNotReady:
        pass  # another mapping of the SyncScope is invalid: it is Stalled on that itself


def applied_key(mapping: AttributeMapping) -> str:
    """How a SyncScope's status lists a mapping it has written: name@generation."""
    return f"{mapping.name}@{mapping.generation}"


def reconcile_attribute_mapping(
    mapping: AttributeMapping, scope_status: Mapping[str, Any] | None, siblings: Sequence[AttributeMapping] = ()
) -> Outcome:
    """Ready once its SyncScope has written this generation of it into the job schema; Stalled when its own
    spec is invalid (expressions, denied or matching attributes) or when it conflicts with another
    AttributeMapping of the same SyncScope (`siblings`): then both are Stalled with MappingConflict."""
    try:
        validate_attribute_mapping(mapping)
        _check_conflicts(mapping, siblings)
        ref = f"SyncScope {mapping.namespace}/{mapping.sync_scope_name}"
        if scope_status is None:
            raise DependencyNotReady(f"{ref} does not exist")
        if applied_key(mapping) not in (scope_status.get("appliedMappings") or ()):
            held = _condition(scope_status, conditions.WRITES_ALLOWED)
            if mapping.management_policy == "Observe" and held.get("reason") == conditions.MAPPING_OBSERVED:
                return _observed(mapping, ref, _condition(scope_status, conditions.DRIFTED).get("message", ""))
            ready = _condition(scope_status, conditions.READY)
            raise DependencyNotReady(f"{ref} has not applied this generation yet: {ready.get('message', 'pending')}")
    except DependencyNotReady as waiting:
        return dataclasses.replace(from_error(waiting, mapping.generation), retry_after=SCOPE_WAIT_SECONDS)
    except CtsyncError as error:
        return from_error(error, mapping.generation)
    return Outcome(
        Health.READY,
        conditions.RECONCILED,
        f"applied through {ref}",
        mapping.generation,
        status={"appliedTargets": sorted(m.target for m in mapping.mappings)},
    )


def _condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or () if c.get("type") == type_), {})


def _observed(mapping: AttributeMapping, ref: str, difference: str) -> Outcome:
    """managementPolicy Observe, and the job schema differs from it: its SyncScope plans the schema with it
    and holds the write; the difference is this mapping's drift."""
    message = f"{ref} holds the job schema write (managementPolicy Observe): {difference or 'it differs'}"
    return Outcome(
        Health.READY,
        conditions.OBSERVED,
        f"managementPolicy Observe: {ref} plans the job schema with it and writes nothing",
        mapping.generation,
        conditions=[Condition(conditions.DRIFTED, "True", conditions.DRIFT_DETECTED, message, mapping.generation)],
    )
