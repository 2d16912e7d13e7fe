"""entrasim's expression parser against the grammar Microsoft documents, written out here on its own.

The grammar below is taken from "Reference for writing expressions for attribute mappings in Microsoft
Entra ID", not from entrasim's function table, so the two can disagree: every documented function with
its arguments (required, optional, repeating), attributes in [brackets], string constants in double
quotes where `"` and `\\` are escaped with a backslash, numbers (and hexadecimal &H numbers, as in BitAnd's
sample), InStr's vbTextCompare/vbBinaryCompare, empty arguments where a parameter is optional (as in
`Replace([x], "-", , , "_", , )`), whitespace and line breaks between tokens (as in the multi-line Switch
sample), and the comparison form (=, <>, <, <=, >, >=) in IIF's condition and CBool's expression (as in
`IIF([country]="US",[country],[department])`, also nested in Switch).

Well-formed expressions must parse and print back as this test's own canonical form; malformed ones
(unbalanced, unknown function, wrong number of arguments, SelectUniqueValue nested) must be refused with
an ExpressionError that says what is wrong and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from entrasim.synchronization.expressions import ExpressionError, canonical, parse


@dataclass(frozen=True)
class Signature:
    """A documented function: `required` leading parameters, then `optional` ones that may be written
    empty or (at the end) left out, then a `repeat` group that comes `min_repeats` times or more.
    `empty_ok` lists required positions the documentation writes empty (Replace, FormatDateTime)."""

    required: int = 0
    optional: int = 0
    repeat: int = 0
    min_repeats: int = 0
    empty_ok: frozenset[int] = frozenset()

    @property
    def fixed(self) -> bool:
        return not self.repeat


def _sig(
    required: int = 0, optional: int = 0, *, repeat: int = 0, min_repeats: int = 0, empty: tuple[int, ...] = ()
) -> Signature:
    return Signature(required, optional, repeat, min_repeats, frozenset(empty))


DOCUMENTED: dict[str, Signature] = {
    "AltSecIdFromNetId": _sig(1),  # the CTS template's own matching function
    "Append": _sig(2),  # Append(source, suffix)
    "AppRoleAssignmentsComplex": _sig(1),
    "BitAnd": _sig(2),  # BitAnd(value1, value2)
    "CBool": _sig(1),
    "CDate": _sig(1),
    "Coalesce": _sig(repeat=1, min_repeats=1),  # Coalesce(source1, source2, ..., defaultValue)
    "ConvertToBase64": _sig(1),
    "ConvertToUTF8Hex": _sig(1),
    "Count": _sig(1),
    "CStr": _sig(1),
    "DateAdd": _sig(3),  # DateAdd(interval, value, dateTime)
    "DateDiff": _sig(3),  # DateDiff(interval, date1, date2)
    "DateFromNum": _sig(1),
    "FormatDateTime": _sig(4, empty=(1,)),  # FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)
    "Guid": _sig(0),
    "IgnoreFlowIfNullOrEmpty": _sig(1),
    "IIF": _sig(3),  # IIF(condition, valueIfTrue, valueIfFalse)
    "InStr": _sig(2, 2),  # InStr(value1, value2, start, compareType)
    "IsNull": _sig(1),
    "IsNullOrEmpty": _sig(1),
    "IsPresent": _sig(1),
    "IsString": _sig(1),
    "Item": _sig(2),  # Item(attribute, index)
    "Join": _sig(1, repeat=1, min_repeats=1),  # Join(separator, source1, source2, ...)
    "Left": _sig(2),  # Left(String, NumChars)
    "Mid": _sig(3),  # Mid(source, start, length)
    "NormalizeDiacritics": _sig(1),
    "Not": _sig(1),
    "Now": _sig(0),
    "NumFromDate": _sig(1),
    "PCase": _sig(1, 1),  # PCase(source, wordSeparators)
    "RandomString": _sig(5, 1),  # RandomString(Length, MinimumNumbers, ..., MinimumLowerCase, CharactersToAvoid)
    "Redact": _sig(1),
    "RemoveDuplicates": _sig(1),
    # Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template):
    # every sample writes all seven, the unused ones empty.
    "Replace": _sig(7, empty=(1, 2, 3, 4, 5, 6)),
    "SelectUniqueValue": _sig(repeat=1, min_repeats=2),  # outermost only
    "SingleAppRoleAssignment": _sig(1),
    "Split": _sig(2),  # Split(source, delimiter)
    "StripSpaces": _sig(1),
    "Switch": _sig(2, repeat=2, min_repeats=1, empty=(1,)),  # Switch(source, defaultValue, key1, value1, ...)
    "ToLower": _sig(1, 1),  # ToLower(source, culture)
    "ToUpper": _sig(1, 1),
    "Word": _sig(3),  # Word(String, WordNumber, delimiters)
}
NESTABLE = sorted(set(DOCUMENTED) - {"SelectUniqueValue"})
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
COMPARING = {"IIF": 0, "CBool": 0}  # the argument that may be a comparison

# --- the test's own syntax tree, its canonical text and a written form ------------------------------------
# A node is ("attr", name) | ("str", text) | ("num", int, leading zeros) | ("hex", int) | ("word", name) |
# ("call", name, args with None for an empty argument) | ("cmp", operator, left, right).

Tree = tuple


def canon(node: Tree | None) -> str:
    """One space after each comma and around a comparison operator, nothing else; numbers in decimal."""
    if node is None:
        return ""
    kind = node[0]
    if kind == "attr":
        return f"[{node[1]}]"
    if kind == "str":
        return '"' + node[1].replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind in ("num", "hex"):
        return str(node[1])
    if kind == "word":
        return str(node[1])
    if kind == "cmp":
        return f"{canon(node[2])} {node[1]} {canon(node[3])}"
    return f"{node[1]}({', '.join(canon(arg) for arg in node[2])})"


SPACE = st.sampled_from(["", "", " ", "  ", "\n", "\t", "\r\n  "])


@st.composite
def written(draw: st.DrawFn, node: Tree | None) -> str:
    """The node as someone might type it: any whitespace between tokens, leading zeros, hex numbers."""
    if node is None:
        return draw(SPACE)
    kind = node[0]
    if kind == "num":
        return ("-" if node[1] < 0 else "") + "0" * node[2] + str(abs(node[1]))
    if kind == "hex":
        return "&" + draw(st.sampled_from("Hh")) + format(node[1], draw(st.sampled_from("xX")))
    if kind == "cmp":
        return draw(written(node[2])) + draw(SPACE) + node[1] + draw(SPACE) + draw(written(node[3]))
    if kind != "call":
        return canon(node)
    args = [draw(SPACE) + draw(written(arg)) + draw(SPACE) for arg in node[2]]
    return f"{node[1]}(" + (",".join(args) if args else draw(SPACE)) + ")"


# --- well-formed expressions ------------------------------------------------------------------------------

ATTRIBUTES = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,20}", fullmatch=True),
    st.just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
)
LEAVES = st.one_of(
    st.tuples(st.just("attr"), ATTRIBUTES),
    st.tuples(st.just("str"), st.text(max_size=12)),
    st.tuples(st.just("str"), st.text(alphabet='\\"x ,()[]', max_size=8)),  # the escapes and the syntax
    st.tuples(st.just("num"), st.integers(-(10**9), 10**9), st.integers(0, 2)),
    st.tuples(st.just("hex"), st.integers(0, 2**32)),
)


def comparison(operands: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.tuples(st.just("cmp"), st.sampled_from(COMPARISONS), operands, operands)


@st.composite
def call(draw: st.DrawFn, children: st.SearchStrategy[Tree], names: list[str] = NESTABLE) -> Tree:
    name = draw(st.sampled_from(names))
    sig = DOCUMENTED[name]
    count = (
        sig.required
        + draw(st.integers(0, sig.optional))
        + sig.repeat * draw(st.integers(sig.min_repeats, sig.min_repeats + 2))
    )
    args: list[Tree | None] = []
    for index in range(count):
        may_be_empty = index in sig.empty_ok or sig.required <= index < sig.required + sig.optional
        if may_be_empty and draw(st.booleans()):
            args.append(None)
        elif name == "InStr" and index == 3:
            args.append(("word", draw(st.sampled_from(["vbTextCompare", "vbBinaryCompare"]))))
        elif COMPARING.get(name) == index and draw(st.booleans()):
            args.append(draw(comparison(children)))
        else:
            args.append(draw(children))
    return ("call", name, tuple(args))


NESTED = st.recursive(LEAVES, call, max_leaves=12)
EXPRESSIONS = st.one_of(NESTED, call(NESTED, ["SelectUniqueValue"]))


@st.composite
def expression_and_text(draw: st.DrawFn) -> tuple[Tree, str]:
    tree = draw(EXPRESSIONS)
    return tree, draw(SPACE) + draw(written(tree)) + draw(SPACE)


@settings(max_examples=200)
@given(expression_and_text())
def test_documented_expressions_parse_to_their_canonical_form(case: tuple[Tree, str]) -> None:
    tree, text = case
    parsed = parse(text)
    assert canonical(parsed) == canon(tree)
    assert parse(canonical(parsed)) == parsed


def test_the_documented_samples_parse_to_their_canonical_form() -> None:
    samples = {
        'IIF([country]="USA",[country],[department])': 'IIF([country] = "USA", [country], [department])',
        'Switch([Active], , \n  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), \n'
        '  "0", "False")': 'Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", '
        '"True"), "0", "False")',
        "CBool([attribute1] = [attribute2])": "CBool([attribute1] = [attribute2])",
        "BitAnd(&HF, &HF7)": "BitAnd(15, 247)",
        'InStr("repEated","e",3,vbBinaryCompare)': 'InStr("repEated", "e", 3, vbBinaryCompare)',
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})",'
        ' "phoneNumber" , , [mobile], )': (
            'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber", , '
            "[mobile], )"
        ),
        '"Company name: \\"Contoso\\""': '"Company name: \\"Contoso\\""',
        'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")': (
            'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")'
        ),
        'RandomString(10,2,2,2,1,"?,")': 'RandomString(10, 2, 2, 2, 1, "?,")',
    }
    for text, expected in samples.items():
        assert canonical(parse(text)) == expected, text


# --- malformed expressions --------------------------------------------------------------------------------


def _refused(text: str) -> ExpressionError:
    try:
        parse(text)
    except ExpressionError as error:
        assert error.position is not None and 0 <= error.position <= len(text), (text, error)
        return error
    raise AssertionError(f"accepted a malformed expression: {text!r}")


CALLS = call(NESTED)


@settings(max_examples=200)
@given(CALLS.flatmap(lambda tree: st.tuples(st.just(tree), written(tree))))
def test_a_call_missing_its_closing_parenthesis_is_refused(case: tuple[Tree, str]) -> None:
    tree, text = case
    error = _refused(text[: text.rindex(")")])
    assert error.message == f"missing ')' to close '{tree[1]}('"
    assert error.position == 0


@settings(max_examples=100)
@given(CALLS.flatmap(written), SPACE)
def test_a_stray_closing_parenthesis_is_refused(text: str, space: str) -> None:
    error = _refused(text + space + ")")
    assert error.message == "unbalanced ')'"
    assert error.position == len(text + space)


UNKNOWN_NAMES = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in DOCUMENTED),
    st.sampled_from(sorted(DOCUMENTED)).map(str.lower).filter(lambda n: n not in DOCUMENTED),  # case-sensitive
)


@settings(max_examples=200)
@given(UNKNOWN_NAMES, st.lists(NESTED, max_size=3), st.sampled_from(["{}", "Append([mail], {})", "IIF({} = 1, 1, 2)"]))
def test_an_unknown_function_is_refused_with_its_name(name: str, args: list[Tree], where: str) -> None:
    bad = canon(("call", name, tuple(args)))
    text = where.format(bad)
    error = _refused(text)
    assert error.message.startswith(f"unknown function '{name}'")
    assert error.position == where.index("{}")
    if name.lower() in {known.lower() for known in DOCUMENTED}:
        assert "names are case-sensitive" in error.message


def _wrong_counts(sig: Signature) -> st.SearchStrategy[int]:
    low = sig.required + sig.repeat * sig.min_repeats
    if sig.fixed:
        too_few = st.integers(0, low - 1) if low else st.nothing()
        return too_few | st.integers(sig.required + sig.optional + 1, sig.required + sig.optional + 3)
    uneven = st.integers(1, sig.repeat - 1).map(lambda extra: low + extra) if sig.repeat > 1 else st.nothing()
    return (st.integers(0, low - 1) if low else st.nothing()) | uneven


@st.composite
def wrong_arity(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(NESTABLE))
    count = draw(_wrong_counts(DOCUMENTED[name]))
    args = tuple(draw(NESTED) for _ in range(count))
    return name, canon(("call", name, args))


@settings(max_examples=200)
@given(wrong_arity())
def test_a_wrong_number_of_arguments_is_refused(case: tuple[str, str]) -> None:
    name, text = case
    error = _refused(text)
    assert re.fullmatch(rf"{name} expects .+, got [0-9]+( arguments)?", error.message), error.message
    assert error.position == 0


@settings(max_examples=50)
@given(call(NESTED, ["SelectUniqueValue"]), st.sampled_from(["Append({}, [mail])", "IIF({} = 1, 1, 2)"]))
def test_select_unique_value_inside_another_function_is_refused(tree: Tree, where: str) -> None:
    text = where.format(canon(tree))
    error = _refused(text)
    assert error.message == "SelectUniqueValue must be the outermost function"
