"""The `ctsync operator` process at scale: one hub tenant synced to N targets, against the real
kube-apiserver of the test tier and entrasim's production profile (throttling, latency, transient errors and
replication delay), its clock at real speed.

    .venv/bin/python bench/operator_scale.py           # 100 pairs: 90 x 1k, 9 x 10k, 1 x 100k users
    .venv/bin/python bench/operator_scale.py --quick   # 10 pairs: 9 x 200, 1 x 2k, a smoke run

The scopes are groups of the hub's users (the first N of them), so a hub user is in several scopes, as in a
hub that serves many subsidiaries. The operator runs with its default intervals. Each line prints the figure,
its target and PASS/MISS; figures without a target are marked "info"."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
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
    Usage,
    audited,
    cpu_seconds,
    cr_bodies,
    envtest_assets,
    ready,
    until,
)

NAMESPACE = "scale"
PRODUCTION = ("--profile", "production", "--random-seed", "1", "--time-scale", "1")
FULL_MIX = ((90, 1_000), (9, 10_000), (1, 100_000))
QUICK_MIX = ((9, 200), (1, 2_000))
DRIFT_INTERVAL = 300.0  # the operator's default, which this run keeps


def report(name: str, value: float, unit: str, target: float | None = None, higher_is_better: bool = False) -> None:
    if target is None:
        verdict, bound = "info", ""
    else:
        ok = value >= target if higher_is_better else value <= target
        verdict, bound = ("PASS" if ok else "MISS"), f"target {'>=' if higher_is_better else '<='} {target:g} {unit}"
    print(f"{name:<66} {value:>12,.1f} {unit:<9} {bound:<22} {verdict}", flush=True)


def tenant_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ctsync-scale-{label}"))


def scope_sizes(mix: tuple[tuple[int, int], ...]) -> list[int]:
    return [size for count, size in mix for _ in range(count)]


def seed_document(sizes: list[int]) -> dict[str, Any]:
    app = {"appId": APP_ID, "displayName": "ctsync", "roles": ROLES, "secrets": [SECRET]}
    domain = "hub.onmicrosoft.com"
    people = [
        {
            "userPrincipalName": f"u{i:06d}@{domain}",
            "displayName": f"User {i:06d}",
            "department": ("Sales", "Finance", "Engineering")[i % 3],
            "jobTitle": "Analyst",
            "accountEnabled": True,
        }
        for i in range(max(sizes))
    ]
    groups = [
        {"displayName": f"CTS-Target-{n:03d}", "members": [p["userPrincipalName"] for p in people[:size]]}
        for n, size in enumerate(sizes)
    ]
    hub = {"id": tenant_id("hub"), "domain": domain, "displayName": "Hub", "apps": [app], "users": people}
    targets = [
        {"id": tenant_id(f"target{n}"), "domain": f"target{n}.onmicrosoft.com", "displayName": f"Target {n}"}
        for n in range(len(sizes))
    ]
    return {"tenants": [{**hub, "groups": groups}, *({**t, "apps": [app]} for t in targets)]}


def resource_bodies(emulator: Emulator, n: int) -> list[dict[str, Any]]:
    """TenantPair, SyncScope and AttributeMapping from the hub to target n."""
    return cr_bodies(
        emulator, f"hub-to-target-{n:03d}", tenant_id("hub"), tenant_id(f"target{n}"), f"CTS-Target-{n:03d}"
    )


@dataclass
class Traffic:
    """Graph requests the emulator answered, per tenant, and the 429s among them."""

    per_tenant: Counter[str] = field(default_factory=Counter)
    throttled: int = 0

    def take(self, emulator: Emulator) -> bool:
        """Counts what the emulator answered since the last look; True, to chain inside a probe."""
        self.add(emulator.new_requests())
        return True

    def add(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if entry["route"] and entry["tenant"]:
                self.per_tenant[entry["tenant"]] += 1
                self.throttled += entry["status"] == 429


def watch_traffic(emulator: Emulator, traffic: Traffic, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        traffic.add(emulator.new_requests())
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
    traffic.add(emulator.new_requests())


@dataclass
class Run:
    workdir: Path
    sizes: list[int]
    steady_minutes: float

    def __post_init__(self) -> None:
        self.plane = ControlPlane(envtest_assets())

    def __call__(self) -> None:
        started = time.monotonic()
        print(f"  control plane: {self.plane.start()}", flush=True)
        emulator = Emulator(self.workdir, *PRODUCTION)
        operator = Operator(self.workdir, self.plane.kubeconfig, NAMESPACE)
        try:
            with new_client_from_config(config_file=str(self.plane.kubeconfig)) as api:
                cluster = Cluster(api, NAMESPACE)
                cluster.install_crds()
                seeded = time.monotonic()
                emulator.seed(seed_document(self.sizes))
                print(f"  entrasim seeded in {time.monotonic() - seeded:.0f} s", flush=True)
                bodies = [body for n in range(len(self.sizes)) for body in resource_bodies(emulator, n)]
                cluster.create(emulator, CREDENTIALS, bodies)
                emulator.new_requests()
                self.measure(cluster, emulator, operator)
        finally:
            operator.stop()
            emulator.stop()
        print(f"  whole run: {(time.monotonic() - started) / 60:.1f} min", flush=True)

    def measure(self, cluster: Cluster, emulator: Emulator, operator: Operator) -> None:
        pairs = len(self.sizes)
        started = time.monotonic()
        usage = Usage(operator.start()).start()
        traffic = Traffic()
        all_ready = until(
            lambda: (
                traffic.take(emulator)
                and cluster.count("tenantpairs", ready) == pairs
                and cluster.count("syncscopes", ready) == pairs
            ),
            timeout=1800,
        )
        report(f"start to all {pairs} TenantPairs and SyncScopes Ready", seconds_since(started, all_ready), "s", 300)
        first_audit = until(lambda: traffic.take(emulator) and cluster.count("syncscopes", audited) == pairs, 1800)
        report("start to every scope's first audit", seconds_since(started, first_audit), "s")
        report("peak RSS of the operator while starting", usage.peak(), "MiB", 400)

        steady_from, cpu_before = time.monotonic(), cpu_seconds(usage.pid)
        steady = Traffic()
        watch_traffic(emulator, steady, self.steady_minutes * 60)
        window = time.monotonic() - steady_from
        hours = window / 3600
        report("steady RSS of the operator (median)", usage.median(steady_from), "MiB", 300)
        report("CPU seconds per hour at steady state", (cpu_seconds(usage.pid) - cpu_before) / hours, "s/h")
        hub = tenant_id("hub")
        busiest_target = max((n for t, n in steady.per_tenant.items() if t != hub), default=0)
        report("Graph requests per hour to the hub tenant", steady.per_tenant[hub] / hours, "req/h")
        report("Graph requests per hour to the busiest target", busiest_target / hours, "req/h")
        per_interval = sum(steady.per_tenant.values()) / pairs / (window / DRIFT_INTERVAL)
        report("Graph requests per pair per drift interval (passes, audits, logs)", per_interval, "req")
        report("429s answered to the operator (start and steady state)", traffic.throttled + steady.throttled, "", 0)
        usage.stop()
        operator.stop()

        restarted = time.time()
        usage = Usage(operator.start()).start()
        again = Traffic()
        resumed = until(
            lambda: (
                again.take(emulator) and len(set(operator.handled_since(restarted, "syncscope.reconcile"))) == pairs
            ),
            timeout=1800,
        )
        report("restart: until every SyncScope reconciled and audited again", resumed or float("inf"), "s", 300)
        report("restart: peak RSS (all resume at once)", usage.peak(), "MiB", 400)
        report("restart: 429s answered to the operator", again.throttled, "", 0)
        usage.stop()
        operator.stop()


def seconds_since(started: float, waited: float | None) -> float:
    """`until` measured from its own start; this is from `started`. Infinite when it timed out."""
    return float("inf") if waited is None else time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 small pairs, for a smoke run")
    parser.add_argument("--steady-minutes", type=float, default=10.0, help="how long steady state is watched")
    args = parser.parse_args()
    sizes = scope_sizes(QUICK_MIX if args.quick else FULL_MIX)
    print(
        f"ctsync operator at scale: {len(sizes)} pairs, scopes of {sorted(set(sizes))} users, "
        f"entrasim profile production (clock at real speed), {os.cpu_count()} cores, python {sys.version.split()[0]}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="ctsync-scale-") as workdir:
        run = Run(Path(workdir), sizes, args.steady_minutes)
        try:
            run()
        finally:
            run.plane.stop()


if __name__ == "__main__":
    main()
