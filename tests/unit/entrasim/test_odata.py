"""The one $filter parser and the query options as Graph reads them, and a property-based check that the
directory accepts exactly the documented $filter subset on users and answers the documented error otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrasim.core.errors import BadRequest, GraphError, UnsupportedQuery
from entrasim.core.odata import parse_filter, parse_query
from entrasim.directory.models import check_query

ADELE = {
    "displayName": "Adele Vance",
    "mail": "AdeleV@contoso.com",
    "userType": "Member",
    "proxyAddresses": ["SMTP:AdeleV@contoso.com", "smtp:adele@contoso.onmicrosoft.com"],
    "identities": [
        {"signInType": "userPrincipalName", "issuer": "contoso.com", "issuerAssignedId": "adelev"},
        {"signInType": "emailAddress", "issuer": "contoso.com", "issuerAssignedId": None},
    ],
    "accountEnabled": True,
}


def matches(text: str, obj: dict[str, Any] = ADELE) -> bool:
    return parse_filter(text).test(obj)


def test_query_option_names_ignore_case():
    opts = parse_query({"$orderBy": "displayName desc", "$TOP": "5", "$Select": "id", "$FILTER": "userType eq 'x'"})
    assert (opts.orderby, opts.top, opts.select) == ([("displayName", True)], 5, ["id"])
    assert opts.filter is not None


@pytest.mark.parametrize(
    "text",
    [
        "startswith(displayName,'adele')",
        "endswith(mail,'@CONTOSO.COM')",
        "displayName eq 'ADELE VANCE'",
        "userType in ('guest', 'member')",
        "proxyAddresses/any(p:startswith(p,'SMTP:ADELE'))",
    ],
)
def test_string_comparisons_and_functions_ignore_case(text):
    assert matches(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("identities/any(i:i/issuer eq 'contoso.com' and i/signInType eq 'emailAddress')", True),
        ("identities/any(i:i/issuer eq 'fabrikam.com' or i/issuerAssignedId eq 'adelev')", True),
        ("identities/any(i:i/signInType eq 'emailAddress' and i/issuerAssignedId eq 'adelev')", False),
        ("identities/any(i:(i/issuer eq 'contoso.com') and not(i/issuerAssignedId eq null))", True),
        ("proxyAddresses/all(p:startswith(p,'smtp:') and endswith(p,'.com'))", True),
        ("proxyAddresses/all(p:endswith(p,'contoso.com'))", False),
        ("proxyAddresses/any()", True),
        ("not(identities/any(i:i/issuer eq 'fabrikam.com'))", True),
        ("identities/any(i:i/issuer eq 'contoso.com' and userType eq 'Member')", True),
    ],
)
def test_lambdas_take_compound_conditions(text, expected):
    assert matches(text) is expected


def test_a_lambda_records_its_collection_not_its_variable():
    terms = parse_filter("identities/any(i:i/issuer eq 'x' and i/signInType eq 'y') and userType eq 'Member'").terms
    assert [(t.prop, t.op) for t in terms] == [("identities", "any"), ("userType", "eq")]


@pytest.mark.parametrize(
    ("text", "equality"),
    [
        ("userPrincipalName eq 'a@b.c'", ("userPrincipalName", "a@b.c")),
        ("id eq 5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10", ("id", "5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10")),
        ("userPrincipalName eq 'a@b.c' and userType eq 'Member'", None),
        ("not(userPrincipalName eq 'a@b.c')", None),
        ("identities/any(i:i eq 'x')", None),
        ("displayName eq mail", None),
    ],
)
def test_a_sole_equality_is_told_apart_for_index_lookups(text, equality):
    assert parse_filter(text).equality == equality


def test_all_is_refused_on_directory_objects():
    with pytest.raises(UnsupportedQuery, match="property 'proxyAddresses' of resource 'User'"):
        check_query("user", parse_query({"$filter": "proxyAddresses/all(p:startswith(p,'smtp:'))"}), advanced=True)


# --- property: the documented subset of $filter on users ---------------------------------------------------
# What Graph documents per user property (the user resource's "Supports $filter" notes and the advanced
# query tables): this is the oracle, written independently of entrasim's capability tables.
DEFAULT_FILTERABLE = ("displayName", "userPrincipalName", "mail", "userType", "department", "jobTitle", "givenName",
                      "surname", "city", "country", "employeeId", "mailNickname", "state", "usageLocation")  # fmt: skip
ADVANCED_FILTERABLE = ("companyName", "officeLocation", "mobilePhone", "employeeType", "postalCode",
                       "preferredLanguage", "streetAddress")  # fmt: skip
NOT_FILTERABLE = ("aboutMe", "mySite", "preferredName")  # returned only on $select, never filtered
UNKNOWN = ("shoeSize", "favouriteColour")
ENDS_WITH = {"mail", "userPrincipalName"}
OPERATORS = ("eq", "ne", "in", "eq null", "startswith", "endswith", "contains")
ADVANCED_HINT = (
    "is not supported because the required parameters might be missing. Try adding $count=true query parameter "
    "and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
)

Clause = tuple[str, str, bool]  # (property, operator, negated)


def clause_text(prop: str, op: str, negated: bool) -> str:
    text = {
        "eq": f"{prop} eq 'Ab''c'",
        "ne": f"{prop} ne 'x'",
        "in": f"{prop} in ('a', 'B')",
        "eq null": f"{prop} eq null",
        "startswith": f"startswith({prop},'a')",
        "endswith": f"endswith({prop},'@contoso.com')",
        "contains": f"contains({prop},'a')",
    }[op]
    return f"not({text})" if negated else text


def documented_error(clauses: list[Clause], advanced: bool) -> tuple[type[GraphError], str] | None:
    """The first clause Graph refuses decides the answer."""
    for prop, op, negated in clauses:
        if negated and not advanced:
            return UnsupportedQuery, f"Operator 'not' {ADVANCED_HINT}"
        if op in ("ne", "endswith") and not advanced:
            return UnsupportedQuery, f"Operator '{'endsWith' if op == 'endswith' else op}' {ADVANCED_HINT}"
        if prop in UNKNOWN:
            return BadRequest, f"Could not find a property named '{prop}' on type 'microsoft.graph.user'."
        unsupported = f"Unsupported or invalid query filter clause specified for property '{prop}' of resource 'User'."
        refused = op == "contains" or (op == "endswith" and prop not in ENDS_WITH) or prop in NOT_FILTERABLE
        if refused or (prop in ADVANCED_FILTERABLE and not advanced) or (op == "eq null" and not advanced):
            return UnsupportedQuery, unsupported
    return None


clauses_strategy = st.lists(
    st.tuples(
        st.sampled_from(DEFAULT_FILTERABLE + ADVANCED_FILTERABLE + NOT_FILTERABLE + UNKNOWN),
        st.sampled_from(OPERATORS),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(clauses=clauses_strategy, joiners=st.lists(st.sampled_from(["and", "or"]), min_size=3, max_size=3),
       advanced=st.booleans())  # fmt: skip
def test_users_accept_exactly_the_documented_filter_subset(clauses, joiners, advanced):
    text = clause_text(*clauses[0])
    for joiner, clause in zip(joiners, clauses[1:], strict=False):
        text += f" {joiner} {clause_text(*clause)}"
    expected = documented_error(clauses, advanced)
    opts = parse_query({"$filter": text})
    if expected is None:
        check_query("user", opts, advanced=advanced)
        assert opts.filter is not None
        opts.filter(ADELE)  # evaluates without error
        return
    with pytest.raises(GraphError) as refused:
        check_query("user", opts, advanced=advanced)
    assert (type(refused.value), refused.value.message) == expected


FILTER_ALPHABET = st.sampled_from(
    ["displayName", "mail", "proxyAddresses", "x", "x/y", "/any(", "/all(", "any", "(", ")", ",", ":", " eq ",
     " ne ", " in ", " and ", " or ", "not", "startswith(", "tolower(", "'a'", "''", "'", "null", "true", "1",
     "1.5", "2024-01-01", "2024-01-01T00:00:00Z", " ", "$count", "@", "-"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(FILTER_ALPHABET, min_size=1, max_size=12), advanced=st.booleans())
def test_any_filter_text_is_answered_with_a_graph_error_or_evaluates(parts, advanced):
    """Whatever the text, the parser and the directory's checks answer a Graph error, never a crash."""
    try:
        opts = parse_query({"$filter": "".join(parts)})
        check_query("user", opts, advanced=advanced)
    except GraphError as err:
        assert err.status == 400 and err.code in ("Request_UnsupportedQuery", "Request_BadRequest")
        return
    assert opts.filter is not None
    opts.filter(ADELE)
