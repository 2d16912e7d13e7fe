"""Scoping filters: ctsync's evaluator against entrasim's provisioning engine as the oracle, on generated
filters and users, plus the cases the documentation spells out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctsync.api.syncscope import Clause as SpecClause
from ctsync.api.syncscope import ScopingFilter
from ctsync.api.userschema import BINARY_OPERATORS, FILTERABLE_ATTRIBUTES, UNARY_OPERATORS
from ctsync.errors import ReadIncomplete
from ctsync.planning import scoping
from entrasim.synchronization import schema as sim_schema
from entrasim.synchronization.scope import SourceView

ATTRIBUTES = sorted(FILTERABLE_ATTRIBUTES)
OPERATORS = sorted(UNARY_OPERATORS + BINARY_OPERATORS)
TEXTS = [
    "Sales",
    "sales",
    "true",
    "TRUE",
    "Sales,Ops",
    "Ops",
    "les",
    "10",
    "7",
    "-3",
    "010",
    "True",
    "false",
    "",
    "a.c",
    "abc",
]
PATTERNS = ["^S", "s$", "a.c", "[0-9]+", "^$", "Sales|Ops"]
GRAPH_PROPERTIES = sorted({scoping.GRAPH_PROPERTY[a] for a in ATTRIBUTES if a in scoping.GRAPH_PROPERTY} - {"id"})


def _schema(groups: list[dict[str, Any]]) -> dict[str, Any]:
    schema = sim_schema.default_schema("job")
    user_mapping = schema["synchronizationRules"][0]["objectMappings"][0]
    user_mapping["scope"] = {"groups": groups} if groups else None
    return schema


# Short strings over a small alphabet: prefixes, suffixes, substrings, case and integers all collide often.
texts = st.one_of(st.sampled_from(TEXTS), st.text(alphabet="aSs1-0,", max_size=4))
values = st.one_of(texts, st.none(), st.booleans(), st.integers(-20, 20), st.lists(texts, max_size=2))


@st.composite
def users(draw: st.DrawFn) -> dict[str, Any]:
    """A source user with a value (possibly null, empty or multi-valued) for most properties."""
    user: dict[str, Any] = {"id": draw(st.sampled_from(["0a1b2c3d-0000-4000-8000-000000000001", "10"]))}
    for prop in GRAPH_PROPERTIES:
        if prop == "onPremisesExtensionAttributes":
            user[prop] = {f"extensionAttribute{i}": draw(values) for i in range(1, 16)}
        elif prop == "businessPhones":
            user = _with_phone(user, draw(st.one_of(texts, st.none())))
        elif draw(st.integers(0, 9)):
            user[prop] = draw(values)
    return user


def _with_phone(user: dict[str, Any], phone: object) -> dict[str, Any]:
    """Graph holds the one business phone in businessPhones; entrasim's engine reads the telephoneNumber it
    stores beside it (a property Graph's user does not have), so the test user carries both."""
    return {**user, "businessPhones": [] if phone is None else [phone], "telephoneNumber": phone}


@st.composite
def clauses(draw: st.DrawFn) -> dict[str, Any]:
    operator = draw(st.sampled_from(OPERATORS))
    if operator in UNARY_OPERATORS:
        operands: list[str] = []
    elif "REGEX" in operator:
        operands = [draw(st.sampled_from(PATTERNS))]
    else:
        operands = draw(st.lists(texts, min_size=1, max_size=2))
    return {
        "sourceOperandName": draw(st.sampled_from(ATTRIBUTES)),
        "operatorName": operator,
        "targetOperand": {"values": operands},
    }


groups = st.lists(
    st.builds(lambda cs: {"name": "g", "clauses": cs}, st.lists(clauses(), min_size=1, max_size=3)), max_size=3
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups, st.lists(users(), min_size=1, max_size=5))
def test_same_users_in_scope_as_the_provisioning_engine(filter_groups: list[dict[str, Any]], people: list[Any]) -> None:
    schema = _schema(filter_groups)
    oracle = sim_schema.validate(schema)
    ours = scoping.from_schema(schema)
    for user in people:
        assert ours.admits(user) == oracle.in_scope(SourceView(user, assigned=True)), (filter_groups, user)


def _with_value(user: dict[str, Any], attribute: str, value: object) -> dict[str, Any]:
    prop = scoping.GRAPH_PROPERTY.get(attribute)
    if prop == "businessPhones":
        return _with_phone(user, value)
    if prop == "onPremisesExtensionAttributes":
        return {**user, prop: {**user[prop], attribute: value}}
    if prop is not None and prop != "id":
        return {**user, prop: value}
    return user


INTEGER = re.compile(r"-?[0-9]+")  # an operand the integer operators read ("--0" is none)


@settings(max_examples=300, deadline=None)
@given(clauses(), users(), st.lists(values, max_size=3))
def test_each_clause_admits_whom_the_provisioning_engine_admits(
    clause: dict[str, Any], user: dict[str, Any], others: list[object]
) -> None:
    """Values close to the operand (equal, another case, shorter, with something before or after it)
    and arbitrary ones, each as the user's value of the clause's attribute."""
    schema = _schema([{"name": "g", "clauses": [clause]}])
    ours, oracle = scoping.from_schema(schema), sim_schema.validate(schema)
    near = [
        text
        for operand in clause["targetOperand"]["values"] or ["Sales", "true"]
        for text in (operand, operand.swapcase(), operand[1:], operand[:-1], "x" + operand, operand + "x")
    ]
    near += [str(int(o) + d) for o in clause["targetOperand"]["values"] if INTEGER.fullmatch(o) for d in (-1, 1)]
    for value in [*near, *others]:
        someone = _with_value(user, clause["sourceOperandName"], value)
        assert ours.admits(someone) == oracle.in_scope(SourceView(someone, True)), (clause, value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(clauses(), min_size=1, max_size=3), max_size=3), st.lists(users(), min_size=1, max_size=3))
def test_spec_filters_mean_what_the_schema_they_write_means(
    spec_groups: list[list[dict[str, Any]]], people: list[Any]
) -> None:
    filters = [
        ScopingFilter(
            tuple(
                SpecClause(c["sourceOperandName"], c["operatorName"], (c["targetOperand"]["values"] or [None])[0])
                for c in group
            )
        )
        for group in spec_groups
    ]
    desired = scoping.desired_filter(_schema([]), filters)
    from_spec = scoping.from_spec(filters)
    for user in people:
        assert desired.admits(user) == from_spec.admits(user)


SALES = {"id": "u1", "department": "Sales", "accountEnabled": True, "companyName": "12"}


@pytest.mark.parametrize(
    ("attribute", "operator", "operands", "admitted"),
    [
        ("department", "EQUALS", ["Sales"], True),
        ("department", "EQUALS", ["sales"], False),  # case-sensitive
        ("department", "NOT EQUALS", ["Ops"], True),
        ("mail", "NOT EQUALS", ["x"], False),  # null never compares
        ("mail", "IS NULL", [], True),
        ("accountEnabled", "IS TRUE", [], True),
        ("accountEnabled", "IS FALSE", [], False),
        ("IsSoftDeleted", "IS FALSE", [], True),
        ("department", "REGEX MATCH", ["^Sa"], True),
        ("department", "NOT REGEX MATCH", ["^Sa"], False),
        ("mail", "NOT REGEX MATCH", ["^Sa"], False),
        ("companyName", "Greater_Than", ["11"], True),
        ("companyName", "Greater_Than_OR_EQUALS", ["13"], False),
        ("department", "Greater_Than", ["1"], False),  # not an integer
        ("department", "Includes", ["ale"], True),
        ("department", "ENDS_WITH", ["les"], True),
        ("department", "&", ["Sales,Ops"], True),
        ("department", "!&", ["Sales,Ops"], False),
        ("objectId", "EQUALS", ["u1"], True),
        ("appRoleAssignments", "IS NULL", [], True),  # multi-valued: never compares
    ],
)
def test_documented_operators(attribute: str, operator: str, operands: list[str], admitted: bool) -> None:
    clause = {"sourceOperandName": attribute, "operatorName": operator, "targetOperand": {"values": operands}}
    assert scoping.from_schema(_schema([{"name": "f", "clauses": [clause]}])).admits(SALES) is admitted


def test_groups_are_ored_and_clauses_anded() -> None:
    def clause(attribute: str, value: str) -> dict[str, Any]:
        return {"sourceOperandName": attribute, "operatorName": "EQUALS", "targetOperand": {"values": [value]}}

    both = scoping.from_schema(
        _schema([{"name": "a", "clauses": [clause("department", "Sales"), clause("city", "Oslo")]}])
    )
    either = scoping.from_schema(
        _schema(
            [
                {"name": "a", "clauses": [clause("department", "Sales")]},
                {"name": "b", "clauses": [clause("city", "Oslo")]},
            ]
        )
    )
    assert not both.admits(SALES)
    assert either.admits(SALES)
    assert scoping.from_schema(_schema([])).admits(SALES)


def test_properties_to_select() -> None:
    filters = [
        ScopingFilter(
            (
                SpecClause("mobile", "IS NOT NULL"),
                SpecClause("extensionAttribute3", "EQUALS", "x"),
                SpecClause("IsSoftDeleted", "IS FALSE"),
            )
        )
    ]
    assert scoping.from_spec(filters).graph_properties == {"mobilePhone", "onPremisesExtensionAttributes"}


def test_an_unknown_operator_in_the_schema_is_not_guessed() -> None:
    clause = {"sourceOperandName": "department", "operatorName": "LIKE", "targetOperand": {"values": ["x"]}}
    with pytest.raises(ReadIncomplete, match="LIKE"):
        scoping.from_schema(_schema([{"name": "f", "clauses": [clause]}]))
