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

_NEGATIONS: Final = {
    "ne": "eq",
    "notstartswith": "startswith",
    "notendswith": "endswith",
    "notcontains": "contains",
    "notmatch": "match",
    "notin": "in",
}
_OPERATORS: Final = frozenset({"eq", "startswith", "endswith", "contains", "match", "in", *_NEGATIONS})
_TEXT: Final = {"startswith": str.startswith, "endswith": str.endswith, "contains": str.__contains__}
_TOKEN: Final = re.compile(
    r"""\s*(?:(?P<dq>"(?:[^"`]|`.)*")|(?P<sq>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?(?![\w.]))"""
    r"""|(?P<punct>[()\[\],])|(?P<word>-?[A-Za-z_$][\w.$]*))"""
)


class RuleNotEvaluated(ValueError):
    """A rule ctsync cannot parse or does not evaluate; the message says why."""


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
    parser = _Parser(text)
    matcher = parser.whole()
    return MembershipRule(text, frozenset(parser.read), matcher)


def fold(value: Any) -> Any:
    """The form rules compare in: text in lower case (empty text is null), booleans as "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.lower() or None
    return value


def _positive(op: str, literal: Any) -> Test:
    if op == "in":
        allowed = {fold(v) for v in literal}
        return lambda v: fold(v) in allowed
    if op == "eq":
        wanted = fold(literal)
        return lambda v: fold(v) == wanted
    if isinstance(literal, bool) or not isinstance(literal, (str, int, float)):
        raise RuleNotEvaluated(f"-{op} needs a text value, not {literal!r}")
    if op == "match":
        try:
            regex = re.compile(str(literal), re.IGNORECASE)
        except re.error as exc:
            raise RuleNotEvaluated(f"invalid regular expression {literal!r}: {exc}") from None
        return lambda v: isinstance(v, str) and regex.search(v) is not None
    needle, method = str(literal).lower(), _TEXT[op]
    return lambda v: isinstance(v, str) and method(v.lower(), needle)


def _comparison(op: str, read: Callable[[Any], Any], literal: Any) -> Matcher:
    negated = op in _NEGATIONS
    test = _positive(_NEGATIONS.get(op, op), literal)

    def holds(user: Any) -> bool:
        value = read(user)
        if isinstance(value, (list, tuple)):  # a collection matches when one item does; empty is null
            hit = any(test(item) for item in value) if value else test(None)
        else:
            hit = test(value)
        return hit != negated

    return holds


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text.replace("\u2013", "-"))  # Microsoft's examples use en dashes
        self.at = 0
        self.read: set[str] = set()

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while text[pos:].strip():
            found = _TOKEN.match(text, pos)
            if found is None:
                raise RuleNotEvaluated(f"unexpected text at character {pos + 1}: {text[pos:].strip()[:20]!r}")
            kind = found.lastgroup or "word"
            tokens.append((kind, found.group(kind)))
            pos = found.end()
        return tokens

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise RuleNotEvaluated("the rule ends too early" + (f": {expected!r} expected" if expected else ""))
        if expected is not None and token[1] != expected:
            raise RuleNotEvaluated(f"{expected!r} expected, found {token[1]!r}")
        self.at += 1
        return token

    def keyword(self, name: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower().lstrip("-") == name:
            self.at += 1
            return True
        return False

    def whole(self) -> Matcher:
        matcher = self.or_expr(item=False)
        if (token := self.peek()) is not None:
            raise RuleNotEvaluated(f"unexpected {token[1]!r}")
        return matcher

    def or_expr(self, *, item: bool) -> Matcher:
        parts = [self.and_expr(item=item)]
        while self.keyword("or"):
            parts.append(self.and_expr(item=item))
        return parts[0] if len(parts) == 1 else lambda u: any(p(u) for p in parts)

    def and_expr(self, *, item: bool) -> Matcher:
        parts = [self.not_expr(item=item)]
        while self.keyword("and"):
            parts.append(self.not_expr(item=item))
        return parts[0] if len(parts) == 1 else lambda u: all(p(u) for p in parts)

    def not_expr(self, *, item: bool) -> Matcher:
        if self.keyword("not"):
            inner = self.not_expr(item=item)
            return lambda u: not inner(u)
        if (token := self.peek()) is not None and token[1] == "(":
            self.at += 1
            inner = self.or_expr(item=item)
            self.take(")")
            return inner
        return self.comparison(item=item)

    def comparison(self, *, item: bool) -> Matcher:
        read, collection = self.property(item=item)
        kind, text = self.take()
        op = text.lower().lstrip("-")
        if kind == "word" and op in ("any", "all"):
            if not collection:
                raise RuleNotEvaluated(f"-{op} applies to a collection, not to {text!r}")
            return self.quantified(op, read)
        if kind != "word" or op not in _OPERATORS:
            raise RuleNotEvaluated(f"operator {text!r} is not evaluated by ctsync")
        literal = self.values() if op in ("in", "notin") else self.value()
        return _comparison(op, read, literal)

    def quantified(self, op: str, read: Callable[[Any], Any]) -> Matcher:
        if (token := self.peek()) is not None and token[1] == "(":
            self.at += 1
            inner = self.or_expr(item=True)
            self.take(")")
        else:
            inner = self.comparison(item=True)
        quantifier = any if op == "any" else all
        return lambda u: quantifier(inner(x) for x in (read(u) or []))

    def property(self, *, item: bool) -> tuple[Callable[[Any], Any], bool]:
        kind, text = self.take()
        if item and text == "_":
            return (lambda value: value), False
        name = text.lower()[len("user.") :] if kind == "word" and text.lower().startswith("user.") else None
        if name is None or name not in PROPERTIES:
            raise RuleNotEvaluated(f"property {text!r} is not evaluated by ctsync")
        self.read.add(name)
        return (lambda user: user.get(name)), name in _COLLECTIONS

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "dq":
            return re.sub(r"`(.)", r"\1", text[1:-1])
        if kind == "sq":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return None if text.lower() == "null" else text.lower() == "true"
        raise RuleNotEvaluated(f"{text!r} is not a value")

    def values(self) -> list[Any]:
        self.take("[")
        found = [self.value()]
        while (token := self.peek()) is not None and token[1] == ",":
            self.at += 1
            found.append(self.value())
        self.take("]")
        return found


_COLLECTIONS: Final = frozenset(p.lower() for p in COLLECTION_PROPERTIES)
