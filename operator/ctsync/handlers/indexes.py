"""kopf indexes: what a handler needs to know about the other kinds, kept in memory from the watch streams so
that no handler lists the API. kopf passes each index to handlers as the keyword argument named by its id."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import kopf

from ..api import conditions, constants
from ..api.attributemapping import AttributeMapping
from ..api.tenantpair import TenantPair
from ..errors import CtsyncError

Key = tuple[str, str]  # (namespace, name)
V = TypeVar("V")

TENANT_PAIRS: Final = (constants.GROUP, constants.VERSION, constants.PLURAL_TENANT_PAIRS)
SYNC_SCOPES: Final = (constants.GROUP, constants.VERSION, constants.PLURAL_SYNC_SCOPES)
ATTRIBUTE_MAPPINGS: Final = (constants.GROUP, constants.VERSION, constants.PLURAL_ATTRIBUTE_MAPPINGS)
# Annotations that other kinds set on a SyncScope to make it reconcile now: a change of its metadata is what
# makes kopf run its update handler. The digest of its AttributeMappings' specs (it re-plans the job schema),
# and the Ready mark of its TenantPair (a SyncScope waits for its pair without retrying). Likewise the Ready
# mark of its SyncScope on an AttributeMapping, which waits for its SyncScope to apply it.
ANNOTATION_MAPPINGS_REVISION: Final = f"{constants.GROUP}/mappings-revision"
ANNOTATION_PAIR_READY: Final = f"{constants.GROUP}/tenantpair-ready"
ANNOTATION_SCOPE_READY: Final = f"{constants.GROUP}/syncscope-ready"


@dataclass(frozen=True)
class PairEntry:
    pair: TenantPair | None  # None when the spec does not parse (the pair's own status says why)
    ready: bool  # Ready=True for its current generation


@dataclass(frozen=True)
class ScopeEntry:
    status: Mapping[str, Any]
    annotations: Mapping[str, str]  # its ctsync.io/ annotations
    pair_name: str | None = None  # the TenantPair it names (what decides its shard, and its mappings')


@dataclass(frozen=True)
class MappingEntry:
    mapping: AttributeMapping
    spec_json: str  # canonical JSON of the spec, for the mappings revision
    annotations: Mapping[str, str]  # its ctsync.io/ annotations


# Handler keyword arguments: tenant_pairs, sync_scopes, sync_scopes_by_pair, mappings_by_scope.
TenantPairs = kopf.Index[Key, PairEntry]  # (namespace, name) of the TenantPair
SyncScopes = kopf.Index[Key, ScopeEntry]  # (namespace, name) of the SyncScope
SyncScopesByPair = kopf.Index[Key, str]  # (namespace, TenantPair name) -> SyncScope names
MappingsByScope = kopf.Index[Key, MappingEntry]  # (namespace, SyncScope name) -> its AttributeMappings


def index_tenant_pair(body: kopf.Body, **_: Any) -> dict[Key, PairEntry]:
    try:
        pair: TenantPair | None = TenantPair.from_body(body)
    except CtsyncError:
        pair = None
    return {key_of(body): PairEntry(pair, ready_mark(body) is not None)}


def index_sync_scope(body: kopf.Body, **_: Any) -> dict[Key, ScopeEntry]:
    status = copy.deepcopy(dict(body.get("status") or {}))
    return {key_of(body): ScopeEntry(status, _our_annotations(body), pair_name_of(body))}


def index_sync_scope_by_pair(body: kopf.Body, **_: Any) -> dict[Key, str] | None:
    namespace, name = key_of(body)
    pair_name = pair_name_of(body)
    return {(namespace, pair_name): name} if pair_name else None


def index_attribute_mapping(body: kopf.Body, **_: Any) -> dict[Key, MappingEntry] | None:
    try:
        mapping = AttributeMapping.from_body(body)
    except CtsyncError:
        return None  # malformed beyond the CRD schema: its own handler reports it; no schema may use it
    spec_json = json.dumps(body.get("spec"), sort_keys=True, separators=(",", ":"))
    return {(mapping.namespace, mapping.sync_scope_name): MappingEntry(mapping, spec_json, _our_annotations(body))}


def _our_annotations(body: Mapping[str, Any]) -> dict[str, str]:
    annotations = body.get("metadata", {}).get("annotations") or {}
    return {key: str(value) for key, value in annotations.items() if key.startswith(f"{constants.GROUP}/")}


def key_of(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


def pair_name_of(sync_scope: Mapping[str, Any]) -> str | None:
    """The TenantPair a SyncScope's body names (SyncScope.from_body says what is wrong when it names none)."""
    name = ((sync_scope.get("spec") or {}).get("tenantPairRef") or {}).get("name")
    return str(name) if name else None


def register(registry: kopf.OperatorRegistry) -> None:
    kopf.index(*TENANT_PAIRS, registry=registry, id="tenant_pairs")(index_tenant_pair)
    kopf.index(*SYNC_SCOPES, registry=registry, id="sync_scopes")(index_sync_scope)
    kopf.index(*SYNC_SCOPES, registry=registry, id="sync_scopes_by_pair")(index_sync_scope_by_pair)
    kopf.index(*ATTRIBUTE_MAPPINGS, registry=registry, id="mappings_by_scope")(index_attribute_mapping)


def one(index: kopf.Index[Key, V], key: Key) -> V | None:
    """The value of a key that at most one object produces (a resource's own namespace and name)."""
    return next(iter(index.get(key, ())), None)


def mappings_of(index: MappingsByScope, namespace: str, scope: str) -> list[AttributeMapping]:
    """The AttributeMappings that reference a SyncScope, by name so that every pass merges them alike."""
    return sorted((entry.mapping for entry in index.get((namespace, scope), ())), key=lambda m: m.name)


def mappings_revision(index: MappingsByScope, namespace: str, scope: str) -> str:
    """A digest of the specs of the AttributeMappings that reference a SyncScope."""
    entries = sorted(index.get((namespace, scope), ()), key=lambda e: e.mapping.name)
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.mapping.name}\0{entry.spec_json}\0".encode())
    return digest.hexdigest()[:16]


def scopes_of(index: SyncScopesByPair, namespace: str, pair: str) -> list[str]:
    return sorted(index.get((namespace, pair), ()))


def ready_mark(body: Mapping[str, Any]) -> str | None:
    """While a resource is Ready at its generation: that generation and when Ready last turned True, which
    tells one Ready period from the next. None while it is not Ready at its generation."""
    generation = body.get("metadata", {}).get("generation")
    status = body.get("status") or {}
    ready: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or () if c.get("type") == conditions.READY), {}
    )
    at_generation = (
        status.get("observedGeneration") == generation
        and ready.get("status") == "True"
        and ready.get("observedGeneration", generation) == generation
    )
    return f"{generation}/{ready.get('lastTransitionTime')}" if at_generation else None


def pair_of(index: TenantPairs, namespace: str, name: str | None) -> PairEntry:
    found = one(index, (namespace, name)) if name is not None else None
    return found or PairEntry(None, False)
