"""The operator's Prometheus metrics: one registry (never the client library's global one), filled by the
handler layer from reconcile outcomes, Graph responses and provisioning log entries, and served on its
own port. A scrape only reads what was recorded: collecting never calls Graph.

Labels stay bounded: kind, a resource's namespace/name, tenant role, Graph route template, provisioning
action and status, and reasons from fixed vocabularies. User ids, UPNs, object ids and raw URLs never
become labels. docs/metrics.md describes every metric."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.metrics import MetricWrapperBase

from . import __version__
from .api import conditions
from .api.conditions import Health
from .api.constants import KIND_SYNC_SCOPE
from .api.object_ids import CompactId, IdSet, compact
from .errors import AuthenticationFailed
from .reconcile.outcome import Outcome
from .reconcile.provisioning import ProvisioningEntry, parse_time
from .reconcile.target_audit import TargetAuditEntry

ObjectKey = tuple[str, str, str]  # kind, namespace, name
M = TypeVar("M", bound=MetricWrapperBase)

# ctsync sets every condition True or False: a third, always-zero "Unknown" series would only cost scrapes.
CONDITION_STATUSES = ("True", "False")
JOB_CODES = ("NotConfigured", "NotRun", "Active", "Paused", "Quarantine")
# Reconciling outcomes that wait for something expected rather than fail.
WAIT_REASONS = frozenset(
    {conditions.DEPENDENCY_NOT_READY, conditions.THROTTLED, conditions.DELETING, conditions.AWAITING_REPLICATION}
)

RECONCILE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
GRAPH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# The two provisioning histograms are per SyncScope, so each bucket costs one series per scope: few buckets.
EVENT_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10)
# The fast lane takes seconds to a minute; cycles start 40 minutes apart (2400 s, two cycles 4800 s) and
# initial cycles of large scopes take hours.
LATENCY_BUCKETS = (10, 60, 300, 1200, 2400, 4800, 14400)
# provisionOnDemand's outcomes that changed the target, as the action the provisioning log would name.
ON_DEMAND_ACTIONS = {"created": "create", "updated": "update"}
# The actions that change the target, whose latency is timed; the others (stageddelete, other) leave it as is.
CHANGE_ACTIONS = frozenset({"create", "update", "disable", "delete"})

MAX_ENTERED_USERS = 10_000  # per SyncScope: users seen entering scope whose create is still awaited
MAX_CYCLES = 32  # per SyncScope: recent provisioning cycles whose start is remembered


class LatencyReference:
    """Per SyncScope and in memory only (a restart forgets it): when ctsync first saw each user enter scope,
    and when each recent provisioning cycle started, as far as the log read so far shows."""

    def __init__(self) -> None:
        # Compact (api/object_ids.py): the members of every scope are kept between audits.
        self.members: IdSet | None = None  # in scope at the last scope audit; None before the first
        self.entered: dict[CompactId, float] = {}  # user id -> when first seen in scope, oldest first
        self.cycle_starts: dict[str, float] = {}  # cycle id -> earliest activityDateTime read
        self.on_demand: dict[str, float] = {}  # change ids the fast lane timed -> when

    def saw_members(self, user_ids: frozenset[CompactId], now: float) -> None:
        # Users present at the first audit entered scope at an unknown time: only later arrivals count.
        if self.members is not None:
            for user_id in user_ids:
                if user_id not in self.members:
                    self.entered.setdefault(user_id, now)
        self.entered = {u: t for u, t in self.entered.items() if u in user_ids}
        _trim(self.entered, MAX_ENTERED_USERS)
        self.members = IdSet(user_ids)

    def latency(self, entry: ProvisioningEntry) -> float | None:
        """Seconds from the change becoming visible to a successful entry (see docs/metrics.md); None for an
        entry that did not change the target. Every entry dates the start of its cycle."""
        at = entry.time.timestamp()
        start = self.cycle_starts[entry.cycle_id] = min(self.cycle_starts.get(entry.cycle_id, at), at)
        _trim(self.cycle_starts, MAX_CYCLES)
        if entry.status != "success" or entry.action not in CHANGE_ACTIONS:
            return None
        if self.on_demand.pop(entry.change_id, None) is not None:
            return None  # provisioned on demand: timed on the fast lane's path already
        entered = self.entered.pop(compact(entry.source_user_id), None) if entry.action == "create" else None
        # Seen only after the service had acted: the sighting says nothing about when the user arrived.
        since = entered if entered is not None and entered <= at else start
        return max(at - since, 0.0)


def _trim(ordered: dict[Any, float], size: int) -> None:
    """Drops the oldest insertions beyond `size`."""
    for key in list(ordered)[: max(len(ordered) - size, 0)]:
        del ordered[key]


def _timestamp(value: str | None) -> float | None:
    return parse_time(value).timestamp() if value else None


def reconcile_result(outcome: Outcome) -> str:
    if outcome.health is Health.READY:
        return "success"
    if outcome.health is Health.STALLED:
        return "stalled"
    return "requeue" if outcome.error is None or outcome.reason in WAIT_REASONS else "error"


class Metrics:
    def __init__(self, version: str = __version__, clock: Callable[[], float] = time.time) -> None:
        # The text format exposes a counter's creation time as one more gauge series per child, which doubles
        # the series a scrape stores for nothing the dashboards or alerts read. (Process-wide, like the flag.)
        disable_created_metrics()
        self.registry = CollectorRegistry()
        self._clock = clock
        # Per-resource series, so that forget() removes exactly what a deleted resource left behind.
        self._series: dict[ObjectKey, set[tuple[MetricWrapperBase, tuple[str, ...]]]] = defaultdict(set)
        self._latency: dict[tuple[str, str], LatencyReference] = defaultdict(LatencyReference)
        counter, gauge = partial(Counter, registry=self.registry), partial(Gauge, registry=self.registry)
        histogram = partial(Histogram, registry=self.registry)
        scope = ["namespace", "name"]

        self._reconcile_total = counter(
            "ctsync_reconcile", "Reconciles of a resource by kind and result.", ["kind", "result"]
        )
        self._reconcile_duration = histogram(
            "ctsync_reconcile_duration_seconds",
            "Time one reconcile of a resource took, all its passes included.",
            ["kind"],
            buckets=RECONCILE_BUCKETS,
        )
        self._reconcile_errors = counter(
            "ctsync_reconcile_errors",
            "Reconciles that ended in an error, by the condition reason it set.",
            ["kind", "reason"],
        )
        self._resource_condition = gauge(
            "ctsync_resource_condition",
            "Status conditions of each resource, one-hot over True and False for each condition type.",
            ["kind", "namespace", "name", "type", "status"],
        )
        self._drift_detected = gauge(
            "ctsync_drift_detected",
            "1 while the last reconcile found tenant settings that differ from the spec and left them so.",
            ["kind", "namespace", "name"],
        )
        self._drift_corrections = counter(
            "ctsync_drift_corrections",
            "Reconciles that restored tenant settings changed outside ctsync.",
            ["kind"],
        )
        self._job_status = gauge(
            "ctsync_sync_job_status",
            "Status code of each SyncScope's synchronization job, one-hot.",
            [*scope, "code"],
        )
        self._job_quarantined = gauge(
            "ctsync_sync_job_quarantined",
            "1 with the quarantine reason while the provisioning service has quarantined the job.",
            [*scope, "reason"],
        )
        self._job_last_execution = gauge(
            "ctsync_sync_job_last_execution_timestamp_seconds",
            "When the job's last provisioning cycle ended (Unix time).",
            scope,
        )
        self._job_last_success = gauge(
            "ctsync_sync_job_last_successful_execution_timestamp_seconds",
            "When the job's last successful provisioning cycle ended (Unix time).",
            scope,
        )
        self._job_failures = gauge(
            "ctsync_sync_job_successive_failures",
            "Provisioning cycles of the job that failed completely in a row.",
            scope,
        )
        self._provisioning_events = counter(
            "ctsync_provisioning_events",
            "Provisioning log entries of each SyncScope's job, each counted once.",
            [*scope, "action", "status"],
        )
        self._provisioning_failures = counter(
            "ctsync_provisioning_failures",
            "Provisioning log entries that failed, by reason (the error code folded into a fixed set).",
            [*scope, "reason"],
        )
        self._provisioning_duration = histogram(
            "ctsync_provisioning_event_duration_seconds",
            "How long the provisioning service took for one entry (its durationInMilliseconds).",
            scope,
            buckets=EVENT_BUCKETS,
        )
        self._change_latency = histogram(
            "ctsync_change_to_target_seconds",
            "From a change becoming visible in the source to the target updated, by path (fast_lane, cycle).",
            [*scope, "path", "action"],
            buckets=LATENCY_BUCKETS,
        )
        self._target_guest_changes = counter(
            "ctsync_target_guest_changes",
            "Users the sync service created, updated or deleted in the target, from the target's directory audit log.",
            [*scope, "operation"],
        )
        self._fast_lane_requests = counter(
            "ctsync_fast_lane_requests",
            "provisionOnDemand requests of the fast lane by outcome: created, updated, skipped, failed.",
            [*scope, "outcome"],
        )
        self._scope_users = gauge("ctsync_scope_users", "Users in scope in the source tenant.", scope)
        self._synced_users = gauge(
            "ctsync_synced_users",
            "Users of the scope provisioned in the target tenant by state: enabled, disabled, soft_deleted.",
            [*scope, "state"],
        )
        self._missing_users = gauge(
            "ctsync_scope_missing_users",
            "Users in scope with no provisioned user in the target tenant (yet).",
            scope,
        )
        self._orphaned_users = gauge(
            "ctsync_orphaned_users",
            "Users provisioned from the source tenant, now out of scope, not soft-deleted in the target.",
            scope,
        )
        self._cycle_completion = gauge(
            "ctsync_scope_estimated_cycle_completion_timestamp_seconds",
            "While a bulk of users entering scope awaits provisioning: when the cycle that creates them "
            "should end (Unix time).",
            scope,
        )
        self._graph_requests = counter(
            "ctsync_graph_requests",
            "Microsoft Graph responses by tenant role, route template, method and status (0: no response).",
            ["tenant_role", "route", "method", "status_code"],
        )
        self._graph_duration = histogram(
            "ctsync_graph_request_duration_seconds",
            "Time from sending a Graph request to its response.",
            ["tenant_role", "route"],
            buckets=GRAPH_BUCKETS,
        )
        self._graph_throttled = counter(
            "ctsync_graph_throttled", "Graph responses 429 Too Many Requests.", ["tenant_role", "route"]
        )
        self._token_errors = counter(
            "ctsync_token_errors",
            "Reconciles that could not obtain a token for a tenant (AuthenticationFailed).",
            ["tenant_role"],
        )
        Info("ctsync_build", "The running ctsync version.", registry=self.registry).info({"version": version})

    def serve(self, port: int, addr: str = "0.0.0.0") -> WSGIServer:
        """Serves GET /metrics from a daemon thread; shutdown() on the returned server stops it."""
        server, _ = start_http_server(port, addr, registry=self.registry)
        return server

    # --- what the handler layer records -----------------------------------------------------------
    def observe_graph(self, tenant_role: str, method: str, route: str, status: int, seconds: float) -> None:
        """A Graph response, as GraphClient's RequestObserver reports it."""
        self._graph_requests.labels(tenant_role, route, method, str(status)).inc()
        if status:  # 0: the request failed in transport and its time says nothing about Graph
            self._graph_duration.labels(tenant_role, route).observe(seconds)
        if status == 429:
            self._graph_throttled.labels(tenant_role, route).inc()

    def record_outcome(self, kind: str, namespace: str, name: str, outcome: Outcome, seconds: float) -> None:
        """One reconcile of a resource: its result and duration, and every gauge its outcome determines."""
        key = (kind, namespace, name)
        self._reconcile_total.labels(kind, reconcile_result(outcome)).inc()
        self._reconcile_duration.labels(kind).observe(seconds)
        if outcome.error is not None:
            self._reconcile_errors.labels(kind, outcome.reason).inc()
            if isinstance(outcome.error, AuthenticationFailed):
                self._token_errors.labels(outcome.error.tenant_role).inc()
        else:  # a failed pass does not know whether the drift it saw before is still there
            uncorrected = bool(outcome.drift) and not outcome.drift_corrected
            self._child(key, self._drift_detected, *key).set(uncorrected)
        if outcome.drift_corrected:
            self._drift_corrections.labels(kind).inc()
        for condition in outcome.all_conditions():
            for status in CONDITION_STATUSES:
                child = self._child(key, self._resource_condition, *key, condition.type, status)
                child.set(condition.status == status)
        if kind == KIND_SYNC_SCOPE:
            self._record_job(key, outcome.status)
            self._record_scope(key, outcome.status)

    def record_scope_members(self, namespace: str, name: str, user_ids: Iterable[str]) -> None:
        """The users a SyncScope's scope audit found in scope, for the change-to-target latency of creates."""
        ids = frozenset(compact(user_id) for user_id in user_ids)  # the log's entries name them in lower case
        self._latency[namespace, name].saw_members(ids, self._clock())

    def record_provisioning(self, namespace: str, name: str, entries: Iterable[ProvisioningEntry]) -> None:
        """New provisioning log entries of a SyncScope's job (each entry exactly once: see
        reconcile.provisioning.read_new_events)."""
        key = (KIND_SYNC_SCOPE, namespace, name)
        reference = self._latency[namespace, name]
        for entry in entries:
            self._child(key, self._provisioning_events, namespace, name, entry.action, entry.status).inc()
            if entry.status == "failure":
                self._child(key, self._provisioning_failures, namespace, name, entry.reason).inc()
            self._child(key, self._provisioning_duration, namespace, name).observe(entry.duration_seconds)
            latency = reference.latency(entry)
            if latency is not None:
                self._child(key, self._change_latency, namespace, name, "cycle", entry.action).observe(latency)

    def record_on_demand(self, namespace: str, name: str, outcome: str, seconds: float, change_id: str = "") -> None:
        """One provisionOnDemand of the fast lane: its outcome, and for a change it made in the target the
        seconds since the delta round saw it. Its provisioning log entry is then not timed again."""
        key = (KIND_SYNC_SCOPE, namespace, name)
        self._child(key, self._fast_lane_requests, namespace, name, outcome).inc()
        action = ON_DEMAND_ACTIONS.get(outcome)
        if action is not None:
            self._child(key, self._change_latency, namespace, name, "fast_lane", action).observe(seconds)
            if change_id:
                on_demand = self._latency[namespace, name].on_demand
                on_demand[change_id] = seconds
                _trim(on_demand, MAX_ENTERED_USERS)

    def record_target_audit(self, namespace: str, name: str, entries: Iterable[TargetAuditEntry]) -> None:
        """New entries of the target's directory audit log about users the sync service changed (each once:
        see reconcile.log_reader)."""
        key = (KIND_SYNC_SCOPE, namespace, name)
        for entry in entries:
            self._child(key, self._target_guest_changes, namespace, name, entry.operation).inc()

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Removes every series of a deleted resource."""
        for metric, labels in self._series.pop((kind, namespace, name), ()):
            metric.remove(*labels)
        if kind == KIND_SYNC_SCOPE:
            self._latency.pop((namespace, name), None)

    # --- helpers ----------------------------------------------------------------------------------
    def _child(self, key: ObjectKey, metric: M, *labels: str) -> M:
        self._series[key].add((metric, labels))
        return metric.labels(*labels)

    def _drop(self, key: ObjectKey, metric: MetricWrapperBase, keep: tuple[str, ...] | None = None) -> None:
        """Removes the resource's series of `metric`, except the one labelled `keep`."""
        for series in [s for s in self._series[key] if s[0] is metric and s[1] != keep]:
            self._series[key].discard(series)
            metric.remove(*series[1])

    def _record_job(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        if "jobCode" not in status:  # a pass that failed before reading the job leaves the last values
            return
        scope = key[1:]
        for code in JOB_CODES:
            self._child(key, self._job_status, *scope, code).set(status["jobCode"] == code)
        quarantine = status.get("quarantine")
        reason = (quarantine.get("reason") or "Unknown") if quarantine else None
        self._drop(key, self._job_quarantined, keep=(*scope, reason) if reason else None)
        if reason:
            self._child(key, self._job_quarantined, *scope, reason).set(1)
        for gauge, field in (
            (self._job_last_execution, "lastExecutionTime"),
            (self._job_last_success, "lastSuccessfulExecutionTime"),
        ):
            when = _timestamp(status.get(field))
            if when is None:
                self._drop(key, gauge)
            else:
                self._child(key, gauge, *scope).set(when)
        if status.get("successiveFailures") is not None:
            self._child(key, self._job_failures, *scope).set(status["successiveFailures"])

    def _record_scope(self, key: ObjectKey, status: Mapping[str, Any]) -> None:
        if "scopeSize" not in status:
            return
        scope = key[1:]
        synced, disabled = status.get("syncedUsers", 0), status.get("syncedDisabledUsers", 0)
        self._child(key, self._scope_users, *scope).set(status["scopeSize"])
        for state, count in (
            ("enabled", synced - disabled),
            ("disabled", disabled),
            ("soft_deleted", status.get("softDeletedUsers", 0)),
        ):
            self._child(key, self._synced_users, *scope, state).set(count)
        self._child(key, self._missing_users, *scope).set(status.get("missingUsers", 0))
        self._child(key, self._orphaned_users, *scope).set(status.get("orphanedUsers", 0))
        completion = _timestamp(status.get("estimatedCycleCompletion"))
        if completion is None:
            self._drop(key, self._cycle_completion)
        else:
            self._child(key, self._cycle_completion, *scope).set(completion)
