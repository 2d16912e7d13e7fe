"""The attribute-mapping expression language of the Entra provisioning service.

``parse`` turns text such as ``Replace([preferredLanguage], "-", , , "_", , )`` into a tree,
``to_mapping_source`` prints the tree as Graph's ``attributeMappingSource`` and ``evaluate``
computes it against a source object's attributes. Every function lives in one table,
``FUNCTIONS``, which also owns arity checking and the Graph parameter names.

Values while evaluating: ``str``, ``int``, ``bool``, ``datetime`` (timezone-aware), lists for
multivalued attributes, and ``None`` for a missing attribute or an empty argument. Use ``render``
for the strings Graph reports as an ``evaluationResult``. ``evaluate`` returns ``IGNORE_FLOW``
when ``IgnoreFlowIfNullOrEmpty`` drops the attribute from the flow.

Pure: no I/O, standard library only.
"""

from __future__ import annotations

import base64
import calendar
import enum
import json
import operator
import random
import re
import string
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import Any, TypeAlias

__all__ = [
    "FUNCTIONS",
    "IGNORE_FLOW",
    "Attribute",
    "Call",
    "Comparison",
    "Constant",
    "EvaluationError",
    "ExpressionError",
    "FunctionSpec",
    "Node",
    "canonical",
    "evaluate",
    "parse",
    "referenced_attributes",
    "render",
    "to_mapping_source",
    "walk",
]

MAX_DEPTH = 64  # deeper nesting is an error, not a RecursionError


class ExpressionError(ValueError):
    """An expression that cannot be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at position {position})")
        self.message = message
        self.position = position


class EvaluationError(ExpressionError):
    """A well-formed expression that cannot be computed for this object."""


class _Flow(enum.Enum):
    IGNORE = "IgnoreFlow"


IGNORE_FLOW = _Flow.IGNORE
"""Returned by ``evaluate`` when the target attribute must be left out of the flow."""


class _IgnoreFlow(Exception):
    """Unwinds from IgnoreFlowIfNullOrEmpty, however deeply nested, to ``evaluate``."""


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str


@dataclass(frozen=True, slots=True)
class Constant:
    value: str
    bare: bool = False  # written unquoted: numbers and VB names such as vbTextCompare


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node | None, ...]  # None is an empty argument, as in Replace([x], "-", , , "_", , )


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left op right``: documented for IIF conditions, allowed wherever a value is."""

    operator: str
    left: Node
    right: Node


Node: TypeAlias = Attribute | Constant | Call | Comparison
Impl: TypeAlias = Callable[["_Args"], object]


# --- the function table's row type --------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its implementation and documented signature.

    ``params`` are positional; a trailing ``?`` marks one that may be left empty and, when it
    comes last, omitted. ``repeat`` is a group that follows and repeats, numbered from 1 in
    Graph's parameter keys (``source1``, ``key1``/``value1``...).
    """

    name: str
    impl: Impl
    params: tuple[str, ...] = ()
    repeat: tuple[str, ...] = ()
    min_repeats: int = 0
    min_args: int | None = None  # overrides the count derived from params (Replace: all seven)

    @property
    def minimum(self) -> int:
        if self.min_args is not None:
            return self.min_args
        if self.repeat:
            return len(self.params) + self.min_repeats * len(self.repeat)
        required = [i for i, p in enumerate(self.params) if not p.endswith("?")]
        return required[-1] + 1 if required else 0

    @property
    def maximum(self) -> int | None:
        return None if self.repeat else len(self.params)

    def param_name(self, index: int) -> str:
        if index < len(self.params):
            return self.params[index].rstrip("?")
        group, member = divmod(index - len(self.params), len(self.repeat))
        return f"{self.repeat[member]}{group + 1}"

    def may_be_empty(self, index: int) -> bool:
        return index < len(self.params) and self.params[index].endswith("?")

    def arity_error(self, got: int) -> str | None:
        low, high = self.minimum, self.maximum
        if got < low or (high is not None and got > high):
            if high is None:
                wanted = f"at least {_arguments(low)}"
            else:
                wanted = _arguments(low) if low == high else f"{low} to {high} arguments"
            return f"{self.name} expects {wanted}, got {got}"
        if self.repeat and (got - len(self.params)) % len(self.repeat):
            head = "".join(f"{p.rstrip('?')}, " for p in self.params)
            return f"{self.name} expects {head}then groups of ({', '.join(self.repeat)}), got {got} arguments"
        return None


def _arguments(count: int) -> str:
    return "no arguments" if count == 0 else f"{count} argument{'s' * (count != 1)}"


# --- parsing ----------------------------------------------------------------------------------

_WHITESPACE = " \t\r\n"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"&[Hh]([0-9A-Fa-f]{1,16})(?![0-9A-Za-z])")
_OPERATORS_BY_LENGTH = ("<>", "<=", ">=", "=", "<", ">")  # two-character ones first
_BARE_WORDS = frozenset({"vbTextCompare", "vbBinaryCompare"})  # InStr's compareType


def parse(expression: str) -> Node:
    """Parse an expression; raise ``ExpressionError`` saying what is wrong and where."""
    return _Parser(expression).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        if self._skip() == len(self.text):
            raise ExpressionError("expression is empty", self.pos)
        node = self._expression()
        if self._skip() < len(self.text):
            raise self._unexpected("after the end of the expression")
        return node

    def _skip(self) -> int:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1
        return self.pos

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _unexpected(self, where: str) -> ExpressionError:
        char = self._peek()
        if char in ")]":
            return ExpressionError(f"unbalanced '{char}'", self.pos)
        return ExpressionError(f"unexpected {char!r} {where}", self.pos)

    def _expression(self) -> Node:
        left = self._operand("")
        op = self._operator()
        if op is None:
            return left
        right = self._operand(f" after '{op}'")
        if self._operator() is not None:
            raise ExpressionError("comparisons cannot be chained; nest IIF instead", self.pos)
        return Comparison(op, left, right)

    def _operator(self) -> str | None:
        self._skip()
        op = next((o for o in _OPERATORS_BY_LENGTH if self.text.startswith(o, self.pos)), None)
        if op is not None:
            self.pos += len(op)
        return op

    def _operand(self, context: str) -> Node:
        char = self.text[self._skip() : self.pos + 1]
        if not char:
            raise ExpressionError(f"expected a value{context} at the end of the expression", self.pos)
        if char == "[":
            return self._attribute()
        if char == '"':
            return self._string()
        if char == "&":
            return self._hex()
        if _NUMBER.match(self.text, self.pos):
            return self._number()
        if _IDENTIFIER.match(self.text, self.pos):
            return self._name()
        raise self._unexpected(f"where a value{context} was expected")

    def _attribute(self) -> Attribute:
        start = self.pos
        close = self.text.find("]", start + 1)
        if close < 0:
            raise ExpressionError("missing ']' to close the attribute reference", start)
        name = self.text[start + 1 : close].strip()
        if "[" in name:
            raise ExpressionError("'[' inside an attribute reference", start)
        if not name:
            raise ExpressionError("empty attribute name '[]'", start)
        self.pos = close + 1
        return Attribute(name)

    def _string(self) -> Constant:
        start, chars = self.pos, list[str]()
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in ('"', "\\"):
                char = self.text[self.pos + 1]
                self.pos += 1
            elif char == '"':
                self.pos += 1
                return Constant("".join(chars))
            chars.append(char)
            self.pos += 1
        raise ExpressionError("unterminated string constant", start)

    def _number(self) -> Constant:
        match = _NUMBER.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        sign, digits = ("-", match[0][1:]) if match[0].startswith("-") else ("", match[0])
        digits = digits.lstrip("0")
        # Kept as text: no int() so arbitrarily long literals cannot fail to convert.
        return Constant(sign + digits if digits else "0", bare=True)

    def _hex(self) -> Constant:
        match = _HEX.match(self.text, self.pos)
        if match is None:
            raise ExpressionError("invalid hexadecimal constant; write it as &HF7", self.pos)
        self.pos = match.end()
        return Constant(str(int(match[1], 16)), bare=True)

    def _name(self) -> Node:
        start = self.pos
        match = _IDENTIFIER.match(self.text, start)
        assert match is not None
        name, self.pos = match[0], match.end()
        if self._skip() < len(self.text) and self.text[self.pos] == "(":
            return self._call(name, start)
        self.pos = match.end()
        if name in _BARE_WORDS:
            return Constant(name, bare=True)
        if name in FUNCTIONS:
            raise ExpressionError(f"expected '(' after the function name '{name}'", self.pos)
        raise ExpressionError(f"unknown name '{name}'; attributes go in brackets, e.g. [{name}]", start)

    def _call(self, name: str, start: int) -> Call:
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise ExpressionError(f"unknown function '{name}'{_did_you_mean(name)}", start)
        if name == "SelectUniqueValue" and self.depth:
            raise ExpressionError("SelectUniqueValue must be the outermost function", start)
        if self.depth == MAX_DEPTH:
            raise ExpressionError(f"functions are nested more than {MAX_DEPTH} deep", start)
        self.depth += 1
        self.pos += 1
        args = self._arguments(name, start)
        self.depth -= 1
        problem = spec.arity_error(len(args))
        if problem:
            raise ExpressionError(problem, start)
        for index, (node, position) in enumerate(args):
            if node is None and not spec.may_be_empty(index):
                message = f"{name} argument {index + 1} ({spec.param_name(index)}) must not be empty"
                raise ExpressionError(message, position)
        return Call(name, tuple(node for node, _ in args))

    def _arguments(self, name: str, start: int) -> list[tuple[Node | None, int]]:
        args: list[tuple[Node | None, int]] = []
        if self._skip() < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
            return args
        while True:
            position = self._skip()
            if position == len(self.text):
                raise ExpressionError(f"missing ')' to close '{name}('", start)
            node = None if self._peek() in (",", ")") else self._expression()
            args.append((node, position))
            self._skip()
            if self.pos == len(self.text):
                raise ExpressionError(f"missing ')' to close '{name}('", start)
            self.pos += 1
            if self.text[self.pos - 1] == ")":
                return args
            if self.text[self.pos - 1] != ",":
                self.pos -= 1
                raise self._unexpected(f"after argument {len(args)} of {name}; expected ',' or ')'")


def _did_you_mean(name: str) -> str:
    match = next((known for known in FUNCTIONS if known.lower() == name.lower()), None)
    return f" (names are case-sensitive: did you mean '{match}'?)" if match else ""


# --- printing ---------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def canonical(node: Node | None) -> str:
    """The expression text Graph reports: arguments separated by ", ", empty ones left blank."""
    match node:
        case None:
            return ""
        case Attribute(name):
            return f"[{name}]"
        case Constant(value, bare):
            return value if bare else _quote(value)
        case Comparison(op, left, right):
            return f"{canonical(left)} {op} {canonical(right)}"
        case Call(name, args):
            return f"{name}({', '.join(canonical(arg) for arg in args)})"


def to_mapping_source(node: Node) -> dict[str, Any]:
    """Graph's ``attributeMappingSource`` for the tree.

    As in Graph's examples, a constant's own expression is quoted even when it was written as a
    bare number (``"1"`` for Mid's start), and empty arguments are left out of ``parameters``.
    A comparison, which Graph's documentation never shows parsed, is a Function named by its
    operator with ``left`` and ``right`` parameters.
    """
    params: list[tuple[str, Node]] = []
    match node:
        case Attribute(name):
            kind, expression = "Attribute", f"[{name}]"
        case Constant(value):
            kind, expression, name = "Constant", _quote(value), value
        case Comparison(name, left, right):
            kind, expression, params = "Function", canonical(node), [("left", left), ("right", right)]
        case Call(name, args):
            spec = FUNCTIONS[name]
            kind, expression = "Function", canonical(node)
            params = [(spec.param_name(i), arg) for i, arg in enumerate(args) if arg is not None]
    return {
        "expression": expression,
        "name": name,
        "type": kind,
        "parameters": [{"key": key, "value": to_mapping_source(value)} for key, value in params],
    }


def walk(node: Node) -> Iterator[Node]:
    """The node and everything below it, depth first."""
    yield node
    match node:
        case Call(_, args):
            children: tuple[Node | None, ...] = args
        case Comparison(_, left, right):
            children = (left, right)
        case _:
            children = ()
    for child in children:
        if child is not None:
            yield from walk(child)


def referenced_attributes(node: Node) -> set[str]:
    """Names of the source attributes the expression reads."""
    return {n.name for n in walk(node) if isinstance(n, Attribute)}


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    attributes: Mapping[str, object]
    now: datetime
    rng: random.Random
    is_unique: Callable[[object], bool]


def evaluate(
    node: Node,
    attributes: Mapping[str, object],
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
    is_unique: Callable[[object], bool] | None = None,
) -> object:
    """Compute the expression for one source object.

    ``now`` feeds Now() (default: the current UTC time); ``rng`` feeds Guid() and RandomString();
    ``is_unique`` is SelectUniqueValue's check against the target (default: every value is).
    Raises ``EvaluationError``; returns ``IGNORE_FLOW`` to drop the attribute from the flow.
    """
    context = _Context(
        attributes,
        now or datetime.now(UTC),
        rng or random.Random(),
        is_unique or (lambda _value: True),
    )
    try:
        return _eval(node, context)
    except _IgnoreFlow:
        return IGNORE_FLOW


def _eval(node: Node, context: _Context) -> object:
    match node:
        case Attribute(name):
            return context.attributes.get(name)
        case Constant(value):
            return value
        case Comparison(op, left, right):
            return _compare(op, _eval(left, context), _eval(right, context))
        case Call(name, args):
            return FUNCTIONS[name].impl(_Args(args, context))


class _Args:
    """A call's arguments, evaluated on first use so IIF, Switch and Coalesce stay lazy."""

    def __init__(self, nodes: tuple[Node | None, ...], context: _Context) -> None:
        self.nodes = nodes
        self.context = context
        self._values: dict[int, object] = {}

    def __len__(self) -> int:
        return len(self.nodes)

    def value(self, index: int) -> object:
        if index not in self._values:
            node = self.nodes[index] if index < len(self.nodes) else None
            self._values[index] = None if node is None else _eval(node, self.context)
        return self._values[index]

    def values(self, start: int = 0) -> Iterator[object]:
        return (self.value(i) for i in range(start, len(self.nodes)))

    def text(self, index: int) -> str | None:
        return _text(self.value(index))

    def number(self, index: int, default: int | None = None) -> int:
        value = self.value(index)
        if value is None and default is not None:
            return default
        return _to_int(value)


# --- conversions ------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(r"\s*([+-]?[0-9]{1,18})\s*")
_DECIMAL_TEXT = re.compile(r"\s*[+-]?[0-9]{1,18}(\.[0-9]{1,18})?\s*")
_DISPLAY_DATE = "M/d/yyyy h:mm:ss tt"  # how the service prints every DateTime


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)  # "True"/"False", as .NET prints them
    if isinstance(value, datetime):
        return _format_datetime(_to_datetime(value), _DISPLAY_DATE)
    if isinstance(value, list):
        if len(value) == 1:
            return _text(value[0])
        raise EvaluationError(f"expected a single value, got {len(value)} values")
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = _text(value) or ""
    hex_match = _HEX.fullmatch(text.strip())
    if hex_match:
        return int(hex_match[1], 16)
    match = _INTEGER_TEXT.fullmatch(text)
    if match is None:
        raise EvaluationError(f"expected a whole number, got {value!r}")
    return int(match[1])


def _to_bool(value: object) -> bool:
    """CBool's rule: True/False by name (any case), numbers by being non-zero, null is False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    text = (_text(value) or "").strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _DECIMAL_TEXT.fullmatch(text):
        return float(text) != 0
    raise EvaluationError(f"cannot read {value!r} as a boolean")


def _to_number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = value if isinstance(value, str) else None
    return float(text) if text is not None and _DECIMAL_TEXT.fullmatch(text) else None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


def _simple_case(text: str, convert: Callable[[str], str]) -> str:
    # .NET's invariant culture maps one character to one: "ß" stays "ß" in ToUpper.
    return "".join(c if len(convert(c)) != 1 else convert(c) for c in text)


def _lower(text: str) -> str:
    return _simple_case(text, str.lower)


def _upper(text: str) -> str:
    return _simple_case(text, str.upper)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _compare(op: str, left: object, right: object) -> bool:
    """Booleans, dates and numbers compare as such; anything else as case-sensitive text."""
    pair: tuple[object, object]
    if isinstance(left, bool) or isinstance(right, bool):
        pair = (_to_bool(left), _to_bool(right))
    elif isinstance(left, datetime) or isinstance(right, datetime):
        pair = (_to_datetime(left), _to_datetime(right))
    else:
        numbers = (_to_number(left), _to_number(right))
        both = None not in numbers
        pair = numbers if both else (_text(left) or "", _text(right) or "")
    return _COMPARE[op](*pair)


# --- dates --------------------------------------------------------------------------------------

# The invariant culture's names, spelled out: calendar.month_name follows the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # as weekday() counts
_DATE_WITH_OFFSET = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)  # Active Directory's date numbers count from here
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offset(d: datetime, short: bool = False) -> str:
    minutes = int((d.utcoffset() or timedelta()).total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    if short:
        return f"{sign}{minutes // 60}"
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _fraction(digits: int, trim: bool, d: datetime) -> str:
    text = f"{d.microsecond:06d}0"[:digits]
    return text.rstrip("0") if trim else text


# .NET custom date format specifier -> (pattern it parses, field it sets, how it prints).
_FIELDS: dict[str, tuple[str, str, Callable[[datetime], str]]] = {
    "yyyy": (r"[0-9]{4}", "year", lambda d: f"{d.year:04d}"),
    "yy": (r"[0-9]{2}", "year2", lambda d: f"{d.year % 100:02d}"),
    "MMMM": ("|".join(_MONTHS), "monthname", lambda d: _MONTHS[d.month - 1]),
    "MMM": ("|".join(m[:3] for m in _MONTHS), "monthname", lambda d: _MONTHS[d.month - 1][:3]),
    "MM": (r"[0-9]{2}", "month", lambda d: f"{d.month:02d}"),
    "M": (r"[0-9]{1,2}", "month", lambda d: str(d.month)),
    "dddd": ("|".join(_DAYS), "weekday", lambda d: _DAYS[d.weekday()]),
    "ddd": ("|".join(n[:3] for n in _DAYS), "weekday", lambda d: _DAYS[d.weekday()][:3]),
    "dd": (r"[0-9]{2}", "day", lambda d: f"{d.day:02d}"),
    "d": (r"[0-9]{1,2}", "day", lambda d: str(d.day)),
    "HH": (r"[0-9]{2}", "hour", lambda d: f"{d.hour:02d}"),
    "H": (r"[0-9]{1,2}", "hour", lambda d: str(d.hour)),
    "hh": (r"[0-9]{2}", "hour12", lambda d: f"{(d.hour - 1) % 12 + 1:02d}"),
    "h": (r"[0-9]{1,2}", "hour12", lambda d: str((d.hour - 1) % 12 + 1)),
    "mm": (r"[0-9]{2}", "minute", lambda d: f"{d.minute:02d}"),
    "m": (r"[0-9]{1,2}", "minute", lambda d: str(d.minute)),
    "ss": (r"[0-9]{2}", "second", lambda d: f"{d.second:02d}"),
    "s": (r"[0-9]{1,2}", "second", lambda d: str(d.second)),
    "tt": ("AM|PM", "ampm", lambda d: "AM" if d.hour < 12 else "PM"),
    "t": ("A|P", "ampm", lambda d: "A" if d.hour < 12 else "P"),
    "zzz": (r"[+-][0-9]{2}:[0-9]{2}", "offset", _offset),
    "zz": (r"[+-][0-9]{2}", "offset", lambda d: _offset(d)[:3]),
    "z": (r"[+-][0-9]{1,2}", "offset", lambda d: _offset(d, short=True)),
    "K": (r"Z|[+-][0-9]{2}:[0-9]{2}|", "offset", lambda d: "" if d.tzinfo is None else _offset(d)),
}
for _n in range(1, 8):  # f..fffffff print trailing zeros, F..FFFFFFF trim them
    _FIELDS["f" * _n] = (rf"[0-9]{{{_n}}}", "fraction", partial(_fraction, _n, False))
    _FIELDS["F" * _n] = (rf"[0-9]{{0,{_n}}}", "fraction", partial(_fraction, _n, True))

# One-letter .NET standard formats, in the invariant culture.
_STANDARD_FORMATS = {
    "d": "M/d/yyyy",
    "D": "dddd, MMMM d, yyyy",
    "g": "M/d/yyyy h:mm tt",
    "G": _DISPLAY_DATE,
    "o": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "s": "yyyy-MM-ddTHH:mm:ss",
    "t": "h:mm tt",
    "T": "h:mm:ss tt",
    "u": "yyyy-MM-dd HH:mm:ssZ",
}
_FORMAT_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\\.|%|y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|z+|K|.", re.S)


@lru_cache(maxsize=256)
def _format_pieces(fmt: str) -> tuple[tuple[str, bool], ...]:
    """A .NET date format as (text, is_field) pieces; literal text has its quoting removed."""
    pieces: list[tuple[str, bool]] = []
    for token in _FORMAT_TOKEN.findall(_STANDARD_FORMATS.get(fmt, fmt)):
        if token in _FIELDS:
            pieces.append((token, True))
        elif token[0] in "yMdHhmsfFtz":
            raise EvaluationError(f"unsupported date format specifier {token!r} in {fmt!r}")
        elif token[0] in "'\"" and len(token) > 1:
            pieces.append((token[1:-1], False))
        elif token[0] == "\\" and len(token) > 1:
            pieces.append((token[1], False))
        elif token != "%":  # '%' only lets a one-letter custom format be written
            pieces.append((token, False))
    return tuple(pieces)


def _format_datetime(d: datetime, fmt: str) -> str:
    return "".join(_FIELDS[text][2](d) if field else text for text, field in _format_pieces(fmt))


def _parse_exact(text: str, fmt: str, default: datetime) -> datetime:
    """DateTime.ParseExact for the specifiers in ``_FIELDS``; date parts missing from ``fmt``
    come from ``default``."""
    pieces = _format_pieces(fmt)
    pattern = "".join(f"({_FIELDS[t][0]})" if field else re.escape(t) for t, field in pieces)
    match = re.fullmatch(pattern, text.strip(), re.IGNORECASE)
    if match is None:
        raise EvaluationError(f"{text!r} does not match the date format {fmt!r}")
    got = dict(zip((_FIELDS[t][1] for t, field in pieces if field), match.groups(), strict=True))
    year = int(got["year"]) if "year" in got else default.year
    if "year2" in got:
        year = int(got["year2"]) + (2000 if int(got["year2"]) < 50 else 1900)  # .NET's 2049 cut-off
    month = int(got.get("month", default.month))
    if "monthname" in got:
        month = [m[:3].lower() for m in _MONTHS].index(got["monthname"][:3].lower()) + 1
    hour = int(got.get("hour", 0))
    if "hour12" in got:
        hour = int(got["hour12"]) % 12 + (12 if got.get("ampm", "A").upper().startswith("P") else 0)
    micro = int((got.get("fraction") or "0").ljust(6, "0")[:6])
    values = (year, month, int(got.get("day", default.day)), hour)
    try:
        return datetime(*values, int(got.get("minute", 0)), int(got.get("second", 0)), micro, _zone(got.get("offset")))
    except ValueError as error:
        raise EvaluationError(f"{text!r} is not a valid date: {error}") from None


def _zone(offset: str | None) -> timezone | None:
    if not offset:
        return None
    if offset.upper() == "Z":
        return UTC
    hours, _, minutes = offset[1:].partition(":")
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-delta if offset[0] == "-" else delta)


def _to_datetime(value: object) -> datetime:
    """CDate's reading of a value: ISO 8601 (also a date with only an offset, as Workday sends
    it) or the service's own M/d/yyyy h:mm:ss tt; a missing offset means UTC."""
    if isinstance(value, datetime):
        d = value
    else:
        text = _text(value)
        if text is None:
            raise EvaluationError("expected a date, got null")
        d = _read_date(text.strip())
    try:
        return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)
    except OverflowError:
        raise EvaluationError(f"{d.isoformat()} is outside the supported dates in UTC") from None


def _read_date(text: str) -> datetime:
    match = _DATE_WITH_OFFSET.fullmatch(text)
    try:
        return datetime.fromisoformat(f"{match[1]}T00:00:00{match[2]}" if match else text)
    except ValueError:
        pass
    for fmt in (_DISPLAY_DATE, "M/d/yyyy"):
        try:
            return _parse_exact(text, fmt, _UNIX_EPOCH)
        except EvaluationError:
            continue
    raise EvaluationError(f"cannot read {text!r} as a date")


def _add_months(d: datetime, months: int) -> datetime:
    year, month = divmod(d.year * 12 + d.month - 1 + months, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])  # Jan 31 + 1 month = Feb 28/29
    return d.replace(year=year, month=month + 1, day=day)


_INTERVAL_SECONDS = {"ww": 604800, "d": 86400, "h": 3600, "n": 60, "s": 1}

# DateDiff counts the boundaries crossed, as VBA does: years, months, Sundays, midnights...
_BOUNDARY: dict[str, Callable[[datetime], int]] = {
    "yyyy": lambda d: d.year,
    "m": lambda d: d.year * 12 + d.month,
    "ww": lambda d: d.toordinal() // 7,  # ordinal 7 (0001-01-07) is a Sunday
    "d": lambda d: d.toordinal(),
    "h": lambda d: (d - _UNIX_EPOCH) // timedelta(hours=1),
    "n": lambda d: (d - _UNIX_EPOCH) // timedelta(minutes=1),
    "s": lambda d: (d - _UNIX_EPOCH) // timedelta(seconds=1),
}


def _interval(a: _Args) -> str:
    interval = a.text(0) or ""
    if interval not in _BOUNDARY:
        raise EvaluationError(f"unknown interval {interval!r}; use one of {', '.join(_BOUNDARY)}")
    return interval


# --- the functions ----------------------------------------------------------------------------


def _on_text(convert: Callable[[str], object]) -> Impl:
    """A function of one string argument that passes null through."""

    def impl(a: _Args) -> object:
        text = a.text(0)
        return None if text is None else convert(text)

    return impl


def _utf16_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode("ascii")  # "Unicode" in .NET terms


def _append(a: _Args) -> object:
    source = a.text(0)
    return None if source is None else source + (a.text(1) or "")


def _coalesce(a: _Args) -> object:
    return next((value for value in a.values() if value is not None), None)


def _count(a: _Args) -> object:
    return len(_as_list(a.value(0)))


def _date_add(a: _Args) -> object:
    interval, amount, start = _interval(a), a.number(1), _to_datetime(a.value(2))
    try:
        if interval in ("yyyy", "m"):
            return _add_months(start, amount * (12 if interval == "yyyy" else 1))
        return start + timedelta(seconds=amount * _INTERVAL_SECONDS[interval])
    except (OverflowError, ValueError):
        raise EvaluationError(f"DateAdd goes past the supported dates: {amount} {interval}") from None


def _date_diff(a: _Args) -> object:
    boundary = _BOUNDARY[_interval(a)]
    return boundary(_to_datetime(a.value(2))) - boundary(_to_datetime(a.value(1)))


def _date_from_num(a: _Args) -> object:
    ticks = a.number(0)  # 100-nanosecond intervals since 1601
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        raise EvaluationError(f"DateFromNum: {ticks} is past the supported dates") from None


def _num_from_date(a: _Args) -> object:
    return (_to_datetime(a.value(0)) - _FILETIME_EPOCH) // timedelta(microseconds=1) * 10


def _format_date_time(a: _Args) -> object:
    source = a.value(0)
    if source is None:
        return None
    styles = a.text(1) or ""
    if isinstance(source, datetime):
        parsed = source
    else:
        parsed = _parse_exact(_text(source) or "", a.text(2) or "", a.context.now)
    if "AdjustToUniversal" in styles and parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return _format_datetime(parsed, a.text(3) or "")


def _ignore_flow_if_null_or_empty(a: _Args) -> object:
    value = a.value(0)
    if _is_empty(value):
        raise _IgnoreFlow
    return value


def _iif(a: _Args) -> object:
    condition = a.nodes[0]
    assert condition is not None  # the parser rejects an empty condition
    blank = sorted(n for n in referenced_attributes(condition) if _is_empty(a.context.attributes.get(n)))
    if blank:
        # Documented limitation: the condition check fails when an attribute in it is null or empty.
        raise EvaluationError(f"IIF condition reads null or empty {', '.join(blank)}; use Switch for that")
    return a.value(1) if _to_bool(a.value(0)) else a.value(2)


_COMPARE_TYPES = {"vbbinarycompare": False, "0": False, "vbtextcompare": True, "1": True}


def _instr(a: _Args) -> object:
    haystack, needle = a.text(0), a.text(1)
    if haystack is None or needle is None:
        return None
    start = a.number(2, default=1)
    compare = (a.text(3) or "vbBinaryCompare").lower()
    if compare not in _COMPARE_TYPES or start < 1:
        raise EvaluationError(f"InStr needs start >= 1 and vbTextCompare or vbBinaryCompare, got {compare!r}")
    if _COMPARE_TYPES[compare]:
        haystack, needle = _lower(haystack), _lower(needle)
    return haystack.find(needle, start - 1) + 1


def _item(a: _Args) -> object:
    items, index = _as_list(a.value(0)), a.number(1)
    return items[index - 1] if 1 <= index <= len(items) else None  # 1-based, as documented


def _join(a: _Args) -> object:
    separator = a.text(0) or ""
    parts = (_text(item) for value in a.values(1) for item in _as_list(value))
    return separator.join(part for part in parts if part)  # documented: Join(", ", "", x, y) == "x, y"


def _left(a: _Args) -> object:
    source, count = a.text(0), a.number(1)
    if source is None:
        return ""
    return source if count < 0 else source[:count]


def _mid(a: _Args) -> object:
    source = a.text(0)
    if source is None:
        return None
    start, length = a.number(1), a.number(2)
    if start < 1 or length < 0:
        raise EvaluationError(f"Mid needs start >= 1 and length >= 0, got {start} and {length}")
    return source[start - 1 : start - 1 + length]


# Letters the doc's table maps that Unicode does not decompose into letter + accent.
_DIACRITIC_LETTERS = str.maketrans(
    {"æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L"}
    | {"\u0131": "i"}  # dotless i
)


def _normalize_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped.translate(_DIACRITIC_LETTERS))


def _not(a: _Args) -> object:
    return not _to_bool(a.value(0))


def _default_word_separator(char: str) -> bool:
    # ToTitleCase's separators: spaces, controls, punctuation and symbols.
    return unicodedata.category(char)[0] in "ZCPS"


def _pcase(a: _Args) -> object:
    source, separators = a.text(0), a.text(1)
    if source is None:
        return None
    is_separator = (lambda c: c in separators) if separators else _default_word_separator
    out, at_start = [], True
    for char in source:
        out.append(_upper(char) if at_start else _lower(char))
        at_start = is_separator(char)
    return "".join(out)


_SPECIAL_CHARACTERS = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"  # Windows password-complexity set


def _random_string(a: _Args) -> object:
    length = a.number(0)
    avoid = a.text(5) or ""
    pools = [string.digits, _SPECIAL_CHARACTERS, string.ascii_uppercase, string.ascii_lowercase]
    pools = ["".join(c for c in pool if c not in avoid) for pool in pools]
    minimums = [a.number(i) for i in range(1, 5)]
    if not 0 <= sum(minimums) <= length <= 256 or min(minimums) < 0:
        raise EvaluationError("RandomString needs 0 <= minimums, their sum <= Length <= 256")
    if any(n and not pool for pool, n in zip(pools, minimums, strict=True)) or not "".join(pools):
        raise EvaluationError("RandomString: CharactersToAvoid leaves nothing to choose from")
    rng = a.context.rng
    chars = [rng.choice(pool) for pool, n in zip(pools, minimums, strict=True) for _ in range(n)]
    chars += rng.choices("".join(pools), k=length - len(chars))
    rng.shuffle(chars)
    return "".join(chars)


def _remove_duplicates(a: _Args) -> object:
    value = a.value(0)
    if not isinstance(value, list):
        return value
    unique: list[object] = []
    for item in value:  # not dict.fromkeys: items may be unhashable, e.g. alternativeSecurityIds
        if item not in unique:
            unique.append(item)
    return unique


# .NET names a group (?<name>...); Python wants (?P<name>...). Lookbehinds (?<= (?<! stay.
_DOTNET_GROUP = re.compile(r"\(\?<(?![=!])")
_DOTNET_BACKREFERENCE = re.compile(r"\\k<(\w+)>")
_DOTNET_SUBSTITUTION = re.compile(r"\$(?:\{(\w+)\}|([0-9]+)|(&)|(\$))")


def _regex(pattern: str) -> re.Pattern[str]:
    python = _DOTNET_BACKREFERENCE.sub(r"(?P=\1)", _DOTNET_GROUP.sub("(?P<", pattern))
    try:
        return re.compile(python)
    except (re.error, OverflowError, RecursionError) as error:
        raise EvaluationError(f"invalid regexPattern {pattern!r}: {error}") from None


def _substitute(template: str, match: re.Match[str]) -> str:
    """Expand .NET's $1, ${name}, $& and $$ in a replacement; unknown groups stay as written."""

    def one(sub: re.Match[str]) -> str:
        if sub[4]:
            return "$"
        group: str | int = sub[1] or (int(sub[2]) if sub[2] else 0)
        try:
            return match.group(group) or ""
        except IndexError:
            return sub[0]

    return _DOTNET_SUBSTITUTION.sub(one, template)


def _known_group(match: re.Match[str], group: str) -> str:
    if group not in match.re.groupindex:
        raise EvaluationError(f"regexPattern has no group named {group!r}")
    return group


def _group_replacer(group: str, replacement: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        start, end = match.span(_known_group(match, group))
        if start < 0:
            return match[0]
        offset = match.start()
        return match[0][: start - offset] + replacement + match[0][end - offset :]

    return replace


def _replace(a: _Args) -> object:
    """The five documented forms, chosen by which of the seven arguments are given."""
    source, old, pattern, group, new, template = (a.text(i) for i in (0, 1, 2, 3, 4, 6))
    if pattern is not None and group is not None and a.nodes[5] is not None:
        if not _is_empty(source):
            return source
        fallback = a.text(5)
        found = None if fallback is None else _regex(pattern).search(fallback)
        return None if found is None else found.group(_known_group(found, group))
    if source is None or (new is None and template is None):
        return source
    if pattern is not None and new is not None:
        replace = _group_replacer(group, new) if group is not None else lambda m: _substitute(new, m)
        return _regex(pattern).sub(replace, source)
    if old and template is not None:
        return template.replace(old, source)
    if old and new is not None:
        return source.replace(old, new)
    return source


def _select_unique_value(a: _Args) -> object:
    for value in a.values():
        if value is not None and a.context.is_unique(value):
            return value
    raise EvaluationError("SelectUniqueValue: every candidate already exists in the target")


def _single_app_role_assignment(a: _Args) -> object:
    # Documented as unsupported with several assignments; the emulator takes the first.
    assignments = _as_list(a.value(0))
    return assignments[0] if assignments else None


def _split(a: _Args) -> object:
    source, delimiter = a.text(0), a.text(1)
    if source is None:
        return None
    # The documented sample splits "One, Two" on "," into ["One", "Two"]: parts are trimmed.
    return [part.strip() for part in source.split(delimiter)] if delimiter else [source]


def _switch(a: _Args) -> object:
    source = a.text(0) or ""  # null matches the "" key, the documented way to test for empty
    for index in range(2, len(a), 2):
        if a.text(index) == source:
            return a.value(index + 1)
    return a.value(1)


def _word(a: _Args) -> object:
    source, number, delimiters = a.text(0), a.number(1), a.text(2) or ""
    if source is None or number < 1:
        return ""
    words = [w for w in re.split(f"[{re.escape(delimiters)}]", source) if w] if delimiters else [source]
    return words[number - 1] if number <= len(words) else ""


def _alt_sec_id_from_net_id(a: _Args) -> object:
    """CTS's matching key, shaped as Graph's alternativeSecurityId (the key is Edm.Binary,
    so base64). Type 5 and the encoding are the emulator's choice; Microsoft does not say."""
    net_id = a.text(0)
    if not net_id:
        return None
    key = base64.b64encode(net_id.encode("utf-8")).decode("ascii")
    return [{"type": 5, "identityProvider": None, "key": key}]


_F = FunctionSpec
_EXPRESSION = ("Expression",)

FUNCTIONS: Mapping[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        _F("AltSecIdFromNetId", _alt_sec_id_from_net_id, ("source",)),
        _F("Append", _append, ("source", "suffix")),
        _F("AppRoleAssignmentsComplex", lambda a: _as_list(a.value(0)) or None, ("appRoleAssignments",)),
        _F("BitAnd", lambda a: a.number(0) & a.number(1), ("value1", "value2")),
        _F("CBool", lambda a: _to_bool(a.value(0)), _EXPRESSION),
        _F("CDate", lambda a: None if a.value(0) is None else _to_datetime(a.value(0)), _EXPRESSION),
        _F("Coalesce", _coalesce, repeat=("source",), min_repeats=1),
        _F("ConvertToBase64", _on_text(_utf16_base64), ("source",)),
        _F("ConvertToUTF8Hex", _on_text(lambda s: s.encode("utf-8").hex().upper()), ("source",)),
        _F("Count", _count, ("attribute",)),
        _F("CStr", lambda a: a.text(0), ("value",)),
        _F("DateAdd", _date_add, ("interval", "value", "dateTime")),
        _F("DateDiff", _date_diff, ("interval", "date1", "date2")),
        _F("DateFromNum", _date_from_num, ("value",)),
        _F("FormatDateTime", _format_date_time, ("source", "dateTimeStyles?", "inputFormat", "outputFormat")),
        _F("Guid", lambda a: str(uuid.UUID(int=a.context.rng.getrandbits(128), version=4))),
        _F("IgnoreFlowIfNullOrEmpty", _ignore_flow_if_null_or_empty, _EXPRESSION),
        _F("IIF", _iif, ("condition", "valueIfTrue", "valueIfFalse")),
        _F("InStr", _instr, ("value1", "value2", "start?", "compareType?")),
        _F("IsNull", lambda a: a.value(0) is None, _EXPRESSION),
        _F("IsNullOrEmpty", lambda a: _is_empty(a.value(0)), _EXPRESSION),
        _F("IsPresent", lambda a: not _is_empty(a.value(0)), _EXPRESSION),
        _F("IsString", lambda a: isinstance(a.value(0), str), _EXPRESSION),
        _F("Item", _item, ("attribute", "index")),
        _F("Join", _join, ("separator",), repeat=("source",), min_repeats=1),
        _F("Left", _left, ("String", "NumChars")),
        _F("Mid", _mid, ("source", "start", "length")),
        _F("NormalizeDiacritics", _on_text(_normalize_diacritics), ("source",)),
        _F("Not", _not, ("source",)),
        _F("Now", lambda a: a.context.now),
        _F("NumFromDate", _num_from_date, ("value",)),
        _F("PCase", _pcase, ("source", "wordSeparators?")),
        _F(
            "RandomString",
            _random_string,
            (
                "Length",
                "MinimumNumbers",
                "MinimumSpecialCharacters",
                "MinimumCapital",
                "MinimumLowerCase",
                "CharactersToAvoid?",
            ),
        ),
        _F("Redact", lambda a: a.value(0), ("value",)),  # redaction applies to the logs, not the value
        _F("RemoveDuplicates", _remove_duplicates, ("attribute",)),
        # Graph's parseExpression example names oldValue "Find" and replacementValue "Replacement".
        _F(
            "Replace",
            _replace,
            (
                "source",
                "Find?",
                "regexPattern?",
                "regexGroupName?",
                "Replacement?",
                "replacementAttributeName?",
                "template?",
            ),
            min_args=7,  # every documented call writes all seven, empty ones included
        ),
        _F("SelectUniqueValue", _select_unique_value, repeat=("uniqueValueRule",), min_repeats=2),
        _F("SingleAppRoleAssignment", _single_app_role_assignment, ("appRoleAssignments",)),
        _F("Split", _split, ("source", "delimiter")),
        _F("StripSpaces", _on_text(lambda s: s.replace(" ", "")), ("source",)),
        _F("Switch", _switch, ("source", "defaultValue?"), repeat=("key", "value"), min_repeats=1),
        _F("ToLower", _on_text(_lower), ("source", "culture?")),  # culture is accepted and ignored
        _F("ToUpper", _on_text(_upper), ("source", "culture?")),
        _F("Word", _word, ("String", "WordNumber", "delimiters")),
    )
}


def render(value: object) -> list[str]:
    """A result as Graph's parseExpression ``evaluationResult``: a list of strings."""
    if value is IGNORE_FLOW or value is None:
        return []
    return [text for item in _as_list(value) if (text := _text(item)) is not None]
