"""The attribute-mapping expression language: parsing, Graph's attributeMappingSource, evaluation.

Expected values marked "doc" are the samples in Microsoft's "Reference for writing expressions
for attribute mappings in Microsoft Entra ID" and Graph's parseExpression/attributeMappingSource pages.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrasim.synchronization.expressions import (
    FUNCTIONS,
    IGNORE_FLOW,
    Attribute,
    Call,
    Comparison,
    Constant,
    EvaluationError,
    ExpressionError,
    Node,
    canonical,
    evaluate,
    parse,
    referenced_attributes,
    render,
    to_mapping_source,
    walk,
)

NOW = datetime(2021, 8, 25, 17, 41, 18, tzinfo=UTC)
UPN = "John.Doe@contoso.com"


def run(expression: str, **attributes: object) -> object:
    return evaluate(parse(expression), attributes, now=NOW, rng=random.Random(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- parsing ----------------------------------------------------------------------------------

PARSE_VALID: list[tuple[str, Node]] = [
    ("[mail]", Attribute("mail")),
    ('"Member"', Constant("Member")),
    ("  [ passwordProfile.password ]  ", Attribute("passwordProfile.password")),
    (r'"Company name: \"Contoso\" \\ x"', Constant('Company name: "Contoso" \\ x')),
    (r'"\d+"', Constant("\\d+")),  # a backslash before anything else is kept as written
    (
        "Mid([userPrincipalName], 1, 8)",
        Call("Mid", (Attribute("userPrincipalName"), Constant("1", True), Constant("8", True))),
    ),
    ("Mid([x],007,-0)", Call("Mid", (Attribute("x"), Constant("7", True), Constant("0", True)))),
    ('DateAdd("d", -10, Now())', Call("DateAdd", (Constant("d"), Constant("-10", True), Call("Now", ())))),
    ("BitAnd(&HF, &hF7)", Call("BitAnd", (Constant("15", True), Constant("247", True)))),
    ("Guid( )", Call("Guid", ())),
    ("Now ()", Call("Now", ())),
    (
        'Replace([preferredLanguage], "-", , , "_", , )',
        Call("Replace", (Attribute("preferredLanguage"), Constant("-"), None, None, Constant("_"), None, None)),
    ),
    (
        'Switch([Active], , "1", "True", "0", "False")',
        Call("Switch", (Attribute("Active"), None, *map(Constant, ("1", "True", "0", "False")))),
    ),
    (
        'IIF([country]="USA",[country],[department])',
        Call(
            "IIF",
            (
                Comparison("=", Attribute("country"), Constant("USA")),
                Attribute("country"),
                Attribute("department"),
            ),
        ),
    ),
    ("CBool([a]<>[b])", Call("CBool", (Comparison("<>", Attribute("a"), Attribute("b")),))),
    ("[a] >= 5", Comparison(">=", Attribute("a"), Constant("5", True))),
    (
        'InStr("repEated","e",3,vbBinaryCompare)',
        Call(
            "InStr",
            (Constant("repEated"), Constant("e"), Constant("3", True), Constant("vbBinaryCompare", True)),
        ),
    ),
    (
        '\n  Join( ",",\t[a] ,\r\n [b] )\n',
        Call("Join", (Constant(","), Attribute("a"), Attribute("b"))),
    ),
    ("SelectUniqueValue([a], [b])", Call("SelectUniqueValue", (Attribute("a"), Attribute("b")))),
]


@pytest.mark.parametrize(("text", "tree"), PARSE_VALID, ids=[t for t, _ in PARSE_VALID])
def test_parse_valid(text: str, tree: Node) -> None:
    assert parse(text) == tree


PARSE_INVALID: list[tuple[str, str, int]] = [
    ("", "expression is empty", 0),
    ("   ", "expression is empty", 3),
    ("Foo([a])", "unknown function 'Foo'", 0),
    ("mid([a], 1, 2)", "unknown function 'mid' (names are case-sensitive: did you mean 'Mid'?)", 0),
    ("Trim([a])", "unknown function 'Trim'", 0),
    ("Mid([a], 1)", "Mid expects 3 arguments, got 2", 0),
    ("Not()", "Not expects 1 argument, got 0", 0),
    ("Now(1)", "Now expects no arguments, got 1", 0),
    ('InStr("a")', "InStr expects 2 to 4 arguments, got 1", 0),
    ('Join(",")', "Join expects at least 2 arguments, got 1", 0),
    ('Replace([a], "-", , , "_")', "Replace expects 7 arguments, got 5", 0),
    ("SelectUniqueValue([a])", "SelectUniqueValue expects at least 2 arguments, got 1", 0),
    (
        'Switch([a], , "1", "2", "3")',
        "Switch expects source, defaultValue, then groups of (key, value), got 5",
        0,
    ),
    ("Mid([a], , 8)", "Mid argument 2 (start) must not be empty", 9),
    ('"abc', "unterminated string constant", 0),
    (r'Append([a], "x\")', "unterminated string constant", 12),
    ("Mid([a], 1, 2", "missing ')' to close 'Mid('", 0),
    ("Mid([a], 1, 2))", "unbalanced ')'", 14),
    ("[a]]", "unbalanced ']'", 3),
    ("[abc", "missing ']' to close the attribute reference", 0),
    ("[a[b]", "'[' inside an attribute reference", 0),
    ("[ ]", "empty attribute name", 0),
    ('Append([a], "x") [b]', "unexpected '[' after the end of the expression", 17),
    ("Mid([a] 1, 2)", "unexpected '1' after argument 1 of Mid; expected ',' or ')'", 8),
    ("Mid", "expected '(' after the function name 'Mid'", 3),
    ("mail", "unknown name 'mail'; attributes go in brackets, e.g. [mail]", 0),
    ("[a] = [b] = [c]", "comparisons cannot be chained", 11),
    ("IIF([a] =, 1, 2)", "unexpected ',' where a value after '=' was expected", 9),
    ("[a] <>", "expected a value after '<>' at the end of the expression", 6),
    ("&HXYZ", "invalid hexadecimal constant", 0),
    ("Append([a], %)", "unexpected '%' where a value was expected", 12),
    ('Join(",", SelectUniqueValue([a], [b]))', "SelectUniqueValue must be the outermost function", 10),
    ("Not(" * 65 + "[a]" + ")" * 65, "functions are nested more than 64 deep", 256),
]


@pytest.mark.parametrize(("text", "message", "position"), PARSE_INVALID, ids=[m for _, m, _ in PARSE_INVALID])
def test_parse_invalid(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert raised.value.message.startswith(message)
    assert raised.value.position == position
    assert str(raised.value) == f"{raised.value.message} (at position {position})"


def test_nesting_up_to_the_limit_parses() -> None:
    assert referenced_attributes(parse("Not(" * 64 + "[a]" + ")" * 64)) == {"a"}


# --- printing ---------------------------------------------------------------------------------


def source(expression: str, name: str, kind: str, *params: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    parameters = [{"key": key, "value": value} for key, value in params]
    return {"expression": expression, "name": name, "type": kind, "parameters": parameters}


def attr(name: str) -> dict[str, Any]:
    return source(f"[{name}]", name, "Attribute")


def const(value: str) -> dict[str, Any]:
    return source(f'"{value}"', value, "Constant")


MAPPING_SOURCES: list[tuple[str, dict[str, Any]]] = [
    ("[mail]", attr("mail")),  # doc
    ('"Member"', const("Member")),  # doc (schema sample)
    ('"say \\"hi\\""', source('"say \\"hi\\""', 'say "hi"', "Constant")),
    ("17", const("17")),  # a bare number is a Constant whose own expression is quoted
    (
        "Mid([userPrincipalName], 1, 8)",  # doc: attributeMappingSource sample
        source(
            "Mid([userPrincipalName], 1, 8)",
            "Mid",
            "Function",
            ("source", attr("userPrincipalName")),
            ("start", const("1")),
            ("length", const("8")),
        ),
    ),
    (
        'Replace([preferredLanguage], "-", , , "_", ,  )',  # doc: parseExpression response
        source(
            'Replace([preferredLanguage], "-", , , "_", , )',
            "Replace",
            "Function",
            ("source", attr("preferredLanguage")),
            ("Find", const("-")),
            ("Replacement", const("_")),
        ),
    ),
    (
        'Switch([Active],,"1","True")',
        source(
            'Switch([Active], , "1", "True")',
            "Switch",
            "Function",
            ("source", attr("Active")),
            ("key1", const("1")),
            ("value1", const("True")),
        ),
    ),
    (
        'Join(",", ToLower([a]), [b])',
        source(
            'Join(",", ToLower([a]), [b])',
            "Join",
            "Function",
            ("separator", const(",")),
            ("source1", source("ToLower([a])", "ToLower", "Function", ("source", attr("a")))),
            ("source2", attr("b")),
        ),
    ),
    (
        'IIF([country]="USA", "x", [d])',
        source(
            'IIF([country] = "USA", "x", [d])',
            "IIF",
            "Function",
            (
                "condition",
                source('[country] = "USA"', "=", "Function", ("left", attr("country")), ("right", const("USA"))),
            ),
            ("valueIfTrue", const("x")),
            ("valueIfFalse", attr("d")),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), MAPPING_SOURCES, ids=[t for t, _ in MAPPING_SOURCES])
def test_to_mapping_source(text: str, expected: dict[str, Any]) -> None:
    assert to_mapping_source(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Replace( [x] , "-",,, "_",, )', 'Replace([x], "-", , , "_", , )'),
        ("Coalesce([mail],[userPrincipalName])", "Coalesce([mail], [userPrincipalName])"),
        (
            'IIF(DateDiff("d",Now(),CDate([h]))>5,"False","True")',
            'IIF(DateDiff("d", Now(), CDate([h])) > 5, "False", "True")',
        ),
        ("BitAnd(&HF, 3)", "BitAnd(15, 3)"),
        ('InStr("a", "b", 1, vbTextCompare)', 'InStr("a", "b", 1, vbTextCompare)'),
    ],
)
def test_canonical_text(text: str, expected: str) -> None:
    assert canonical(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('"x"', set()),
        ("[mail]", {"mail"}),
        ('Coalesce([mail], [userPrincipalName], "none")', {"mail", "userPrincipalName"}),
        ('Replace([t], , "(?<n>\\\\d+)", "n", , [mobile], )', {"t", "mobile"}),
        ('IIF([a] = [b], Join(",", [c], Mid([d], 1, 2)), [a])', {"a", "b", "c", "d"}),
    ],
)
def test_referenced_attributes(text: str, names: set[str]) -> None:
    assert referenced_attributes(parse(text)) == names


# --- evaluation -------------------------------------------------------------------------------

THE_FOX = "The quick brown fox"
PHONE = r'"\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})"'

EVALUATIONS: list[tuple[str, dict[str, object], object]] = [
    # Append
    ('Append([userPrincipalName], ".test")', {"userPrincipalName": UPN}, UPN + ".test"),  # doc
    ('Append([missing], ".test")', {}, None),
    (
        "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))",
        {"givenName": "John", "surname": "Doe"},
        "JohDoe",
    ),
    # AppRoleAssignmentsComplex, SingleAppRoleAssignment
    ("AppRoleAssignmentsComplex([r])", {"r": ["Admin", "User"]}, ["Admin", "User"]),
    (
        "SingleAppRoleAssignment([appRoleAssignments])",
        {"appRoleAssignments": ["Default Assignment"]},
        "Default Assignment",
    ),
    ("SingleAppRoleAssignment([appRoleAssignments])", {}, None),
    # BitAnd
    ("BitAnd(&HF, &HF7)", {}, 7),  # doc
    ("BitAnd([flags], 2)", {"flags": "514"}, 2),
    # CBool
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "a"}, True),  # doc
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "A"}, False),
    ('CBool("0")', {}, False),
    ('CBool("TRUE")', {}, True),
    # CDate
    ("CDate([StatusHireDate])", {"StatusHireDate": "2020-03-16-07:00"}, utc(2020, 3, 16, 7)),  # doc
    ('CDate("2021-06-30+08:00")', {}, utc(2021, 6, 29, 16)),  # doc
    ('CDate("2009-06-15T01:45:30-07:00")', {}, utc(2009, 6, 15, 8, 45, 30)),  # doc
    ('CDate("8/25/2021 5:41:18 PM")', {}, NOW),
    ("CDate([missing])", {}, None),
    # Coalesce
    ("Coalesce([mail],[userPrincipalName])", {"userPrincipalName": UPN}, UPN),  # doc
    ("Coalesce([mail],[userPrincipalName])", {"mail": "m@x", "userPrincipalName": UPN}, "m@x"),
    ('Coalesce([mail], [other], "")', {}, ""),
    ("Coalesce([mail])", {}, None),
    # ConvertToBase64, ConvertToUTF8Hex
    ('ConvertToBase64("Hello world!")', {}, "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),  # doc
    ('ConvertToUTF8Hex("Hello world!")', {}, "48656C6C6F20776F726C6421"),  # doc
    ("ConvertToUTF8Hex([missing])", {}, None),
    # Count
    ("Count([proxyAddresses])", {"proxyAddresses": ["a", "b", "c"]}, 3),
    ("Count([proxyAddresses])", {}, 0),
    # CStr
    ("CStr([dn])", {"dn": "cn=Joe,dc=contoso,dc=com"}, "cn=Joe,dc=contoso,dc=com"),  # doc
    ("CStr([accountEnabled])", {"accountEnabled": False}, "False"),
    ("CStr([n])", {"n": 42}, "42"),
    # DateAdd (doc table, hire date 2012-03-16-07:00)
    ('DateAdd("d", 7, CDate([h]))', {"h": "2012-03-16-07:00"}, utc(2012, 3, 23, 7)),
    ('DateAdd("d", -10, CDate([h]))', {"h": "2012-03-16-07:00"}, utc(2012, 3, 6, 7)),
    ('DateAdd("ww", 2, CDate([h]))', {"h": "2012-03-16-07:00"}, utc(2012, 3, 30, 7)),
    ('DateAdd("m", 10, CDate([h]))', {"h": "2012-03-16-07:00"}, utc(2013, 1, 16, 7)),
    ('DateAdd("yyyy", 2, CDate([h]))', {"h": "2012-03-16-07:00"}, utc(2014, 3, 16, 7)),
    ('DateAdd("m", 1, CDate("2024-01-31"))', {}, utc(2024, 2, 29)),
    ('DateAdd("h", 1, Now())', {}, NOW + timedelta(hours=1)),
    ('DateAdd("n", 1, Now())', {}, NOW + timedelta(minutes=1)),
    ('DateAdd("s", 1, Now())', {}, NOW + timedelta(seconds=1)),
    # DateDiff (doc table)
    ('DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', {}, 13),
    ('DateDiff("d", Now(), CDate([h]))', {"h": "2012-03-16-07:00"}, -3449),
    ('DateDiff("ww", Now(), CDate([h]))', {"h": "2012-03-16-07:00"}, -493),
    ('DateDiff("m", Now(), CDate([h]))', {"h": "2012-03-16-07:00"}, -113),
    ('DateDiff("yyyy", Now(), CDate([h]))', {"h": "2012-03-16-07:00"}, -9),
    ('DateDiff("d", "2021-08-31+08:00", "2021-08-31+08:00")', {}, 0),
    ('DateDiff("h", "2021-08-24", "2021-08-25")', {}, 24),
    ('DateDiff("n", "2021-08-24", "2021-08-25")', {}, 1440),
    ('DateDiff("s", "2021-08-24", "2021-08-25")', {}, 86400),
    # DateFromNum, NumFromDate
    ("DateFromNum(129699324000000000)", {}, utc(2012, 1, 1, 23)),  # doc
    ('NumFromDate("2012-01-01T23:00:00Z")', {}, 129699324000000000),
    (
        ('NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))'),
        {"ContractEndDate": "2020-12-31-08:00"},  # doc (Workday)
        132539615990000000,
    ),
    # FormatDateTime
    (
        'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
        {"extensionAttribute1": "20150123105347.1Z"},
        "2015-01-23",
    ),  # doc
    (
        'FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")',
        {"endDate": "3/4/2022 01:02:03 PM"},
        "2022-03-04",
    ),
    (
        'FormatDateTime([d], , "dd MMM yy", "dddd, MMMM d, yyyy")',
        {"d": "05 feb 24"},
        "Monday, February 5, 2024",
    ),
    (
        'FormatDateTime([d], , "yyyy-MM-ddTHH:mm:ssK", "o")',
        {"d": "2024-02-05T10:20:30+02:00"},
        "2024-02-05T10:20:30.0000000+02:00",
    ),
    (
        'FormatDateTime([d], "AdjustToUniversal", "yyyy-MM-ddTHH:mm:sszzz", "HH:mm \'UTC\'")',
        {"d": "2024-02-05T10:20:30+02:00"},
        "08:20 UTC",
    ),
    ('FormatDateTime(Now(), , "o", "h:mm tt")', {}, "5:41 PM"),  # a DateTime needs no parsing
    ('FormatDateTime([missing], , "yyyy", "yyyy")', {}, None),
    # Guid
    ("Guid()", {}, "6513270e-269e-4d37-b2a7-4de452e6b438"),
    # IgnoreFlowIfNullOrEmpty
    ("IgnoreFlowIfNullOrEmpty([department])", {"department": "Sales"}, "Sales"),  # doc
    ("IgnoreFlowIfNullOrEmpty([department])", {}, IGNORE_FLOW),  # doc
    (
        'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof."))',
        {"prefix": "1"},
        IGNORE_FLOW,
    ),  # doc
    (
        'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof."))',
        {"prefix": "3443"},
        "Dr.",
    ),
    (
        'Join(",", [a], IgnoreFlowIfNullOrEmpty([b]))',
        {"a": "x"},
        IGNORE_FLOW,
    ),  # nested: still drops the attribute
    (
        'IIF([a] = "1", "one", IgnoreFlowIfNullOrEmpty([b]))',
        {"a": "1"},
        "one",
    ),  # the untaken branch is not evaluated
    # IIF and comparisons
    ('IIF([country]="USA",[country],[department])', {"country": "USA", "department": "Sales"}, "USA"),  # doc
    ('IIF([country]="USA",[country],[department])', {"country": "FR", "department": "Sales"}, "Sales"),  # doc
    (
        'IIF([country]="USA",IIF([state]="CA","True","False"),"False")',
        {"country": "USA", "state": "CA"},
        "True",
    ),  # doc
    (
        'IIF([country]="USA","True",IIF([state]="CA","True","False"))',
        {"country": "FR", "state": "WA"},
        "False",
    ),  # doc
    ('IIF([country] <> "USA", "abroad", "home")', {"country": "USA"}, "home"),
    (
        'IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True")',
        {"StatusHireDate": "2021-09-01"},
        "False",
    ),
    ('IIF([n] >= 10, "big", "small")', {"n": "9"}, "small"),  # numbers compare as numbers, not text
    ('IIF([n] < 10, "small", "big")', {"n": 9}, "small"),
    ('IIF([n] <= "b", "le", "gt")', {"n": "a"}, "le"),
    ('IIF([accountEnabled] = "true", "on", "off")', {"accountEnabled": True}, "on"),
    ('IIF(CDate([d]) > Now(), "future", "past")', {"d": "2030-01-01"}, "future"),
    # InStr
    (f'InStr("{THE_FOX}","quick")', {}, 5),  # doc
    ('InStr("repEated","e",3,vbBinaryCompare)', {}, 7),  # doc
    ('InStr("repEated","e",3,vbTextCompare)', {}, 4),
    ('InStr("abc","z")', {}, 0),
    ('InStr([missing],"z")', {}, None),
    # IsNull, IsNullOrEmpty, IsPresent, IsString
    ("IsNull([displayName])", {}, True),  # doc
    ("IsNull([displayName])", {"displayName": ""}, False),
    ("IsNullOrEmpty([displayName])", {"displayName": ""}, True),  # doc
    ("IsNullOrEmpty([displayName])", {"displayName": "x"}, False),
    ("IsPresent([displayName])", {"displayName": "x"}, True),
    ("IsPresent([displayName])", {"displayName": ""}, False),
    (
        'Switch(IsPresent([directManager]), [skiplevelManager], "True", [directManager])',
        {"directManager": "m1", "skiplevelManager": "m2"},
        "m1",
    ),
    ("IsString([displayName])", {"displayName": "x"}, True),
    ("IsString([accountEnabled])", {"accountEnabled": True}, False),
    # Item
    ("Item([proxyAddresses], 1)", {"proxyAddresses": ["SMTP:a@x", "smtp:b@x"]}, "SMTP:a@x"),  # doc: 1-based
    ("Item([proxyAddresses], 3)", {"proxyAddresses": ["SMTP:a@x", "smtp:b@x"]}, None),
    # Join
    ('Join(",", [a], [b])', {"a": "x", "b": "y"}, "x,y"),
    ('Join(", ", "", [surname], [givenName])', {"surname": "Doe", "givenName": "John"}, "Doe, John"),  # doc
    ('Join("; ", [proxyAddresses], [mail])', {"proxyAddresses": ["a", "b"], "mail": "c"}, "a; b; c"),
    ('Join("", 1000, "7")', {}, "10007"),
    # Left
    ('Left("John Doe", 3)', {}, "Joh"),  # doc
    ('Left("John Doe", 0)', {}, ""),  # doc
    ('Left("John Doe", -1)', {}, "John Doe"),  # doc
    ('Left("John", 10)', {}, "John"),  # doc
    ("Left([missing], 3)", {}, ""),  # doc
    # Mid
    ("Mid([userPrincipalName], 1, 8)", {"userPrincipalName": UPN}, "John.Doe"),  # doc
    (
        "Mid([userPrincipalName], 10, 100)",
        {"userPrincipalName": UPN},
        "contoso.com",
    ),  # doc: length past the end
    ("Mid([missing], 1, 8)", {}, None),
    # NormalizeDiacritics
    ('NormalizeDiacritics("Zoë")', {}, "Zoe"),  # doc
    ("NormalizeDiacritics([givenName])", {"givenName": "Zoë"}, "Zoe"),  # doc
    (
        'NormalizeDiacritics("Ærøskøbing Łódź straße İstanbul Ǣ")',
        {},
        "AEroeskoebing Lodz strasse Istanbul AE",
    ),  # doc table
    # Not
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": "false"}, True),
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": True}, False),
    ("Not([IsSoftDeleted])", {}, True),  # doc: anything but True gives True
    # Now
    ("Now()", {}, NOW),
    # PCase
    ("PCase([firstName])", {"firstName": "PABLO GONSALVES (SECOND)"}, "Pablo Gonsalves (Second)"),  # doc
    ('PCase([lastName]," \'-")', {"lastName": "PINTO-DE'SILVA"}, "Pinto-De'Silva"),  # doc
    (
        'PCase(Join(" ",[firstName],[lastName]))',
        {"firstName": "GREGORY", "lastName": "JAMES"},
        "Gregory James",
    ),  # doc
    # RandomString (the seeded rng makes it repeatable)
    ("RandomString(6,3,0,0,3)", {}, "2cu65b"),
    ('RandomString(10,2,2,2,1,"?,")', {}, "=CB8Nrr25["),
    # Redact
    ("Redact([userPrincipalName])", {"userPrincipalName": UPN}, UPN),
    # RemoveDuplicates
    ("RemoveDuplicates([proxyAddresses])", {"proxyAddresses": ["a", "b", "a", "A"]}, ["a", "b", "A"]),
    ("RemoveDuplicates([ids])", {"ids": [{"type": 5}, {"type": 5}]}, [{"type": 5}]),
    # Replace: every documented form
    ('Replace([preferredLanguage], "-", , , "_", , )', {"preferredLanguage": "EN-US"}, "EN_US"),  # doc
    (
        'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
        {"BusinessTitle": "Product Developer"},
        "Software Engineer",
    ),  # doc
    (
        'Replace([UserID],"<username>", , , , , "<username>@contoso.com")',
        {"UserID": "jsmith"},
        "jsmith@contoso.com",
    ),  # doc
    (
        f'Replace([telephoneNumber], , {PHONE}, , "${{phoneNumber}}", , )',
        {"telephoneNumber": "+91 9998887777"},
        "9998887777",
    ),  # doc
    # doc prints 19998887777, but "+" is not in the class, so .NET keeps it as well.
    (r'Replace([mobile], , "[()\\s-]+", , "", , )', {"mobile": "+1 (999) 888-7777"}, "+19998887777"),
    (
        r'Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )',
        {"AddressLineData": "545 Tremont Street"},
        "888 Tremont Street",
    ),  # doc
    (
        'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )',
        {"userPrincipalName": "jsmith@contoso.com"},
        "jsmith",
    ),  # doc
    (
        f'Replace([telephoneNumber], , {PHONE}, "phoneNumber" , , [mobile], )',
        {"telephoneNumber": "", "mobile": "+91 8887779999"},
        "8887779999",
    ),  # doc
    (
        f'Replace([telephoneNumber], , {PHONE}, "phoneNumber" , , [mobile], )',
        {"telephoneNumber": "1", "mobile": "+91 8887779999"},
        "1",
    ),
    ('Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', {"mailNickname": "john_doe72"}, "72"),  # doc
    ('Replace([mail], "@contoso.com", , ,"", ,)', {"mail": "john.doe@contoso.com"}, "john.doe"),  # doc
    (r'Replace([x], , "(\\w+)@(\\w+)", , "$2/$1 $$ $&", , )', {"x": "me@home"}, "home/me $ me@home"),
    ('Replace([missing], "-", , , "_", , )', {}, None),
    # SelectUniqueValue
    (
        (
            "SelectUniqueValue("
            ' Join("@", NormalizeDiacritics(StripSpaces(Join(".", [PreferredFirstName],'
            ' [PreferredLastName]))), "contoso.com"),'
            ' Join("@", Join(".", Mid([PreferredFirstName], 1, 1), [PreferredLastName]), "contoso.com"))'
        ),
        {"PreferredFirstName": "John", "PreferredLastName": "Smith"},
        "John.Smith@contoso.com",  # doc (nothing taken yet)
    ),
    # Split
    (
        'Split([extensionAttribute5], ",")',
        {"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"},
        ["PermissionSetOne", "PermissionSetTwo"],
    ),  # doc
    ('Split([missing], ",")', {}, None),
    # StripSpaces
    ("StripSpaces([n])", {"n": " a b\tc "}, "ab\tc"),
    # Switch
    ('Switch([Active], , "1", "True", "0", "False")', {"Active": "1"}, "True"),  # doc
    ('Switch([Active], , "1", "True", "0", "False")', {"Active": "0"}, "False"),
    ('Switch([Active], , "1", "True", "0", "False")', {"Active": "2"}, None),
    (
        (
            'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane",'
            ' "SA", "Australia/Adelaide")'
        ),
        {"state": "QLD"},
        "Australia/Brisbane",
    ),  # doc
    (
        'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")',
        {"state": "VIC"},
        "Australia/Sydney",
    ),
    ('Switch([statusFlag], "Default Value", "true", "1", "", "0")', {}, "0"),  # doc: null matches the "" key
    ('Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', {"statusFlag": "TRUE"}, "1"),  # doc
    ('Switch([country],[country],"","Other")', {"country": "FR"}, "FR"),  # doc
    # ToLower, ToUpper
    (
        (
            'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName],'
            ' [PreferredLastName]))), "contoso.com"))'
        ),
        {"PreferredFirstName": "John", "PreferredLastName": "Smith"},
        "john.smith@contoso.com",
    ),  # doc
    ('ToUpper([c], "en-US")', {"c": "straße"}, "STRAßE"),  # invariant culture maps one character to one
    # Word
    ('Word("The quick brown fox",3," ")', {}, "brown"),  # doc
    ('Word("This,string!has&many separators",3,",!&#")', {}, "has"),  # doc
    ('Word("a b", 0, " ")', {}, ""),  # doc
    ('Word("a b", 3, " ")', {}, ""),  # doc
    ('Word([missing], 1, " ")', {}, ""),  # doc
    # AltSecIdFromNetId (CTS internal; shape chosen by the emulator)
    (
        "AltSecIdFromNetId([netId])",
        {"netId": "10032001A2B3C4D5"},
        [{"type": 5, "identityProvider": None, "key": "MTAwMzIwMDFBMkIzQzRENQ=="}],
    ),
    ("AltSecIdFromNetId([netId])", {}, None),
    # constants and attributes on their own
    ('"Member"', {}, "Member"),
    ("[proxyAddresses]", {"proxyAddresses": ["a"]}, ["a"]),
    ("[missing]", {}, None),
]


@pytest.mark.parametrize(("text", "attributes", "expected"), EVALUATIONS, ids=[t[:60] for t, _, _ in EVALUATIONS])
def test_evaluate(text: str, attributes: dict[str, object], expected: object) -> None:
    assert run(text, **attributes) == expected


def test_every_function_is_evaluated_above() -> None:
    used = {node.name for text, _, _ in EVALUATIONS for node in _calls(parse(text))}
    assert used == set(FUNCTIONS)


def _calls(node: Node) -> list[Call]:
    return [n for n in walk(node) if isinstance(n, Call)]


EVALUATION_ERRORS: list[tuple[str, dict[str, object], str]] = [
    (
        'IIF([country]="",[country],"Other")',
        {"country": ""},
        "IIF condition reads null or empty country",
    ),  # doc
    ('IIF(IsPresent([country]),[country],"Other")', {}, "IIF condition reads null or empty country"),  # doc
    ('Mid("abc", 0, 1)', {}, "Mid needs start >= 1"),
    ('Mid("abc", "x", 1)', {}, "expected a whole number, got 'x'"),
    ('CBool("maybe")', {}, "cannot read 'maybe' as a boolean"),
    ('CDate("not a date")', {}, "cannot read 'not a date' as a date"),
    ('DateAdd("q", 1, Now())', {}, "unknown interval 'q'"),
    ('DateAdd("yyyy", 9000, Now())', {}, "DateAdd goes past the supported dates"),
    ('CDate("0001-01-01T00:00:00+01:00")', {}, "0001-01-01T00:00:00+01:00 is outside the supported dates"),
    ('FormatDateTime("2024", , "yyyy-MM", "yyyy")', {}, "'2024' does not match the date format 'yyyy-MM'"),
    ('FormatDateTime("2024", , "yyy", "yyyy")', {}, "unsupported date format specifier 'yyy'"),
    ('Replace("a", , "(", , "b", , )', {}, "invalid regexPattern '('"),
    ('Replace("a", , "(?<x>a)", "y", "b", , )', {}, "regexPattern has no group named 'y'"),
    ('InStr("a", "b", 1, "vbFuzzy")', {}, "InStr needs start >= 1 and vbTextCompare or vbBinaryCompare"),
    ("RandomString(2, 3, 0, 0, 0)", {}, "RandomString needs"),
    ('RandomString(2, 1, 0, 0, 0, "0123456789")', {}, "RandomString: CharactersToAvoid leaves nothing"),
    ("ToLower([many])", {"many": ["a", "b"]}, "expected a single value, got 2 values"),
    (
        "SelectUniqueValue([a], [b])",
        {"a": "taken", "b": "taken"},
        "SelectUniqueValue: every candidate already exists",
    ),
]


@pytest.mark.parametrize(("text", "attributes", "message"), EVALUATION_ERRORS, ids=[m for _, _, m in EVALUATION_ERRORS])
def test_evaluation_errors(text: str, attributes: dict[str, object], message: str) -> None:
    with pytest.raises(EvaluationError) as raised:
        evaluate(parse(text), attributes, now=NOW, is_unique=lambda value: value != "taken")
    assert raised.value.message.startswith(message)


def test_select_unique_value_asks_the_target() -> None:
    taken = {"John.Smith@contoso.com"}
    tree = parse('SelectUniqueValue(Join("@", [f], "contoso.com"), Join("@", Mid([f], 1, 1), "contoso.com"))')
    result = evaluate(tree, {"f": "John.Smith"}, is_unique=lambda value: value not in taken)
    assert result == "J@contoso.com"


@pytest.mark.parametrize("seed", range(20))
def test_random_string_meets_its_minimums(seed: int) -> None:
    value = evaluate(parse('RandomString(12, 3, 2, 2, 1, "?,0")'), {}, rng=random.Random(seed))
    assert isinstance(value, str) and len(value) == 12
    assert sum(c.isdigit() for c in value) >= 3 and sum(c.isupper() for c in value) >= 2
    assert sum(not c.isalnum() for c in value) >= 2 and any(c.islower() for c in value)
    assert not set("?,0") & set(value)


def test_now_defaults_to_the_current_utc_time() -> None:
    before = datetime.now(UTC)
    value = evaluate(parse("Now()"), {})
    assert isinstance(value, datetime)
    assert before <= value <= datetime.now(UTC)


def test_guid_is_a_version_4_uuid_by_default() -> None:
    value = evaluate(parse("Guid()"), {})
    assert isinstance(value, str)
    assert len(value) == 36 and value[14] == "4"


def test_dates_in_other_offsets_compare_as_instants() -> None:
    tree = parse('IIF(CDate([a]) = CDate([b]), "same", "different")')
    east = datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    assert evaluate(tree, {"a": east, "b": "2024-01-01T00:00:00Z"}) == "same"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EN_US", ["EN_US"]),  # doc: parseExpression's evaluationResult
        (None, []),
        (IGNORE_FLOW, []),
        (True, ["True"]),
        (7, ["7"]),
        (utc(2021, 7, 2, 15, 33, 38), ["7/2/2021 3:33:38 PM"]),  # doc: Now()'s format
        (utc(2021, 7, 2, 0, 5), ["7/2/2021 12:05:00 AM"]),
        (["a", None, "b"], ["a", "b"]),
        ([{"type": 5, "key": "x"}], ['{"key": "x", "type": 5}']),
    ],
)
def test_render(value: object, expected: list[str]) -> None:
    assert render(value) == expected


# --- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    *FUNCTIONS,
    "(",
    ")",
    "[",
    "]",
    "[a]",
    '"',
    '"x"',
    "\\",
    ",",
    " ",
    "=",
    "<>",
    "<",
    ">=",
    "-",
    "&H",
    "&HF",
    "1",
    "007",
    "vbTextCompare",
    "mail",
    "\n",
]


@settings(max_examples=400)
@given(st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)))
def test_parse_only_raises_expression_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExpressionError as error:
        assert error.position is not None and 0 <= error.position <= len(text)
    else:
        assert parse(canonical(tree)) == tree


ATTRIBUTE_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,15}", fullmatch=True)
LEAVES: st.SearchStrategy[Node] = st.one_of(
    st.builds(Attribute, ATTRIBUTE_NAMES),
    st.builds(Constant, st.text(max_size=12)),
    st.builds(Constant, st.integers(-(10**6), 10**6).map(str), st.just(True)),
    st.builds(Constant, st.sampled_from(["vbTextCompare", "vbBinaryCompare"]), st.just(True)),
)
NESTABLE = sorted(name for name in FUNCTIONS if name != "SelectUniqueValue")


def _comparisons(operands: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.builds(Comparison, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands, operands)


@st.composite
def _call(draw: st.DrawFn, children: st.SearchStrategy[Node]) -> Node:
    spec = FUNCTIONS[draw(st.sampled_from(NESTABLE))]
    if spec.maximum is None:
        count = spec.minimum + len(spec.repeat) * draw(st.integers(0, 2))
    else:
        count = draw(st.integers(spec.minimum, spec.maximum))
    arguments = st.one_of(children, _comparisons(children))
    args = tuple(draw(st.none() | arguments) if spec.may_be_empty(i) else draw(arguments) for i in range(count))
    return Call(spec.name, args)


EXPRESSIONS = st.recursive(LEAVES, _call, max_leaves=10)


@settings(max_examples=300)
@given(st.one_of(EXPRESSIONS, _comparisons(EXPRESSIONS)))
def test_canonical_text_round_trips(tree: Node) -> None:
    mapping = to_mapping_source(tree)
    reparsed = parse(mapping["expression"])
    assert to_mapping_source(reparsed) == mapping
    if not isinstance(tree, Constant):  # a lone constant's own expression is always quoted
        assert reparsed == tree
