"""The Azure2Azure (cross-tenant synchronization) template: its default schema, the rules a schema PUT must
respect, and the compiled form the provisioning engine runs (parsed expressions and scoping filters)."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..directory.models import EXTENSION_ATTRIBUTES
from . import expressions as ex
from .exceptions import SchemaInvalid

TEMPLATE_ID = "Azure2Azure"
SOURCE_DIRECTORY = "Azure Active Directory"
TARGET_DIRECTORY = "Azure Active Directory (target tenant)"
RULE_NAME = "USER_INBOUND_USER"
# Gallery rules carry the same id in every job built from the template.
RULE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "entrasim:Azure2Azure:USER_INBOUND_USER"))
USER_MAPPING_NAME = "Provision Azure Active Directory Users"
SCHEMA_VERSION = "v1.2"
MATCHING_ATTRIBUTE = "alternativeSecurityIds"
MATCHING_EXPRESSION = "AltSecIdFromNetId([netId])"
FLOW_TYPES = frozenset({"Add", "Update", "Delete"})

# Schema attribute names that differ from the Graph user property they read or write.
GRAPH_PROPERTY = {
    "mobile": "mobilePhone",
    "physicalDeliveryOfficeName": "officeLocation",
    "facsimileTelephoneNumber": "faxNumber",
    "objectId": "id",
}

_STRINGS = (
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "facsimileTelephoneNumber",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobile",
    "physicalDeliveryOfficeName",
    "postalCode",
    "preferredLanguage",
    "state",
    "streetAddress",
    "surname",
    "telephoneNumber",
    "usageLocation",
    "userPrincipalName",
    "userType",
    *EXTENSION_ATTRIBUTES,
)
_BOOLEANS = ("accountEnabled", "IsSoftDeleted", "showInAddressList")
_MULTIVALUED = ("otherMails", MATCHING_ATTRIBUTE)
_SOURCE_ONLY = (
    ("objectId", "String", False),
    ("netId", "String", False),
    ("appRoleAssignments", "String", True),
)

_DEFAULT_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    (MATCHING_ATTRIBUTE, MATCHING_EXPRESSION, "Always"),
    ("IsSoftDeleted", "[IsSoftDeleted]", "Always"),
    ("accountEnabled", "[accountEnabled]", "Always"),
    *(
        (name, f"[{name}]", "Always")
        for name in (
            "streetAddress",
            "city",
            "state",
            "postalCode",
            "country",
            "department",
            "employeeId",
            "displayName",
            "givenName",
            "jobTitle",
            "companyName",
            "mailNickname",
            "preferredLanguage",
            "surname",
            "telephoneNumber",
            "userPrincipalName",
        )
    ),
    ("showInAddressList", '"true"', "Always"),
    ("mail", "[mail]", "Always"),
    ("userType", '"Member"', "ObjectAddOnly"),
)
_ATTRIBUTE_FLOW_TYPES = frozenset({"Always", "ObjectAddOnly", "MultiValueAddOnly", "ValueAddOnly", "AttributeAddOnly"})
_ATTRIBUTE_TYPES = frozenset({"String", "Integer", "Reference", "Binary", "Boolean", "DateTime"})


# --- the default schema -------------------------------------------------------------------------------


def _attribute(name: str, kind: str, multivalued: bool = False, *, anchor: bool = False) -> dict[str, Any]:
    return {
        "anchor": anchor,
        "caseExact": False,
        "defaultValue": None,
        "flowNullValues": False,
        "multivalued": multivalued,
        "mutability": "ReadWrite",
        "name": name,
        "required": False,
        "type": kind,
        "apiExpressions": [],
        "metadata": [],
        "referencedObjects": [],
    }


def _user_attributes(extra: tuple[tuple[str, str, bool], ...]) -> list[dict[str, Any]]:
    attributes = [_attribute(name, kind, multi, anchor=name == "objectId") for name, kind, multi in extra]
    attributes += [_attribute(name, "Boolean") for name in _BOOLEANS]
    attributes += [_attribute(name, "String", True) for name in _MULTIVALUED]
    attributes += [_attribute(name, "String") for name in _STRINGS]
    return sorted(attributes, key=lambda a: a["name"].lower())


def _directory(name: str, extra: tuple[tuple[str, str, bool], ...]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"entrasim:Azure2Azure:{name}")),
        "name": name,
        "discoverabilities": "AttributeNames,AttributeDataTypes,AttributeReadOnly,ReferenceAttributes",
        "discoveryDateTime": None,
        "readOnly": True,
        "version": None,
        "objects": [{"name": "User", "attributes": _user_attributes(extra), "metadata": [], "supportedApis": []}],
    }


def _attribute_mapping(target: str, expression: str, flow_type: str) -> dict[str, Any]:
    return {
        "defaultValue": None,
        "exportMissingReferences": False,
        "flowBehavior": "FlowWhenChanged",
        "flowType": flow_type,
        "matchingPriority": 1 if target == MATCHING_ATTRIBUTE else 0,
        "source": ex.to_mapping_source(ex.parse(expression)),
        "targetAttributeName": target,
    }


@cache
def _template_schema() -> dict[str, Any]:
    user_mapping = {
        "name": USER_MAPPING_NAME,
        "enabled": True,
        "flowTypes": "Add, Update, Delete",
        "metadata": [],
        "scope": None,
        "sourceObjectName": "User",
        "targetObjectName": "User",
        "attributeMappings": [_attribute_mapping(*m) for m in _DEFAULT_MAPPINGS],
    }
    rule = {
        "id": RULE_ID,
        "name": RULE_NAME,
        "editable": True,
        "priority": 1,
        "sourceDirectoryName": SOURCE_DIRECTORY,
        "targetDirectoryName": TARGET_DIRECTORY,
        "containerFilter": None,
        "groupFilter": None,
        "metadata": [
            {"key": "defaultSourceObjectMappings", "value": '["User"]'},
            {"key": "supportsProvisionOnDemand", "value": "true"},
        ],
        "objectMappings": [user_mapping],
    }
    return {
        "id": TEMPLATE_ID,
        "version": SCHEMA_VERSION,
        "synchronizationRules": [rule],
        "directories": [_directory(SOURCE_DIRECTORY, (*_SOURCE_ONLY,)), _directory(TARGET_DIRECTORY, ())],
    }


def default_schema(schema_id: str) -> dict[str, Any]:
    """A fresh copy of the template's schema, as a new job (or a schema DELETE) gets it."""
    return {**copy.deepcopy(_template_schema()), "id": schema_id}


def template(application_id: str) -> dict[str, Any]:
    """The synchronizationTemplate a CTS service principal lists."""
    return {
        "id": TEMPLATE_ID,
        "applicationId": application_id,
        "default": True,
        "description": "Provision users from this tenant into another Microsoft Entra tenant.",
        "discoverable": True,
        "factoryTag": TEMPLATE_ID,
        "metadata": [{"key": "supportsProvisionOnDemand", "value": "true"}],
        "schema": _template_schema(),
    }


@cache
def default_rule() -> CompiledRule:
    return validate(_template_schema())


# --- scoping filters ----------------------------------------------------------------------------------

_UNARY_OPERATORS: dict[str, Callable[[str | None], bool]] = {
    "IS TRUE": lambda v: v is not None and v.lower() == "true",
    "IS FALSE": lambda v: v is not None and v.lower() == "false",
    "IS NULL": lambda v: v is None,
    "IS NOT NULL": lambda v: v is not None,
}
_BINARY_OPERATORS: dict[str, Callable[[str, list[str]], bool]] = {
    "EQUALS": lambda v, xs: v in xs,  # documented as case-sensitive
    "NOT EQUALS": lambda v, xs: v not in xs,
    "Includes": lambda v, xs: any(x in v for x in xs),
    "ENDS_WITH": lambda v, xs: any(v.endswith(x) for x in xs),
    "&": lambda v, xs: any(v in x for x in xs),
    "!&": lambda v, xs: all(v not in x for x in xs),
    "Greater_Than": lambda v, xs: _numbers(v, xs, lambda a, b: a > b),
    "Greater_Than_OR_EQUALS": lambda v, xs: _numbers(v, xs, lambda a, b: a >= b),
}
_REGEX_OPERATORS = ("REGEX MATCH", "NOT REGEX MATCH")


def _numbers(value: str, operands: list[str], test: Callable[[int, int], bool]) -> bool:
    try:
        return any(test(int(value), int(x)) for x in operands)
    except ValueError:
        return False  # documented: both sides must be integers


def filter_operators() -> list[Mapping[str, Any]]:
    """The filterOperatorSchema collection of schema/filterOperators."""

    def entry(name: str, arity: str, types: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "arity": arity,
            "multivaluedComparisonType": "All",
            "supportedAttributeTypes": types,
        }

    unary = [
        entry(name, "Unary", ["Boolean"] if "TRUE" in name or "FALSE" in name else ["String", "Integer"])
        for name in _UNARY_OPERATORS
    ]
    numeric = ("Greater_Than", "Greater_Than_OR_EQUALS")
    binary = [
        entry(name, "Binary", ["Integer"] if name in numeric else ["String", "Integer"])
        for name in (*_BINARY_OPERATORS, *_REGEX_OPERATORS)
    ]
    return sorted(unary + binary, key=lambda o: o["name"])


def mapping_functions() -> list[Mapping[str, Any]]:
    """The attributeMappingFunctionSchema collection of schema/functions."""

    def parameter(name: str, multiple: bool, required: bool) -> dict[str, Any]:
        return {"allowMultipleOccurrences": multiple, "name": name, "required": required, "type": "String"}

    return [
        {
            "name": spec.name,
            "parameters": [parameter(p.rstrip("?"), False, not p.endswith("?")) for p in spec.params]
            + [parameter(r, True, spec.min_repeats > 0) for r in spec.repeat],
        }
        for spec in sorted(ex.FUNCTIONS.values(), key=lambda s: s.name)
    ]


def filter_text(value: object) -> str | None:
    """A source value as scoping filters see it; null, empty and multi-valued never match."""
    if value is None or value == "" or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


@dataclass(frozen=True)
class Clause:
    label: str  # "<filter name>.<attribute> <OPERATOR> '<value>'", as provisioning logs print it
    attribute: str
    test: Callable[[str | None], bool]

    def passes(self, attributes: Mapping[str, object]) -> bool:
        return self.test(filter_text(attributes.get(self.attribute)))


def _clause_test(operator: str, values: list[str], where: str) -> Callable[[str | None], bool]:
    if operator in _UNARY_OPERATORS:
        return _UNARY_OPERATORS[operator]
    if not values:
        raise SchemaInvalid(f"{where}: operator '{operator}' needs a value in targetOperand.values.")
    if operator in _REGEX_OPERATORS:
        try:
            patterns = [re.compile(v) for v in values]
        except re.error as exc:
            raise SchemaInvalid(f"{where}: invalid regular expression: {exc}.") from None
        matches = not operator.startswith("NOT")
        # Documented: NOT REGEX MATCH is false, like every other clause, when the attribute is empty.
        return lambda v: v is not None and any(p.search(v) for p in patterns) is matches
    binary = _BINARY_OPERATORS.get(operator)
    if binary is None:
        raise SchemaInvalid(f"{where}: unknown scoping filter operator '{operator}'.")
    return lambda v: v is not None and binary(v, values)


# --- compiled rule ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowMapping:
    target: str
    node: ex.Node
    expression: str
    flow_type: str
    default: str | None
    convert: Callable[[object], object]

    def value(self, attributes: Mapping[str, object], context: Mapping[str, Any]) -> object:
        """The target value, IGNORE_FLOW, or raises EvaluationError. Plain attributes skip the evaluator."""
        node = self.node
        if isinstance(node, ex.Attribute):
            value = attributes.get(node.name)
        elif isinstance(node, ex.Constant):
            value = node.value
        else:
            value = ex.evaluate(node, attributes, **context)
            if value is ex.IGNORE_FLOW:
                return value
        if (value is None or value == "") and self.default is not None:
            value = self.default
        return self.convert(value)


@dataclass(frozen=True)
class CompiledRule:
    """What the engine needs from a schema: the user mapping's flows and scoping filter."""

    rule_id: str
    enabled: bool
    flow_types: frozenset[str]
    mappings: tuple[FlowMapping, ...]
    scope: tuple[tuple[Clause, ...], ...]  # groups OR-ed, clauses AND-ed; empty = no filter

    def in_scope(self, attributes: Mapping[str, object]) -> bool:
        return not self.scope or any(all(c.passes(attributes) for c in group) for group in self.scope)

    def scope_result(self, attributes: Mapping[str, object]) -> dict[str, bool]:
        return {c.label: c.passes(attributes) for group in self.scope for c in group}


def _to_bool(value: object) -> object:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _to_int(value: object) -> object:
    try:
        return int(value) if isinstance(value, str | int) and not isinstance(value, bool) else value
    except ValueError:
        return value


def _to_single(value: object) -> object:
    rendered = ex.render(value)
    return rendered[0] if rendered else None


def _to_list(value: object) -> object:
    return value if value is None or isinstance(value, list) else [value]


def _converter(definition: Mapping[str, Any]) -> Callable[[object], object]:
    if definition.get("multivalued"):
        return _to_list
    return {"Boolean": _to_bool, "Integer": _to_int}.get(definition.get("type", "String"), _to_single)


# --- validation -----------------------------------------------------------------------------------------


def _objects(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SchemaInvalid(f"'{what}' must be a list of objects.")
    return value


def _name(value: object) -> str:
    """A name read from a request body, for lookups: anything but a string names nothing."""
    return value if isinstance(value, str) else ""


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise SchemaInvalid(f"{where}: '{key}' is required and must be a string.")
    return value


# directory name -> object name -> attribute name -> attributeDefinition
Directories = dict[str, dict[str, dict[str, dict[str, Any]]]]


def _directories(schema: Mapping[str, Any]) -> Directories:
    index: Directories = {}
    for directory in _objects(schema.get("directories"), "directories"):
        name = _text(directory, "name", "directory")
        objects = index.setdefault(name, {})
        for obj in _objects(directory.get("objects"), f"directories['{name}'].objects"):
            object_name = _text(obj, "name", f"directory '{name}' object")
            attributes = objects.setdefault(object_name, {})
            for attribute in _objects(obj.get("attributes"), f"{name}.{object_name}.attributes"):
                attribute_name = _text(attribute, "name", f"{name}.{object_name} attribute")
                if _name(attribute.get("type", "String")) not in _ATTRIBUTE_TYPES:
                    raise SchemaInvalid(
                        f"{name}.{object_name}.{attribute_name}: unknown type '{attribute.get('type')}'."
                    )
                attributes[attribute_name] = attribute
    return index


def _source_expression(source: object, where: str) -> str:
    """The expression text of an attributeMappingSource; rebuilt from name/type/parameters when absent."""
    if not isinstance(source, dict):
        raise SchemaInvalid(f"{where}: 'source' must be an attributeMappingSource object.")
    if isinstance(source.get("expression"), str) and source["expression"].strip():
        return source["expression"]
    kind, name = source.get("type"), source.get("name")
    if not isinstance(name, str):
        raise SchemaInvalid(f"{where}: the source needs an expression or a name.")
    if kind == "Attribute":
        return f"[{name}]"
    if kind == "Constant":
        return ex.canonical(ex.Constant(name))
    spec = ex.FUNCTIONS.get(name)
    if kind != "Function" or spec is None:
        raise SchemaInvalid(f"{where}: unknown source type '{kind}' or function '{name}'.")
    given = {
        _name(p.get("key")): _source_expression(p.get("value"), where)
        for p in _objects(source.get("parameters"), f"{where}.source.parameters")
    }
    slots = [spec.param_name(i) for i in range(len(spec.params) + len(given) * len(spec.repeat))]
    args = [given.get(slot, "") for slot in slots]
    while len(args) > spec.minimum and not args[-1]:
        args.pop()
    return f"{name}({', '.join(args)})"


def _parse(expression: str, where: str) -> ex.Node:
    try:
        return ex.parse(expression)
    except ex.ExpressionError as exc:
        raise SchemaInvalid(f"{where}: the expression '{expression}' could not be parsed: {exc}") from None


def _flow_mapping(
    mapping: dict[str, Any], source_attrs: Mapping[str, Any], target_attrs: Mapping[str, Any], where: str
) -> FlowMapping:
    target = _text(mapping, "targetAttributeName", where)
    where = f"{where} -> {target}"
    if target not in target_attrs:
        raise SchemaInvalid(f"{where}: the target attribute '{target}' is not defined in the target directory.")
    expression = _source_expression(mapping.get("source"), where)
    node = _parse(expression, where)
    unknown = sorted(ex.referenced_attributes(node) - set(source_attrs))
    if unknown:
        raise SchemaInvalid(f"{where}: the source attribute '{unknown[0]}' is not defined in the source directory.")
    flow_type = _name(mapping.get("flowType", "Always"))
    if flow_type not in _ATTRIBUTE_FLOW_TYPES:
        raise SchemaInvalid(f"{where}: unknown flowType '{flow_type}'.")
    default = mapping.get("defaultValue")
    return FlowMapping(
        target,
        node,
        ex.canonical(node),
        flow_type,
        default if isinstance(default, str) else None,
        _converter(target_attrs[target]),
    )


def _scope(scope: object, source_attrs: Mapping[str, Any], where: str) -> tuple[tuple[Clause, ...], ...]:
    if scope is None:
        return ()
    if not isinstance(scope, dict):
        raise SchemaInvalid(f"{where}: 'scope' must be a filter object.")
    groups = []
    for group in _objects(scope.get("groups"), f"{where}.scope.groups"):
        name = group.get("name") or ""
        clauses = []
        for clause in _objects(group.get("clauses"), f"{where}.scope.groups.clauses"):
            attribute = _text(clause, "sourceOperandName", f"{where} scoping filter '{name}'")
            operator = _text(clause, "operatorName", f"{where} scoping filter '{name}'")
            if attribute not in source_attrs:
                raise SchemaInvalid(
                    f"{where}: scoping filter '{name}' reads '{attribute}', which is not defined "
                    "in the source directory."
                )
            operand = clause.get("targetOperand") or {}
            values = operand.get("values") if isinstance(operand, dict) else None
            values = [str(v) for v in values] if isinstance(values, list) else []
            label = f"{name}.{attribute} {operator}" + (f" '{values[0]}'" if values else "")
            clauses.append(Clause(label, attribute, _clause_test(operator, values, f"{where} filter '{name}'")))
        if clauses:
            groups.append(tuple(clauses))
    return tuple(groups)


def _check_matching(mappings: list[dict[str, Any]], where: str) -> None:
    """CTS forbids changing the alternativeSecurityIds match or adding another matching attribute."""
    matching = [m for m in mappings if isinstance(m.get("matchingPriority"), int) and m["matchingPriority"] > 0]
    extra = [m for m in matching if m.get("targetAttributeName") != MATCHING_ATTRIBUTE]
    if extra:
        raise SchemaInvalid(
            f"{where}: matching attributes cannot be added ('{extra[0].get('targetAttributeName')}' "
            f"has matchingPriority {extra[0]['matchingPriority']})."
        )
    expected = ex.canonical(ex.parse(MATCHING_EXPRESSION))
    kept = [
        m
        for m in matching
        if m.get("matchingPriority") == 1
        and ex.canonical(_parse(_source_expression(m.get("source"), where), where)) == expected
    ]
    if len(kept) != 1 or len(matching) != 1:
        raise SchemaInvalid(
            f"{where}: the matching attribute cannot be changed: '{MATCHING_ATTRIBUTE}' must stay "
            f"mapped from {MATCHING_EXPRESSION} with matchingPriority 1."
        )


def _flow_types(value: object, where: str) -> frozenset[str]:
    parts = frozenset(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else None
    if parts is None or not parts <= FLOW_TYPES:
        raise SchemaInvalid(f"{where}: flowTypes must be a comma-separated subset of Add, Update, Delete.")
    return parts


def validate(schema: Mapping[str, Any]) -> CompiledRule:
    """Checks a whole schema (a PUT body) and compiles its user mapping; raises SchemaInvalid."""
    directories = _directories(schema)
    rules = _objects(schema.get("synchronizationRules"), "synchronizationRules")
    if [r.get("name") for r in rules] != [RULE_NAME]:
        raise SchemaInvalid(f"The {TEMPLATE_ID} template has exactly one synchronization rule, {RULE_NAME}.")
    rule = rules[0]
    source_dir = directories.get(_name(rule.get("sourceDirectoryName")))
    target_dir = directories.get(_name(rule.get("targetDirectoryName")))
    if source_dir is None or target_dir is None:
        raise SchemaInvalid(f"{RULE_NAME}: its source and target directories must be defined in 'directories'.")
    compiled: CompiledRule | None = None
    for mapping in _objects(rule.get("objectMappings"), f"{RULE_NAME}.objectMappings"):
        where = f"{RULE_NAME} object mapping '{mapping.get('name')}'"
        source_attrs = source_dir.get(_name(mapping.get("sourceObjectName")))
        target_attrs = target_dir.get(_name(mapping.get("targetObjectName")))
        if source_attrs is None or target_attrs is None:
            raise SchemaInvalid(f"{where}: its source and target objects must be defined in 'directories'.")
        attribute_mappings = _objects(mapping.get("attributeMappings"), f"{where}.attributeMappings")
        flows = tuple(_flow_mapping(m, source_attrs, target_attrs, where) for m in attribute_mappings)
        scope = _scope(mapping.get("scope"), source_attrs, where)
        flow_types = _flow_types(mapping.get("flowTypes", "Add, Update, Delete"), where)
        if mapping.get("sourceObjectName") == "User" and mapping.get("targetObjectName") == "User":
            _check_matching(attribute_mappings, where)
            compiled = CompiledRule(
                str(rule.get("id") or RULE_ID), mapping.get("enabled") is not False, flow_types, flows, scope
            )
    if compiled is None:
        raise SchemaInvalid(f"{RULE_NAME}: the User to User object mapping cannot be removed.")
    return compiled


def rules_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether mappings or scoping filters differ, which makes the next cycle re-evaluate everything."""

    def canonical_rules(schema: Mapping[str, Any]) -> str:
        return json.dumps(schema.get("synchronizationRules"), sort_keys=True, default=str)

    return canonical_rules(old) != canonical_rules(new)
