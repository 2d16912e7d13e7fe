"""Entra's dynamic membership rules for users: parsed once, evaluated against the users a sync would make.

The documented subset:
    rule        := or_expr
    or_expr     := and_expr ("-or" and_expr)*
    and_expr    := not_expr ("-and" not_expr)*
    not_expr    := "-not" not_expr | "(" or_expr ")" | comparison
    comparison  := user.<property> <operator> value
                 | user.<collection> ("-any" | "-all") (item_comparison | "(" item_or_expr ")")   # items are "_"
    value       := "text" | 'text' | number | true | false | null | "[" value ("," value)* "]"  (after -in/-notIn)
Operators: -eq -ne -startsWith -notStartsWith -endsWith -notEndsWith -contains -notContains -match -notMatch
-in -notIn (the hyphen is optional; keywords and operators are case-insensitive). Comparison binds tighter
than -not, -not than -and, -and than -or. Values compare case-insensitively; `-match` is a regular expression.

What ctsync does not evaluate raises RuleNotEvaluated with the reason (-le/-ge on hire dates, multi-value
objects such as assignedPlans, memberOf, directory extensions, Direct Reports rules): such a group is
reported as "not evaluated", never as safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

User = Mapping[str, Any]  # rule property name, lower case -> value (see user_view)
Test = Callable[[Any], bool]
Matcher = Callable[[Any], bool]

MAX_RULE_LENGTH: Final = 3072

# The user properties a rule may read (Entra spells them so; ctsync compares them in lower case).
STRING_PROPERTIES: Final = (
    "city", "country", "companyName", "department", "displayName", "employeeId", "employeeType",
    "facsimileTelephoneNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobile", "objectId",
    "onPremisesSecurityIdentifier", "passwordPolicies", "physicalDeliveryOfficeName", "postalCode",
    "preferredLanguage", "state", "streetAddress", "surname", "telephoneNumber", "usageLocation",
    "userPrincipalName", "userType",
    *(f"extensionAttribute{i}" for i in range(1, 16)),
)  # fmt: skip
BOOLEAN_PROPERTIES: Final = ("accountEnabled",)
COLLECTION_PROPERTIES: Final = ("otherMails", "proxyAddresses")
PROPERTIES: Final = frozenset(p.lower() for p in (*STRING_PROPERTIES, *BOOLEAN_PROPERTIES, *COLLECTION_PROPERTIES))

# operator -> (the positive test it negates or is, negated?)
_OPERATORS: Final = {
    "eq": ("eq", False), "ne": ("eq", True),
    "startswith": ("startswith", False), "notstartswith": ("startswith", True),
    "endswith": ("endswith", False), "notendswith": ("endswith", True),
    "contains": ("contains", False), "notcontains": ("contains", True),
    "match": ("match", False), "notmatch": ("match", True),
    "in": ("in", False), "notin": ("in", True),
}  # fmt: skip
_BINDING: Final = {"or": 1, "and": 2}  # -and binds tighter than -or
_LITERAL_WORDS: Final = {"true": True, "false": False, "null": None}
_PUNCTUATION: Final = "()[],"


class RuleNotEvaluated(ValueError):
    """A rule ctsync cannot parse or does not evaluate; the message says why."""


# --- syntax tree -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    prop: str  # lower-case property name, or "_" for the item of -any/-all
    test: str  # eq, startswith, endswith, contains, match, in
    negated: bool
    literal: Any


@dataclass(frozen=True)
class Quantified:
    prop: str
    every: bool  # -all (else -any)
    body: Node


@dataclass(frozen=True)
class Not:
    body: Node


@dataclass(frozen=True)
class Junction:
    kind: str  # "and" | "or"
    parts: tuple[Node, ...]


Node = Compare | Quantified | Not | Junction


@dataclass(frozen=True)
class MembershipRule:
    text: str
    properties: frozenset[str]  # lower-case property names the rule reads
    matches: Matcher  # User -> bool


def parse_rule(text: object) -> MembershipRule:
    if not isinstance(text, str) or not text.strip():
        raise RuleNotEvaluated("the rule is empty")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleNotEvaluated(f"the rule is longer than {MAX_RULE_LENGTH} characters")
    tree = _Parser(_scan(text.replace("\u2013", "-"))).rule()  # Microsoft's examples use en dashes
    return MembershipRule(text, frozenset(_read_by(tree)), _compile(tree))


def fold(value: Any) -> Any:
    """The form rules compare in: text in lower case (empty text is null), booleans as "true"/"false"."""
    match value:
        case bool():
            return str(value).lower()
        case str():
            return value.lower() or None
        case _:
            return value


# --- scanning --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # "text" (a quoted value), "number", "word", or the punctuation character itself
    value: str


def _scan(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _PUNCTUATION:
            tokens.append(_Token(char, char))
            i += 1
        elif char in "\"'":
            value, i = _quoted(text, i)
            tokens.append(_Token("text", value))
        elif char.isdigit():
            end = _run(text, i, lambda c: c.isdigit() or c == ".")
            if end < len(text) and (text[end].isalpha() or text[end] == "_"):
                raise RuleNotEvaluated(f"unexpected text at character {i + 1}: {text[i : end + 1]!r}")
            tokens.append(_Token("number", text[i:end]))
            i = end
        elif char.isalpha() or char in "-_$":
            end = _run(text, i + 1, lambda c: c.isalnum() or c in "_.$")
            tokens.append(_Token("word", text[i:end]))
            i = end
        else:
            raise RuleNotEvaluated(f"unexpected {char!r} at character {i + 1}")
    return tokens


def _run(text: str, start: int, accepts: Callable[[str], bool]) -> int:
    end = start
    while end < len(text) and accepts(text[end]):
        end += 1
    return end


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A quoted value from `start`: "..." escapes with a backtick, '...' by doubling the quote."""
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        char = text[i]
        if quote == '"' and char == "`" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == quote and quote == "'" and text[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise RuleNotEvaluated(f"the value opened at character {start + 1} is not closed")


# --- parsing ---------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def next(self, kind: str | None = None) -> _Token:
        if self.at >= len(self.tokens):
            raise RuleNotEvaluated("the rule ends too early" + (f": {kind!r} expected" if kind else ""))
        token = self.tokens[self.at]
        if kind is not None and token.kind != kind:
            raise RuleNotEvaluated(f"{kind!r} expected, found {token.value!r}")
        self.at += 1
        return token

    def ahead(self, kind: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at].kind == kind

    def keyword(self) -> str | None:
        """The logical keyword ahead (and, or, not), without taking it."""
        if not self.ahead("word"):
            return None
        word = self.tokens[self.at].value.lower().lstrip("-")
        return word if word in ("and", "or", "not") else None

    def rule(self) -> Node:
        tree = self.expression(1, item=False)
        if self.at < len(self.tokens):
            raise RuleNotEvaluated(f"unexpected {self.tokens[self.at].value!r}")
        return tree

    def expression(self, binding: int, *, item: bool) -> Node:
        """Precedence climbing over -or and -and."""
        left = self.unary(item=item)
        while (word := self.keyword()) in _BINDING and _BINDING[word] >= binding:
            self.at += 1
            right = self.expression(_BINDING[word] + 1, item=item)
            parts = left.parts if isinstance(left, Junction) and left.kind == word else (left,)
            left = Junction(word, (*parts, right))
        return left

    def unary(self, *, item: bool) -> Node:
        if self.keyword() == "not":
            self.at += 1
            return Not(self.unary(item=item))
        if self.ahead("("):
            self.at += 1
            inner = self.expression(1, item=item)
            self.next(")")
            return inner
        return self.comparison(item=item)

    def comparison(self, *, item: bool) -> Node:
        prop = self.property(item=item)
        word = self.next()
        op = word.value.lower().lstrip("-")
        if word.kind == "word" and op in ("any", "all"):
            if prop not in _COLLECTIONS:
                raise RuleNotEvaluated(f"-{op} applies to a collection, not to {prop!r}")
            body = self.unary(item=True)
            return Quantified(prop, op == "all", body)
        if word.kind != "word" or op not in _OPERATORS:
            raise RuleNotEvaluated(f"operator {word.value!r} is not evaluated by ctsync")
        test, negated = _OPERATORS[op]
        literal = self.listing() if test == "in" else self.literal()
        if test in ("startswith", "endswith", "contains", "match") and (
            isinstance(literal, bool) or not isinstance(literal, (str, int, float))
        ):
            raise RuleNotEvaluated(f"-{op} needs a text value, not {literal!r}")
        return Compare(prop, test, negated, literal)

    def property(self, *, item: bool) -> str:
        token = self.next()
        if item:  # inside -any/-all only the item itself is read (multi-value objects are not evaluated)
            if token.value != "_":
                raise RuleNotEvaluated(f"inside -any/-all, {token.value!r} is not evaluated by ctsync (only _ is)")
            return "_"
        prefix, _, name = token.value.lower().partition(".")
        if token.kind != "word" or prefix != "user" or name not in PROPERTIES:
            raise RuleNotEvaluated(f"property {token.value!r} is not evaluated by ctsync")
        return name

    def literal(self) -> Any:
        token = self.next()
        if token.kind == "text":
            return token.value
        if token.kind == "number":
            return float(token.value) if "." in token.value else int(token.value)
        if token.kind == "word" and token.value.lower() in _LITERAL_WORDS:
            return _LITERAL_WORDS[token.value.lower()]
        raise RuleNotEvaluated(f"{token.value!r} is not a value")

    def listing(self) -> list[Any]:
        self.next("[")
        values = [self.literal()]
        while self.ahead(","):
            self.at += 1
            values.append(self.literal())
        self.next("]")
        return values


# --- evaluation ------------------------------------------------------------------------------------------
def _read_by(node: Node) -> set[str]:
    match node:
        case Compare(prop=prop):
            return {prop} - {"_"}
        case Quantified(prop=prop, body=body):
            return {prop} | _read_by(body)
        case Not(body=body):
            return _read_by(body)
        case Junction(parts=parts):
            return set().union(*(_read_by(p) for p in parts))
    raise AssertionError(node)


def _compile(node: Node) -> Matcher:
    """The tree as nested closures: a rule is evaluated many times per audit, parsed once."""
    match node:
        case Compare():
            return _compare(node)
        case Quantified(prop=prop, every=every, body=body):
            inner, quantifier = _compile(body), all if every else any
            return lambda user: quantifier(inner(item) for item in (user.get(prop) or ()))
        case Not(body=body):
            inner = _compile(body)
            return lambda user: not inner(user)
        case Junction(kind=kind, parts=parts):
            compiled, combine = [_compile(p) for p in parts], all if kind == "and" else any
            return lambda user: combine(part(user) for part in compiled)
    raise AssertionError(node)


def _value_test(node: Compare) -> Test:
    literal = node.literal
    if node.test == "eq":
        wanted = fold(literal)
        return lambda v: fold(v) == wanted
    if node.test == "in":
        allowed = frozenset(fold(v) for v in literal)
        return lambda v: fold(v) in allowed
    if node.test == "match":
        try:
            pattern = re.compile(str(literal), re.IGNORECASE)
        except re.error as exc:
            raise RuleNotEvaluated(f"invalid regular expression {literal!r}: {exc}") from None
        return lambda v: isinstance(v, str) and pattern.search(v) is not None
    needle = str(literal).lower()
    if node.test == "startswith":
        return lambda v: isinstance(v, str) and v.lower().startswith(needle)
    if node.test == "endswith":
        return lambda v: isinstance(v, str) and v.lower().endswith(needle)
    return lambda v: isinstance(v, str) and needle in v.lower()


def _compare(node: Compare) -> Matcher:
    test, negated, prop = _value_test(node), node.negated, node.prop

    def holds(subject: Any) -> bool:
        value = subject if prop == "_" else subject.get(prop)
        if isinstance(value, (list, tuple)):  # a collection matches when one item does; empty is null
            return negated != (any(map(test, value)) if value else test(None))
        return negated != test(value)

    return holds


_COLLECTIONS: Final = frozenset(p.lower() for p in COLLECTION_PROPERTIES)
