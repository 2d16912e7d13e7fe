"""`ctsync explain`'s reading of a name and its text for states the emulator tests do not reach."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ctsync.commands import CommandError
from ctsync.commands.explain import parse_name, render
from ctsync.commands.output import Style
from ctsync.reconcile.explain import Explanation


class _Plain:
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contoso", ("SyncScope", None, "contoso")),
        ("tenants/contoso", ("SyncScope", "tenants", "contoso")),
        ("SyncScopes/contoso", ("SyncScope", None, "contoso")),
        ("tenantpair/tenants/contoso", ("TenantPair", "tenants", "contoso")),
    ],
)
def test_names(text, expected):
    assert parse_name(text) == expected


@pytest.mark.parametrize("text", ["a/b/c", "syncscope/a/b/c", "tenants/", ""])
def test_names_that_cannot_be_read(text):
    with pytest.raises(CommandError, match=r"\[KIND/\]\[NAMESPACE/\]NAME"):
        parse_name(text)


def test_a_scope_in_quarantine_with_an_estimate_read_from_status_only():
    ready = {"status": "True", "reason": "Reconciled", "message": ""}
    quarantine = {"since": "2026-12-05T01:00:00Z", "reason": "TooManyDeletes", "error": None, "nextAttempt": "x"}
    job = {
        "jobCode": "Quarantine",
        "lastExecutionTime": "2026-12-05T01:00:00Z",
        "lastSuccessfulExecutionTime": None,
        "successiveFailures": 2,
        "quarantine": quarantine,
        "estimatedCycleCompletion": "2026-12-05T03:00:00Z",
    }
    counts = dict.fromkeys(("syncedUsers", "syncedDisabledUsers", "softDeletedUsers", "missingUsers"), 0)
    scope = {
        "ref": "SyncScope tenants/s",
        "configurationName": "c",
        "managementPolicy": "Manage",
        "suspend": True,
        "syncAll": True,
        "groups": [],
        "users": [],
        "scopingFilters": 2,
        "ready": ready,
        "job": job,
        "counts": {**counts, "scopeSize": 5, "orphanedUsers": 1},
        "upnExample": None,
    }
    pair = {"ref": "TenantPair tenants/p", "sourceTenantId": "s", "targetTenantId": "t", "managementPolicy": "Observe"}
    report = Explanation(
        pair={**pair, "suspend": False, "ready": ready},
        scope=scope,
        tenants=None,
        held=[],
        warnings=[],
        failures=None,
        next_steps=["nothing to do"],
        live=False,
        live_error="no credentials",
    )
    lines = render(report, Style(_Plain()), datetime(2026, 12, 5, 2, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert lines[:2] == [
        "SyncScope tenants/s: needs attention (0 warning(s))",
        "  tenants not read now (no credentials); shown as last reported",
    ]
    assert "Scope   configuration 'c': every member of the source; 2 scoping filter(s)" in lines
    assert "        managementPolicy Manage, suspended; Ready True Reconciled" in lines
    assert "Job     Quarantine; last cycle 1h ago, last success never; 2 successive failure(s)" in lines
    assert "        quarantined since 2026-12-05T01:00:00Z: TooManyDeletes (no error code); next attempt x" in lines
    assert "        current cycle expected to finish at 2026-12-05T03:00:00Z" in lines
    assert "Users   5 in scope: 0 synced (0 disabled), 0 soft-deleted, 0 missing; 1 orphaned in the target" in lines
