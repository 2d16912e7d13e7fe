"""How long one Prometheus scrape of the operator takes with 50 SyncScopes' worth of series: every series a
TenantPair, SyncScope and AttributeMapping per scope create, provisioning entries of every action and
status, and Graph traffic on the routes the reconcilers use.

    .venv/bin/python bench/metrics_scrape.py              # 50 scopes, 200 scrapes
    .venv/bin/python bench/metrics_scrape.py --scopes 200 --runs 50

Prints the series count, the exposition size and milliseconds per scrape (generate_latest, the body of
GET /metrics)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest

from ctsync.api import conditions
from ctsync.api.conditions import Condition, Health
from ctsync.graph.provisioning_failures import REASONS
from ctsync.metrics import Metrics
from ctsync.reconcile.outcome import Outcome
from ctsync.reconcile.provisioning import ACTIONS, STATUSES, ProvisioningEntry
from ctsync.reconcile.target_audit import OPERATIONS, OTHER, TargetAuditEntry

START = datetime(2025, 3, 1, tzinfo=UTC)
ROUTES = [
    "/policies/crossTenantAccessPolicy/partners/{id}",
    "/policies/crossTenantAccessPolicy/partners/{id}/identitySynchronization",
    "/servicePrincipals",
    "/servicePrincipals/{id}",
    "/servicePrincipals/{id}/synchronization/secrets",
    "/servicePrincipals/{id}/synchronization/jobs",
    "/servicePrincipals/{id}/synchronization/jobs/{id}",
    "/servicePrincipals/{id}/synchronization/jobs/{id}/schema",
    "/servicePrincipals/{id}/appRoleAssignedTo",
    "/groups/{id}/members/microsoft.graph.user",
    "/users",
    "/directory/deletedItems/microsoft.graph.user",
    "/auditLogs/provisioning",
]


def ready(generation: int, *extra: Condition, status: dict[str, object] | None = None) -> Outcome:
    return Outcome(
        Health.READY,
        conditions.RECONCILED,
        "in sync",
        generation,
        conditions=list(extra),
        status=status or {},
    )


def populate(metrics: Metrics, scopes: int) -> None:
    for n in range(scopes):
        name = f"scope-{n:03d}"
        held = n % 10 == 0  # every tenth job holds deletions
        job = {
            "jobCode": "Quarantine" if held else "Active",
            "successiveFailures": 0,
            "lastExecutionTime": "2025-03-01T08:40:00Z",
            "lastSuccessfulExecutionTime": "2025-03-01T08:40:00Z",
            "quarantine": {"reason": "TooManyDeletes"} if held else None,
        }
        counts = {
            "scopeSize": 5000,
            "syncedUsers": 4990,
            "syncedDisabledUsers": 12,
            "softDeletedUsers": 40,
            "missingUsers": 10,
            "orphanedUsers": 3,
        }
        credentials = Condition(conditions.CREDENTIALS_VALID, "True", conditions.AUTHENTICATED, "", 1)
        synced = Condition(conditions.SYNCED, "True", conditions.JOB_RUNNING, "", 1)
        metrics.record_outcome("TenantPair", "tenants", name, ready(1, credentials), 1.2)
        metrics.record_outcome("SyncScope", "tenants", name, ready(1, synced, status={**job, **counts}), 4.0)
        metrics.record_outcome("AttributeMapping", "tenants", name, ready(1), 0.01)
        metrics.record_scope_members("tenants", name, (f"{name}-user-{u}" for u in range(5000)))
        kinds = [(action, status) for action in (*ACTIONS, "other") for status in STATUSES]
        metrics.record_provisioning(
            "tenants",
            name,
            [
                ProvisioningEntry(f"{name}-{i}", START + timedelta(seconds=i), action, status, 0.6, "cycle", f"u{i}")
                for i, (action, status) in enumerate(kinds)
            ],
        )
        metrics.record_provisioning(  # a failure of every reason
            "tenants",
            name,
            [
                ProvisioningEntry(f"{name}-f{i}", START, "create", "failure", 0.6, "cycle", f"u{i}", "code", reason)
                for i, reason in enumerate(REASONS)
            ],
        )
        operations = [*OPERATIONS.values(), OTHER]
        metrics.record_target_audit(
            "tenants", name, [TargetAuditEntry(f"{name}-a{i}", START, op) for i, op in enumerate(operations)]
        )
    for role in ("source", "target"):
        for route in ROUTES:
            for status in (200, 204, 404, 429):
                metrics.observe_graph(role, "GET", route, status, 0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scopes", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    metrics = Metrics()
    populate(metrics, args.scopes)
    body = generate_latest(metrics.registry)
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        generate_latest(metrics.registry)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"ctsync metrics scrape, python {sys.version.split()[0]}, {args.scopes} SyncScopes")
    print(f"  series {series:,}, exposition {len(body) / 1024:,.0f} KiB")
    print(
        f"  ms per scrape over {args.runs} runs: mean {statistics.mean(timings):.1f}, "
        f"median {statistics.median(timings):.1f}, max {max(timings):.1f}"
    )


if __name__ == "__main__":
    main()
