"""Expression syntax: parse, canonical text, attributeMappingSource, syntax errors with positions."""

import re

import pytest

from ctsync.planning.expressions import (
    ExpressionSyntaxError,
    attribute_refs,
    canonical_source,
    parse,
    render,
    to_source,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("[jobTitle]", "[jobTitle]"),
        ("  [extension_0a1b_costCenter] ", "[extension_0a1b_costCenter]"),
        ('"Contoso (Synced)"', '"Contoso (Synced)"'),
        (r'"say \"hi\" \\ bye"', r'"say \"hi\" \\ bye"'),
        (r'"C:\temp"', r'"C:\\temp"'),  # an unknown escape keeps its backslash
        ('Append([userPrincipalName],".test")', 'Append([userPrincipalName], ".test")'),
        ("Coalesce( [mail] ,\n [userPrincipalName] )", "Coalesce([mail], [userPrincipalName])"),
        ("Mid([userPrincipalName], 1, 8)", "Mid([userPrincipalName], 1, 8)"),
        ('Replace([preferredLanguage], "-", , , "_", , )', 'Replace([preferredLanguage], "-", , , "_", , )'),
        ('Switch([Active],, "1", "True", "0", "False")', 'Switch([Active], , "1", "True", "0", "False")'),
        ("Now()", "Now()"),
        ('IIF([country]="US", "United States", [country])', 'IIF([country] = "US", "United States", [country])'),
        ('Switch([a]<>"x", , "True", 1)', 'Switch([a] <> "x", , "True", 1)'),
        ('InStr([a], "x", , vbTextCompare)', 'InStr([a], "x", , vbTextCompare)'),
        ("BitAnd([flags], &H0F)", "BitAnd([flags], 15)"),
        ("Left([a], 007)", "Left([a], 7)"),
        ('Join(" ", ToUpper([givenName]), [surname])', 'Join(" ", ToUpper([givenName]), [surname])'),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    assert render(parse(text)) == canonical
    assert render(parse(canonical)) == canonical


def test_attribute_mapping_source_json() -> None:
    assert to_source(parse('Replace([preferredLanguage], "-", , , "_", , )')) == {
        "expression": 'Replace([preferredLanguage], "-", , , "_", , )',
        "name": "Replace",
        "type": "Function",
        "parameters": [
            {
                "key": "source",
                "value": {
                    "expression": "[preferredLanguage]",
                    "name": "preferredLanguage",
                    "type": "Attribute",
                    "parameters": [],
                },
            },
            {
                "key": "oldValue",
                "value": {"expression": '"-"', "name": "-", "type": "Constant", "parameters": []},
            },
            {
                "key": "replacementValue",
                "value": {"expression": '"_"', "name": "_", "type": "Constant", "parameters": []},
            },
        ],
    }
    assert [p["key"] for p in to_source(parse("Coalesce([a], [b], [c])"))["parameters"]] == [
        "source",
        "source2",
        "source3",
    ]


def test_attribute_refs() -> None:
    assert attribute_refs(parse('IIF(IsPresent([mail]), [mail], Append([mailNickname], "@x"))')) == {
        "mail",
        "mailNickname",
    }


def test_canonical_source_of_service_json() -> None:
    assert canonical_source(None) is None
    assert canonical_source({"expression": 'Append( [a] , "b")'}) == 'Append([a], "b")'
    assert canonical_source({"type": "Constant", "name": "Member", "parameters": []}) == '"Member"'
    nested = {
        "type": "Function",
        "name": "ToLower",
        "parameters": [{"key": "source", "value": {"type": "Attribute", "name": "mail"}}],
    }
    assert canonical_source(nested) == "ToLower([mail])"
    assert canonical_source({"expression": " Foo( [a] ) "}) == "Foo( [a] )"  # unknown syntax compares verbatim


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty expression", 0),
        ("jobTitle", "expected ( after jobTitle", 8),
        ("[jobTitle", "unclosed [", 0),
        ("[]", "empty attribute name", 0),
        ('"Contoso', "unterminated string", 0),
        ('Append([a], "b"', "missing ) to close Append(", 15),
        ("Append([a],", "missing ) to close Append(", 11),
        ("Append([a] [b])", "expected , or ) in the arguments of Append", 11),
        ("[a] [b]", "unexpected '['", 4),
        ('Append([a], "b")x', "unexpected 'x'", 16),
        ("Append([a],)", "argument 2 of Append must not be empty", 11),
        ("Appnd([a], [b])", "unknown function Appnd", 0),
        ("toLower([a])", "names are case-sensitive: ToLower", 0),
        ("Mid([a], 1)", "Mid takes 3 argument(s), not 2", 0),
        ('Switch([a], , "k", "v", "w")', "in groups of 2", 0),
        ('[a] = "x" = "y"', "comparisons cannot be chained", 11),
        ("Append(SelectUniqueValue([a], [b]), [c])", "must be the outermost function", 7),
        ("1.5", "unexpected '.'", 1),
    ],
)
def test_syntax_errors(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError, match=re.escape(message)) as info:
        parse(text)
    assert info.value.position == position
