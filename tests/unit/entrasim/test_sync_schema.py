"""The Azure2Azure default schema, the semantic rules of a schema PUT, and scoping filter operators."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from entrasim.synchronization import schema
from entrasim.synchronization.exceptions import SchemaInvalid


def _user_mapping(s: dict[str, Any]) -> dict[str, Any]:
    return s["synchronizationRules"][0]["objectMappings"][0]


def _mapping(s: dict[str, Any], target: str) -> dict[str, Any]:
    return next(m for m in _user_mapping(s)["attributeMappings"] if m["targetAttributeName"] == target)


def _edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    edited = schema.default_schema("job")
    change(edited)
    return edited


def test_default_schema_shape() -> None:
    s = schema.default_schema("Azure2Azure.x.y")
    assert (s["id"], s["version"]) == ("Azure2Azure.x.y", "v1.2")
    [rule] = s["synchronizationRules"]
    assert (rule["name"], rule["priority"], rule["editable"]) == ("USER_INBOUND_USER", 1, True)
    assert rule["sourceDirectoryName"] == "Azure Active Directory"
    assert rule["targetDirectoryName"] == "Azure Active Directory (target tenant)"
    assert {m["key"] for m in rule["metadata"]} == {
        "defaultSourceObjectMappings",
        "supportsProvisionOnDemand",
    }
    users = _user_mapping(s)
    assert (users["flowTypes"], users["enabled"], users["scope"]) == ("Add, Update, Delete", True, None)
    targets = [m["targetAttributeName"] for m in users["attributeMappings"]]
    for expected in (
        "alternativeSecurityIds",
        "IsSoftDeleted",
        "accountEnabled",
        "department",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "jobTitle",
        "preferredLanguage",
        "telephoneNumber",
        "streetAddress",
        "city",
        "state",
        "postalCode",
        "country",
        "employeeId",
        "showInAddressList",
        "userType",
    ):
        assert expected in targets
    match = _mapping(s, "alternativeSecurityIds")
    assert match["matchingPriority"] == 1
    assert match["source"]["expression"] == "AltSecIdFromNetId([netId])"
    assert [m["targetAttributeName"] for m in users["attributeMappings"] if m["matchingPriority"]] == [
        "alternativeSecurityIds"
    ]
    user_type = _mapping(s, "userType")
    assert (user_type["flowType"], user_type["source"]) == (
        "ObjectAddOnly",
        {"expression": '"Member"', "name": "Member", "type": "Constant", "parameters": []},
    )
    assert _mapping(s, "showInAddressList")["source"]["expression"] == '"true"'
    for directory in s["directories"]:
        names = {a["name"] for a in directory["objects"][0]["attributes"]}
        assert {f"extensionAttribute{i}" for i in range(1, 16)} <= names
    assert [d["name"] for d in s["directories"]] == [schema.SOURCE_DIRECTORY, schema.TARGET_DIRECTORY]


def test_default_schema_copies_are_independent() -> None:
    first = schema.default_schema("a")
    _user_mapping(first)["flowTypes"] = "Add"
    assert _user_mapping(schema.default_schema("b"))["flowTypes"] == "Add, Update, Delete"


def test_default_rule_compiles() -> None:
    rule = schema.default_rule()
    assert rule.rule_id == schema.RULE_ID
    assert rule.flow_types == {"Add", "Update", "Delete"}
    assert rule.scope == ()
    assert len(rule.mappings) == len(_user_mapping(schema.default_schema("x"))["attributeMappings"])


# --- semantic validation ----------------------------------------------------------------------------------


def _set_source(target: str, expression: str) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        _mapping(s, target)["source"] = {"expression": expression, "type": "Function", "name": "x"}

    return change


def _add_mapping(target: str, expression: str, priority: int = 0) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        _user_mapping(s)["attributeMappings"].append(
            {
                "targetAttributeName": target,
                "source": {"expression": expression},
                "matchingPriority": priority,
            }
        )

    return change


def _remove_mapping(target: str) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        mappings = _user_mapping(s)["attributeMappings"]
        mappings.remove(_mapping(s, target))

    return change


def _scope(*clauses: tuple[str, str, list[str]]) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        _user_mapping(s)["scope"] = {
            "groups": [
                {
                    "name": "f",
                    "clauses": [
                        {"sourceOperandName": a, "operatorName": op, "targetOperand": {"values": v}}
                        for a, op, v in clauses
                    ],
                }
            ]
        }

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_source("alternativeSecurityIds", "[objectId]"), "matching attribute cannot be changed"),
        (_remove_mapping("alternativeSecurityIds"), "matching attribute cannot be changed"),
        (_add_mapping("mail", "[mail]", priority=2), "matching attributes cannot be added"),
        (_set_source("department", "Append([department]"), "could not be parsed"),
        (_set_source("department", "NoSuchFunction([department])"), "unknown function"),
        (_add_mapping("favouriteColour", "[department]"), "'favouriteColour' is not defined in the target"),
        (_set_source("department", "[costCenter]"), "'costCenter' is not defined in the source"),
        (_scope(("department", "LIKE", ["x"])), "unknown scoping filter operator 'LIKE'"),
        (_scope(("department", "REGEX MATCH", ["("])), "invalid regular expression"),
        (_scope(("costCenter", "EQUALS", ["x"])), "'costCenter', which is not defined"),
        (_scope(("department", "EQUALS", [])), "needs a value"),
        (lambda s: _user_mapping(s).update(flowTypes="Add, Upsert"), "flowTypes"),
        (lambda s: _mapping(s, "department").update(flowType="Sometimes"), "unknown flowType"),
        (lambda s: s["synchronizationRules"][0].update(name="OTHER"), "exactly one synchronization rule"),
        (lambda s: s.update(directories=[]), "directories must be defined"),
        (lambda s: s["synchronizationRules"][0].update(objectMappings=[]), "cannot be removed"),
        (lambda s: s.update(synchronizationRules="nope"), "must be a list of objects"),
    ],
)
def test_semantic_rules(change: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message):
        schema.validate(_edited(change))


def test_directory_extensions_and_custom_mappings_are_accepted() -> None:
    def extend(s: dict[str, Any]) -> None:
        for directory in s["directories"]:
            directory["objects"][0]["attributes"].append({"name": "extension_abc_costCenter", "type": "String"})
        _user_mapping(s)["attributeMappings"].append(
            {
                "targetAttributeName": "extension_abc_costCenter",
                "source": {"expression": "[extension_abc_costCenter]"},
            }
        )

    rule = schema.validate(_edited(extend))
    assert rule.mappings[-1].target == "extension_abc_costCenter"


def test_sources_without_expression_are_rebuilt_from_their_parameters() -> None:
    def structured(s: dict[str, Any]) -> None:
        _mapping(s, "preferredLanguage")["source"] = {
            "name": "Replace",
            "type": "Function",
            "parameters": [
                {"key": "source", "value": {"name": "preferredLanguage", "type": "Attribute"}},
                {"key": "Find", "value": {"name": "-", "type": "Constant"}},
                {"key": "Replacement", "value": {"name": "_", "type": "Constant"}},
            ],
        }

    rule = schema.validate(_edited(structured))
    mapping = next(m for m in rule.mappings if m.target == "preferredLanguage")
    assert mapping.expression == 'Replace([preferredLanguage], "-", , , "_", , )'
    assert mapping.value({"preferredLanguage": "en-US"}, {}) == "en_US"


def test_rules_changed_ignores_directories() -> None:
    old = schema.default_schema("a")
    assert not schema.rules_changed(old, _edited(lambda s: s["directories"][0].update(version="2")))
    assert schema.rules_changed(old, _edited(lambda s: _user_mapping(s).update(flowTypes="Add, Update")))


# --- mapping values ---------------------------------------------------------------------------------------


def test_mapping_values_follow_target_types() -> None:
    rule = schema.default_rule()
    values = {
        m.target: m.value({"netId": "1003ABC", "accountEnabled": True, "department": "Sales"}, {})
        for m in rule.mappings
    }
    assert values["showInAddressList"] is True  # the constant "true" flows as a Boolean
    assert values["userType"] == "Member"
    assert values["department"] == "Sales"
    assert values["alternativeSecurityIds"][0]["type"] == 5  # type: ignore[index]
    assert values["surname"] is None


def test_default_value_applies_to_empty_sources() -> None:
    edited = _edited(lambda s: _mapping(s, "department").update(defaultValue="Unknown"))
    mapping = next(m for m in schema.validate(edited).mappings if m.target == "department")
    assert mapping.value({"department": ""}, {}) == "Unknown"
    assert mapping.value({"department": "Sales"}, {}) == "Sales"


# --- scoping filters --------------------------------------------------------------------------------------


def _clause(operator: str, *values: str) -> Callable[[object], bool]:
    edited = _edited(_scope(("department", operator, list(values))))
    rule = schema.validate(edited)
    return lambda value: rule.in_scope({"department": value})


@pytest.mark.parametrize(
    ("operator", "values", "passes", "fails"),
    [
        ("EQUALS", ["Sales"], ["Sales"], ["sales", None, ""]),
        ("NOT EQUALS", ["Sales"], ["Ops"], ["Sales", None]),
        ("IS TRUE", [], [True, "true"], [False, None, "yes"]),
        ("IS FALSE", [], [False, "False"], [True, None]),
        ("IS NULL", [], [None, ""], ["x", False]),
        ("IS NOT NULL", [], ["x", False], [None, ""]),
        ("REGEX MATCH", [r".*@contoso\.com"], ["a@contoso.com"], ["a@fabrikam.com", None]),
        ("NOT REGEX MATCH", [r".*@contoso\.com"], ["a@fabrikam.com"], ["a@contoso.com", None]),
        ("Includes", ["ale"], ["Sales"], ["SALES", None]),
        ("ENDS_WITH", ["les"], ["Sales"], ["Salesman"]),
        ("Greater_Than", ["10"], ["11", 11], ["10", "ten", None]),
        ("Greater_Than_OR_EQUALS", ["10"], ["10"], ["9"]),
        ("&", ["Sales,Ops"], ["Sales", "Ops"], ["HR"]),
        ("!&", ["Sales,Ops"], ["HR"], ["Sales", None]),
    ],
)
def test_filter_operators(operator: str, values: list[str], passes: list[object], fails: list[object]) -> None:
    check = _clause(operator, *values)
    assert [check(v) for v in passes] == [True] * len(passes)
    assert [check(v) for v in fails] == [False] * len(fails)


def test_clauses_and_groups() -> None:
    def two_groups(s: dict[str, Any]) -> None:
        clause = lambda attribute, value: {  # noqa: E731
            "sourceOperandName": attribute,
            "operatorName": "EQUALS",
            "targetOperand": {"values": [value]},
        }
        _user_mapping(s)["scope"] = {
            "groups": [
                {"name": "Paris sales", "clauses": [clause("department", "Sales"), clause("city", "Paris")]},
                {"name": "Engineering", "clauses": [clause("department", "Engineering")]},
            ]
        }

    rule = schema.validate(_edited(two_groups))
    assert rule.in_scope({"department": "Sales", "city": "Paris"})
    assert not rule.in_scope({"department": "Sales", "city": "Lyon"})
    assert rule.in_scope({"department": "Engineering", "city": "Lyon"})
    assert rule.scope_result({"department": "Sales", "city": "Lyon"}) == {
        "Paris sales.department EQUALS 'Sales'": True,
        "Paris sales.city EQUALS 'Paris'": False,
        "Engineering.department EQUALS 'Engineering'": False,
    }


def test_multivalued_attributes_never_match() -> None:
    assert not _clause("IS NOT NULL")(["a", "b"])


def test_catalogues() -> None:
    operators = {o["name"]: o for o in schema.filter_operators()}
    assert operators["EQUALS"]["arity"] == "Binary"
    assert operators["IS NULL"]["arity"] == "Unary"
    functions = {f["name"]: f for f in schema.mapping_functions()}
    assert [p["name"] for p in functions["Append"]["parameters"]] == ["source", "suffix"]
    coalesce = functions["Coalesce"]["parameters"]
    assert coalesce == [{"allowMultipleOccurrences": True, "name": "source", "required": True, "type": "String"}]


def test_template_carries_the_default_schema() -> None:
    template = schema.template("app-id")
    assert (template["id"], template["factoryTag"], template["applicationId"]) == (
        "Azure2Azure",
        "Azure2Azure",
        "app-id",
    )
    assert template["schema"]["synchronizationRules"] == copy.deepcopy(
        schema.default_schema("x")["synchronizationRules"]
    )
