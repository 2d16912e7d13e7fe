"""OData query options as Graph supports them: $top, $select, $filter (a subset), $count, paging."""

from __future__ import annotations

import base64
import json
import re
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from .errors import BadRequest, UnsupportedQuery
from .resources import ResourceProperties

Predicate = Callable[[Mapping[str, Any]], bool]
T = TypeVar("T")

KNOWN_OPTIONS = {
    "$top",
    "$select",
    "$filter",
    "$count",
    "$skiptoken",
    "$orderby",
    "$expand",
    "$search",
    "$skip",
}


@dataclass
class QueryOptions:
    top: int | None = None
    select: list[str] | None = None
    filter: Predicate | None = None
    filter_clause: Filter | None = None  # the parsed $filter: its terms, for services that check them
    count: bool = False
    skiptoken: str | None = None
    skip: int = 0
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property path, descending)
    expand: list[str] = field(default_factory=list)


def normalize_query(query: Mapping[str, str]) -> dict[str, str]:
    """Query option names ignore case (`$orderBy` is `$orderby`), as OData 4.01 and Graph allow."""
    return {key.lower() if key.startswith("$") else key: value for key, value in query.items()}


def parse_query(query: Mapping[str, str], *, max_top: int = 999) -> QueryOptions:
    """Reads the $-options of a request. Unknown $-options are a 400, as Graph answers."""
    query = normalize_query(query)
    for key in query:
        if key.startswith("$") and key not in KNOWN_OPTIONS:
            raise BadRequest(f"Query option '{key}' is not allowed.", code="Request_BadRequest")
    opts = QueryOptions()
    if "$top" in query:
        try:
            opts.top = int(query["$top"])
        except ValueError:
            raise BadRequest(f"Invalid value '{query['$top']}' for query option $top.") from None
        if not 1 <= opts.top <= max_top:
            raise BadRequest(f"Invalid page size specified: '{opts.top}'. Must be between 1 and {max_top} inclusive.")
    if "$select" in query:
        opts.select = [s.strip() for s in query["$select"].split(",") if s.strip()]
    if "$filter" in query:
        opts.filter_clause = parse_filter(query["$filter"])
        opts.filter = opts.filter_clause.test
    if "$count" in query:
        if query["$count"].lower() not in ("true", "false"):
            raise BadRequest(f"Invalid value '{query['$count']}' for query option $count.")
        opts.count = query["$count"].lower() == "true"
    opts.skiptoken = query.get("$skiptoken")
    if "$skip" in query:
        skip = query["$skip"]
        if not skip.isdigit():
            raise BadRequest(f"Invalid value '{skip}' for query option $skip.")
        opts.skip = int(skip)
    if "$orderby" in query:
        for part in query["$orderby"].split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                raise BadRequest(f"Invalid $orderby expression '{part}'.")
            opts.orderby.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    if "$expand" in query:
        opts.expand = [s.strip() for s in query["$expand"].split(",") if s.strip()]
    return opts


def select_fields(obj: Mapping[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    if not select:
        return dict(obj)
    picked = {k: obj.get(k) for k in select}
    if "id" in obj:
        picked.setdefault("id", obj["id"])
    return picked


def resolve_path(obj: Mapping[str, Any] | None, path: str) -> Any:
    """A property, a nested one (`a/b`), or the size of a collection (`assignedLicenses/$count`)."""
    value: Any = obj
    for part in path.split("/"):
        if part == "$count":
            value = len(value) if isinstance(value, list) else 0  # an absent collection is empty
            continue
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


# --- $filter ------------------------------------------------------------------------------------------
# One parser for every resource. Grammar (the subset Graph's directory and reporting workloads document):
#   expr    := and_expr ("or" and_expr)*
#   and_expr:= unary ("and" unary)*
#   unary   := "not" unary | "(" expr ")" | lambda | call | comparison
#   comparison := operand op operand | operand "in" "(" literal, ... ")"
#   operand := path | literal | call ;  call := startswith|endswith|contains|tolower|toupper "(" args ")"
#   lambda  := path "/any(" [var ":" expr] ")" | path "/all(" var ":" expr ")"
# String comparisons and string functions ignore case, as directory queries do.

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)"
    r"|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<punct>[(),:])|(?P<word>[A-Za-z_@$][\w./@$]*))"
)
_COMPARATORS = {"eq", "ne", "gt", "ge", "lt", "le"}
_TEST_FUNCTIONS = {"startswith", "endswith", "contains"}
_FUNCTIONS = _TEST_FUNCTIONS | {"tolower", "toupper"}
_LAMBDAS = ("/any", "/all")
Operand = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class FilterTerm:
    """One use of a property in a $filter: what a service checks against the operators it supports.
    `op` is a comparison (`eq`, `in`, `eq null`, `ne null`...), a function (`startswith`...), a lambda
    (`any`, `all`; `prop` is the collection) or `not` (with `prop` empty)."""

    prop: str
    op: str


@dataclass(frozen=True)
class Filter:
    text: str
    test: Predicate
    terms: tuple[FilterTerm, ...]
    equality: tuple[str, Any] | None  # (property, value) when the whole filter is `property eq literal`


@dataclass
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise UnsupportedQuery(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or "word"
        tokens.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return tokens


class _FilterParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.terms: list[FilterTerm] = []
        self.lambda_vars: list[str] = []  # variables of the lambdas being parsed, innermost last
        self.equalities: list[tuple[str, Any]] = []

    def fail(self, why: str) -> UnsupportedQuery:
        return UnsupportedQuery(f"Invalid filter clause: {why} in '{self.text}'.")

    def peek(self, ahead: int = 0) -> _Tok | None:
        return self.toks[self.i + ahead] if self.i + ahead < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text.lower() != text):
            raise self.fail(f"expected '{text}'" if text else "unexpected end")
        self.i += 1
        return tok

    def parse(self) -> Filter:
        pred = self.expr()
        extra = self.peek()
        if extra is not None:
            raise self.fail(f"unexpected '{extra.text}'")
        sole = self.equalities[0] if len(self.equalities) == 1 and len(self.terms) == 1 else None
        return Filter(self.text, pred, tuple(self.terms), sole)

    def on_resource(self, path: str) -> bool:
        """A property of the resource, not of a lambda's variable (its collection stands for it)."""
        return path.split("/")[0] not in self.lambda_vars

    def record(self, prop: str | None, op: str) -> None:
        if prop is not None and self.on_resource(prop):
            self.terms.append(FilterTerm(prop, op))

    def parenthesized(self, item: Callable[[], T]) -> list[T]:
        """`(item, item, ...)`: the values of an `in` list or the arguments of a function."""
        self.take("(")
        items = [item()]
        while (tok := self.peek()) is not None and tok.text == ",":
            self.i += 1
            items.append(item())
        self.take(")")
        return items

    def expr(self) -> Predicate:
        return self._joined("or", self.and_expr, any)

    def and_expr(self) -> Predicate:
        return self._joined("and", self.unary, all)

    def _joined(
        self, keyword: str, operand: Callable[[], Predicate], combine: Callable[[Iterable[bool]], bool]
    ) -> Predicate:
        """Operands separated by `keyword` (and/or), combined with all/any."""
        parts = [operand()]
        while (t := self.peek()) and t.kind == "word" and t.text.lower() == keyword:
            self.i += 1
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]

        def joined(o: Mapping[str, Any]) -> bool:
            return combine(p(o) for p in parts)

        return joined

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise self.fail("unexpected end")
        if tok.kind == "word" and tok.text.lower() == "not":
            self.i += 1
            self.terms.append(FilterTerm("", "not"))
            inner = self.unary()
            return lambda o: not inner(o)
        if tok.text == "(":
            self.i += 1
            inner = self.expr()
            self.take(")")
            return inner
        if self._at_lambda():
            return self.lambda_expr()
        if tok.kind == "word" and tok.text.lower() in _TEST_FUNCTIONS:
            fn, _path = self.operand()
            nxt = self.peek()
            if nxt is None or nxt.text.lower() not in _COMPARATORS:
                return lambda o: bool(fn(o))
            return self.comparison_rest(fn, None)
        return self.comparison_rest(*self.operand())

    def _at_lambda(self) -> bool:
        tok, nxt = self.peek(), self.peek(1)
        return (
            tok is not None
            and tok.kind == "word"
            and tok.text.lower().endswith(_LAMBDAS)
            and nxt is not None
            and nxt.text == "("
        )

    def lambda_expr(self) -> Predicate:
        word = self.take().text
        path, kind = word[: -len("/any")], word[-3:].lower()
        self.record(path, kind)
        self.take("(")
        if kind == "any" and (tok := self.peek()) is not None and tok.text == ")":
            self.i += 1  # `collection/any()`: the collection is not empty
            return lambda o: bool(_items(o, path))
        var = self.take().text
        if not re.fullmatch(r"[A-Za-z_]\w*", var):
            raise self.fail(f"lambda variable expected, got '{var}'")
        self.take(":")
        self.lambda_vars.append(var)
        body = self.expr()
        self.lambda_vars.pop()
        self.take(")")
        combine = any if kind == "any" else all

        def pred(o: Mapping[str, Any]) -> bool:
            # the body sees the variable and, through it, the outer object's properties
            outer = cast(MutableMapping[str, Any], o)  # ChainMap only reads the maps after the first
            return combine(body(ChainMap({var: item}, outer)) for item in _items(o, path))

        return pred

    def comparison_rest(self, left: Operand, path: str | None) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise self.fail("operator expected")
        op = tok.text.lower()
        self.i += 1
        if op == "in":
            self.record(path, "in")
            values = self.parenthesized(self.literal)
            return lambda o: any(_compare("eq", left(o), v) for v in values)
        if op not in _COMPARATORS:
            raise self.fail(f"unsupported operator '{tok.text}'")
        nxt = self.peek()
        is_null = nxt is not None and nxt.kind == "word" and nxt.text.lower() == "null"
        self.record(path, f"{op} null" if is_null and op in ("eq", "ne") else op)
        right, right_path = self.operand()
        literal = right_path is None and nxt is not None and nxt.kind != "word"  # a string, number, GUID, date
        if op == "eq" and literal and path is not None and self.on_resource(path):
            self.equalities.append((path, right({})))
        return lambda o: _compare(op, left(o), right(o))

    def operand(self) -> tuple[Operand, str | None]:
        """A value and, when it is a property of the resource, its path."""
        tok = self.peek()
        if tok is None:
            raise self.fail("operand expected")
        if tok.kind == "word" and tok.text.lower() in _FUNCTIONS:
            name = tok.text.lower()
            self.i += 1
            args = self.parenthesized(self.operand)
            self.record(args[0][1], name)
            return _function(name, [fn for fn, _ in args], self), None
        if tok.kind == "word" and tok.text.lower() not in ("true", "false", "null"):
            self.i += 1
            path = tok.text
            return (lambda o: resolve_path(o, path)), path
        value = self.literal()
        return (lambda o: value), None

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "num":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "dt":
            return DateTimeLiteral(tok.text)
        if tok.kind == "guid":
            return tok.text
        low = tok.text.lower()
        if tok.kind == "word" and low in ("true", "false"):
            return low == "true"
        if tok.kind == "word" and low == "null":
            return None
        raise self.fail(f"literal expected, got '{tok.text}'")


def _items(obj: Mapping[str, Any], path: str) -> list[Any]:
    value = resolve_path(obj, path)
    return value if isinstance(value, list) else []


def _function(name: str, args: list[Operand], parser: _FilterParser) -> Operand:
    arity = 1 if name in ("tolower", "toupper") else 2
    if len(args) != arity:
        raise parser.fail(f"{name} takes {arity} argument(s)")
    if name == "tolower":
        return lambda o: s.lower() if isinstance(s := args[0](o), str) else s
    if name == "toupper":
        return lambda o: s.upper() if isinstance(s := args[0](o), str) else s
    test = {"startswith": str.startswith, "endswith": str.endswith, "contains": str.__contains__}[name]
    return lambda o: (
        isinstance(a := args[0](o), str) and isinstance(b := args[1](o), str) and test(a.lower(), b.lower())
    )


class DateTimeLiteral(str):
    """An unquoted date or date-time in a $filter: it compares as a point in time, not as text, so
    `activityDateTime gt 2023-07-30T10:00:00Z` holds for "2023-07-30T10:00:00.500Z"."""

    __slots__ = ()


def _instant(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(right, DateTimeLiteral) and isinstance(left, str):
        left, right = _instant(left), _instant(right)
    if isinstance(left, str) and isinstance(right, str) and op == "eq":
        return left.lower() == right.lower()  # directory string comparisons ignore case
    if isinstance(left, str) and isinstance(right, str) and op == "ne":
        return left.lower() != right.lower()
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return False


def parse_filter(text: str) -> Filter:
    if not text.strip():
        raise UnsupportedQuery("Invalid filter clause: empty filter.")
    return _FilterParser(text).parse()


# --- advanced queries and $search on directory objects -------------------------------------------------

SEARCH_NEEDS_EVENTUAL = (
    "Request with $search query parameter only works through MSGraph with a special request header: "
    "'ConsistencyLevel: eventual'"
)
_SEARCH_CLAUSE_RE = re.compile(r'^"([A-Za-z]+):([^"]*)"$')
_WORD_SPLIT_RE = re.compile(r"[^0-9A-Za-z]+")


def consistency_eventual(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """ConsistencyLevel: eventual, sent as a header or (as Microsoft's own examples do) a query parameter."""
    sent = [*headers.items(), *query.items()]
    return any(k.lower() == "consistencylevel" and v.strip().lower() == "eventual" for k, v in sent)


def compile_search(text: str, resource: ResourceProperties) -> Predicate:
    """$search="prop:term" clauses joined by AND/OR (AND binds tighter). A term matches the start of any
    word of the property value, as the directory's tokenized search does."""
    groups = [[_search_clause(c.strip(), resource) for c in part.split(" AND ")] for part in text.split(" OR ")]
    return lambda o: any(all(test(o) for test in clauses) for clauses in groups)


def _search_clause(clause: str, resource: ResourceProperties) -> Predicate:
    m = _SEARCH_CLAUSE_RE.match(clause)
    if m is None:
        raise BadRequest(f"Syntax error: '{clause}' is not a valid $search clause. Use \"property:value\".")
    prop, term = m.group(1), m.group(2).lower()
    if prop not in resource.known:
        raise resource.unknown(prop)

    def test(o: Mapping[str, Any]) -> bool:
        value = o.get(prop)
        return isinstance(value, str) and any(w.lower().startswith(term) for w in [value, *_WORD_SPLIT_RE.split(value)])

    return test


# --- paging -------------------------------------------------------------------------------------------


def encode_skiptoken(state: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_skiptoken(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Invalid $skiptoken.", code="Request_BadRequest") from None
    if not isinstance(state, dict):
        raise BadRequest("Invalid $skiptoken.", code="Request_BadRequest")
    return state


def skiptoken_offset(token: str) -> int:
    """Where the page a $skiptoken of `collection` asks for starts."""
    offset = decode_skiptoken(token).get("offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise BadRequest("Invalid $skiptoken.", code="Request_BadRequest")
    return offset


def apply_query(items: Iterable[Mapping[str, Any]], opts: QueryOptions) -> list[Mapping[str, Any]]:
    """Filters and orders (not pages) a collection."""
    result = [o for o in items if opts.filter(o)] if opts.filter else list(items)
    for path, desc in reversed(opts.orderby):
        result.sort(key=_sort_key(path), reverse=desc)
    return result


def _sort_key(path: str) -> Callable[[Mapping[str, Any]], tuple[bool, str, Any]]:
    """Orders by one property: nulls last, and values of different JSON types apart (never compared with
    each other, which Python refuses), so any $orderby on any property sorts."""

    def key(obj: Mapping[str, Any]) -> tuple[bool, str, Any]:
        value = resolve_path(obj, path)
        if isinstance(value, bool | int | float):
            return False, "number", value
        if isinstance(value, str) or value is None:
            return value is None, "string", value or ""
        return False, "json", json.dumps(value, sort_keys=True, default=str)

    return key
