"""Operator figures against entrasim running as its own process: Graph requests per converged drift pass,
the cost of the scope audit at 100k users, bulk read throughput, and memory with 20 pairs of 10k users.

    .venv/bin/python bench/operator_bench.py            # all figures (a few minutes)
    .venv/bin/python bench/operator_bench.py --quick    # smaller sizes, for a smoke run

Each line prints the figure, its target and PASS/MISS."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.connections import ClientPool
from ctsync.reconcile.converge import converge as run_passes
from ctsync.reconcile.syncscope import reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair

APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ctsync-bench-app"))
SECRET = "bench-secret"
ROLES = [
    "User.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Policy.ReadWrite.CrossTenantAccess",
    "Synchronization.ReadWrite.All",
    "AuditLog.Read.All",
]
CYCLE_SECONDS = 40 * 60


def report(name: str, value: float, unit: str, target: float, higher_is_better: bool = False) -> None:
    ok = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    print(
        f"{name:<58} {value:>10.2f} {unit:<8} target {sign} {target:g} {unit:<8} {'PASS' if ok else 'MISS'}", flush=True
    )


class Emulator:
    """entrasim as a subprocess, throttling off, simulated time moved only by the bench."""

    def __init__(self) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="ctsync-bench-"))
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "entrasim"),
                "serve",
                "--state-dir",
                str(self.state),
                "--port",
                "0",
                "--time-scale",
                "0",
                "--no-throttling",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                info = json.loads(line)
                break
        self.base_url, self.ca_path = info["baseUrl"], info["caPath"]
        self.control = httpx.Client(base_url=f"{self.base_url}/_entrasim", verify=self.ca_path, timeout=600)

    def pid(self) -> int:
        return self.proc.pid

    def seed(self, doc: dict[str, Any]) -> None:
        self.control.post("/reset").raise_for_status()
        self.control.post("/seed", json=doc).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def graph_requests(self) -> list[dict[str, Any]]:
        return self.control.get("/requests").json()["requests"]

    def clear_requests(self) -> None:
        self.control.delete("/requests").raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


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


def pair_bodies(emulator: Emulator, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    def side(label: str) -> dict[str, Any]:
        return {
            "tenantId": tenant_id(label),
            "credentialsRef": {"name": "credentials"},
            "cloud": "Custom",
            "endpoints": {
                "authorityHost": emulator.base_url,
                "graphEndpoint": emulator.base_url,
                "caSecretRef": {"name": "ca"},
            },
        }

    meta = {"name": f"pair-{n}", "namespace": "bench", "generation": 1}
    pair = {
        "metadata": meta,
        "spec": {"source": side(f"source{n}"), "target": side(f"target{n}"), "trust": {"mfa": True}},
    }
    scope = {
        "metadata": meta,
        "spec": {
            "tenantPairRef": {"name": f"pair-{n}"},
            "configurationName": f"Sync {n}",
            "scope": {"groups": [{"displayName": "CTS-Scope"}]},
            "deprovisioning": {"deletionThreshold": 0},
        },
    }
    return pair, scope


def provision_everyone(emulator: Emulator, users: int) -> None:
    """Moves simulated time past the initial cycle: the service spends up to ~4 s per created user."""
    emulator.advance(users * 4 + 2 * CYCLE_SECONDS)


def make_pool(emulator: Emulator) -> ClientPool:
    secrets = {
        "credentials": {"clientId": APP_ID, "clientSecret": SECRET},
        "ca": {"ca.crt": Path(emulator.ca_path).read_text()},
    }

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


async def drift_pass_requests(emulator: Emulator) -> None:
    emulator.seed({"tenants": [tenant_doc("source0", 200, True), tenant_doc("target0", 0, False)]})
    pool = make_pool(emulator)
    pair_body, scope_body = pair_bodies(emulator, 0)
    status = await converge(pool, pair_body, scope_body)
    emulator.clear_requests()
    pair = TenantPair.from_body(pair_body)
    await reconcile_tenant_pair(pair, pool, {"observedGeneration": 1})
    await reconcile_sync_scope(SyncScope.from_body(scope_body), pair, True, [], pool, status, audit=False)
    report("Graph requests per converged drift pass (pair + scope)", len(emulator.graph_requests()), "requests", 15)
    await pool.close()


async def audit_and_bulk_reads(emulator: Emulator, users: int) -> None:
    emulator.seed({"tenants": [tenant_doc("source0", users, True), tenant_doc("target0", 0, False)]})
    pool = make_pool(emulator)
    pair_body, scope_body = pair_bodies(emulator, 0)
    status = await converge(pool, pair_body, scope_body)
    provision_everyone(emulator, users)
    pair = TenantPair.from_body(pair_body)
    emulator.clear_requests()
    started = time.perf_counter()
    outcome = await reconcile_sync_scope(SyncScope.from_body(scope_body), pair, True, [], pool, status, audit=True)
    elapsed = time.perf_counter() - started
    counted = (outcome.status.get("scopeSize"), outcome.status.get("syncedUsers"))
    print(f"  audit counted scope {counted[0]:,}, synced {counted[1]:,}")
    report(f"scope audit of {users:,} users: wall time", elapsed, "s", 30)
    report(f"scope audit of {users:,} users: Graph requests", len(emulator.graph_requests()), "requests", 300)

    clients = await pool.for_pair(pair)
    started = time.perf_counter()
    listed = await clients.target.client.list_all("/users", {"$top": "999", "$select": "id,userPrincipalName"})
    rate = len(listed) / (time.perf_counter() - started)
    report(f"bulk read of {len(listed):,} users (objects per second)", rate, "obj/s", 50_000, higher_is_better=True)
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
    # Measured in a fresh process holding only what an operator would: a full audited pass over every pair,
    # its configurations found again by their owner tag.
    script = (
        "import asyncio, json, resource, sys; sys.path.insert(0, 'bench'); import operator_bench as b;"
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
    emulator = Emulator()
    try:
        asyncio.run(drift_pass_requests(emulator))
        asyncio.run(audit_and_bulk_reads(emulator, audit_users))
        asyncio.run(memory_with_pairs(emulator, pairs, pair_users))
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
