"""The dynamic membership rule language: parsing, precedence, operators and validation errors."""

from __future__ import annotations

import pytest

from entrasim.core.errors import BadRequest
from entrasim.directory.membership_rules import MAX_RULE_LENGTH, compile_rule

ALICE = {
    "id": "aaaaaaaa-0000-4000-8000-000000000001",
    "department": "Finance",
    "jobTitle": "Senior Analyst",
    "country": "US",
    "accountEnabled": True,
    "userType": "Member",
    "userPrincipalName": "alice@contoso.com",
    "mail": None,
    "displayName": "Alice Adams",
    "proxyAddresses": ["SMTP:alice@contoso.com", "smtp:aa@contoso.net"],
    "otherMails": [],
    "businessPhones": ["+1 555 0100"],
    "employeeHireDate": "2021-03-01T00:00:00Z",
    "onPremisesExtensionAttributes": {"extensionAttribute1": "CC-101", "extensionAttribute15": None},
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('(user.department -eq "Finance")', True),
        ('user.department -eq "finance"', True),  # string comparisons ignore case
        ('user.department -ne "Finance"', False),
        ('user.jobTitle -startsWith "senior"', True),
        ('user.jobTitle -notStartsWith "Senior"', False),
        ('user.jobTitle -endsWith "ANALYST"', True),
        ('user.jobTitle -notEndsWith "Analyst"', False),
        ('user.jobTitle -contains "nior an"', True),
        ('user.jobTitle -notContains "Manager"', True),
        ('user.displayName -match "^Al.*s$"', True),
        ('user.displayName -notMatch "^Bob"', True),
        ('user.country -in ["UK","us","DE"]', True),
        ('user.country -notIn ["US"]', False),
        ("user.country -in ['FR', 'US']", True),
        ("user.accountEnabled -eq true", True),
        ("user.accountEnabled -eq false", False),
        ('user.accountEnabled -eq "true"', True),
        ('user.userType -eq "Member"', True),
        ("user.mail -eq null", True),
        ("user.mail -ne null", False),
        ("user.department -ne null", True),
        ("user.objectId -ne null", True),
        ('user.objectId -eq "AAAAAAAA-0000-4000-8000-000000000001"', True),
        ('user.extensionAttribute1 -eq "CC-101"', True),
        ("user.extensionAttribute15 -eq null", True),
        ('user.telephoneNumber -eq "+1 555 0100"', True),
        ("user.otherMails -eq null", True),  # an empty collection compares like null
        ('user.proxyAddresses -startsWith "smtp:aa"', True),  # any item of a collection
        ('user.proxyAddresses -any (_ -contains "contoso.net")', True),
        ('user.proxyAddresses -all (_ -contains "contoso.com")', False),
        ('user.proxyAddresses -any _ -startsWith "SMTP:alice"', True),
        ('user.employeeHireDate -ge "2021-01-01T00:00:00Z"', True),
        ('user.employeeHireDate -le "2020-12-31T00:00:00Z"', False),
        ('(user.department -eq "Finance") -and (user.country -eq "US")', True),
        ('(user.department -eq "Sales") -or (user.country -eq "US")', True),
        ('(user.department -eq "Finance") -and -not (user.jobTitle -startsWith "Senior")', False),
        ('-not (user.department -eq "Sales")', True),
        ('user.department -eq "Sales" -or user.country -eq "US" -and user.accountEnabled -eq false', False),
        ('(user.department -eq "Sales" -or user.country -eq "US") -and user.accountEnabled -eq true', True),
        ('user.department eq "Finance" and user.country eq "US"', True),  # hyphens are optional
        ('user.department \u2013eq "Finance"', True),  # the docs' examples use en dashes
        ('user.department -eq "`"Finance`""', False),  # backtick-escaped quotes are part of the value
        ('user.jobTitle -eq "Senior Analyst" -or user.department -eq "`"Finance`""', True),
        ('user.DEPARTMENT -EQ "Finance" -AND user.accountenabled -eq TRUE', True),
    ],
)
def test_rule_evaluation(rule, expected):
    assert compile_rule(rule)(ALICE) is expected


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("", "empty"),
        ('user.department -eq "Finance"' + " " * MAX_RULE_LENGTH, "exceeds"),
        ('user.nosuch -eq "x"', "Wrong property applied"),
        ('department -eq "x"', "Wrong property applied"),
        ('user.department -like "x"', "Unsupported operator"),
        ('user.department -eq "x" -and', "Unexpected end"),
        ('(user.department -eq "x"', "Unexpected end"),
        ('user.department -eq "x")', "Unexpected ')'"),
        ('user.department -in "x"', "Expected '['"),
        ("user.department -eq user.city", "Invalid value"),
        ('user.displayName -match "("', "Invalid regular expression"),
        ("user.department -startsWith null", "Invalid operands"),
        ('user.department -eq "x" #', "Invalid syntax"),
    ],
)
def test_invalid_rules_are_the_400_graph_answers(rule, why):
    with pytest.raises(BadRequest) as err:
        compile_rule(rule)
    assert err.value.status == 400
    assert err.value.code == "Request_BadRequest"
    assert err.value.message.startswith("Dynamic membership rule validation error:")
    assert why in err.value.message


def test_compiled_rules_are_cached():
    assert compile_rule('user.city -eq "Oslo"') is compile_rule('user.city -eq "Oslo"')
