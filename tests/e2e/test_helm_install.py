"""The chart's Deployment is what runs: `ctsync operator` started with exactly the rendered container's args
and env (only the image is replaced, by this checkout), signed in as the chart's ServiceAccount with the
chart's RBAC, against the e2e API server and entrasim. The contoso-to-fabrikam example becomes Ready and
both rendered probes answer 200."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from e2e.helm_support import CHART, container, deployments, render
from e2e.operator_fixtures import (
    BIN,
    OPERATOR_LOGS,
    PAIR,
    START_TIMEOUT,
    Kube,
    OperatorLogReporter,
    Sim,
    example,
    free_port,
    spawn,
    tenant_pair,
    terminate,
    wait_until,
)
from support.sim import SECRET

pytestmark = pytest.mark.e2e

RELEASE = "ctsync"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def pod_env(main: dict[str, Any], pod: dict[str, str]) -> dict[str, str]:
    """The container's environment as the kubelet sets it, for the kinds of entries the chart renders."""
    env = {}
    for var in main.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        path = var["valueFrom"]["fieldRef"]["fieldPath"]
        assert path in pod, f"env {var['name']}: the test cannot resolve {var['valueFrom']}"
        env[var["name"]] = pod[path]
    return env


def probe_url(main: dict[str, Any], probe: str) -> str:
    get = main[probe]["httpGet"]
    assert get.get("scheme", "HTTP") == "HTTP"
    port = get["port"]
    if isinstance(port, str):  # a named container port
        port = next(p["containerPort"] for p in main["ports"] if p["name"] == port)
    return f"http://127.0.0.1:{port}{get['path']}"


def status_of(url: str) -> int | None:
    try:
        with HTTP.open(url, timeout=2) as reply:
            return int(reply.status)
    except OSError:
        return None  # not listening yet, or an error status


def service_account_kubeconfig(
    api_client: client.ApiClient, admin: Path, namespace: str, account: str, path: Path
) -> Path:
    """A kubeconfig for the ServiceAccount on the admin's cluster: what the pod gets from its mounted token."""
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    token = client.CoreV1Api(api_client).create_namespaced_service_account_token(account, namespace, request)
    config = yaml.safe_load(admin.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])
    user = {"name": account, "user": {"token": token.status.token}}
    config.update(
        clusters=[cluster],
        users=[user],
        contexts=[{"name": account, "context": {"cluster": cluster["name"], "user": account}}],
    )
    config["current-context"] = account
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_rendered_deployment_runs_the_example_to_ready(
    request: pytest.FixtureRequest,
    helm: Callable[..., Any],
    apply: Callable[[list[dict[str, Any]]], None],
    api_client: client.ApiClient,
    kube_config: Path,
    entrasim: Sim,
    tenants: Kube,
    tmp_path: Path,
) -> None:
    namespace = tenants.namespace
    # Free ports instead of the defaults, which other processes on this machine may hold.
    ports = ["--set", f"metrics.port={free_port()}", "--set", f"healthPort={free_port()}"]
    # With kopf's peering CRDs: the default release runs two replicas in a KopfPeering.
    objects = render(helm, RELEASE, CHART, "--namespace", namespace, "--include-crds", *ports)
    apply(objects)  # the ServiceAccount and RBAC the operator runs with, and the peering object
    deployment = deployments(objects)["operator"]  # the active replica
    pod_spec = deployment["spec"]["template"]["spec"]
    main = container(deployment)
    assert "command" not in main, "the image's entrypoint, ctsync, must run the args"

    pod = {"metadata.name": f"{deployment['metadata']['name']}-e2e", "metadata.namespace": namespace}
    kubeconfig = service_account_kubeconfig(
        api_client, kube_config, namespace, pod_spec["serviceAccountName"], tmp_path / "kubeconfig"
    )
    # Nothing from this machine's environment: the rendered env, and KUBECONFIG in place of the pod's
    # in-cluster ServiceAccount token.
    env = {**pod_env(main, pod), "KUBECONFIG": str(kubeconfig)}
    log_path = tmp_path / "operator.log"
    if not request.config.pluginmanager.has_plugin("ctsync-operator-logs"):
        request.config.pluginmanager.register(OperatorLogReporter(), "ctsync-operator-logs")
    request.node.stash.setdefault(OPERATOR_LOGS, []).append(log_path)
    operator = spawn([str(BIN / "ctsync"), *main["args"]], log_path, env)
    try:
        liveness, readiness = probe_url(main, "livenessProbe"), probe_url(main, "readinessProbe")

        def live() -> bool:
            assert operator.poll() is None, f"ctsync operator exited with {operator.returncode}"
            return status_of(liveness) == 200

        wait_until(live, START_TIMEOUT, f"the liveness probe {liveness} answers 200")

        for body in (tenant_pair(entrasim), example("syncscope"), example("attributemapping")):
            tenants.create(body)
        for plural in ("tenantpairs", "syncscopes", "attributemappings"):
            tenants.wait_ready(plural, PAIR)

        assert status_of(liveness) == 200
        assert status_of(readiness) == 200
    finally:
        terminate(operator)
    assert SECRET not in log_path.read_text(), "a credentials Secret's value reached the operator log"
