"""ctsync's own reading of Entra's dynamic membership rules: operators, logic, precedence, case, and
rules it refuses to judge (reported as not evaluated, never as matching nobody)."""

import pytest

from ctsync.planning.membership_rules import RuleNotEvaluated, parse_rule

ALICE = {
    "department": "Finance",
    "companyname": "Contoso",
    "usertype": "Member",
    "city": "Seattle",
    "jobtitle": "Senior Accountant",
    "accountenabled": True,
    "extensionattribute3": "FIN-42",
    "othermails": ["alice@contoso.example", "a@home.example"],
    "proxyaddresses": [],
    "objectid": "new",
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('user.department -eq "Finance"', True),
        ('user.department -eq "finance"', True),  # values compare case-insensitively
        ('user.department -ne "Finance"', False),
        ('user.department eq "Finance"', True),  # the hyphen is optional
        ('user.department -EQ "Finance"', True),
        ('user.department -startsWith "fin"', True),
        ('user.department -notStartsWith "fin"', False),
        ('user.department -endsWith "ANCE"', True),
        ('user.department -notEndsWith "x"', True),
        ('user.jobTitle -contains "account"', True),
        ('user.jobTitle -notContains "account"', False),
        ('user.jobTitle -match "^senior.*"', True),
        ('user.jobTitle -notMatch "^Junior"', True),
        ('user.city -in ["Paris", "seattle"]', True),
        ('user.city -notIn ["Paris", "Seattle"]', False),
        ("user.city -in ['Paris']", False),
        ('user.extensionAttribute3 -eq "fin-42"', True),
        ("user.accountEnabled -eq true", True),
        ("user.accountEnabled -eq false", False),
        ("user.state -eq null", True),
        ("user.department -ne null", True),
        ("user.objectId -ne null", True),
        ('user.otherMails -any (_ -endsWith "@home.example")', True),
        ('user.otherMails -all (_ -contains "contoso")', False),
        ('user.otherMails -contains "home"', True),  # a collection matches when one item does
        ("user.proxyAddresses -eq null", True),  # an empty collection is null
        ('(user.department -eq "Finance") -and (user.userType -ne "Guest")', True),
        ('(user.department -eq "Finance") and (user.companyName -eq "Fabrikam")', False),
        ('user.department -eq "Sales" -or user.city -eq "Seattle"', True),
        ('-not (user.department -eq "Finance")', False),
        ('(user.department -eq "Finance") -and -not (user.userType -eq "Guest")', True),
        # -and binds tighter than -or: true or (false and false)
        ('user.city -eq "Seattle" -or user.city -eq "x" -and user.city -eq "y"', True),
        ('(user.city -eq "Seattle" -or user.city -eq "x") -and user.city -eq "y"', False),
        ('user.department -eq "Fin`"ance"', False),  # a backtick escapes a double quote
        ("user.department -eq 'Finance'", True),
    ],
)
def test_a_rule_matches_as_entra_documents(rule, expected):
    assert parse_rule(rule).matches(ALICE) is expected


def test_the_rule_names_the_properties_it_reads():
    rule = parse_rule('(user.Department -eq "x") -or (user.extensionAttribute3 -startsWith "y")')
    assert rule.properties == {"department", "extensionattribute3"}


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("", "empty"),
        ('user.department -eq "Finance" -and', "ends too early"),
        ('user.department -eq "Finance")', "unexpected ')'"),
        ('user.department -gt "A"', "operator '-gt'"),
        ("user.employeeHireDate -le system.now -plus p1d", "employeeHireDate"),
        ('user.assignedPlans -any (assignedPlan.capabilityStatus -eq "Enabled")', "assignedPlans"),
        ("user.memberOf -any (group.objectId -in ['x'])", "memberOf"),
        ('user.extension_0b7e3c1a_costCenter -eq "1"', "extension_0b7e3c1a_costCenter"),
        ('Direct Reports for "62e19b97-8b3d-4d4a-a106-4ce66896a863"', "'Direct'"),
        ('user.department -match "("', "regular expression"),
        ("user.department -contains true", "text value"),
        ('user.department -any (_ -eq "x")', "collection"),
        ('user.otherMails -any (user.department -eq "x")', "only _ is"),
        ('user.department -eq "x"' + " " * 3100, "3072"),
    ],
)
def test_a_rule_ctsync_cannot_evaluate_says_why(rule, why):
    with pytest.raises(RuleNotEvaluated, match=why.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(rule)
