"""Dynamic membership rules: Entra's rule language, parsed once and evaluated against user objects.

Grammar (keywords and operators are case-insensitive; operators may omit the leading hyphen):
    rule        := or_expr
    or_expr     := and_expr ("-or" and_expr)*
    and_expr    := not_expr ("-and" not_expr)*
    not_expr    := "-not" not_expr | "(" or_expr ")" | comparison
    comparison  := property operator value | property ("-any" | "-all") (comparison | "(" or_expr ")")
    value       := "string" | 'string' | number | true | false | null | "[" value ("," value)* "]"
    property    := user.<name> ; inside -any/-all the item is "_"
Comparison binds tighter than -not, -not tighter than -and, -and tighter than -or, as Entra documents."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..core.errors import BadRequest

Rule = Callable[[Any], bool]
Getter = Callable[[Any], Any]

MAX_RULE_LENGTH = 3072

_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<dq>"(?:[^"`]|`.)*")|(?P<sq>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?(?![\w.]))"""
    r"""|(?P<punct>[()\[\],])|(?P<word>-?[A-Za-z_$][\w.$]*))"""
)
_NEGATED = {
    "ne": "eq",
    "notstartswith": "startswith",
    "notendswith": "endswith",
    "notcontains": "contains",
    "notmatch": "match",
    "notin": "in",
}
_POSITIVE = {"eq", "startswith", "endswith", "contains", "match", "in", "le", "ge"}
_QUANTIFIERS = {"any", "all"}
_TEXT_OPERATORS = {"startswith", "endswith", "contains", "match"}


def _key_getter(key: str) -> Getter:
    return lambda user: user.get(key)


def _extension_getter(name: str) -> Getter:
    return lambda user: (user.get("onPremisesExtensionAttributes") or {}).get(name)


def _first_phone(user: Mapping[str, Any]) -> Any:
    phones = user.get("businessPhones") or []
    return phones[0] if phones else None


def _property_getters() -> dict[str, Getter]:
    # fmt: off
    plain = (
        "accountEnabled", "city", "country", "companyName", "department", "displayName", "employeeId",
        "employeeType", "employeeHireDate", "givenName", "jobTitle", "mail", "mailNickname", "postalCode",
        "preferredLanguage", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName",
        "userType", "otherMails", "proxyAddresses", "onPremisesSecurityIdentifier", "passwordPolicies",
    )
    renamed = {"objectId": "id", "mobile": "mobilePhone", "physicalDeliveryOfficeName": "officeLocation",
               "facsimileTelephoneNumber": "faxNumber"}
    # fmt: on
    getters = {name.lower(): _key_getter(name) for name in plain}
    getters.update({alias.lower(): _key_getter(key) for alias, key in renamed.items()})
    getters.update({f"extensionattribute{i}": _extension_getter(f"extensionAttribute{i}") for i in range(1, 16)})
    getters["telephonenumber"] = _first_phone
    return getters


_GETTERS = _property_getters()


def _fold(value: Any) -> Any:
    """The form Entra compares in: case-insensitive text, booleans as text, empty string as null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.lower() or None
    return value


def _ordered(op: str, literal: Any) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        left, right = _fold(value), _fold(literal)
        if left is None or right is None:
            return False
        if isinstance(left, (int, float)) != isinstance(right, (int, float)):
            left, right = str(left), str(right)
        return bool(left <= right) if op == "le" else bool(left >= right)

    return test


def _text_test(op: str, literal: Any, fail: Callable[[str], BadRequest]) -> Callable[[Any], bool]:
    if not isinstance(literal, (str, int, float)) or isinstance(literal, bool):
        raise fail(f"Invalid operands found for operator -{op}.")
    needle = str(literal).lower()
    if op == "match":
        try:
            regex = re.compile(str(literal), re.IGNORECASE)
        except re.error:
            raise fail(f"Invalid regular expression '{literal}'.") from None
        return lambda v: isinstance(v, str) and regex.search(v) is not None
    method = {"startswith": str.startswith, "endswith": str.endswith, "contains": str.__contains__}[op]
    return lambda v: isinstance(v, str) and method(v.lower(), needle)


def _positive_test(op: str, literal: Any, fail: Callable[[str], BadRequest]) -> Callable[[Any], bool]:
    if op == "in":
        folded = {_fold(v) for v in literal}
        return lambda v: _fold(v) in folded
    if op in ("le", "ge"):
        return _ordered(op, literal)
    if op in _TEXT_OPERATORS:
        return _text_test(op, literal, fail)
    expected = _fold(literal)
    return lambda v: _fold(v) == expected


def _comparison(op: str, getter: Getter, literal: Any, fail: Callable[[str], BadRequest]) -> Rule:
    negate = op in _NEGATED
    test = _positive_test(_NEGATED.get(op, op), literal, fail)

    def holds(obj: Any) -> bool:
        value = getter(obj)
        # A collection matches when any item does; an empty collection compares like null.
        hit = (any(test(item) for item in value) if value else test(None)) if isinstance(value, list) else test(value)
        return hit != negate

    return holds


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str, fail: Callable[[str], BadRequest]) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while text[pos:].strip():
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise fail(f"Invalid syntax at position {pos}.")
        kind = m.lastgroup or "word"
        tokens.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return tokens


class _RuleParser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text.replace("\u2013", "-"), self.fail)  # the docs' examples use en dashes
        self.i = 0

    @staticmethod
    def fail(why: str) -> BadRequest:
        return BadRequest(f"Dynamic membership rule validation error: {why}")

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.fail("Unexpected end of rule.")
        if text is not None and tok.text != text:
            raise self.fail(f"Expected '{text}' at position {tok.pos}.")
        self.i += 1
        return tok

    def keyword(self, name: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower().lstrip("-") == name:
            self.i += 1
            return True
        return False

    def parse(self) -> Rule:
        rule = self.or_expr(item=False)
        tok = self.peek()
        if tok is not None:
            raise self.fail(f"Unexpected '{tok.text}' at position {tok.pos}.")
        return rule

    def or_expr(self, *, item: bool) -> Rule:
        parts = [self.and_expr(item=item)]
        while self.keyword("or"):
            parts.append(self.and_expr(item=item))
        return parts[0] if len(parts) == 1 else (lambda o: any(p(o) for p in parts))

    def and_expr(self, *, item: bool) -> Rule:
        parts = [self.not_expr(item=item)]
        while self.keyword("and"):
            parts.append(self.not_expr(item=item))
        return parts[0] if len(parts) == 1 else (lambda o: all(p(o) for p in parts))

    def not_expr(self, *, item: bool) -> Rule:
        if self.keyword("not"):
            inner = self.not_expr(item=item)
            return lambda o: not inner(o)
        if (tok := self.peek()) is not None and tok.text == "(":
            self.i += 1
            inner = self.or_expr(item=item)
            self.take(")")
            return inner
        return self.comparison(item=item)

    def comparison(self, *, item: bool) -> Rule:
        getter = self.property(item=item)
        tok = self.take()
        op = tok.text.lower().lstrip("-")
        if tok.kind != "word" or (op not in _POSITIVE and op not in _NEGATED and op not in _QUANTIFIERS):
            raise self.fail(f"Unsupported operator '{tok.text}' at position {tok.pos}.")
        if op in _QUANTIFIERS:
            return self.quantified(op, getter)
        literal = self.value_list() if op in ("in", "notin") else self.value()
        return _comparison(op, getter, literal, self.fail)

    def quantified(self, op: str, getter: Getter) -> Rule:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.i += 1
            inner = self.or_expr(item=True)
            self.take(")")
        else:
            inner = self.comparison(item=True)
        quantifier = any if op == "any" else all
        return lambda o: quantifier(inner(x) for x in (getter(o) or []))

    def property(self, *, item: bool) -> Getter:
        tok = self.take()
        if item and tok.text == "_":
            return lambda value: value
        name = tok.text.lower()
        getter = _GETTERS.get(name[len("user.") :]) if tok.kind == "word" and name.startswith("user.") else None
        if getter is None:
            raise self.fail(f"Wrong property applied: '{tok.text}' at position {tok.pos}.")
        return getter

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "dq":
            return re.sub(r"`(.)", r"\1", tok.text[1:-1])
        if tok.kind == "sq":
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "num":
            return float(tok.text) if "." in tok.text else int(tok.text)
        word = tok.text.lower()
        if tok.kind == "word" and word in ("true", "false", "null"):
            return None if word == "null" else word == "true"
        raise self.fail(f"Invalid value '{tok.text}' at position {tok.pos}.")

    def value_list(self) -> list[Any]:
        self.take("[")
        values = [self.value()]
        while (tok := self.peek()) is not None and tok.text == ",":
            self.i += 1
            values.append(self.value())
        self.take("]")
        return values


@lru_cache(maxsize=512)
def compile_rule(text: str) -> Rule:
    """Parses a membershipRule; a malformed rule is the 400 Graph answers when the group is saved."""
    if not isinstance(text, str) or not text.strip():
        raise _RuleParser.fail("The membership rule is empty.")
    if len(text) > MAX_RULE_LENGTH:
        raise _RuleParser.fail(f"The membership rule exceeds {MAX_RULE_LENGTH} characters.")
    return _RuleParser(text).parse()
