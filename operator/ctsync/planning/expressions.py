"""Syntax of the provisioning service's mapping expressions: parse, canonical text, attributeMappingSource.

Only the syntax: `[attribute]`, `"string"` (escapes \\" and \\\\), numbers, and `Function(arg, , arg)` with
empty arguments. What a function means is the service's business; it re-parses whatever we send.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Attribute:
    name: str


@dataclass(frozen=True)
class Constant:
    value: str
    numeric: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple["Node | None", ...]  # None is an empty argument, as in Replace([x], "-", , , "_", , )


Node = Attribute | Constant | Function


class ExpressionSyntaxError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ESCAPED = frozenset('"\\')


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.pos)

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def whole(self) -> Node:
        node = self.expression()
        rest = self.peek()
        if rest:
            raise self.error(f"unexpected {rest!r} after the end of the expression")
        return node

    def expression(self) -> Node:
        char = self.peek()
        if char == "[":
            return self.attribute()
        if char == '"':
            return self.string()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            return Constant(number.group(), numeric=True)
        identifier = _IDENTIFIER.match(self.text, self.pos)
        if identifier:
            self.pos = identifier.end()
            return self.call(identifier.group())
        raise self.error(f"expected an expression, found {char!r}" if char else "expected an expression")

    def attribute(self) -> Attribute:
        end = self.text.find("]", self.pos)
        name = self.text[self.pos + 1 : end]
        if end < 0 or "[" in name or "\n" in name:
            raise self.error("unclosed [")
        if not name.strip():
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

    def call(self, name: str) -> Function:
        if self.peek() != "(":
            raise self.error(f'expected ( after {name} (attributes are written [{name}], strings "{name}")')
        self.pos += 1
        if self.peek() == ")":
            self.pos += 1
            return Function(name, ())
        args: list[Node | None] = []
        while True:
            if not self.peek():
                raise self.error(f"missing ) to close {name}(")
            args.append(None if self.peek() in (",", ")") else self.expression())
            char = self.peek()
            if char == ")":
                self.pos += 1
                return Function(name, tuple(args))
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
        return node.value if node.numeric else '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{node.name}({', '.join('' if a is None else render(a) for a in node.args)})"


def attribute_refs(node: Node) -> frozenset[str]:
    """Every [attribute] the expression reads."""
    if isinstance(node, Attribute):
        return frozenset({node.name})
    if isinstance(node, Constant):
        return frozenset()
    return frozenset().union(*(attribute_refs(a) for a in node.args if a is not None))


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
