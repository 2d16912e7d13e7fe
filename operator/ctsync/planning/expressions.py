"""Syntax of the provisioning service's mapping expressions: parse, canonical text, attributeMappingSource.

The documented grammar: `[attribute]`, `"string"` (escapes \\" and \\\\), integers, hexadecimal `&HF7`,
InStr's bare `vbTextCompare`/`vbBinaryCompare`, `Function(arg, , arg)` calls of the documented functions
with their documented number of arguments (some may be left empty), and one comparison `a = b` (also
`<>`, `<`, `>`, `<=`, `>=`) wherever a value may stand, as IIF's condition does. What a function computes
is the service's business; checking the syntax here turns a typo into a spec error instead of a failed PUT.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Attribute:
    name: str


@dataclass(frozen=True)
class Constant:
    value: str
    numeric: bool = False  # written bare: a number (kept as its canonical digits) or a VB constant name


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple["Node | None", ...]  # None is an empty argument, as in Replace([x], "-", , , "_", , )


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: "Node"
    right: "Node"


Node = Attribute | Constant | Function | Comparison


class ExpressionSyntaxError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True)
class Signature:
    """A function's arguments: `fixed` ones (True: may be left empty), then `repeat`-sized groups that
    repeat at least `min_groups` times. `min_args` overrides the minimum (Replace is always written whole)."""

    fixed: tuple[bool, ...] = ()
    repeat: int = 0
    min_groups: int = 0
    min_args: int | None = None

    def problem(self, name: str, args: tuple["Node | None", ...]) -> tuple[str, int] | None:
        """What is wrong with these arguments, and the index of the argument at fault (-1: the count)."""
        count, fixed = len(args), len(self.fixed)
        if self.min_args is not None:
            low = self.min_args
        elif self.repeat:
            low = fixed + self.min_groups * self.repeat
        else:
            low = max((i + 1 for i, optional in enumerate(self.fixed) if not optional), default=0)
        if count < low or (not self.repeat and count > fixed):
            return f"{name} takes {'at least ' if self.repeat else ''}{low} argument(s), not {count}", -1
        if self.repeat and (count - fixed) % self.repeat:
            return f"{name} takes its arguments after the first {fixed} in groups of {self.repeat}", -1
        for i, arg in enumerate(args):
            if arg is None and not (i < fixed and self.fixed[i]):
                return f"argument {i + 1} of {name} must not be empty", i
        return None


def _sig(spec: str, repeat: int = 0, min_groups: int = 0, min_args: int | None = None) -> Signature:
    """`spec`: one letter per fixed argument, r (required) or o (may be empty)."""
    return Signature(tuple(c == "o" for c in spec), repeat, min_groups, min_args)


# The documented functions (Microsoft's reference for attribute-mapping expressions) and CTS's own
# AltSecIdFromNetId, with their arguments.
FUNCTIONS: Final[Mapping[str, Signature]] = {
    "AltSecIdFromNetId": _sig("r"),
    "Append": _sig("rr"),
    "AppRoleAssignmentsComplex": _sig("r"),
    "BitAnd": _sig("rr"),
    "CBool": _sig("r"),
    "CDate": _sig("r"),
    "Coalesce": _sig("", repeat=1, min_groups=1),
    "ConvertToBase64": _sig("r"),
    "ConvertToUTF8Hex": _sig("r"),
    "Count": _sig("r"),
    "CStr": _sig("r"),
    "DateAdd": _sig("rrr"),
    "DateDiff": _sig("rrr"),
    "DateFromNum": _sig("r"),
    "FormatDateTime": _sig("rorr"),
    "Guid": _sig(""),
    "IgnoreFlowIfNullOrEmpty": _sig("r"),
    "IIF": _sig("rrr"),
    "InStr": _sig("rroo"),
    "IsNull": _sig("r"),
    "IsNullOrEmpty": _sig("r"),
    "IsPresent": _sig("r"),
    "IsString": _sig("r"),
    "Item": _sig("rr"),
    "Join": _sig("r", repeat=1, min_groups=1),
    "Left": _sig("rr"),
    "Mid": _sig("rrr"),
    "NormalizeDiacritics": _sig("r"),
    "Not": _sig("r"),
    "Now": _sig(""),
    "NumFromDate": _sig("r"),
    "PCase": _sig("ro"),
    "RandomString": _sig("rrrrro"),
    "Redact": _sig("r"),
    "RemoveDuplicates": _sig("r"),
    "Replace": _sig("roooooo", min_args=7),
    "SelectUniqueValue": _sig("", repeat=1, min_groups=2),
    "SingleAppRoleAssignment": _sig("r"),
    "Split": _sig("rr"),
    "StripSpaces": _sig("r"),
    "Switch": _sig("ro", repeat=2, min_groups=1),
    "ToLower": _sig("ro"),
    "ToUpper": _sig("ro"),
    "Word": _sig("rrr"),
}
MAX_DEPTH: Final = 64  # nesting the service accepts; deeper is a syntax error here, not a RecursionError
_OUTERMOST_ONLY: Final = frozenset({"SelectUniqueValue"})
_BARE_NAMES: Final = frozenset({"vbTextCompare", "vbBinaryCompare"})
_COMPARISONS: Final = ("<>", "<=", ">=", "=", "<", ">")  # two-character operators first
_SPACE: Final = " \t\r\n"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(-?)0*([0-9]+)")
_HEX = re.compile(r"&[Hh]([0-9A-Fa-f]{1,16})(?![0-9A-Za-z])")
_ESCAPED = frozenset('"\\')


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0  # calls around the current position

    def error(self, message: str, at: int | None = None) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.pos if at is None else at)

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def whole(self) -> Node:
        if not self.peek():
            raise self.error("empty expression")
        node = self.expression()
        rest = self.peek()
        if rest:
            raise self.error(f"unexpected {rest!r} after the end of the expression")
        return node

    def expression(self) -> Node:
        left = self.operand()
        operator = self.comparison()
        if operator is None:
            return left
        right = self.operand()
        if self.comparison() is not None:
            raise self.error("comparisons cannot be chained; nest IIF instead")
        return Comparison(operator, left, right)

    def comparison(self) -> str | None:
        self.peek()
        operator = next((o for o in _COMPARISONS if self.text.startswith(o, self.pos)), None)
        if operator is not None:
            self.pos += len(operator)
        return operator

    def operand(self) -> Node:
        char = self.peek()
        if char == "[":
            return self.attribute()
        if char == '"':
            return self.string()
        if char == "&":
            return self.hexadecimal()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            sign, digits = number.groups()
            return Constant(sign + digits if digits.strip("0") else "0", numeric=True)
        identifier = _IDENTIFIER.match(self.text, self.pos)
        if identifier:
            self.pos = identifier.end()
            return self.name(identifier.group(), identifier.start())
        raise self.error(f"expected a value, found {char!r}" if char else "expected a value")

    def attribute(self) -> Attribute:
        start = self.pos
        end = self.text.find("]", start + 1)
        if end < 0:
            raise self.error("unclosed [")
        name = self.text[start + 1 : end].strip()
        if "[" in name:
            raise self.error("[ inside an attribute name")
        if not name:
            raise self.error("empty attribute name []")
        self.pos = end + 1
        return Attribute(name)

    def string(self) -> Constant:
        start, self.pos, chars = self.pos, self.pos + 1, []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in _ESCAPED:
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                return Constant("".join(chars))
            chars.append(char)  # any other backslash is literal
        raise ExpressionSyntaxError("unterminated string", start)

    def hexadecimal(self) -> Constant:
        match = _HEX.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a hexadecimal constant such as &HF7")
        self.pos = match.end()
        return Constant(str(int(match.group(1), 16)), numeric=True)

    def name(self, name: str, start: int) -> Node:
        if self.peek() == "(":
            return self.call(name, start)
        self.pos = start + len(name)
        if name in _BARE_NAMES:
            return Constant(name, numeric=True)
        raise self.error(f'expected ( after {name} (attributes are written [{name}], strings "{name}")')

    def call(self, name: str, start: int) -> Function:
        signature = FUNCTIONS.get(name)
        if signature is None:
            known = next((f for f in FUNCTIONS if f.lower() == name.lower()), None)
            hint = f" (names are case-sensitive: {known})" if known else ""
            raise self.error(f"unknown function {name}{hint}", start)
        if name in _OUTERMOST_ONLY and self.depth:
            raise self.error(f"{name} must be the outermost function", start)
        if self.depth == MAX_DEPTH:
            raise self.error(f"functions nested more than {MAX_DEPTH} deep", start)
        self.pos += 1
        self.depth += 1
        args, positions = self.arguments(name, start)
        self.depth -= 1
        problem = signature.problem(name, args)
        if problem is not None:
            message, index = problem
            raise self.error(message, start if index < 0 else positions[index])
        return Function(name, args)

    def arguments(self, name: str, start: int) -> tuple[tuple[Node | None, ...], list[int]]:
        args: list[Node | None] = []
        positions: list[int] = []
        if self.peek() == ")":
            self.pos += 1
            return (), positions
        while True:
            if not self.peek():
                raise self.error(f"missing ) to close {name}(")
            positions.append(self.pos)
            args.append(None if self.peek() in (",", ")") else self.expression())
            char = self.peek()
            if char == ")":
                self.pos += 1
                return tuple(args), positions
            if char != ",":
                raise self.error(
                    f"expected , or ) in the arguments of {name}" if char else f"missing ) to close {name}("
                )
            self.pos += 1


def parse(text: str) -> Node:
    """Parse an expression; raises ExpressionSyntaxError naming the position."""
    return _Parser(text).whole()


def render(node: Node) -> str:
    """Canonical text: no insignificant whitespace but ", " between arguments (the service's own style)."""
    if isinstance(node, Attribute):
        return f"[{node.name}]"
    if isinstance(node, Constant):
        return node.value if node.numeric else _quote(node.value)
    if isinstance(node, Comparison):
        return f"{render(node.left)} {node.operator} {render(node.right)}"
    return f"{node.name}({', '.join('' if a is None else render(a) for a in node.args)})"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def attribute_refs(node: Node) -> frozenset[str]:
    """Every [attribute] the expression reads."""
    if isinstance(node, Attribute):
        return frozenset({node.name})
    if isinstance(node, Constant):
        return frozenset()
    if isinstance(node, Comparison):
        return attribute_refs(node.left) | attribute_refs(node.right)
    return frozenset().union(*(attribute_refs(a) for a in node.args if a is not None))


def rename_attributes(node: Node, rename: Callable[[str], str]) -> Node:
    """The expression with every [attribute] it reads renamed."""
    if isinstance(node, Attribute):
        return Attribute(rename(node.name))
    if isinstance(node, Constant):
        return node
    if isinstance(node, Comparison):
        return Comparison(node.operator, rename_attributes(node.left, rename), rename_attributes(node.right, rename))
    return Function(node.name, tuple(None if a is None else rename_attributes(a, rename) for a in node.args))


# Parameter keys the service uses for a few functions; others get "source", "source2", ... (the service
# names parameters itself when it parses the expression, so only the expression text really matters).
_PARAMETER_NAMES: Final = {
    "Append": ("source", "suffix"),
    "Mid": ("source", "start", "length"),
    "Replace": (
        "source",
        "oldValue",
        "regexPattern",
        "regexGroupName",
        "replacementValue",
        "replacementAttributeName",
        "template",
    ),
    "Join": ("separator",),
    "IIF": ("condition", "valueIfTrue", "valueIfFalse"),
    "Switch": ("source", "defaultValue"),
}


def _parameter_name(function: str, index: int) -> str:
    names = _PARAMETER_NAMES.get(function, ("source",))
    return names[index] if index < len(names) else f"source{index + 1}"


def to_source(node: Node) -> dict[str, Any]:
    """The attributeMappingSource JSON of an expression."""
    parameters: list[dict[str, Any]] = []
    if isinstance(node, Function):
        name, kind = node.name, "Function"
        parameters = [
            {"key": _parameter_name(node.name, i), "value": to_source(arg)}
            for i, arg in enumerate(node.args)
            if arg is not None
        ]
    elif isinstance(node, Comparison):
        # Graph's documentation never shows one parsed: a Function named by its operator.
        name, kind = node.operator, "Function"
        parameters = [
            {"key": key, "value": to_source(side)} for key, side in (("left", node.left), ("right", node.right))
        ]
    elif isinstance(node, Attribute):
        name, kind = node.name, "Attribute"
    else:
        name, kind = node.value, "Constant"
    return {"expression": render(node), "name": name, "type": kind, "parameters": parameters}


def canonical_source(source: Mapping[str, Any] | None) -> str | None:
    """Comparable text of an attributeMappingSource: its expression, re-rendered when it parses."""
    if source is None:
        return None
    text = source.get("expression")
    if not isinstance(text, str):
        text = _text_from_parts(source)
    try:
        return render(parse(text))
    except ExpressionSyntaxError:
        return text.strip()  # written by someone else in a syntax we do not know: compare verbatim


def _text_from_parts(source: Mapping[str, Any]) -> str:
    """Rebuild the expression of a source the service returned without one."""
    name = str(source.get("name", ""))
    if source.get("type") == "Attribute":
        return f"[{name}]"
    if source.get("type") == "Constant":
        return render(Constant(name))
    args = [_text_from_parts(p.get("value") or {}) for p in source.get("parameters") or ()]
    return f"{name}({', '.join(args)})"
