"""What Metrics derives from outcomes, Graph responses and provisioning entries, and what it forgets."""

from __future__ import annotations

import re
import socket
import urllib.request
import uuid
from dataclasses import replace

import pytest
from observability_support import NAMESPACE, SCOPE, T0, entry, scope_outcome, scope_status
from prometheus_client import generate_latest

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.errors import AuthenticationFailed, DependencyNotReady, GraphUnavailable, InvalidSpec
from ctsync.metrics import Metrics, reconcile_result
from ctsync.reconcile.outcome import Outcome, from_error
from ctsync.reconcile.target_audit import TargetAuditEntry
from support.memory import Held

USER_GUID = "5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d"

SCOPE_LABELS = {"namespace": NAMESPACE, "name": SCOPE}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def value(metrics: Metrics, metric: str, /, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(metric, labels)


def exposition_of(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def record(metrics: Metrics, outcome: Outcome, kind: str = "SyncScope") -> None:
    metrics.record_outcome(kind, NAMESPACE, SCOPE, outcome, 1.0)


def condition(metrics: Metrics, type_: str, status: str) -> float | None:
    return value(metrics, "ctsync_resource_condition", kind="SyncScope", type=type_, status=status, **SCOPE_LABELS)


@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        (scope_outcome(), "success"),
        (from_error(InvalidSpec("spec.scope", "selects nobody"), 1), "stalled"),
        (from_error(DependencyNotReady("TenantPair tenants/x is not Ready yet"), 1), "requeue"),
        (from_error(GraphUnavailable("source tenant: 503"), 1), "error"),
    ],
)
def test_reconcile_results(outcome, result):
    assert reconcile_result(outcome) == result


def test_conditions_are_one_hot_and_follow_the_outcome():
    metrics = Metrics()
    record(metrics, scope_outcome())
    assert [condition(metrics, "Ready", s) for s in ("True", "False", "Unknown")] == [1, 0, None]
    assert condition(metrics, "Synced", "False") == 1
    record(metrics, from_error(GraphUnavailable("source tenant: 503"), 7))
    assert [condition(metrics, "Ready", s) for s in ("True", "False")] == [0, 1]
    assert condition(metrics, "Reconciling", "True") == 1
    assert value(metrics, "ctsync_reconcile_errors_total", kind="SyncScope", reason="GraphUnavailable") == 1


def test_drift_is_reported_until_corrected_and_kept_through_a_failed_pass():
    metrics = Metrics()
    drift = {"kind": "TenantPair", **SCOPE_LABELS}
    pending = ["trust.mfa: True -> False"]
    observed = Outcome(Health.READY, conditions.OBSERVED, "1 change pending", 2, drift=pending)
    record(metrics, observed, "TenantPair")
    assert value(metrics, "ctsync_drift_detected", **drift) == 1
    record(metrics, from_error(GraphUnavailable("target tenant: 503"), 2), "TenantPair")
    assert value(metrics, "ctsync_drift_detected", **drift) == 1
    record(metrics, replace(observed, drift_corrected=True), "TenantPair")
    assert value(metrics, "ctsync_drift_detected", **drift) == 0
    assert value(metrics, "ctsync_drift_corrections_total", kind="TenantPair") == 1


def test_job_gauges_follow_the_job_and_quarantine_series_come_and_go():
    metrics = Metrics()

    def job(metric: str, **labels: str) -> float | None:
        return value(metrics, f"ctsync_sync_job_{metric}", **labels, **SCOPE_LABELS)

    record(metrics, scope_outcome())
    assert (job("status", code="Quarantine"), job("status", code="Active")) == (1, 0)
    assert job("quarantined", reason="TooManyDeletes") == 1
    last_cycle_end = T0.timestamp() - 20 * 60 + 12.123456  # seven fractional digits parsed
    assert job("last_execution_timestamp_seconds") == pytest.approx(last_cycle_end)
    escrow = scope_status(quarantine={"reason": "EncounteredEscrowProportionThreshold"}, successiveFailures=2)
    record(metrics, scope_outcome(escrow))
    assert job("quarantined", reason="TooManyDeletes") is None
    assert job("quarantined", reason="EncounteredEscrowProportionThreshold") == 1
    assert job("successive_failures") == 2
    lifted = scope_status(jobCode="Active", quarantine=None, lastSuccessfulExecutionTime=None)
    record(metrics, scope_outcome(lifted))
    assert job("status", code="Active") == 1
    assert "ctsync_sync_job_quarantined{" not in exposition_of(metrics)
    assert job("last_successful_execution_timestamp_seconds") is None


def test_a_failed_pass_keeps_the_last_known_job_and_scope_gauges():
    metrics = Metrics()
    record(metrics, scope_outcome())
    record(metrics, from_error(GraphUnavailable("source tenant: 503"), 7))
    assert value(metrics, "ctsync_sync_job_status", code="Quarantine", **SCOPE_LABELS) == 1
    assert value(metrics, "ctsync_scope_users", **SCOPE_LABELS) == 20


def test_scope_and_synced_users():
    metrics = Metrics()
    record(metrics, scope_outcome())
    assert value(metrics, "ctsync_scope_users", **SCOPE_LABELS) == 20
    states = {
        s: value(metrics, "ctsync_synced_users", state=s, **SCOPE_LABELS)
        for s in ("enabled", "disabled", "soft_deleted")
    }
    assert states == {"enabled": 17, "disabled": 1, "soft_deleted": 2}
    assert value(metrics, "ctsync_scope_missing_users", **SCOPE_LABELS) == 2
    assert value(metrics, "ctsync_orphaned_users", **SCOPE_LABELS) == 1


def test_the_estimated_completion_of_a_bulk_cycle_is_a_timestamp_while_status_holds_it():
    metrics = Metrics()
    gauge = "ctsync_scope_estimated_cycle_completion_timestamp_seconds"
    record(metrics, scope_outcome())
    assert value(metrics, gauge, **SCOPE_LABELS) is None
    bulk = scope_status(jobCode="Active", quarantine=None, missingUsers=600)
    record(metrics, scope_outcome({**bulk, "estimatedCycleCompletion": "2025-03-01T10:04:00Z"}))
    assert value(metrics, gauge, **SCOPE_LABELS) == T0.timestamp() + 64 * 60
    record(metrics, scope_outcome({**bulk, "missingUsers": 0, "estimatedCycleCompletion": None}))
    assert f"{gauge}{{" not in exposition_of(metrics)


def test_token_errors_count_authentication_failures_by_tenant_role():
    metrics = Metrics()
    record(
        metrics,
        from_error(AuthenticationFailed("source", "AADSTS7000215: invalid client secret"), 1),
        "TenantPair",
    )
    record(metrics, from_error(GraphUnavailable("source tenant: 503"), 1), "TenantPair")
    assert value(metrics, "ctsync_token_errors_total", tenant_role="source") == 1
    assert value(metrics, "ctsync_token_errors_total", tenant_role="target") is None


def test_graph_responses_timing_and_throttling():
    metrics = Metrics()
    for status in (200, 429, 0):
        metrics.observe_graph("target", "GET", "/users", status, 0.25)
    graph = {"tenant_role": "target", "route": "/users"}
    assert value(metrics, "ctsync_graph_requests_total", method="GET", status_code="0", **graph) == 1
    # the transport failure got no response to time
    assert value(metrics, "ctsync_graph_request_duration_seconds_count", **graph) == 2
    assert value(metrics, "ctsync_graph_throttled_total", **graph) == 1


def test_provisioning_entries_by_action_and_status():
    metrics = Metrics()
    metrics.record_provisioning(
        NAMESPACE,
        SCOPE,
        [entry(1), entry(2), entry(3, "create", "failure"), entry(4, "update"), entry(5, "stageddelete")],
    )
    creates = {"action": "create", **SCOPE_LABELS}
    assert value(metrics, "ctsync_provisioning_events_total", status="success", **creates) == 2
    assert value(metrics, "ctsync_provisioning_events_total", status="failure", **creates) == 1
    # every entry's duration, per scope only: an action label would multiply the scope's buckets by six
    assert value(metrics, "ctsync_provisioning_event_duration_seconds_count", **SCOPE_LABELS) == 5
    assert value(metrics, "ctsync_provisioning_event_duration_seconds_sum", **SCOPE_LABELS) == 7.5
    # only successful entries of the actions that change the target are timed
    assert value(metrics, "ctsync_change_to_target_seconds_count", path="cycle", **creates) == 2
    assert latency(metrics, "update")[0] == 1
    assert latency(metrics, "stageddelete") == (None, None)


def test_failed_entries_are_counted_by_reason_never_by_raw_code():
    metrics = Metrics()
    forbidden = {"code": "AzureActiveDirectoryForbidden", "reason": "invitations_blocked"}
    metrics.record_provisioning(
        NAMESPACE,
        SCOPE,
        [
            entry(1, "create", "failure", **forbidden),
            entry(2, "create", "failure", **forbidden),
            entry(3, "update", "failure", code="Weird", reason="other"),
            entry(4, "other", "skipped", code="RedundantExport", reason="skipped"),
            entry(5),
        ],
    )
    failures = "ctsync_provisioning_failures_total"
    assert value(metrics, failures, reason="invitations_blocked", **SCOPE_LABELS) == 2
    assert value(metrics, failures, reason="other", **SCOPE_LABELS) == 1
    assert value(metrics, failures, reason="skipped", **SCOPE_LABELS) is None  # skipped entries are normal
    scrape = exposition_of(metrics)
    assert "AzureActiveDirectoryForbidden" not in scrape and "Weird" not in scrape


def test_guests_changed_in_the_target_are_counted_by_operation():
    metrics = Metrics()
    audits = [
        {"id": f"Directory_{n}", "activityDateTime": "2025-03-01T08:00:00Z", "activityDisplayName": activity}
        for n, activity in enumerate(["Add user", "Add user", "Update user", "Delete user", "Restore user"])
    ]
    metrics.record_target_audit(NAMESPACE, SCOPE, [TargetAuditEntry.from_graph(a) for a in audits])
    changes = "ctsync_target_guest_changes_total"
    assert value(metrics, changes, operation="create", **SCOPE_LABELS) == 2
    assert value(metrics, changes, operation="update", **SCOPE_LABELS) == 1
    assert value(metrics, changes, operation="delete", **SCOPE_LABELS) == 1
    assert value(metrics, changes, operation="other", **SCOPE_LABELS) == 1
    assert "Directory_" not in exposition_of(metrics)
    metrics.forget("SyncScope", NAMESPACE, SCOPE)
    assert value(metrics, changes, operation="create", **SCOPE_LABELS) is None


def latency(metrics: Metrics, action: str) -> tuple[float | None, float | None]:
    labels = {"action": action, "path": "cycle", **SCOPE_LABELS}
    return (
        value(metrics, "ctsync_change_to_target_seconds_count", **labels),
        value(metrics, "ctsync_change_to_target_seconds_sum", **labels),
    )


def test_a_create_is_timed_from_when_ctsync_first_saw_its_user_in_scope():
    now = [T0.timestamp() - 600]
    metrics = Metrics(clock=lambda: now[0])
    metrics.record_scope_members(NAMESPACE, SCOPE, ["user-1"])  # already in scope at the first audit
    now[0] = T0.timestamp() - 300
    # user-20 entered five minutes before T0
    metrics.record_scope_members(NAMESPACE, SCOPE, ["user-1", "user-20"])
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(10, "update", second=0), entry(20, second=60)])
    assert latency(metrics, "create") == (1, 360)  # seen at T0-300, created at T0+60
    assert latency(metrics, "update") == (1, 0)  # the cycle's first entry: its start as far as the log shows


def test_a_user_seen_by_guid_in_upper_case_is_timed_by_the_lower_case_id_of_the_log():
    now = [T0.timestamp()]
    metrics = Metrics(clock=lambda: now[0])
    metrics.record_scope_members(NAMESPACE, SCOPE, [])
    metrics.record_scope_members(NAMESPACE, SCOPE, [USER_GUID.upper()])
    create = replace(entry(1, second=90), source_user_id=USER_GUID)
    metrics.record_provisioning(NAMESPACE, SCOPE, [create])
    assert latency(metrics, "create") == (1, 90)


def test_the_members_kept_between_audits_take_a_quarter_of_the_memory_of_their_ids_as_text():
    """Every scope's members are kept until its next audit: 100k users in the largest scope."""
    ids = [str(uuid.uuid4()).upper() for _ in range(5_000)]
    with Held() as as_text:
        kept_as_text = frozenset(user_id.lower() for user_id in ids)
    metrics = Metrics()
    with Held() as compact:
        metrics.record_scope_members(NAMESPACE, SCOPE, ids)
    assert len(kept_as_text) == len(ids) and compact.bytes < as_text.bytes / 4, (compact.bytes, as_text.bytes)


def test_a_failed_create_leaves_the_sighting_to_its_successful_retry():
    metrics = Metrics(clock=lambda: T0.timestamp())
    metrics.record_scope_members(NAMESPACE, SCOPE, [])
    metrics.record_scope_members(NAMESPACE, SCOPE, ["USER-20"])  # seen at T0, in Graph's upper case
    retry = replace(entry(30, second=120), source_user_id="user-20")
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(20, "create", "failure", second=60), retry])
    assert latency(metrics, "create") == (1, 120)


def test_without_a_first_sighting_a_create_is_timed_from_its_cycle_start():
    metrics = Metrics(clock=lambda: T0.timestamp())
    metrics.record_scope_members(NAMESPACE, SCOPE, ["user-1", "user-2"])
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(1, second=0), entry(2, second=40)])
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(3, "update", second=70, cycle="cycle-1")])
    assert latency(metrics, "create") == (2, 40)
    assert latency(metrics, "update") == (1, 70)


def test_a_user_who_left_scope_and_returned_is_timed_from_the_return():
    now = [T0.timestamp()]
    metrics = Metrics(clock=lambda: now[0])
    for members, at in (
        (["user-9"], 0),
        (["user-9", "user-20"], 10),
        (["user-9"], 20),
        (["user-9", "user-20"], 30),
    ):
        now[0] = T0.timestamp() + at
        metrics.record_scope_members(NAMESPACE, SCOPE, members)
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(1, "update", second=0), entry(20, second=50)])
    assert latency(metrics, "create") == (1, 20)


def test_forget_removes_every_series_of_the_resource_and_no_other():
    metrics = Metrics()
    record(metrics, scope_outcome())
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(1)])
    metrics.record_outcome("SyncScope", NAMESPACE, "other", scope_outcome(), 1.0)
    metrics.forget("SyncScope", NAMESPACE, SCOPE)
    scrape = exposition_of(metrics)
    assert f'name="{SCOPE}"' not in scrape
    assert 'name="other"' in scrape
    assert value(metrics, "ctsync_reconcile_total", kind="SyncScope", result="success") == 2  # per kind: kept


def test_no_identifier_of_a_user_or_tenant_object_becomes_a_label():
    metrics = Metrics()
    record(metrics, scope_outcome())
    metrics.record_scope_members(NAMESPACE, SCOPE, ["5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d"])
    metrics.record_provisioning(NAMESPACE, SCOPE, [entry(1), entry(2, "update")])
    scrape = exposition_of(metrics)
    assert not GUID.search(scrape) and "entry-" not in scrape and "user-" not in scrape


def test_serve_exposes_the_registry_over_http():
    metrics = Metrics(version="9.9.9")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = metrics.serve(port, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'ctsync_build_info{version="9.9.9"} 1.0' in body


def test_the_fast_lane_is_timed_on_its_own_path_and_its_log_entry_is_not_timed_again():
    metrics = Metrics()
    metrics.record_on_demand(NAMESPACE, SCOPE, "created", 12.0, change_id="change-7")
    metrics.record_on_demand(NAMESPACE, SCOPE, "skipped", 3.0, change_id="change-8")
    fast = {"path": "fast_lane", "action": "create", **SCOPE_LABELS}
    assert value(metrics, "ctsync_change_to_target_seconds_count", **fast) == 1
    assert value(metrics, "ctsync_change_to_target_seconds_sum", **fast) == 12.0
    assert value(metrics, "ctsync_fast_lane_requests_total", outcome="skipped", **SCOPE_LABELS) == 1
    # the provisioning log records the on-demand create too: counted as an event, not timed as the cycle's
    logged = replace(entry(7), change_id="change-7")
    metrics.record_provisioning(NAMESPACE, SCOPE, [logged, entry(9)])
    assert value(metrics, "ctsync_provisioning_events_total", action="create", status="success", **SCOPE_LABELS) == 2
    assert latency(metrics, "create")[0] == 1
