"""Operator figures against entrasim running as its own process (fast profile, no throttling): Graph
requests per drift pass through the operator process and its handlers, the cost of the scope audit at 100k
users and the throughput of its own reads, and memory with 20 pairs of 10k users.

    .venv/bin/python bench/operator_bench.py            # all figures (a few minutes)
    .venv/bin/python bench/operator_bench.py --quick    # smaller sizes, for a smoke run

Each line prints the figure, its target and PASS/MISS."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from kubernetes.config import new_client_from_config
from processes import (
    APP_ID,
    CREDENTIALS,
    ROLES,
    SECRET,
    Cluster,
    ControlPlane,
    Emulator,
    Operator,
    cr_bodies,
    envtest_assets,
    ready,
    until,
)

from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.connections import ClientPool
from ctsync.reconcile.converge import converge as run_passes
from ctsync.reconcile.links import LinkCache
from ctsync.reconcile.syncscope import reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair

CYCLE_SECONDS = 40 * 60
PASSES = 3  # drift passes of the pair and of the scope to average over


def report(name: str, value: float, unit: str, target: float, higher_is_better: bool = False) -> None:
    ok = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    print(
        f"{name:<58} {value:>10.2f} {unit:<8} target {sign} {target:g} {unit:<8} {'PASS' if ok else 'MISS'}", flush=True
    )


def tenant_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ctsync-bench-{label}"))


def tenant_doc(label: str, users: int, grouped: bool) -> dict[str, Any]:
    domain = f"{label}.onmicrosoft.com"
    people = [
        {
            "userPrincipalName": f"u{i:06d}@{domain}",
            "displayName": f"User {i:06d}",
            "jobTitle": "Analyst",
            "department": "Sales",
            "accountEnabled": True,
        }
        for i in range(users)
    ]
    groups = [{"displayName": "CTS-Scope", "members": [p["userPrincipalName"] for p in people]}] if grouped else []
    return {
        "id": tenant_id(label),
        "domain": domain,
        "displayName": label,
        "apps": [{"appId": APP_ID, "displayName": "ctsync", "roles": ROLES, "secrets": [SECRET]}],
        "users": people,
        "groups": groups,
    }


def resource_bodies(emulator: Emulator, n: int) -> list[dict[str, Any]]:
    return cr_bodies(emulator, f"pair-{n}", tenant_id(f"source{n}"), tenant_id(f"target{n}"), "CTS-Scope")


def pair_bodies(emulator: Emulator, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The TenantPair and SyncScope as the API server would give them to the reconcilers."""
    pair, scope, _ = resource_bodies(emulator, n)
    meta = {"name": f"pair-{n}", "namespace": "bench", "generation": 1}
    return {**pair, "metadata": meta}, {**scope, "metadata": meta}


def provision_everyone(emulator: Emulator, users: int) -> None:
    """Moves simulated time past the initial cycle: the service spends up to ~4 s per created user."""
    emulator.advance(users * 4 + 2 * CYCLE_SECONDS)


def make_pool(emulator: Emulator) -> ClientPool:
    secrets = {**CREDENTIALS, "entrasim-ca": {"ca.crt": Path(emulator.ca_path).read_text()}}

    async def read_secret(namespace: str, name: str) -> dict[str, str] | None:
        return secrets.get(name)

    return ClientPool(read_secret)


async def converge(
    pool: ClientPool, pair_body: dict[str, Any], scope_body: dict[str, Any], audit: bool = False
) -> dict[str, Any]:
    pair = TenantPair.from_body(pair_body)
    await run_passes(lambda seen: reconcile_tenant_pair(pair, pool, seen), {}, pair.generation)
    scope = SyncScope.from_body(scope_body)
    converged = await run_passes(
        lambda seen: reconcile_sync_scope(scope, pair, True, [], pool, seen, audit=audit), {}, scope.generation
    )
    outcome = converged.outcome
    if outcome.error:
        raise outcome.error
    return {**outcome.status, "observedGeneration": outcome.observed_generation}


def drift_pass_requests(work: Path) -> None:
    """Through the operator process and its handlers: a converged pair, SyncScope and AttributeMapping on the
    real API server; the Graph requests of PASSES drift passes of the pair and the scope (no audit due)."""
    plane = ControlPlane(envtest_assets())
    plane.start()
    emulator = Emulator(work, "--time-scale", "0", "--no-throttling")
    operator = Operator(work, plane.kubeconfig, "bench", "--drift-interval", "10", "--audit-interval", "3600")
    try:
        emulator.seed({"tenants": [tenant_doc("source0", 200, True), tenant_doc("target0", 0, False)]})
        with new_client_from_config(config_file=str(plane.kubeconfig)) as api:
            cluster = Cluster(api, "bench")
            cluster.install_crds()
            cluster.create(emulator, CREDENTIALS, resource_bodies(emulator, 0))
            operator.start()
            for plural in ("tenantpairs", "syncscopes", "attributemappings"):
                until(partial(all_ready, cluster, plural), timeout=120)
            time.sleep(10)  # the passes that follow Ready (nudges, the first timers) settle
            emulator.new_requests()
            since = time.time()
            until(lambda: min(passes_since(operator, since)) >= PASSES, timeout=120, every=0.2)
            requests = len(emulator.new_requests())
            pair_passes, scope_passes = passes_since(operator, since)
    finally:
        operator.stop()
        emulator.stop()
        plane.stop()
    report(
        f"Graph requests per drift pass (pair + scope, handler path; {pair_passes}+{scope_passes} passes)",
        requests / max(pair_passes, scope_passes),
        "requests",
        12,
    )


def all_ready(cluster: Cluster, plural: str) -> bool:
    return cluster.count(plural, ready) == 1


def passes_since(operator: Operator, since: float) -> tuple[int, int]:
    return (
        len(operator.handled_since(since, "tenantpair.drift")),
        len(operator.handled_since(since, "syncscope.drift")),
    )


async def audit_and_bulk_reads(emulator: Emulator, users: int) -> None:
    emulator.seed({"tenants": [tenant_doc("source0", users, True), tenant_doc("target0", 0, False)]})
    pool = make_pool(emulator)
    pair_body, scope_body = pair_bodies(emulator, 0)
    status = await converge(pool, pair_body, scope_body)
    provision_everyone(emulator, users)
    pair = TenantPair.from_body(pair_body)
    scope, links = SyncScope.from_body(scope_body), LinkCache()
    for which in ("first (reads the whole provisioning log)", "next (the log's new entries only)"):
        emulator.new_requests()
        started = time.perf_counter()
        outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status, audit=True, links=links)
        elapsed = time.perf_counter() - started
        counted = (outcome.status.get("scopeSize"), outcome.status.get("syncedUsers"))
        print(f"  {which} audit counted scope {counted[0]:,}, synced {counted[1]:,}")
        report(f"{which.split()[0]} scope audit of {users:,} users: wall time", elapsed, "s", 30)
        report(f"{which.split()[0]} scope audit of {users:,} users: requests", len(emulator.new_requests()), "", 300)

    # The audit's own reads, one at a time: the scope group's members, then the target's external users.
    clients = await pool.for_pair(pair)
    group = status["assignments"][0]["principalId"]
    started = time.perf_counter()
    members = await clients.source.direct_member_users(group, ("department", "jobTitle"))
    rate = len(members) / (time.perf_counter() - started)
    report(f"audit read of {len(members):,} group members (objects/s)", rate, "obj/s", 5_000, higher_is_better=True)
    started, read = time.perf_counter(), 0
    async for page in clients.target.external_member_pages():
        read += len(page)
    rate = read / (time.perf_counter() - started)
    report(f"audit read of {read:,} target users (objects/s)", rate, "obj/s", 10_000, higher_is_better=True)
    await pool.close()


async def memory_with_pairs(emulator: Emulator, pairs: int, users: int) -> None:
    tenants = []
    for n in range(pairs):
        tenants += [tenant_doc(f"source{n}", users, True), tenant_doc(f"target{n}", 0, False)]
    emulator.seed({"tenants": tenants})
    pool = make_pool(emulator)
    for n in range(pairs):
        await converge(pool, *pair_bodies(emulator, n))
    await pool.close()
    provision_everyone(emulator, users)
    # Measured in a fresh process that imports what the operator imports (kopf, the handlers, the metrics
    # registry) and makes a full audited pass over every pair, its configurations found again by their owner tag.
    script = (
        "import asyncio, json, resource, sys; sys.path.insert(0, 'bench'); import operator_bench as b;"
        "import kopf, ctsync.cli, ctsync.handlers.runtime; from ctsync.metrics import Metrics; Metrics();"
        "e = b.Emulator.__new__(b.Emulator); e.base_url, e.ca_path = sys.argv[1], sys.argv[2];"
        f"asyncio.run(b.converge_all(e, {pairs}));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, emulator.base_url, emulator.ca_path],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    report(f"operator max RSS with {pairs} pairs of {users:,} users (audited)", int(out.split()[-1]) / 1024, "MiB", 250)


async def converge_all(emulator: Emulator, pairs: int) -> None:
    pool = make_pool(emulator)
    for n in range(pairs):
        pair_body, scope_body = pair_bodies(emulator, n)
        await converge(pool, pair_body, scope_body, audit=True)
    await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    audit_users, pairs, pair_users = (5_000, 3, 1_000) if args.quick else (100_000, 20, 10_000)
    print(f"ctsync operator benchmarks ({'quick' if args.quick else 'full'} sizes), python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="ctsync-bench-") as work:
        drift_pass_requests(Path(work) / "handlers")
        emulator = Emulator(Path(work), "--time-scale", "0", "--no-throttling")
        try:
            asyncio.run(audit_and_bulk_reads(emulator, audit_users))
            asyncio.run(memory_with_pairs(emulator, pairs, pair_users))
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
