"""The job schema: desired schema from the observed one, and a semantic comparison of the two.

A schema PUT is a full replace that restarts the job's full synchronization cycle, so a false "differs"
is expensive: the comparison ignores list order, values the service fills in by default, and how the
parameters of an expression are named (sources compare by their canonical expression text).
"""

import copy
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ctsync.api import conditions, constants
from ctsync.api.attributemapping import attribute_key
from ctsync.api.syncscope import ScopingFilter
from ctsync.errors import Blocked, ReadIncomplete
from ctsync.planning import expressions
from ctsync.planning.attribute_names import UserAttributes, schema_or_template
from ctsync.planning.mappings import DesiredMapping, MergedMappings
from ctsync.planning.plan import Action, Json, summary

# attributeMapping values the service fills in when they are omitted.
_DEFAULTS: Final[Mapping[str, Any]] = {
    "flowBehavior": "FlowWhenChanged",
    "matchingPriority": 0,
    "exportMissingReferences": False,
    "defaultValue": "",
}
_FILTER_GROUP_LISTS: Final = frozenset({"groups", "inputFilterGroups", "categoryFilterGroups"})
_BRACKETED: Final = re.compile(r"\[([^\[\]]+)\]")


def user_object_mappings(schema: Json) -> list[dict[str, Any]]:
    """The User -> User object mappings of every rule (CTS has one), as live references into `schema`."""
    found = [
        mapping
        for rule in schema.get("synchronizationRules") or ()
        for mapping in rule.get("objectMappings") or ()
        if str(mapping.get("sourceObjectName", "")).lower() == "user"
        and str(mapping.get("targetObjectName", "")).lower() == "user"
    ]
    if not found:
        raise ReadIncomplete("the job schema (it has no User object mapping)")
    return found


def build_desired_schema(
    observed: Json, mappings: MergedMappings | None, filters: Sequence[ScopingFilter]
) -> dict[str, Any]:
    """The schema to PUT: the observed one with our mappings (None: leave them) and scoping filters."""
    desired: dict[str, Any] = {k: copy.deepcopy(v) for k, v in observed.items() if not k.startswith("@odata.")}
    names = schema_or_template(observed)
    for object_mapping in user_object_mappings(desired):
        if mappings is not None:
            object_mapping["attributeMappings"] = _attribute_mappings(
                object_mapping.get("attributeMappings") or [], mappings, names
            )
        object_mapping["scope"] = _scope(object_mapping.get("scope"), filters)
    return desired


def _is_matching(mapping: Json) -> bool:
    target = attribute_key(str(mapping.get("targetAttributeName", "")))
    return (mapping.get("matchingPriority") or 0) > 0 or target == attribute_key(constants.MATCHING_ATTRIBUTE)


def _attribute_mappings(
    existing: Sequence[Json], merged: MergedMappings, names: UserAttributes
) -> list[dict[str, Any]]:
    wanted = {attribute_key(m.target): _in_schema_spelling(m, names) for m in merged.mappings}
    out: list[dict[str, Any]] = []
    for mapping in existing:
        key = attribute_key(str(mapping.get("targetAttributeName", "")))
        if _is_matching(mapping):
            if key in wanted:
                raise Blocked(
                    conditions.MAPPING_CONFLICT,
                    f"{wanted[key].origin} maps {wanted[key].target}, a matching attribute of this "
                    "configuration that cannot be changed",
                )
            out.append(dict(mapping))  # the service refuses any change to how users are matched
        elif key in wanted:
            out.append(_apply(mapping, wanted.pop(key)))
        elif key not in merged.remove and not _flows_denied(mapping, merged.deny):
            out.append(dict(mapping))
    out.extend(_apply({}, m) for m in wanted.values())
    return out


def _in_schema_spelling(mapping: DesiredMapping, names: UserAttributes) -> DesiredMapping:
    source = expressions.rename_attributes(mapping.source, lambda name: names.spelled(name, "source"))
    return dataclasses.replace(mapping, target=names.spelled(mapping.target, "target"), source=source)


def _apply(existing: Json, wanted: DesiredMapping) -> dict[str, Any]:
    return {
        "targetAttributeName": wanted.target,
        **_DEFAULTS,
        **existing,  # keeps the service's spelling of the name and its other settings
        "source": expressions.to_source(wanted.source),
        "flowType": wanted.flow_type,
        "defaultValue": wanted.default,
    }


def _flows_denied(mapping: Json, deny: frozenset[str]) -> bool:
    """Whether a mapping writes or reads a denied attribute."""
    names = {str(mapping.get("targetAttributeName", "")), *source_refs(mapping.get("source"))}
    return any(attribute_key(name) in deny for name in names)


def source_refs(source: Json | None) -> frozenset[str]:
    text = expressions.canonical_source(source)
    if text is None:
        return frozenset()
    try:
        return expressions.attribute_refs(expressions.parse(text))
    except expressions.ExpressionSyntaxError:
        return frozenset(_BRACKETED.findall(text))  # unknown syntax: any [name] may be read


def _scope(current: Json | None, filters: Sequence[ScopingFilter]) -> dict[str, Any] | None:
    groups = [
        {
            "name": f.name or f"Scoping filter {i + 1}",
            "clauses": [
                {
                    "sourceOperandName": c.attribute,
                    "operatorName": c.operator,
                    "targetOperand": {"values": [] if c.value is None else [c.value]},
                }
                for c in f.clauses
            ],
        }
        for i, f in enumerate(filters)
    ]
    if current is None and not groups:
        return None
    return {**(current or {}), "groups": groups}


def canonical_schema(schema: Json) -> Any:
    """A comparable form: sorted lists, no defaults or empties, sources as canonical expression text."""
    return _canonical(schema, "")


def _canonical(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        if key == "source":
            return expressions.canonical_source(value)
        out = {}
        for k, v in value.items():
            # Filter group names are labels; renaming one is not worth restarting the job.
            if k.startswith("@odata.") or (key in _FILTER_GROUP_LISTS and k == "name"):
                continue
            canonical = _canonical(v, k)
            if canonical in (None, [], {}) or (k in _DEFAULTS and _DEFAULTS[k] == canonical):
                continue
            out[k] = canonical
        return out
    if isinstance(value, list):
        # Elements keep the list's key, so the items of "groups" are known to be filter groups.
        return sorted((_canonical(item, key) for item in value), key=_sort_key)
    if key == "flowTypes" and isinstance(value, str):
        return ", ".join(sorted(part.strip() for part in value.split(",") if part.strip()))
    return value


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def schema_differs(observed: Json, desired: Json) -> bool:
    return bool(canonical_schema(observed) != canonical_schema(desired))


def plan_schema(observed: Json, mappings: MergedMappings | None, filters: Sequence[ScopingFilter]) -> list[Action]:
    """The schema PUT, if the desired schema differs semantically from the observed one."""
    desired = build_desired_schema(observed, mappings, filters)
    if not schema_differs(observed, desired):
        return []
    changes = _diff(_mapping_texts(observed), _mapping_texts(desired))
    old_filters, new_filters = _filter_texts(observed), _filter_texts(desired)
    if old_filters != new_filters:
        changes["scoping filters"] = (old_filters or None, new_filters or None)
    subject = "source job schema (the PUT restarts a full sync cycle)"
    # New or changed filters can take users out of scope, which deprovisions them in the target.
    narrows = old_filters != new_filters and bool(new_filters)
    return [
        Action(
            "source",
            "source.schema",
            "update",
            summary("update", subject, changes),
            changes,
            destructive=narrows,
            body=desired,
        )
    ]


def _mapping_texts(schema: Json) -> dict[str, tuple[str, str]]:
    """Attribute key -> (target name, one-line description) of the user mappings."""
    texts = {}
    for object_mapping in user_object_mappings(schema):
        for mapping in object_mapping.get("attributeMappings") or ():
            target = str(mapping.get("targetAttributeName", ""))
            text = f"{expressions.canonical_source(mapping.get('source'))} ({mapping.get('flowType', 'Always')})"
            if mapping.get("defaultValue"):
                text += f" default {mapping['defaultValue']!r}"
            texts[attribute_key(target)] = (target, text)
    return texts


def _diff(old: Mapping[str, tuple[str, str]], new: Mapping[str, tuple[str, str]]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before != after:
            name = after[0] if after else before[0] if before else key
            changes[f"mapping {name}"] = (before[1] if before else None, after[1] if after else None)
    return changes


def _filter_texts(schema: Json) -> list[str]:
    """Each filter group as "a EQUALS 'x' AND b IS TRUE", sorted (groups are OR-ed, order is irrelevant)."""
    groups = []
    for object_mapping in user_object_mappings(schema):
        for group in (object_mapping.get("scope") or {}).get("groups") or ():
            clauses = sorted(
                " ".join(
                    [str(c.get("sourceOperandName")), str(c.get("operatorName"))]
                    + [repr(v) for v in (c.get("targetOperand") or {}).get("values") or ()]
                )
                for c in group.get("clauses") or ()
            )
            groups.append(" AND ".join(clauses))
    return sorted(groups)
