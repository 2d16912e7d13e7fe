"""The job schema: semantic comparison (no false positives: a PUT restarts the full cycle) and the build."""

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest
from ctsync_samples import ATTRIBUTE_MAPPING, body, cts_schema, mapping, user_mappings

from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import Clause, ScopingFilter
from ctsync.errors import Blocked, ReadIncomplete
from ctsync.planning.mappings import merge_mappings
from ctsync.planning.schema import build_desired_schema, plan_schema, schema_differs

Edit = Callable[[dict[str, Any]], object]


def _shuffle_everything(schema: dict[str, Any]) -> None:
    rng = random.Random(7)
    rule = schema["synchronizationRules"][0]
    rng.shuffle(rule["objectMappings"])
    rng.shuffle(rule["metadata"])
    for object_mapping in rule["objectMappings"]:
        object_mapping["attributeMappings"].reverse()
    schema["directories"][0]["objects"][0]["attributes"].reverse()


def _filters(*groups: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    return {
        "groups": [
            {
                "name": f"group {i}",
                "clauses": [
                    {"sourceOperandName": a, "operatorName": op, "targetOperand": {"values": values}}
                    for a, op, values in clauses
                ],
            }
            for i, clauses in enumerate(groups)
        ]
    }


FINANCE = [("department", "EQUALS", ["Finance"]), ("accountEnabled", "IS TRUE", [])]
SALES = [("department", "EQUALS", ["Sales"])]


def _with_scope(scope: dict[str, Any]) -> Edit:
    return lambda s: s["synchronizationRules"][0]["objectMappings"][0].update(scope=scope)


def _strip_defaults(schema: dict[str, Any]) -> None:
    for m in user_mappings(schema):
        for key in ("flowBehavior", "exportMissingReferences", "defaultValue"):
            m.pop(key)
        if m["matchingPriority"] == 0:
            del m["matchingPriority"]


def _rename_parameters_and_respace(schema: dict[str, Any]) -> None:
    for m in user_mappings(schema):
        if m["targetAttributeName"] == "alternativeSecurityIds":
            m["source"] = {
                "expression": "AltSecIdFromNetId( [netId] )",
                "name": "AltSecIdFromNetId",
                "type": "Function",
                "parameters": [{"key": "netId", "value": {"name": "netId", "type": "Attribute", "parameters": []}}],
            }


SAME: list[tuple[str, Edit, Edit]] = [
    ("lists in another order", _shuffle_everything, lambda s: None),
    ("defaults spelled out or omitted", _strip_defaults, lambda s: None),
    ("empty default value", lambda s: user_mappings(s)[3].update(defaultValue=""), lambda s: None),
    ("parameter names and whitespace", _rename_parameters_and_respace, lambda s: None),
    ("odata annotations", lambda s: s.pop("@odata.context"), lambda s: None),
    (
        "flowTypes order",
        lambda s: s["synchronizationRules"][0]["objectMappings"][0].update(flowTypes="Delete,Add, Update"),
        lambda s: None,
    ),
    ("null scope vs no filter groups", _with_scope({"groups": [], "inputFilterGroups": []}), lambda s: None),
    (
        "filter groups and clauses reordered, renamed",
        _with_scope(_filters(FINANCE, SALES)),
        _with_scope(_filters(SALES, list(reversed(FINANCE)))),
    ),
]

DIFFERENT: list[tuple[str, Edit]] = [
    (
        "expression",
        lambda s: user_mappings(s)[3].update(source=mapping("department", "[jobTitle]")["source"]),
    ),
    ("flow type", lambda s: user_mappings(s)[8].update(flowType="Always")),
    ("default value", lambda s: user_mappings(s)[3].update(defaultValue="Unknown")),
    ("removed mapping", lambda s: user_mappings(s).pop(4)),
    ("added mapping", lambda s: user_mappings(s).append(mapping("jobTitle", "[jobTitle]"))),
    ("string constant", lambda s: user_mappings(s)[6].update(source=mapping("x", '"false"')["source"])),
    ("filter value", _with_scope(_filters([("department", "EQUALS", ["Finance "])]))),
    (
        "object mapping disabled",
        lambda s: s["synchronizationRules"][0]["objectMappings"][1].update(enabled=True),
    ),
]


@pytest.mark.parametrize(("case", "edit_observed", "edit_desired"), SAME, ids=[c[0] for c in SAME])
def test_no_false_positives(case: str, edit_observed: Edit, edit_desired: Edit) -> None:
    observed, desired = cts_schema(), cts_schema()
    edit_observed(observed)
    edit_desired(desired)
    assert not schema_differs(observed, desired)
    assert not schema_differs(desired, observed)


@pytest.mark.parametrize(("case", "edit"), DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_real_changes_differ(case: str, edit: Edit) -> None:
    changed = cts_schema()
    edit(changed)
    assert schema_differs(cts_schema(), changed)


def merged(**spec: Any) -> Any:
    return merge_mappings([AttributeMapping.from_body(body(ATTRIBUTE_MAPPING, **spec))])


def test_build_applies_mappings_remove_and_deny_but_never_the_matching_attribute() -> None:
    observed = cts_schema()
    wanted = merged(
        mappings=[
            {"target": "jobTitle", "source": "[jobTitle]"},
            {"target": "USERTYPE", "source": '"Member"'},  # Always instead of on create
        ],
        remove=["showInAddressList"],
        denyAttributes=["employeeId", "netId"],
    )
    desired = build_desired_schema(observed, wanted, ())
    by_target = {m["targetAttributeName"]: m for m in user_mappings(desired)}
    assert "showInAddressList" not in by_target and "employeeId" not in by_target
    assert by_target["alternativeSecurityIds"] == user_mappings(observed)[0]  # reads netId, yet untouched
    assert by_target["userType"]["flowType"] == "Always"  # the service's spelling of the name is kept
    assert by_target["jobTitle"] == {
        "targetAttributeName": "jobTitle",
        "flowBehavior": "FlowWhenChanged",
        "exportMissingReferences": False,
        "matchingPriority": 0,
        "source": {"expression": "[jobTitle]", "name": "jobTitle", "type": "Attribute", "parameters": []},
        "flowType": "Always",
        "defaultValue": None,
    }
    assert "@odata.context" not in desired
    assert observed == cts_schema()  # the observed schema is not modified


def test_new_mappings_are_written_in_the_template_spelling_when_the_schema_lists_no_directories() -> None:
    observed = cts_schema()
    del observed["directories"]
    wanted = merged(
        mappings=[{"target": "JOBTITLE", "source": 'Join(" ", [GivenName], IIF([UserType] = "x", [Mail], ""))'}]
    )
    by_target = {m["targetAttributeName"]: m for m in user_mappings(build_desired_schema(observed, wanted, ()))}
    assert by_target["jobTitle"]["source"]["expression"] == 'Join(" ", [givenName], IIF([userType] = "x", [mail], ""))'


def test_names_take_the_live_schemas_spelling_and_unknown_ones_are_left_as_they_are() -> None:
    observed = cts_schema()
    live = ["extension_0a1b_CostCenter", "jobTitle", "department"]
    observed["directories"] = [
        {"name": name, "objects": [{"name": "User", "attributes": [{"name": a} for a in live]}]}
        for name in ("Azure Active Directory", "Azure Active Directory (target)")
    ]
    observed["synchronizationRules"][0]["targetDirectoryName"] = "Azure Active Directory (target)"
    wanted = merged(
        mappings=[
            {"target": "EXTENSION_0A1B_COSTCENTER", "source": "[Department]"},
            {"target": "jobtitle", "source": "[extension_0a1b_costcenter]"},
        ]
    )
    written = {
        m["targetAttributeName"]: m["source"]["expression"]
        for m in user_mappings(build_desired_schema(observed, wanted, ()))
    }
    assert written["extension_0a1b_CostCenter"] == "[department]"
    assert written["jobTitle"] == "[extension_0a1b_CostCenter]"
    assert "jobtitle" not in written and "EXTENSION_0A1B_COSTCENTER" not in written


def test_plan_is_idempotent_once_the_service_normalises_our_put() -> None:
    wanted = merged(mappings=[{"target": "displayName", "source": 'Join(" ",  [givenName],[surname])'}])
    filters = (ScopingFilter((Clause("department", "EQUALS", "Finance"),)),)
    (put,) = plan_schema(cts_schema(), wanted, filters)
    stored = copy.deepcopy(dict(put.body or {}))
    for m in user_mappings(stored):  # the service names parameters its own way and fills defaults
        m["source"]["parameters"] = [{"key": "p", "value": {"expression": "[x]"}}]
        m.pop("exportMissingReferences")
    assert plan_schema(stored, wanted, filters) == []


def test_without_attribute_mappings_only_filters_are_managed() -> None:
    observed = cts_schema()
    assert plan_schema(observed, None, ()) == []
    (put,) = plan_schema(observed, None, (ScopingFilter((Clause("accountEnabled", "IS TRUE"),), "enabled"),))
    user = (put.body or {})["synchronizationRules"][0]["objectMappings"][0]
    assert user["attributeMappings"] == user_mappings(observed)
    assert user["scope"] == {
        "groups": [
            {
                "name": "enabled",
                "clauses": [
                    {
                        "sourceOperandName": "accountEnabled",
                        "operatorName": "IS TRUE",
                        "targetOperand": {"values": []},
                    }
                ],
            }
        ]
    }


def test_plan_summary_names_the_changed_mappings() -> None:
    (put,) = plan_schema(cts_schema(), merged(mappings=[{"target": "jobTitle", "source": "[jobTitle]"}]), ())
    assert put.step == "source.schema" and put.verb == "update" and not put.destructive
    assert put.changes == {
        "mapping employeeId": ("[employeeId] (Always)", None),
        "mapping jobTitle": (None, "[jobTitle] (Always)"),
    }
    assert put.summary.startswith("~ source job schema")


def test_mapping_a_matching_attribute_is_blocked() -> None:
    observed = cts_schema()
    user_mappings(observed).append(mapping("mail", "[mail]", matchingPriority=2))
    with pytest.raises(Blocked, match="matching attribute") as info:
        build_desired_schema(observed, merged(mappings=[{"target": "mail", "source": "[userPrincipalName]"}]), ())
    assert info.value.reason == "MappingConflict"


def test_schema_without_user_mapping_is_an_incomplete_read() -> None:
    observed = cts_schema()
    observed["synchronizationRules"][0]["objectMappings"] = []
    with pytest.raises(ReadIncomplete):
        plan_schema(observed, None, ())
