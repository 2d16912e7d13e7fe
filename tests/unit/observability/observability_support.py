"""Helpers of the observability tests: PromQL metric names, and a Metrics that recorded what a running
operator records (outcomes of every kind, Graph responses, provisioning entries)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ctsync.api import conditions
from ctsync.api.conditions import Condition, Health
from ctsync.errors import AuthenticationFailed, PermissionMissing
from ctsync.metrics import Metrics
from ctsync.reconcile.outcome import Outcome, from_error
from ctsync.reconcile.provisioning import ProvisioningEntry
from ctsync.reconcile.target_audit import TargetAuditEntry

REPO = Path(__file__).resolve().parents[3]
ALERTS = REPO / "charts/ctsync/files/alerts.yaml"
DASHBOARD = REPO / "charts/ctsync/dashboards/ctsync.json"
PROMETHEUS_SERIES = frozenset({"up"})  # written by Prometheus itself, not by ctsync
PROMETHEUS_LABELS = frozenset({"job", "instance"})  # added to every scraped series by Prometheus
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NAMESPACE, SCOPE = "tenants", "contoso-to-fabrikam"

_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_GROUPED_LABELS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_MATCHED_LABEL = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")
_VARIABLES = re.compile(r"\$\{?\w+\}?")
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_:][\w:]*(?!\w)(\s*\()?")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"})
_HISTOGRAM_SUFFIX = re.compile(r"_(?:bucket|sum|count)$")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions, keywords, label
    names (in matchers and grouping clauses), durations or Grafana variables."""
    text = _STRINGS.sub(" ", expr)  # first: strings may hold braces, brackets and parentheses
    for pattern in (_MATCHERS, _RANGES, _GROUPING, _VARIABLES):
        text = pattern.sub(" ", text)
    return {m.group(0) for m in _IDENTIFIER.finditer(text) if m.group(1) is None and m.group(0) not in _KEYWORDS}


def label_names(expr: str) -> set[str]:
    """The label names a PromQL expression matches on or groups by."""
    text = _STRINGS.sub(" ", expr)
    matched = {label for block in _MATCHERS.findall(text) for label in _MATCHED_LABEL.findall(block)}
    grouped = {label.strip() for clause in _GROUPED_LABELS.findall(text) for label in clause.split(",")}
    return (matched | grouped) - {""}


def unknown_labels(expr: str, exported_labels: dict[str, set[str]]) -> set[str]:
    """Labels the expression matches on or groups by that none of the metrics it reads carries."""
    read = {base_name(name) for name in metric_names(expr)}
    carried = set(PROMETHEUS_LABELS).union(*(exported_labels.get(name, set()) for name in read))
    return label_names(expr) - carried


def base_name(name: str) -> str:
    """A histogram's series name without its _bucket, _sum or _count suffix."""
    return _HISTOGRAM_SUFFIX.sub("", name)


def entry(
    n: int,
    action: str = "create",
    status: str = "success",
    *,
    cycle: str = "cycle-1",
    second: float | None = None,
    code: str = "",
    reason: str = "",
) -> ProvisioningEntry:
    """Provisioning log entry number n, at T0 + n seconds unless `second` says otherwise."""
    return ProvisioningEntry(
        id=f"entry-{n}",
        time=T0 + timedelta(seconds=n if second is None else second),
        action=action,
        status=status,
        duration_seconds=1.5,
        cycle_id=cycle,
        source_user_id=f"user-{n}",
        error_code=code,
        reason=reason,
    )


def scope_status(**changes: object) -> dict[str, object]:
    """A SyncScope outcome's status as the reconciler reports it: job quarantined for held deletions."""
    status: dict[str, object] = {
        "servicePrincipalId": "6b1f0c3e-2a4d-4c8e-9f7a-0d5e3b2c1a90",
        "jobId": "Azure2Azure.8d3c1e0f2b4a4c6e9a7b5d3f1e0c2a4b.6b1f0c3e-2a4d-4c8e-9f7a-0d5e3b2c1a90",
        "jobCode": "Quarantine",
        "lastExecutionTime": "2025-03-01T08:40:12.1234567Z",
        "lastSuccessfulExecutionTime": "2025-03-01T08:00:05Z",
        "successiveFailures": 0,
        "quarantine": {
            "reason": "TooManyDeletes",
            "since": "2025-03-01T08:40:12Z",
            "error": "TooManyDeletes",
        },
        "scopeSize": 20,
        "syncedUsers": 18,
        "syncedDisabledUsers": 1,
        "softDeletedUsers": 2,
        "missingUsers": 2,
        "orphanedUsers": 1,
    }
    status.update(changes)
    return status


def scope_outcome(
    status: dict[str, object] | None = None, drift: tuple[str, ...] = (), corrected: bool = False
) -> Outcome:
    synced = Condition(conditions.SYNCED, "False", conditions.DELETIONS_HELD, "job quarantined", 7)
    # A SyncScope reports Drifted True only in a dry run; otherwise drift is what the pass restored.
    drifted = Condition(conditions.DRIFTED, "False", conditions.NO_DRIFT, "no drift detected", 7)
    return Outcome(
        Health.READY,
        conditions.RECONCILED,
        "the configuration matches the spec",
        7,
        conditions=[synced, drifted],
        status=scope_status() if status is None else status,
        drift=list(drift),
        drift_corrected=corrected,
    )


def recorded_metrics() -> Metrics:
    """A Metrics after what a small installation records: two TenantPairs (one with an expired secret),
    a quarantined SyncScope whose drift was corrected, one provisioning a bulk change, an AttributeMapping,
    Graph traffic with a 429 and a transport failure, a cycle's provisioning entries and a fast lane's create."""
    metrics = Metrics(clock=T0.timestamp)
    valid = Condition(conditions.CREDENTIALS_VALID, "True", conditions.AUTHENTICATED, "tokens obtained", 3)
    pair = Outcome(Health.READY, conditions.RECONCILED, "both tenants match the spec", 3, conditions=[valid])
    metrics.record_outcome("TenantPair", NAMESPACE, SCOPE, pair, 1.8)
    expired = AuthenticationFailed("target", "AADSTS7000222: the client secret has expired")
    invalid = Condition(conditions.CREDENTIALS_VALID, "False", expired.reason, expired.message, 1)
    metrics.record_outcome("TenantPair", NAMESPACE, "expired", from_error(expired, 1, conditions=[invalid]), 0.4)
    metrics.record_outcome("SyncScope", NAMESPACE, SCOPE, scope_outcome(drift=("scope: 1 group",), corrected=True), 6.2)
    onboarding = scope_status(jobCode="Active", quarantine=None, missingUsers=600)
    onboarding["estimatedCycleCompletion"] = "2025-03-01T10:04:00Z"
    metrics.record_outcome("SyncScope", NAMESPACE, "onboarding", scope_outcome(onboarding), 5.1)
    missing = PermissionMissing("source", ["Synchronization.ReadWrite.All"])
    metrics.record_outcome("SyncScope", NAMESPACE, "unprivileged", from_error(missing, 2), 0.3)
    mapping = Outcome(Health.READY, conditions.RECONCILED, "applied", 1, status={"appliedTargets": ["jobTitle"]})
    metrics.record_outcome("AttributeMapping", NAMESPACE, SCOPE, mapping, 0.01)
    jobs = "/servicePrincipals/{id}/synchronization/jobs"
    for role, method, route, status, seconds in [
        ("source", "GET", jobs, 200, 0.12),
        ("source", "GET", "/auditLogs/provisioning", 200, 0.4),
        ("source", "GET", "/auditLogs/provisioning", 429, 0.05),
        ("target", "GET", "/users", 200, 0.9),
        ("target", "GET", "/users", 0, 0.0),
    ]:
        metrics.observe_graph(role, method, route, status, seconds)
    metrics.record_scope_members(NAMESPACE, SCOPE, [f"user-{n}" for n in range(20)])
    metrics.record_provisioning(
        NAMESPACE,
        SCOPE,
        [
            entry(1),
            entry(2, "update"),
            entry(3, "disable"),
            entry(4, "create", "failure", code="AzureActiveDirectoryForbidden", reason="invitations_blocked"),
            entry(5, "stageddelete", "skipped"),
        ],
    )
    metrics.record_target_audit(NAMESPACE, SCOPE, [TargetAuditEntry("Directory_1", T0, "create")])
    metrics.record_on_demand(NAMESPACE, SCOPE, "created", 8.5, change_id="change-6")
    return metrics
