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
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import httpx
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import new_client_from_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.control_plane import ControlPlane, die_with_parent  # noqa: E402

BIN = Path(sys.executable).parent
GROUP, VERSION, NAMESPACE = "ctsync.io", "v1alpha1", "scale"
APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ctsync-scale-app"))
SECRET = "scale-secret"
ROLES = [
    "User.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.CrossTenantAccess",
    "Synchronization.ReadWrite.All",
    "AuditLog.Read.All",
]
PRODUCTION = ("--profile", "production", "--random-seed", "1", "--time-scale", "1")
FULL_MIX = ((90, 1_000), (9, 10_000), (1, 100_000))
QUICK_MIX = ((9, 200), (1, 2_000))
CLK_TCK = os.sysconf("SC_CLK_TCK")
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


class Emulator:
    """`entrasim serve --profile production`, its clock at real speed."""

    def __init__(self, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "entrasim"), "serve", "--state-dir", str(workdir / "entrasim"), "--port", "0", *PRODUCTION],
            stdout=subprocess.PIPE,
            stderr=open(workdir / "entrasim.log", "wb"),  # noqa: SIM115 - lives as long as the process
            text=True,
            preexec_fn=die_with_parent,
        )
        assert self.proc.stdout is not None
        info = next(json.loads(line) for line in self.proc.stdout if line.startswith("{"))
        self.base_url, self.ca_path = info["baseUrl"], info["caPath"]
        self.control = httpx.Client(base_url=f"{self.base_url}/_entrasim", verify=self.ca_path, timeout=1800)
        self._seen = 0

    def seed(self, doc: dict[str, Any]) -> None:
        self.control.post("/seed", json=doc).raise_for_status()

    def new_requests(self) -> list[dict[str, Any]]:
        """Requests answered since the last call (the emulator keeps the last 50,000: call it often)."""
        entries: list[dict[str, Any]] = self.control.get("/requests", params={"since": self._seen}).json()["requests"]
        if entries:
            self._seen = entries[-1]["seq"]
        return entries

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@dataclass
class Usage:
    """RSS and CPU of a process, sampled every second on a thread."""

    pid: int
    rss_mib: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, MiB)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Usage:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.rss_mib.append((time.monotonic(), rss_mib(self.pid)))
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()

    def peak(self, since: float = 0.0) -> float:
        return max((mib for at, mib in self.rss_mib if at >= since), default=0.0)

    def median(self, since: float) -> float:
        return statistics.median(mib for at, mib in self.rss_mib if at >= since)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise OSError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


class Cluster:
    """The benchmark's namespace on the API server: the pairs, their Secrets, and what the operator wrote."""

    def __init__(self, api: client.ApiClient) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.ext = client.ApiextensionsV1Api(api)

    def install_crds(self) -> None:
        for path in sorted((ROOT / "crds").glob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            self.ext.create_custom_resource_definition(crd)
        until(lambda: all(self._established(p) for p in ("tenantpairs", "syncscopes", "attributemappings")), 60)

    def _established(self, plural: str) -> bool:
        status = self.ext.read_custom_resource_definition(f"{plural}.{GROUP}").status
        conditions = (status.conditions if status else None) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    def create_pairs(self, emulator: Emulator, count: int) -> None:
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        for name, data in (
            ("credentials", {"clientId": APP_ID, "clientSecret": SECRET}),
            ("entrasim-ca", {"ca.crt": Path(emulator.ca_path).read_text()}),
        ):
            self.core.create_namespaced_secret(
                NAMESPACE, client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
            )
        for n in range(count):
            for body in resource_bodies(emulator, n):
                self.custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, body["kind"].lower() + "s", body)

    def items(self, plural: str) -> list[dict[str, Any]]:
        listed = cast(dict[str, Any], self.custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural))
        return list(listed["items"])

    def count(self, plural: str, done: Callable[[dict[str, Any]], bool]) -> int:
        try:
            return sum(1 for item in self.items(plural) if done(item))
        except ApiException:
            return 0


def resource_bodies(emulator: Emulator, n: int) -> list[dict[str, Any]]:
    def side(label: str) -> dict[str, Any]:
        return {
            "tenantId": tenant_id(label),
            "credentialsRef": {"name": "credentials"},
            "cloud": "Custom",
            "endpoints": {
                "authorityHost": emulator.base_url,
                "graphEndpoint": emulator.base_url,
                "caSecretRef": {"name": "entrasim-ca", "key": "ca.crt"},
            },
        }

    name = f"hub-to-target-{n:03d}"
    api_version = f"{GROUP}/{VERSION}"
    return [
        {
            "apiVersion": api_version,
            "kind": "TenantPair",
            "metadata": {"name": name},
            "spec": {"source": side("hub"), "target": side(f"target{n}"), "trust": {"mfa": True}},
        },
        {
            "apiVersion": api_version,
            "kind": "SyncScope",
            "metadata": {"name": name},
            "spec": {
                "tenantPairRef": {"name": name},
                "configurationName": f"Hub to target {n:03d}",
                "scope": {"groups": [{"displayName": f"CTS-Target-{n:03d}"}]},
            },
        },
        {
            "apiVersion": api_version,
            "kind": "AttributeMapping",
            "metadata": {"name": name},
            "spec": {
                "syncScopeRef": {"name": name},
                "mappings": [
                    {"target": "jobTitle", "source": "[jobTitle]"},
                    {"target": "department", "source": "[department]"},
                ],
            },
        },
    ]


def ready(item: dict[str, Any]) -> bool:
    status = item.get("status") or {}
    at_generation = status.get("observedGeneration") == item["metadata"]["generation"]
    return at_generation and any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or ())


def audited(item: dict[str, Any]) -> bool:
    return (item.get("status") or {}).get("scopeSize") is not None


def until(probe: Callable[[], bool], timeout: float, every: float = 2.0) -> float | None:
    """Seconds until probe() holds, None past the timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if probe():
            return time.monotonic() - started
        time.sleep(every)
    return None


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


class Operator:
    def __init__(self, workdir: Path, kubeconfig: Path) -> None:
        self.workdir, self.kubeconfig = workdir, kubeconfig
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTSYNC_")}
        argv = [str(BIN / "ctsync"), "operator", "--kubeconfig", str(self.kubeconfig), "--namespace", NAMESPACE]
        argv += ["--log-format", "json", "--metrics-port", str(free_port()), "--health-port", str(free_port())]
        with open(self.workdir / "operator.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent
            )
        return self.proc.pid

    def resumed_since(self, moment: float) -> int:
        """SyncScopes whose reconcile handler succeeded after `moment` (time.time()), from the JSON log: a
        restarted operator resumes each one with a pass that also audits it (audit times live in memory)."""
        names = set()
        for line in (self.workdir / "operator.log").read_text(errors="replace").splitlines():
            if "\"syncscope.reconcile' succeeded" not in line and "'syncscope.reconcile' succeeded" not in line:
                continue
            entry = json.loads(line)
            if datetime.fromisoformat(entry["timestamp"]).timestamp() > moment:
                names.add(entry["object"]["name"])
        return len(names)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def envtest_assets() -> Path:
    out = subprocess.run([str(ROOT / "hack" / "envtest.sh")], check=True, capture_output=True, text=True).stdout
    return Path(out.strip().splitlines()[-1])


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
        emulator = Emulator(self.workdir)
        operator = Operator(self.workdir, self.plane.kubeconfig)
        try:
            with new_client_from_config(config_file=str(self.plane.kubeconfig)) as api:
                cluster = Cluster(api)
                cluster.install_crds()
                seeded = time.monotonic()
                emulator.seed(seed_document(self.sizes))
                print(f"  entrasim seeded in {time.monotonic() - seeded:.0f} s", flush=True)
                cluster.create_pairs(emulator, len(self.sizes))
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
        resumed = until(lambda: again.take(emulator) and operator.resumed_since(restarted) == pairs, timeout=1800)
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
