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
    assert canonical_source({"expression": ' [a] = "x" '}) == '[a] = "x"'  # unknown syntax compares verbatim


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "expected an expression", 0),
        ("jobTitle", "expected ( after jobTitle", 8),
        ("[jobTitle", "unclosed [", 0),
        ("[]", "empty attribute name", 0),
        ('"Contoso', "unterminated string", 0),
        ('Append([a], "b"', "missing ) to close Append(", 15),
        ("Append([a],", "missing ) to close Append(", 11),
        ("Append([a] [b])", "expected , or ) in the arguments of Append", 11),
        ("[a] [b]", "unexpected '['", 4),
        ("Append([a],)x", "unexpected 'x'", 12),
        ('IIF([a]="x", 1, 2)', "expected , or ) in the arguments of IIF", 7),
    ],
)
def test_syntax_errors(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError, match=re.escape(message)) as info:
        parse(text)
    assert info.value.position == position
