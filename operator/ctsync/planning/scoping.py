"""Scoping filters evaluated the way the provisioning service evaluates them, against source users as
Graph returns them. Pure: the scope audit, the shrink gate and `ctsync plan` all count with this.

A filter is groups of clauses: a user passes a group when every clause holds, and the filter when any
group does (no group: everyone passes). A clause reads one attribute as text: booleans read as "True" or
"False", and a missing, empty or multi-valued value is null, which only IS NULL accepts (NOT EQUALS and
NOT REGEX MATCH reject it too). EQUALS, Includes and the regular expressions are case-sensitive; the
Greater_Than operators compare integers and fail on anything else.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctsync.api.syncscope import ScopingFilter
from ctsync.api.userschema import FIXED_VALUES, GRAPH_PROPERTY, REGEX_OPERATORS, graph_value
from ctsync.errors import ReadIncomplete
from ctsync.planning.schema import build_desired_schema, user_object_mappings

Json = Mapping[str, Any]
# The filter lists of a scope that decide who is provisioned. inputFilterGroups (experimental) filter
# early; categoryFilterGroups (experimental, undocumented semantics) are left to the service.
FILTER_LISTS: Final = ("groups", "inputFilterGroups")


def _integers(test: Callable[[int, int], bool]) -> Callable[[str, Sequence[str]], bool]:
    def compare(value: str, operands: Sequence[str]) -> bool:
        try:
            number = int(value)
            return any(test(number, int(operand)) for operand in operands)
        except ValueError:
            return False

    return compare


_UNARY: Final[Mapping[str, Callable[[str | None], bool]]] = {
    "IS TRUE": lambda text: text is not None and text.lower() == "true",
    "IS FALSE": lambda text: text is not None and text.lower() == "false",
    "IS NULL": lambda text: text is None,
    "IS NOT NULL": lambda text: text is not None,
}
_BINARY: Final[Mapping[str, Callable[[str, Sequence[str]], bool]]] = {
    "EQUALS": lambda text, operands: text in operands,
    "NOT EQUALS": lambda text, operands: text not in operands,
    "Includes": lambda text, operands: any(operand in text for operand in operands),
    "ENDS_WITH": lambda text, operands: any(text.endswith(operand) for operand in operands),
    "&": lambda text, operands: any(text in operand for operand in operands),
    "!&": lambda text, operands: not any(text in operand for operand in operands),
    "REGEX MATCH": lambda text, operands: any(re.search(operand, text) for operand in operands),
    "NOT REGEX MATCH": lambda text, operands: not any(re.search(operand, text) for operand in operands),
    "Greater_Than": _integers(lambda a, b: a > b),
    "Greater_Than_OR_EQUALS": _integers(lambda a, b: a >= b),
}


@dataclass(frozen=True)
class Clause:
    attribute: str
    operator: str
    operands: tuple[str, ...] = ()

    def holds(self, user: Json) -> bool:
        text = _text(source_value(user, self.attribute))
        unary = _UNARY.get(self.operator)
        if unary is not None:
            return unary(text)
        return text is not None and _BINARY[self.operator](text, self.operands)


Group = tuple[Clause, ...]


@dataclass(frozen=True)
class Filter:
    """One or more filter lists (each groups OR-ed); a user must pass every list that has groups."""

    lists: tuple[tuple[Group, ...], ...] = ()

    def admits(self, user: Json) -> bool:
        return all(any(all(c.holds(user) for c in group) for group in groups) for groups in self.lists if groups)

    def select(self, users: Mapping[str, Json]) -> Mapping[str, Json]:
        if not any(self.lists):
            return users  # everyone passes: no copy of a scope that may be 100k users
        return {uid: user for uid, user in users.items() if self.admits(user)}

    @property
    def graph_properties(self) -> frozenset[str]:
        """The Graph user properties to $select so that every clause can be evaluated."""
        return frozenset(
            GRAPH_PROPERTY[c.attribute]
            for groups in self.lists
            for group in groups
            for c in group
            if c.attribute in GRAPH_PROPERTY
        )


def source_value(user: Json, attribute: str) -> object:
    """A source user's attribute by its schema name, from the Graph user object."""
    if attribute in FIXED_VALUES:
        return FIXED_VALUES[attribute]
    return graph_value(user, attribute)


def _text(value: object) -> str | None:
    if value is None or value == "" or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def from_spec(filters: Sequence[ScopingFilter]) -> Filter:
    """The filter a SyncScope's scopingFilters write into the schema's `groups`."""
    groups = tuple(
        tuple(Clause(c.attribute, c.operator, () if c.value is None else (c.value,)) for c in f.clauses)
        for f in filters
    )
    return Filter((groups,) if groups else ())


def from_schema(schema: Json | None) -> Filter:
    """The filter of a job schema's User mapping (None: no schema yet, nobody is filtered out)."""
    if schema is None:
        return Filter()
    lists: list[tuple[Group, ...]] = []
    for object_mapping in user_object_mappings(schema):
        scope = object_mapping.get("scope") or {}
        lists.extend(_groups(scope.get(key) or ()) for key in FILTER_LISTS)
    return Filter(tuple(groups for groups in lists if groups))


def _groups(groups: Iterable[Json]) -> tuple[Group, ...]:
    out = []
    for group in groups:
        clauses = tuple(_clause(c) for c in group.get("clauses") or ())
        if clauses:
            out.append(clauses)
    return tuple(out)


def _clause(clause: Json) -> Clause:
    operator = str(clause.get("operatorName"))
    operands = tuple(str(v) for v in (clause.get("targetOperand") or {}).get("values") or ())
    if operator not in _UNARY and operator not in _BINARY:
        # Written by someone else: who it admits cannot be known, so nobody may be counted as leaving.
        raise ReadIncomplete(f"the job schema's scoping filter (unknown operator {operator!r})")
    if operator in REGEX_OPERATORS:
        for operand in operands:
            try:
                re.compile(operand)
            except re.error:
                raise ReadIncomplete(
                    f"the job schema's scoping filter (invalid regular expression {operand!r})"
                ) from None
    return Clause(str(clause.get("sourceOperandName")), operator, operands)


def desired_filter(schema: Json | None, filters: Sequence[ScopingFilter]) -> Filter:
    """The filter once the spec's scopingFilters are in the schema (the service's other lists stay)."""
    if schema is None:
        return from_spec(filters)
    return from_schema(build_desired_schema(schema, None, filters))
