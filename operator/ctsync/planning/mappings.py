"""AttributeMappings of one SyncScope: their checks (expressions, attribute names, risky mappings) and the
merge into one set of desired flows."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NoReturn

from ctsync.api import conditions
from ctsync.api.attributemapping import AttributeMapping, attribute_key
from ctsync.errors import Blocked, DependencyNotReady, InvalidSpec
from ctsync.planning import expressions
from ctsync.planning.attribute_names import AZURE2AZURE, UserAttributes, mapping_name_errors
from ctsync.planning.risky_mappings import risk_errors

# AttributeMapping `apply` -> attributeMapping.flowType.
FLOW_TYPES: Final = {"Always": "Always", "OnCreate": "ObjectAddOnly"}


@dataclass(frozen=True)
class DesiredMapping:
    target: str
    source: expressions.Node
    flow_type: str
    default: str | None
    origin: str  # the AttributeMapping that asks for it, for conflict messages


@dataclass(frozen=True)
class MergedMappings:
    mappings: tuple[DesiredMapping, ...] = ()
    remove: frozenset[str] = frozenset()  # attribute keys whose mappings are dropped
    deny: frozenset[str] = frozenset()  # attribute keys that must neither be written nor read


def attribute_mapping_errors(spec: AttributeMapping, known: UserAttributes = AZURE2AZURE) -> list[InvalidSpec]:
    """Every problem of one AttributeMapping: the first of its own rules or expression syntax, else all of
    its unknown attribute names and unacknowledged risky mappings."""
    try:
        nodes = _parse_sources(spec)
    except InvalidSpec as error:
        return [error]
    return [*mapping_name_errors(spec, nodes, known), *risk_errors(spec, nodes)]


def validate_attribute_mapping(spec: AttributeMapping, known: UserAttributes = AZURE2AZURE) -> None:
    """All AttributeMapping rules; raises the first problem attribute_mapping_errors finds."""
    errors = attribute_mapping_errors(spec, known)
    if errors:
        raise errors[0]


def _parse_sources(spec: AttributeMapping) -> list[expressions.Node]:
    spec.validate()
    denied = {attribute_key(name) for name in spec.deny_attributes}
    nodes = []
    for i, entry in enumerate(spec.mappings):
        path = f"spec.mappings[{i}].source"
        try:
            node = expressions.parse(entry.source)
        except expressions.ExpressionSyntaxError as exc:
            raise InvalidSpec(path, f"invalid expression: {exc}") from None
        read_denied = sorted(a for a in expressions.attribute_refs(node) if attribute_key(a) in denied)
        if read_denied:
            raise InvalidSpec(path, f"reads {', '.join(read_denied)}, which spec.denyAttributes lists")
        nodes.append(node)
    return nodes


def merge_mappings(specs: Sequence[AttributeMapping]) -> MergedMappings:
    """Merge every AttributeMapping of one SyncScope; two that disagree about an attribute block the schema.

    An invalid AttributeMapping holds the whole schema (DependencyNotReady) rather than being skipped:
    skipping it would drop its mappings from the job.
    """
    ordered = sorted(specs, key=lambda s: (s.namespace, s.name))
    merged: dict[str, DesiredMapping] = {}
    removed: dict[str, str] = {}
    denied: dict[str, str] = {}
    for spec in ordered:
        try:
            validate_attribute_mapping(spec)
            nodes = _parse_sources(spec)
        except InvalidSpec as exc:
            raise DependencyNotReady(f"{spec.ref} is invalid: {exc}") from None
        for entry, node in zip(spec.mappings, nodes, strict=True):
            key = attribute_key(entry.target)
            if key in merged:
                _conflict(f"{merged[key].origin} and {spec.ref} both map {entry.target}")
            merged[key] = DesiredMapping(entry.target, node, FLOW_TYPES[entry.apply], entry.default, spec.ref)
        removed.update({attribute_key(a): spec.ref for a in spec.remove})
        denied.update({attribute_key(a): spec.ref for a in spec.deny_attributes})
    for key, mapping in merged.items():
        if key in removed:
            _conflict(f"{mapping.origin} maps {mapping.target} but {removed[key]} removes it")
        if key in denied:
            _conflict(f"{mapping.origin} maps {mapping.target}, which {denied[key]} denies")
        for read in sorted(expressions.attribute_refs(mapping.source)):
            if attribute_key(read) in denied:
                denier = denied[attribute_key(read)]
                _conflict(f"{mapping.origin} maps {mapping.target} from {read}, which {denier} denies")
    return MergedMappings(tuple(merged.values()), frozenset(removed), frozenset(denied))


def _conflict(message: str) -> NoReturn:
    raise Blocked(conditions.MAPPING_CONFLICT, message)
