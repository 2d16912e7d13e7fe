"""ctsync's expression parser against entrasim's: generated expressions of the documented grammar, valid
or not, get the same verdict from both and, when they parse, the same canonical text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctsync.planning import expressions as ours
from entrasim.synchronization import expressions as oracle

FUNCTION_NAMES = sorted(oracle.FUNCTIONS)
SPACE = st.sampled_from(["", "", " ", "  ", "\n", "\t"])

attributes = st.builds(
    lambda a, name, b: f"[{a}{name}{b}]", SPACE, st.sampled_from(["mail", "country", "extension_0a1b_cost"]), SPACE
)
strings = st.text(alphabet='ab "\\,()[]=', max_size=6).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
numbers = st.sampled_from(["0", "7", "-3", "007", "-0", "123456789012345678901234", "&H0F", "&hff", "&HZZ", "1.5"])
bare = st.sampled_from(["vbTextCompare", "vbBinaryCompare", "country", "IIF"])
operators = st.sampled_from(["=", "<>", "<", ">", "<=", ">=", "=="])


def _call(name: str, args: list[str | None], spaces: list[str]) -> str:
    rendered = [f"{s}{'' if a is None else a}" for a, s in zip(args, spaces, strict=False)]
    return f"{name}({','.join(rendered)})"


def expressions(depth: int = 3) -> st.SearchStrategy[str]:
    leaves = st.one_of(attributes, strings, numbers, bare)
    if depth == 0:
        return leaves
    inner = expressions(depth - 1)
    argument = st.one_of(st.none(), inner, inner, inner)
    calls = st.builds(
        _call,
        st.sampled_from([*FUNCTION_NAMES, "toLower", "Unknown"]),
        st.lists(argument, max_size=8),
        st.lists(SPACE, min_size=8, max_size=8),
    )
    comparisons = st.builds(lambda a, op, b: f"{a}{op}{b}", inner, operators, inner)
    return st.one_of(leaves, calls, st.deferred(lambda: well_formed_calls(inner)), comparisons)


@st.composite
def well_formed_calls(draw: st.DrawFn, inner: st.SearchStrategy[str]) -> str:
    """A documented function with a number of arguments it takes, optional ones sometimes left empty."""
    spec = oracle.FUNCTIONS[draw(st.sampled_from(FUNCTION_NAMES))]
    counts = {spec.minimum, spec.minimum + len(spec.repeat), spec.maximum or spec.minimum}
    count = draw(st.sampled_from(sorted(counts)))
    args = [None if spec.may_be_empty(i) and draw(st.booleans()) else draw(inner) for i in range(count)]
    return _call(spec.name, args, draw(st.lists(SPACE, min_size=count, max_size=count)))


def _verdict(parse, render, text: str) -> str | None:  # type: ignore[no-untyped-def]
    """The canonical text, or None when the expression does not parse."""
    try:
        return render(parse(text))
    except ValueError:
        return None


@settings(max_examples=600, deadline=None)
@given(expressions())
def test_same_verdict_and_canonical_form_as_the_service(text: str) -> None:
    theirs = _verdict(oracle.parse, oracle.canonical, text)
    assert _verdict(ours.parse, ours.render, text) == theirs, text


@settings(max_examples=300, deadline=None)
@given(expressions(), st.integers(0, 10_000), st.sampled_from(["", ",", ")", "(", '"', "[", "]", "=", " "]))
def test_same_verdict_on_damaged_expressions(text: str, at: int, insert: str) -> None:
    """One character replaced: mostly syntax errors, which both must see."""
    at %= len(text) + 1
    damaged = text[:at] + insert + text[at + 1 :]
    theirs = _verdict(oracle.parse, oracle.canonical, damaged)
    assert _verdict(ours.parse, ours.render, damaged) == theirs, damaged


def test_the_canonical_form_parses_to_itself() -> None:
    text = 'IIF([country]="US", Switch([state], , "WA", "Washington"), InStr([mail], "@", , vbTextCompare))'
    canonical = ours.render(ours.parse(text))
    assert canonical == oracle.canonical(oracle.parse(text))
    assert ours.render(ours.parse(canonical)) == canonical
