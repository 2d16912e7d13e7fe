"""ctsync's rule evaluator agrees with entrasim's (written independently, from the same documentation) on
generated rules and users: same verdict, or both refuse the rule."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ctsync.planning.dynamic_groups import graph_value
from ctsync.planning.membership_rules import (
    BOOLEAN_PROPERTIES,
    COLLECTION_PROPERTIES,
    STRING_PROPERTIES,
    RuleNotEvaluated,
    parse_rule,
)
from entrasim.core.errors import BadRequest
from entrasim.directory.membership_rules import compile_rule

WORDS = ["Finance", "finance", "FIN", "Sales", "Guest", "Member", "Contoso", "", "x.y", "Fabrikam"]
TEXT_RULE_NAMES = ["department", "companyName", "userType", "city", "mobile", "extensionAttribute7"]
OPERATORS = [
    "-eq", "-ne", "eq", "-startsWith", "-notStartsWith", "-endsWith", "-notEndsWith",
    "-contains", "-notContains", "-match", "-notMatch", "-in", "-notIn",
]  # fmt: skip

words = st.sampled_from(WORDS)
maybe_word = st.one_of(st.none(), words)


@st.composite
def users(draw: st.DrawFn) -> dict[str, Any]:
    """Graph users as both tenants return them."""
    user: dict[str, Any] = {name: draw(maybe_word) for name in ("department", "companyName", "userType", "city")}
    user["mobilePhone"] = draw(maybe_word)
    user["accountEnabled"] = draw(st.booleans())
    user["otherMails"] = draw(st.lists(words, max_size=3))
    user["onPremisesExtensionAttributes"] = {"extensionAttribute7": draw(maybe_word)}
    return user


def literal(draw: st.DrawFn, op: str) -> str:
    if op.lower().lstrip("-") in ("in", "notin"):
        return "[" + ", ".join(f'"{w}"' for w in draw(st.lists(words, min_size=1, max_size=3))) + "]"
    if op.lower().lstrip("-") in ("match", "notmatch"):
        return '"' + draw(st.sampled_from(["^fin", "ance$", "a.e", "[", "^$", "Sales|Guest"])) + '"'
    return draw(st.sampled_from([f'"{draw(words)}"', f"'{draw(words)}'", "null", "true", "42"]))


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "text", "text", "bool", "collection", "any"]))
    if kind == "bool":
        return f"user.accountEnabled {draw(st.sampled_from(['-eq', '-ne']))} {draw(st.sampled_from(['true', 'false']))}"
    if kind == "any":
        quantifier = draw(st.sampled_from(["-any", "-all"]))
        op = draw(st.sampled_from(OPERATORS))
        return f"user.otherMails {quantifier} (_ {op} {literal(draw, op)})"
    name = "otherMails" if kind == "collection" else draw(st.sampled_from(TEXT_RULE_NAMES))
    op = draw(st.sampled_from(OPERATORS))
    return f"user.{name} {op} {literal(draw, op)}"


rules = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda a: f"-not ({a})", inner),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["-and", "-or", "and", "OR"]), inner),
    ),
    max_leaves=6,
)


def as_rules_read_it(user: dict[str, Any]) -> dict[str, Any]:
    names = (*STRING_PROPERTIES, *BOOLEAN_PROPERTIES, *COLLECTION_PROPERTIES)
    return {name.lower(): graph_value(user, name) for name in names}


@settings(max_examples=400, deadline=None)
@given(rule=rules, user=users())
def test_ctsync_and_entrasim_agree(rule, user):
    try:
        expected: bool | None = compile_rule(rule)(user)
    except BadRequest:
        expected = None
    try:
        actual: bool | None = parse_rule(rule).matches(as_rules_read_it(user))
    except RuleNotEvaluated:
        actual = None
    assert actual == expected, rule
