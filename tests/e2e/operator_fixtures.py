"""entrasim and `ctsync operator` as subprocesses next to the e2e API server, as they run in production.

`entrasim` serves both tenants on a free port with simulated time frozen (only `advance` moves it); `tenants`
creates the credentials and CA Secrets in the test namespace; `ctsync_operator` runs the operator on that
namespace with a 5 s drift interval, counting each SyncScope's users at every pass. When a test fails, the
last lines of every operator log it produced are added to the report.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from support.control_plane import die_with_parent
from support.sim import CONTOSO, FABRIKAM, SECRET, contoso_people, credentials_secrets, fetch_token, two_tenant_seed

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants" / "contoso-to-fabrikam"
PAIR = "contoso-to-fabrikam"  # every example object has this name
CYCLE = 3600  # simulated seconds: more than one provisioning cycle
START_TIMEOUT = 30.0
DRIFT_INTERVAL = 5.0
AUDIT_INTERVAL = 1.0  # below the drift interval: every pass counts the users
FAST_LANE_INTERVAL = 1.0  # seconds between two delta rounds of a SyncScope with spec.fastLane
GROUP, VERSION = "ctsync.io", "v1alpha1"
OPERATOR_LOGS = pytest.StashKey[list[Path]]()
T = TypeVar("T")


def spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )


def terminate(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Polls `probe` until it returns something truthy; fails naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout:g} s: {what} (last seen: {last!r})")


@dataclass
class Sim:
    """A running `entrasim serve`, reached over HTTPS with its own CA like any Graph."""

    base_url: str
    ca_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def _verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))

    def control(self, method: str, path: str, body: Any = None) -> Any:
        with httpx.Client(verify=self._verify(), timeout=30) as http:
            reply = http.request(method, f"{self.base_url}/_entrasim{path}", json=body)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def graph(self, tenant_key: str) -> httpx.Client:
        """An httpx client on Graph with a token of that tenant's ctsync app (close it, or use `with`)."""
        return httpx.Client(
            base_url=f"{self.base_url}/v1.0",
            verify=self._verify(),
            headers={"Authorization": f"Bearer {fetch_token(self, tenant_key)}"},
            timeout=30,
        )

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/requests")["requests"])

    def count(self, method: str, route_suffix: str) -> int:
        return sum(
            1
            for r in self.requests()
            if r["method"] == method and (r["route"] or r["path"]).endswith(route_suffix) and r["status"] < 400
        )

    def advance(self, seconds: float) -> None:
        """Moves simulated time; provisioning cycles that fall due run on the way."""
        self.control("POST", "/clock/advance", {"seconds": seconds})

    def tenant_state(self, tenant_id: str) -> dict[str, Any]:
        return dict(self.control("GET", f"/state?tenant={tenant_id}")["tenants"][tenant_id])


@dataclass
class Kube:
    """The test namespace on the e2e API server, for the custom resources and their Events."""

    api: client.ApiClient
    namespace: str
    custom: client.CustomObjectsApi = field(init=False)
    core: client.CoreV1Api = field(init=False)

    def __post_init__(self) -> None:
        self.custom = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "metadata": {**body["metadata"], "namespace": self.namespace}}
        created = self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, _plural(body), body)
        return cast(dict[str, Any], created)

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        try:
            found = self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)
            return cast(dict[str, Any], found)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def patch(self, plural: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        patched = self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, name, body, _content_type="application/merge-patch+json"
        )
        return cast(dict[str, Any], patched)

    def delete(self, plural: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)

    def events(self, kind: str, name: str) -> list[client.CoreV1Event]:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        return list(self.core.list_namespaced_event(self.namespace, field_selector=selector).items)

    def condition(self, plural: str, name: str, type_: str) -> dict[str, Any] | None:
        obj = self.get(plural, name) or {}
        found = (c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == type_)
        return next(found, None)

    def wait_ready(self, plural: str, name: str, timeout: float = 60) -> dict[str, Any]:
        """Waits for Ready=True at the object's current generation; returns the object."""

        def ready() -> dict[str, Any] | None:
            obj = self.get(plural, name)
            if obj is None:
                return None
            status = obj.get("status") or {}
            generation = obj["metadata"]["generation"]
            cond: dict[str, Any] = next((c for c in status.get("conditions") or () if c["type"] == "Ready"), {})
            at_generation = status.get("observedGeneration") == generation
            return obj if at_generation and cond.get("status") == "True" else None

        def describe() -> str:
            obj = self.get(plural, name) or {}
            return json.dumps({"generation": obj.get("metadata", {}).get("generation"), **obj.get("status", {})})

        try:
            return wait_until(ready, timeout, f"{plural}/{name} Ready at its generation")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; status: {describe()}") from None


def _plural(body: dict[str, Any]) -> str:
    return f"{body['kind'].lower()}s"


class OperatorProcess:
    """`ctsync operator` for one namespace; start() again after kill() to restart it on the same log. `options`
    are further flags, say `--peering NAME --priority N` for one of several replicas."""

    def __init__(
        self,
        kubeconfig: Path,
        namespace: str,
        log_path: Path,
        drift_interval: float = DRIFT_INTERVAL,
        options: Sequence[str] = (),
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.log_path = log_path
        self.drift_interval = drift_interval
        self.options = list(options)
        self.health_port = free_port()
        self.metrics_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.time() of the last start, to compare with the log's timestamps

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTSYNC_")}
        # The cluster is named by the flags, as for the other commands; KUBECONFIG leads nowhere.
        env["KUBECONFIG"] = str(self.log_path.with_name("no-kubeconfig"))
        argv = [
            str(BIN / "ctsync"),
            "operator",
            "--kubeconfig",
            str(self.kubeconfig),
            "--context",
            "e2e",
            "--namespace",
            self.namespace,
            "--drift-interval",
            f"{self.drift_interval:g}",
            "--audit-interval",
            f"{AUDIT_INTERVAL:g}",
            "--fast-lane-interval",
            f"{FAST_LANE_INTERVAL:g}",
            "--log-format",
            "text",
            "--health-port",
            str(self.health_port),
            "--metrics-port",
            str(self.metrics_port),
            *self.options,
        ]
        self.started_at = time.time()
        self.process = spawn(argv, self.log_path, env)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"ctsync operator exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with opener.open(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1) as reply:
                    return bool(reply.status == 200)
            except OSError:
                return False

        wait_until(healthy, START_TIMEOUT, "the operator's /healthz answers")

    def kill(self) -> None:
        """SIGKILL: no cleanup handler runs, nothing is flushed."""
        if self.process is not None:
            terminate(self.process, signal.SIGKILL)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


class OperatorLogReporter:
    """Adds the tail of each operator log a failed test produced to its report."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        if report.failed:
            for path in item.stash.get(OPERATOR_LOGS, []):
                lines = path.read_text(errors="replace").splitlines()[-80:] if path.exists() else []
                report.sections.append((f"ctsync operator log {path.name} (last 80 lines)", "\n".join(lines)))
        return report


@pytest.fixture
def entrasim(tmp_path: Path) -> Iterator[Sim]:
    """entrasim with Contoso (5 members, the first 3 in group CTS-Fabrikam) and an empty Fabrikam."""
    yield from serve_entrasim(tmp_path)


def serve_entrasim(tmp_path: Path, *options: str) -> Iterator[Sim]:
    """The `entrasim` fixture's body; `options` go to `entrasim serve` (say `--profile production`)."""
    state_dir = tmp_path / "entrasim"
    log_path = tmp_path / "entrasim.log"
    proc = spawn(
        [str(BIN / "entrasim"), "serve", "--state-dir", str(state_dir), "--port", "0", "--time-scale", "0", *options],
        log_path,
    )
    try:

        def address() -> dict[str, Any] | None:
            if proc.poll() is not None:
                raise AssertionError(f"entrasim exited with {proc.returncode}: {log_path.read_text()}")
            for line in log_path.read_text().splitlines():
                if line.startswith("{"):
                    return dict(json.loads(line))
            return None

        found = wait_until(address, START_TIMEOUT, "entrasim prints its address")
        sim = Sim(found["baseUrl"], Path(found["caPath"]), proc, log_path)
        sim.control("POST", "/seed", two_tenant_seed(**contoso_people(5, in_group=3)))
        yield sim
        errors = sim.control("GET", "/state")["internalErrors"]
        assert not errors, f"entrasim answered 500 for: {errors}"
    finally:
        terminate(proc)


@pytest.fixture
def tenants(entrasim: Sim, api_client: client.ApiClient, namespace: str) -> Kube:
    """The test namespace holding both tenants' credentials Secrets and entrasim's CA."""
    kube = Kube(api_client, namespace)
    for name, data in credentials_secrets(entrasim).items():
        secret = client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
        kube.core.create_namespaced_secret(namespace, secret)
    return kube


@pytest.fixture
def ctsync_operator(
    request: pytest.FixtureRequest, kube_config: Path, tenants: Kube, tmp_path: Path
) -> Iterator[OperatorProcess]:
    """A running `ctsync operator --kubeconfig <e2e> --context e2e --namespace <test namespace>
    --drift-interval 5 --audit-interval 1 --fast-lane-interval 1 --log-format text`; its /metrics is on
    `metrics_port`. Parametrized indirectly, the parameter is another drift interval."""
    drift_interval = getattr(request, "param", DRIFT_INTERVAL)
    operator = OperatorProcess(kube_config, tenants.namespace, tmp_path / "operator.log", drift_interval)
    report_log_on_failure(request, operator)
    operator.start()
    yield operator
    operator.stop()
    assert SECRET not in operator.log(), "a credentials Secret's value reached the operator log"


@pytest.fixture
def operators(
    request: pytest.FixtureRequest, kube_config: Path, tenants: Kube, tmp_path: Path
) -> Iterator[Callable[..., OperatorProcess]]:
    """operators(name, *options) starts one more `ctsync operator` like `ctsync_operator`'s, with further
    flags (a peering, a shard), logging to <name>.log; all are stopped at the end."""
    started: list[OperatorProcess] = []

    def start(name: str, *options: str) -> OperatorProcess:
        operator = OperatorProcess(kube_config, tenants.namespace, tmp_path / f"{name}.log", options=options)
        report_log_on_failure(request, operator)
        started.append(operator)
        operator.start()
        return operator

    yield start
    for operator in started:
        operator.stop()
    for operator in started:
        assert SECRET not in operator.log(), f"a credentials Secret's value reached {operator.log_path.name}"


def report_log_on_failure(request: pytest.FixtureRequest, operator: OperatorProcess) -> None:
    if not request.config.pluginmanager.has_plugin("ctsync-operator-logs"):
        request.config.pluginmanager.register(OperatorLogReporter(), "ctsync-operator-logs")
    request.node.stash.setdefault(OPERATOR_LOGS, []).append(operator.log_path)


def example(kind: str) -> dict[str, Any]:
    return dict(yaml.safe_load((EXAMPLES / f"{kind}.yaml").read_text()))


def tenant_pair(sim: Sim, **spec: Any) -> dict[str, Any]:
    """examples/.../tenantpair.yaml with both tenants moved to the emulator (cloud Custom)."""
    body = example("tenantpair")
    for side, tenant_id, secret in (("source", CONTOSO, "contoso"), ("target", FABRIKAM, "fabrikam")):
        body["spec"][side] = {
            "tenantId": tenant_id,
            "credentialsRef": {"name": f"{secret}-credentials"},
            "cloud": "Custom",
            "endpoints": {
                "authorityHost": sim.base_url,
                "graphEndpoint": sim.base_url,
                "caSecretRef": {"name": "entrasim-ca"},
            },
        }
    body["spec"].update(spec)
    return body


def apply_pair(kube: Kube, sim: Sim, **spec: Any) -> dict[str, Any]:
    kube.create(tenant_pair(sim, **spec))
    return kube.wait_ready("tenantpairs", PAIR)


def apply_scope_and_mapping(kube: Kube) -> dict[str, Any]:
    kube.create(example("syncscope"))
    kube.create(example("attributemapping"))
    return kube.wait_ready("syncscopes", PAIR, timeout=60)


def allow_sync(sim: Sim, allowed: bool) -> None:
    """Sets Fabrikam's consent to inbound synchronization from Contoso, behind ctsync's back."""
    with sim.graph("fabrikam") as graph:
        graph.patch(
            f"/policies/crossTenantAccessPolicy/partners/{CONTOSO}/identitySynchronization",
            json={"userSyncInbound": {"isSyncAllowed": allowed}},
        ).raise_for_status()


def contoso_group_id(sim: Sim) -> str:
    state = sim.tenant_state(CONTOSO)
    return str(next(g["id"] for g in state["groups"] if g["displayName"] == "CTS-Fabrikam"))


def guests(sim: Sim) -> dict[str, str]:
    """Fabrikam's synced users: source user name -> "active" or "deleted"."""
    state = sim.tenant_state(FABRIKAM)
    found = {}
    for bucket, users in (("active", state["users"]), ("deleted", state["deletedItems"])):
        for user in users:
            upn = user.get("userPrincipalName") or ""
            if "#EXT#" in upn:
                found[upn.split("_", 1)[0]] = bucket
    return found
