"""The processes a benchmark of the operator runs: entrasim, a namespace on the test tier's kube-apiserver,
and `ctsync operator` itself, with its memory and CPU read from /proc."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import httpx
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.control_plane import ControlPlane, die_with_parent  # noqa: E402

BIN = Path(sys.executable).parent
GROUP, VERSION = "ctsync.io", "v1alpha1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The app ctsync signs in as, in every tenant a benchmark seeds, with every permission ctsync asks for
# (docs/permissions.md), the optional ones included.
APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ctsync-bench-app"))
SECRET = "bench-secret"
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
CREDENTIALS = {"credentials": {"clientId": APP_ID, "clientSecret": SECRET}}  # the Secret cr_bodies names

__all__ = ["ControlPlane"]


class Emulator:
    """`entrasim serve` as its own process, with the given options (a profile, a time scale...)."""

    def __init__(self, workdir: Path, *options: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(BIN / "entrasim"), "serve", "--state-dir", str(workdir / "entrasim"), "--port", "0", *options],
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
        self.control.post("/reset").raise_for_status()
        self.control.post("/seed", json=doc).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

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
    """A benchmark's namespace on the API server: the pairs, their Secrets, and what the operator wrote."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.namespace = namespace
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

    def create(self, emulator: Emulator, secrets: dict[str, dict[str, str]], bodies: list[dict[str, Any]]) -> None:
        """The namespace, the Secrets (with the emulator's CA as `entrasim-ca`) and the custom resources."""
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=self.namespace)))
        for name, data in {**secrets, "entrasim-ca": {"ca.crt": Path(emulator.ca_path).read_text()}}.items():
            self.core.create_namespaced_secret(
                self.namespace, client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
            )
        for body in bodies:
            plural = body["kind"].lower() + "s"
            self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, body)

    def items(self, plural: str) -> list[dict[str, Any]]:
        listed = cast(dict[str, Any], self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural))
        return list(listed["items"])

    def count(self, plural: str, done: Callable[[dict[str, Any]], bool]) -> int:
        try:
            return sum(1 for item in self.items(plural) if done(item))
        except ApiException:
            return 0


def cr_bodies(
    emulator: Emulator, name: str, source_tenant: str, target_tenant: str, group: str
) -> list[dict[str, Any]]:
    """TenantPair, SyncScope and AttributeMapping `name` from one tenant of the emulator to another, the
    scope being one group; credentials in the Secrets `credentials` and `entrasim-ca` (see Cluster.create)."""

    def side(tenant_id: str) -> dict[str, Any]:
        return {
            "tenantId": tenant_id,
            "credentialsRef": {"name": "credentials"},
            "cloud": "Custom",
            "endpoints": {
                "authorityHost": emulator.base_url,
                "graphEndpoint": emulator.base_url,
                "caSecretRef": {"name": "entrasim-ca", "key": "ca.crt"},
            },
        }

    def resource(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name}, "spec": spec}

    mappings = [{"target": "jobTitle", "source": "[jobTitle]"}, {"target": "department", "source": "[department]"}]
    return [
        resource("TenantPair", {"source": side(source_tenant), "target": side(target_tenant), "trust": {"mfa": True}}),
        resource(
            "SyncScope",
            {"tenantPairRef": {"name": name}, "configurationName": name, "scope": {"groups": [{"displayName": group}]}},
        ),
        resource("AttributeMapping", {"syncScopeRef": {"name": name}, "mappings": mappings}),
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


class Operator:
    """`ctsync operator` for one namespace, its JSON log in the work directory; `options` are more flags."""

    def __init__(self, workdir: Path, kubeconfig: Path, namespace: str, *options: str) -> None:
        self.workdir, self.kubeconfig, self.namespace, self.options = workdir, kubeconfig, namespace, options
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTSYNC_")}
        argv = [str(BIN / "ctsync"), "operator", "--kubeconfig", str(self.kubeconfig), "--namespace", self.namespace]
        argv += ["--log-format", "json", "--metrics-port", str(free_port()), "--health-port", str(free_port())]
        argv += self.options
        with open(self.workdir / "operator.log", "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent
            )
        return self.proc.pid

    def handled_since(self, moment: float, handler: str) -> list[str]:
        """Names of the objects `handler` (a kopf handler id) succeeded on after `moment` (time.time()),
        in order, from the JSON log."""
        names = []
        for line in (self.workdir / "operator.log").read_text(errors="replace").splitlines():
            if f"'{handler}' succeeded" not in line:
                continue
            entry = json.loads(line)
            if datetime.fromisoformat(entry["timestamp"]).timestamp() > moment:
                names.append(entry["object"]["name"])
        return names

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def envtest_assets() -> Path:
    out = subprocess.run([str(ROOT / "hack" / "envtest.sh")], check=True, capture_output=True, text=True).stdout
    return Path(out.strip().splitlines()[-1])
