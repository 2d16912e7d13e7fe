"""The CLI against a real API server: `ctsync status` reads what the operator wrote in status, and `ctsync plan`
reads the credentials Secrets through the kubeconfig."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from entrasim.seed import load_seed
from entrasim.server import EntraSim
from support.cli import cli_env, one_line_error, run_ctsync, write_yaml
from support.sim import CONTOSO, credentials_secrets, sync_scope_body, tenant_pair_body, two_tenant_seed

pytestmark = pytest.mark.e2e

GROUP, VERSION = "ctsync.io", "v1alpha1"


def condition(type_: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "observedGeneration": 1,
    }


def created(custom: client.CustomObjectsApi, namespace: str, body: dict[str, Any], status: dict[str, Any]) -> None:
    """Creates a ctsync object and writes its status through the status subresource, as the operator does."""
    plural = {"TenantPair": "tenantpairs", "SyncScope": "syncscopes"}[body["kind"]]
    body = {**body, "metadata": {"name": body["metadata"]["name"]}}
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        plural,
        body["metadata"]["name"],
        {"status": status},
        _content_type="application/merge-patch+json",
    )


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[EntraSim]:
    server = EntraSim(tmp_path / "entrasim", time_scale=0).start()
    server.call(lambda world: load_seed(world, two_tenant_seed()))
    yield server
    server.stop()


@pytest.fixture
def reported(custom: client.CustomObjectsApi, namespace: str, sim: EntraSim) -> datetime:
    """A TenantPair that is Ready, and a SyncScope that is Ready but found drift; returns when its last
    cycle succeeded."""
    last_cycle = datetime.now(UTC) - timedelta(minutes=12)
    ready = condition("Ready", "True", "Reconciled", "both tenants match the spec")
    created(custom, namespace, tenant_pair_body(sim), {"observedGeneration": 1, "conditions": [ready]})
    drifted = condition("Drifted", "True", "DriftDetected", "~ source synchronization job: start")
    scope_status = {
        "observedGeneration": 1,
        "conditions": [ready, drifted],
        "jobCode": "Active",
        "scopeSize": 270,
        "syncedUsers": 268,
        "lastSuccessfulExecutionTime": last_cycle.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "upnSample": [{"source": "ada@contoso.com", "target": "ada_contoso.com#EXT#@fabrikam.onmicrosoft.com"}],
    }
    created(custom, namespace, sync_scope_body(), scope_status)
    return last_cycle


def test_status_shows_pairs_and_scopes(kube_config, namespace, reported, tmp_path):
    result = run_ctsync("status", "--kubeconfig", str(kube_config), "-n", namespace, env=cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "KIND        NAME                 READY  REASON      JOB     SYNCED/SCOPE  LAST SYNC  DRIFT",
        "TenantPair  contoso-to-fabrikam  True   Reconciled  -       -             -          -",
        "SyncScope   contoso-to-fabrikam  True   Reconciled  Active  268/270       12m ago    yes",
        "! SyncScope " + namespace + "/contoso-to-fabrikam: ~ source synchronization job: start",
        "SyncScope " + namespace + "/contoso-to-fabrikam: named in the target like "
        "ada_contoso.com#EXT#@fabrikam.onmicrosoft.com",
    ]


def test_status_as_json_and_across_namespaces(kube_config, namespace, reported, tmp_path):
    env = cli_env(tmp_path)
    result = run_ctsync("status", "--kubeconfig", str(kube_config), "-A", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    ours = [r for r in json.loads(result.stdout)["resources"] if r["namespace"] == namespace]
    assert [(r["kind"], r["ready"], r["reason"], r["drifted"]) for r in ours] == [
        ("TenantPair", "True", "Reconciled", None),
        ("SyncScope", "True", "Reconciled", True),
    ]
    assert (ours[1]["jobCode"], ours[1]["scopeSize"], ours[1]["syncedUsers"]) == ("Active", 270, 268)
    table = run_ctsync("status", "--kubeconfig", str(kube_config), "--all-namespaces", env=env).stdout
    assert table.splitlines()[0].startswith("NAMESPACE ")
    assert any(line.startswith(namespace) and "268/270" in line for line in table.splitlines())


def test_status_of_an_empty_namespace(kube_config, namespace, tmp_path):
    result = run_ctsync("status", "--kubeconfig", str(kube_config), "-n", namespace, env=cli_env(tmp_path))
    assert result.returncode == 0
    assert result.stdout == f"No ctsync resources found in namespace {namespace}.\n"


def test_status_of_an_unreachable_cluster(kube_config, tmp_path, unused_tcp_port):
    config = kube_config.read_text().replace(
        kube_config.read_text().split("server: ")[1].split()[0], f"https://127.0.0.1:{unused_tcp_port}"
    )
    dead = tmp_path / "kubeconfig"
    dead.write_text(config)
    result = run_ctsync("status", "--kubeconfig", str(dead), env=cli_env(tmp_path))
    assert result.returncode == 1
    error = one_line_error(result)
    assert error.startswith(f"ctsync status: cannot reach the Kubernetes API at https://127.0.0.1:{unused_tcp_port}: ")
    assert error.endswith("(hint: check that the cluster is up and that --kubeconfig/--context point at it)")


def test_status_without_a_kubeconfig(tmp_path):
    result = run_ctsync("status", env=cli_env(tmp_path))
    assert result.returncode == 1
    assert one_line_error(result) == (
        "ctsync status: cannot load the kubeconfig: Invalid kube-config file. No configuration found. "
        "(hint: pass --kubeconfig FILE and --context NAME, or set KUBECONFIG)"
    )


def test_plan_reads_the_credentials_secrets_of_the_namespace(api_client, kube_config, namespace, sim, tmp_path):
    core = client.CoreV1Api(api_client)
    for name, data in credentials_secrets(sim).items():
        if name != "fabrikam-credentials":
            core.create_namespaced_secret(namespace, {"metadata": {"name": name}, "stringData": data})
    pair = tenant_pair_body(sim)
    pair["metadata"] = {"name": pair["metadata"]["name"]}  # the namespace comes from -n
    manifests = write_yaml(tmp_path / "pair.yaml", pair)
    plan = ("plan", str(manifests), "--kubeconfig", str(kube_config), "-n", namespace)
    result = run_ctsync(*plan, env=cli_env(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:3] == [
        f"  error: DependencyNotReady: target tenant: credentials Secret {namespace}/fabrikam-credentials does "
        "not exist",
        f"  hint: create the Secret(s) {namespace}/fabrikam-credentials (clientId plus clientSecret), "
        "or pass --credentials FILE",
    ]

    secret = credentials_secrets(sim)["fabrikam-credentials"]
    core.create_namespaced_secret(namespace, {"metadata": {"name": "fabrikam-credentials"}, "stringData": secret})
    result = run_ctsync(*plan, env=cli_env(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"TenantPair {namespace}/contoso-to-fabrikam: 5 change(s)"


CTS_GROUP = {"displayName": "CTS-Fabrikam", "mailEnabled": False, "mailNickname": "cts", "securityEnabled": True}


def test_explain_reads_the_cluster_and_both_tenants(api_client, kube_config, namespace, reported, sim, tmp_path):
    """The objects and the status the operator wrote come from the cluster, the credentials from its Secrets;
    both tenants are read now, in dry runs (nothing configured there: the pair's writes are all pending)."""
    explain = ("explain", f"syncscope/{namespace}/contoso-to-fabrikam", "--kubeconfig", str(kube_config), "-o", "json")
    unread = run_ctsync(*explain, env=cli_env(tmp_path))
    assert unread.returncode == 3, unread.stdout + unread.stderr
    report = json.loads(unread.stdout)
    assert report["live"] is False and report["pendingChanges"] is None
    assert f"create the Secret(s) {namespace}/contoso-credentials" in report["liveError"]
    assert report["syncScope"]["counts"]["syncedUsers"] == 268  # as the operator last reported it
    assert ("Drifted", "DriftDetected") in {(w["condition"], w["reason"]) for w in report["warnings"]}

    core = client.CoreV1Api(api_client)
    for name, data in credentials_secrets(sim).items():
        core.create_namespaced_secret(namespace, {"metadata": {"name": name}, "stringData": data})
    read = run_ctsync(*explain, env=cli_env(tmp_path))
    assert read.returncode == 3, read.stdout + read.stderr
    report = json.loads(read.stdout)
    assert report["live"] is True and report["pendingChanges"] is None  # the scope could not be planned
    assert (report["warnings"][0]["reason"], report["warnings"][0]["message"]) == (
        "DependencyNotReady",
        "spec.scope.groups[0]: no group named 'CTS-Fabrikam' in the source tenant",
    )

    sim.call(lambda world: world.tenant(CONTOSO).directory.create_group(CTS_GROUP))
    read = run_ctsync(*explain, env=cli_env(tmp_path))
    assert read.returncode == 3, read.stdout + read.stderr
    report = json.loads(read.stdout)
    assert report["live"] is True and len(report["pendingChanges"]["target"]) == 3
    # The status says both were reconciled at this generation: what the tenants lack now is drift.
    assert [(w["resource"].split()[0], w["reason"]) for w in report["warnings"]] == [
        ("TenantPair", "DriftDetected"),
        ("SyncScope", "DriftDetected"),
    ]
    assert [r for r in sim.call(lambda world: world.requests.since(0)) if r["method"] != "GET"] == []

    text = run_ctsync(*explain[:-2], env=cli_env(tmp_path)).stdout.splitlines()
    assert text[0] == f"SyncScope {namespace}/contoso-to-fabrikam: needs attention (2 warning(s))"
    assert "        target: 3 change(s) pending" in text
    # What the operator last wrote, under what was read now.
    assert "        the operator reported Ready True Reconciled: both tenants match the spec" in text
    assert report["syncScope"]["reported"] == {
        "status": "True",
        "reason": "Reconciled",
        "message": "both tenants match the spec",
        "current": True,
    }
