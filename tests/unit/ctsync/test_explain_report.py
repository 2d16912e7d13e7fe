"""The pure parts of `ctsync explain`: which conditions are warnings, the fixes table, failures grouped by
reason, and the next steps."""

from __future__ import annotations

from ctsync import errors
from ctsync.api import conditions, fixes
from ctsync.graph.provisioning_failures import REASONS
from ctsync.reconcile.explain import Explanation, Failures, active_warnings, group_failures, next_steps

SCOPE = "SyncScope tenants/contoso-to-fabrikam"


def condition(type_: str, status: str, reason: str, message: str = "m") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def entry(code: str | None, status: str = "failure", user: str = "ada@contoso.com", at: str = "t1") -> dict:
    return {
        "activityDateTime": at,
        "sourceIdentity": {"displayName": "Ada", "details": {"UserPrincipalName": user}},
        "provisioningStatusInfo": {"status": status, "errorInformation": {"errorCode": code, "reason": f"{code}!"}},
    }


def test_every_failure_reason_and_every_error_reason_has_a_fix():
    assert set(fixes.FAILURE_FIXES) == set(REASONS)
    raised = {
        getattr(errors, name) for name in dir(errors) if name.isupper() and isinstance(getattr(errors, name), str)
    }
    assert raised <= set(fixes.CONDITION_FIXES) | fixes.PROGRESS_REASONS


def test_healthy_conditions_and_work_under_way_are_not_warnings():
    found = [
        condition(conditions.READY, "True", conditions.RECONCILED),
        condition(conditions.STALLED, "False", conditions.RECONCILED),
        condition(conditions.SYNCED, "False", conditions.INITIAL_CYCLE),
        condition(conditions.RECONCILING, "True", conditions.AWAITING_REPLICATION),
        condition(conditions.DYNAMIC_GROUP_COLLISION, "False", conditions.NO_COLLISION),
        condition(conditions.SOURCE_CONFIGURED, "False", conditions.DRIFT_DETECTED),  # listed as pending changes
    ]
    assert active_warnings(SCOPE, found) == []


def test_a_check_not_made_is_a_warning_never_safe():
    (warning,) = active_warnings(
        SCOPE, [condition(conditions.GUEST_MFA_RISK, "Unknown", conditions.POLICY_READ_DENIED)]
    )
    assert (warning.status, warning.reason) == ("Unknown", conditions.POLICY_READ_DENIED)
    assert "Policy.Read.All" in warning.fix and warning.docs == "docs/permissions.md"
    (rules,) = active_warnings(
        SCOPE, [condition(conditions.DYNAMIC_GROUP_COLLISION, "True", conditions.RULES_NOT_EVALUATED, "'Vets' ...")]
    )
    assert "cannot evaluate" in rules.fix


def test_ready_and_stalled_with_one_reason_are_one_warning_and_come_first():
    found = [
        condition(conditions.DRIFTED, "True", conditions.DRIFT_DETECTED, "~ job"),
        condition(conditions.READY, "False", conditions.PERMISSION_MISSING, "grant X"),
        condition(conditions.STALLED, "True", conditions.PERMISSION_MISSING, "grant X"),
    ]
    assert [(w.condition, w.reason) for w in active_warnings(SCOPE, found)] == [
        (conditions.READY, conditions.PERMISSION_MISSING),
        (conditions.DRIFTED, conditions.DRIFT_DETECTED),
    ]


def test_failures_are_grouped_by_reason_largest_first_with_the_latest_example():
    groups = group_failures(
        [
            entry("AzureActiveDirectoryConflict", at="t1"),
            entry("InternalServerError"),
            entry("AzureDirectoryDuplicateValue", user="bob@contoso.com", at="t2"),
        ]
    )
    assert [(g.reason, g.count) for g in groups] == [("conflict_or_duplicate", 2), ("transient", 1)]
    assert groups[0].error_codes == ("AzureActiveDirectoryConflict", "AzureDirectoryDuplicateValue")
    assert (groups[0].last_seen, groups[0].example) == ("t2", "bob@contoso.com: AzureDirectoryDuplicateValue!")
    assert groups[0].fix == fixes.FAILURE_FIXES["conflict_or_duplicate"].text


def explanation(**fields) -> Explanation:
    base = {
        "pair": {},
        "scope": None,
        "tenants": {"source": [], "target": []},
        "held": [],
        "warnings": [],
        "failures": None,
        "next_steps": [],
        "live": True,
    }
    return Explanation(**{**base, **fields})


def test_nothing_wrong_means_nothing_to_do():
    healthy = explanation(failures=Failures("t0"))
    assert healthy.healthy and next_steps(healthy) == ["nothing to do"]


def test_next_steps_follow_the_warnings_then_the_changes_then_the_failures():
    warnings = active_warnings(
        SCOPE,
        [
            condition(conditions.SYNCED, "False", conditions.QUARANTINED, "job quarantined"),
            condition(conditions.DYNAMIC_GROUP_COLLISION, "True", conditions.GUESTS_JOIN_DYNAMIC_GROUPS),
        ],
    )
    failures = Failures("t0", group_failures([entry("AzureActiveDirectoryConflict")]))
    report = explanation(warnings=warnings, tenants={"source": ["~ job"], "target": []}, failures=failures)
    steps = next_steps(report)
    assert not report.healthy
    assert [s.split(":")[0] for s in steps] == [
        conditions.QUARANTINED,
        conditions.GUESTS_JOIN_DYNAMIC_GROUPS,
        "the tenants differ from the spec",
        "1 provisioning failure(s) conflict_or_duplicate",
    ]
    assert "ctsync.io/restart-job" in steps[0]


def test_a_log_that_was_not_read_is_never_no_failures():
    report = explanation(failures=Failures("t0", unread="the provisioning log could not be read: 503"))
    assert not report.healthy
    assert next_steps(report) == ["read the provisioning log by hand: the provisioning log could not be read: 503"]
