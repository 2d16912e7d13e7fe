"""The Helm chart: helm lint, the values schema, and every rendered object applied to a real API server."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ctsync.config import Settings, Shard, add_operator_arguments, resolve
from e2e.helm_support import CHART, ROOT, TESTDATA, args, container, deployments, establish, render

pytestmark = pytest.mark.e2e

ALL_ENABLED = TESTDATA / "helm" / "all-enabled.yaml"
# The chart renders ctsync's CRDs from files/crds/, a copy of crds/; its crds/ holds only kopf's peering CRDs.
CHART_CRDS = CHART / "files" / "crds"
KOPF_CRDS = Path("kopf") / "kopf.dev_peerings.yaml"


# ---------------------------------------------------------------------------------------------------
# Files


def test_chart_crds_are_the_repository_crds() -> None:
    repo = {p.name: p.read_bytes() for p in sorted((ROOT / "crds").glob("*.yaml"))}
    chart = {p.name: p.read_bytes() for p in sorted(CHART_CRDS.glob("*.yaml"))}
    assert repo, "no CRDs in crds/"
    differing = sorted(name for name in repo.keys() | chart.keys() if repo.get(name) != chart.get(name))
    # The fix for a difference: cp crds/*.yaml charts/ctsync/files/crds/
    assert not differing, f"charts/ctsync/files/crds/ is not a copy of crds/: {differing} differ"
    installed_once = sorted(p.relative_to(CHART / "crds") for p in (CHART / "crds").rglob("*") if p.is_file())
    # Helm installs crds/ once and never upgrades it: ctsync's CRDs belong in files/crds/.
    assert installed_once == [KOPF_CRDS], "only kopf's CRDs belong in charts/ctsync/crds/"


def test_values_schema_rejects_unknown_keys_at_every_level() -> None:
    # A typo in a values file must fail, not be ignored: every object of the schema is closed.
    open_objects = []

    def walk(schema: dict[str, Any], path: str) -> None:
        if schema.get("type") == "object" and schema.get("additionalProperties", True) is True:
            open_objects.append(path)
        for name, child in schema.get("properties", {}).items():
            walk(child, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{path}[]")

    schema = json.loads((CHART / "values.schema.json").read_text())
    walk(schema, "values")
    # global is helm's channel from a parent chart; affinity's terms are Kubernetes types.
    allowed = {"values.global"} | {f"values.affinity.{k}" for k in ("nodeAffinity", "podAffinity", "podAntiAffinity")}
    assert set(open_objects) == allowed


# ---------------------------------------------------------------------------------------------------
# helm lint and the values schema


@pytest.mark.parametrize("values", [[], ["-f", ALL_ENABLED]], ids=["defaults", "all-enabled"])
def test_lint(helm: Callable[..., subprocess.CompletedProcess[str]], values: list[str | Path]) -> None:
    result = helm("lint", "--strict", CHART, *values)
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass(frozen=True)
class BadValues:
    id: str
    args: list[str]
    named: str  # what the error must contain to name the key
    # helm lint reports a template's `fail` as INFO: only checks in the schema fail the lint.
    lint_fails: bool = True


BAD_VALUES = [
    BadValues("wrong-type", ["--set", "metrics.port=abc"], "'/metrics/port': got string, want integer"),
    BadValues("unknown-key", ["--set", "metrics.prot=8080"], "'/metrics': additional properties 'prot'"),
    BadValues(
        "unknown-nested-key",
        ["--set", "serviceAccount.annotaions.a=b"],
        "'/serviceAccount': additional properties 'annotaions'",
    ),
    BadValues("bad-enum", ["--set", "logFormat=xml"], "'/logFormat': value must be one of"),
    BadValues("negative-port", ["--set", "healthPort=-1"], "'/healthPort': minimum"),
    BadValues("port-too-high", ["--set", "metrics.port=70000"], "'/metrics/port': maximum"),
    BadValues("drift-interval-zero", ["--set", "driftInterval=0"], "'/driftInterval': minimum"),
    BadValues("audit-interval-too-short", ["--set", "auditInterval=5"], "'/auditInterval': minimum"),
    BadValues("fast-lane-interval-too-short", ["--set", "fastLaneInterval=1"], "'/fastLaneInterval': minimum"),
    BadValues("too-many-audits", ["--set", "maxConcurrentAudits=100"], "'/maxConcurrentAudits': maximum"),
    BadValues(
        "no-graph-requests", ["--set", "graph.maxConcurrentRequests=0"], "'/graph/maxConcurrentRequests': minimum"
    ),
    BadValues("namespace-glob", ["--set", "watch.namespaces={team-*}"], "'/watch/namespaces/0'"),
    BadValues(
        "namespaces-and-all-namespaces",
        ["--set", "watch.allNamespaces=true", "--set", "watch.namespaces={team-a}"],
        "'/watch/namespaces': maxItems",
    ),
    BadValues(
        "standby-priority-not-lower",
        [
            *("--set", "peering.enabled=true", "--set", "peering.standby.enabled=true"),
            *("--set", "peering.priority=10", "--set", "peering.standby.priority=10"),
        ],
        "peering.standby.priority (10) must be lower than peering.priority (10)",
        lint_fails=False,
    ),
    BadValues(
        "same-ports",
        ["--set", "healthPort=8080"],
        "metrics.port and healthPort are both 8080",
        lint_fails=False,
    ),
    BadValues("no-shards", ["--set", "shards=0"], "'/shards': minimum"),
    BadValues("too-many-shards", ["--set", "shards=17"], "'/shards': maximum"),
    BadValues("bad-pull-policy", ["--set", "image.pullPolicy=Sometimes"], "'/image/pullPolicy'"),
    BadValues("bad-duration", ["--set", "metrics.serviceMonitor.interval=30"], "'/metrics/serviceMonitor/interval'"),
    BadValues("bad-client-id", ["--set", "workloadIdentity.clientId=my-app"], "'/workloadIdentity/clientId'"),
]


@pytest.mark.parametrize("case", BAD_VALUES, ids=lambda case: case.id)
def test_bad_values_fail_naming_the_key(helm: Callable[..., subprocess.CompletedProcess[str]], case: BadValues) -> None:
    rendered = helm("template", "ctsync", CHART, *case.args)
    assert rendered.returncode != 0
    assert case.named in rendered.stderr
    if case.lint_fails:
        linted = helm("lint", "--strict", CHART, *case.args)
        assert linted.returncode != 0
        # helm lint prints its findings on stdout and only the verdict on stderr.
        assert case.named in linted.stdout


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], [Settings(namespaces=("ops",), peering="ctsync", priority=p) for p in (100, 50)]),
        (["--set", "peering.enabled=false"], [Settings(namespaces=("ops",))]),
        (
            ["-f", ALL_ENABLED],
            [
                Settings(
                    namespaces=("team-a", "team-b"),
                    drift_interval=120,
                    audit_interval=1800,
                    log_format="text",
                    peering="ctsync-peering",
                    priority=priority,
                )
                for priority in (200, 100)  # the active operator, then the standby
            ],
        ),
        (
            ["--set", "watch.allNamespaces=true,metrics.port=9090,healthPort=9091,driftInterval=60,fastLaneInterval=5"],
            [
                Settings(
                    metrics_port=9090,
                    health_port=9091,
                    drift_interval=60,
                    fast_lane_interval=5,
                    peering="ctsync",
                    priority=p,
                )
                for p in (100, 50)
            ],
        ),
        (
            ["--set", "shards=2"],
            [
                Settings(namespaces=("ops",), peering=f"ctsync-shard-{i}", priority=p, shard=Shard(i, 2))
                for i in (0, 1)
                for p in (100, 50)  # each shard's active operator, then its standby
            ],
        ),
    ],
    ids=["defaults", "standalone", "all-enabled", "all-namespaces", "shards"],
)
def test_operator_parses_the_rendered_args(
    helm: Callable[..., subprocess.CompletedProcess[str]], values: list[str | Path], expected: list[Settings]
) -> None:
    # The contract between the chart and `ctsync operator`: the Deployment's args mean what the values say.
    deployments = [o for o in render(helm, "ctsync", CHART, "--namespace", "ops", *values) if o["kind"] == "Deployment"]
    parsed = []
    for deployment in deployments:
        command, *flags = args(deployment)
        assert command == "operator"
        parser = argparse.ArgumentParser()
        add_operator_arguments(parser)
        parsed.append(resolve(parser.parse_args(flags), {}, parser))
    assert parsed == expected


def test_crds_are_rendered_from_the_repository_crds(helm: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    rendered = {o["metadata"]["name"]: o for o in render(helm, "ctsync", CHART, "--show-only", "templates/crds.yaml")}
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        source = yaml.safe_load(path.read_text())
        crd = rendered.pop(source["metadata"]["name"])
        metadata = crd.pop("metadata")
        assert crd == {k: v for k, v in source.items() if k != "metadata"}, f"{path.name}: rendered differently"
        # The chart adds its labels and the keep policy; the rest of metadata is the file's.
        assert metadata.pop("annotations") == {"helm.sh/resource-policy": "keep"}
        assert metadata.pop("labels")["app.kubernetes.io/managed-by"] == "Helm"
        assert metadata == source["metadata"]
    assert not rendered, f"rendered CRDs that crds/ lacks: {sorted(rendered)}"


def test_image_defaults_to_the_app_version(helm: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    # A release publishes image <repository>:<appVersion> with the chart (tests/unit/release/test_release.py).
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    repository = yaml.safe_load((CHART / "values.yaml").read_text())["image"]["repository"]
    for deployment in deployments(render(helm, "ctsync", CHART)).values():
        assert container(deployment)["image"] == f"{repository}:{app_version}"


def test_released_chart_runs_the_released_image(
    helm: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    # What the release workflow publishes for REGISTRY: chart <version> running image REGISTRY/ctsync:<version>.
    made = subprocess.run(
        ["make", "-s", "chart", "REGISTRY=registry.example.org/platform", f"DIST={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    (package,) = tmp_path.glob("ctsync-*.tgz")
    shown = helm("show", "chart", package)
    assert shown.returncode == 0, shown.stderr
    chart = yaml.safe_load(shown.stdout)
    assert package.name == f"ctsync-{chart['version']}.tgz" and chart["appVersion"] == chart["version"]
    deployment = deployments(render(helm, "ctsync", package))["operator"]
    assert container(deployment)["image"] == f"registry.example.org/platform/ctsync:{chart['version']}"


def test_crds_values(helm: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    not_kept = render(helm, "ctsync", CHART, "--set", "crds.keep=false", "--show-only", "templates/crds.yaml")
    assert len(not_kept) == len(list((ROOT / "crds").glob("*.yaml")))
    assert not any("annotations" in crd["metadata"] for crd in not_kept)
    # Managed elsewhere: no CRD among the templates (helm template without --include-crds).
    assert "CustomResourceDefinition" not in kinds(render(helm, "ctsync", CHART, "--set", "crds.enabled=false"))


# ---------------------------------------------------------------------------------------------------
# Rendered objects on a real API server


@pytest.fixture(scope="session")
def monitoring_crds(api_client: client.ApiClient) -> None:
    """prometheus-operator's ServiceMonitor and PrometheusRule CRDs (minimal test copies), established."""
    crds = yaml.safe_load_all((TESTDATA / "monitoring.coreos.com-crds.yaml").read_text())
    establish(api_client, list(crds))


@pytest.fixture
def watched(api_client: client.ApiClient) -> Iterator[list[str]]:
    """Two more fresh namespaces for the operator to serve."""
    core = client.CoreV1Api(api_client)
    names = [f"ctsync-e2e-team-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield names
    for name in names:
        core.delete_namespace(name)


def can(api: client.ApiClient, user: str, verb: str, resource: str, namespace: str | None = None) -> bool:
    """Whether RBAC lets `user` do `verb` on "plural", "group/plural" or "group/plural/subresource"."""
    parts = resource.split("/")
    group, plural, *subresource = parts if len(parts) > 1 else ["", *parts]
    review = client.AuthorizationV1Api(api).create_subject_access_review(
        client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user=user,
                resource_attributes=client.V1ResourceAttributes(
                    group=group,
                    resource=plural,
                    subresource=next(iter(subresource), None),
                    verb=verb,
                    namespace=namespace,
                ),
            )
        )
    )
    return bool(review.status and review.status.allowed)


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def kinds(objects: list[dict[str, Any]]) -> set[str]:
    return {o["kind"] for o in objects}


BASE_KINDS = {"CustomResourceDefinition", "ServiceAccount", "Service", "Deployment"}
# The chart's PrometheusRule and dashboard ConfigMap exist only once their files are in the chart.
FILE_KINDS = {
    "PrometheusRule": (CHART / "files" / "alerts.yaml").exists(),
    "ConfigMap": any((CHART / "dashboards").glob("*.json")),
}


def test_defaults_apply(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    apply: Callable[[list[dict[str, Any]]], None],
    namespace: str,
) -> None:
    objects = render(helm, "ctsync", CHART, "--namespace", namespace, "--include-crds")
    expected = BASE_KINDS | {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    assert kinds(objects) == expected | {"KopfPeering", "PodDisruptionBudget"}
    apply(objects)

    # Two replicas, one active: a Deployment each (their own priority), one budget over both pods.
    found = deployments(objects)
    assert set(found) == {"operator", "standby"}
    for deployment in found.values():
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}
        anti = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        (term,) = anti["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= pod_labels(deployment).items()
    (budget,) = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    assert budget["spec"]["maxUnavailable"] == 1
    for deployment in found.values():
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels(deployment).items()
    assert args(found["standby"])[-2:] == ["--peering=ctsync", "--priority=50"]
    assert args(found["operator"]) == [
        "operator",
        f"--namespace={namespace}",
        "--metrics-port=8080",
        "--health-port=8081",
        "--drift-interval=300",
        "--audit-interval=900",
        "--fast-lane-interval=15",
        "--max-concurrent-audits=4",
        "--max-graph-requests=32",
        "--max-graph-requests-per-tenant=8",
        "--log-format=json",
        "--peering=ctsync",
        "--priority=100",
    ]
    client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        "kopf.dev", "v1", namespace, "kopfpeerings", "ctsync"
    )
    user = f"system:serviceaccount:{namespace}:ctsync"
    assert can(api_client, user, "get", "secrets", namespace)
    assert not can(api_client, user, "list", "secrets", namespace)  # read by name only
    assert can(api_client, user, "patch", "ctsync.io/tenantpairs/status", namespace)
    assert can(api_client, user, "create", "events", namespace)
    assert can(api_client, user, "watch", "apiextensions.k8s.io/customresourcedefinitions")
    assert not can(api_client, user, "get", "secrets", "default")
    assert can(api_client, user, "patch", "kopf.dev/kopfpeerings", namespace)


def test_shards_apply_an_active_replica_and_a_standby_per_shard(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    apply: Callable[[list[dict[str, Any]]], None],
    namespace: str,
) -> None:
    objects = render(helm, "ctsync", CHART, "--namespace", namespace, "--include-crds", "--set", "shards=3")
    apply(objects)
    found = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert sorted(found) == sorted(f"ctsync-shard-{i}{s}" for i in range(3) for s in ("", "-standby"))
    for i in range(3):
        for name in (f"ctsync-shard-{i}", f"ctsync-shard-{i}-standby"):
            assert f"--peering=ctsync-shard-{i}" in args(found[name])
            assert args(found[name])[-1] == f"--shard={i}/3"
            assert pod_labels(found[name])["ctsync.io/shard"] == str(i)
    # A shard's standby waits for its own active replica only: one peering object per shard.
    peerings = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        "kopf.dev", "v1", namespace, "kopfpeerings"
    )
    assert sorted(p["metadata"]["name"] for p in peerings["items"]) == [f"ctsync-shard-{i}" for i in range(3)]


def test_standalone_applies_one_replica(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    apply: Callable[[list[dict[str, Any]]], None],
    namespace: str,
) -> None:
    objects = render(
        helm, "ctsync", CHART, "--namespace", namespace, "--include-crds", "--set", "peering.enabled=false"
    )
    assert "KopfPeering" not in kinds(objects)
    apply(objects)
    (deployment,) = deployments(objects).values()
    assert args(deployment)[-1] == "--standalone"
    assert "affinity" not in deployment["spec"]["template"]["spec"]
    user = f"system:serviceaccount:{namespace}:ctsync"
    assert not can(api_client, user, "patch", "kopf.dev/kopfpeerings", namespace)


def test_all_enabled_applies(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    apply: Callable[[list[dict[str, Any]]], None],
    monitoring_crds: None,
    namespace: str,
    watched: list[str],
) -> None:
    objects = render(
        helm, "ctsync", CHART, "--namespace", namespace, "--include-crds", "-f", ALL_ENABLED,
        "--set-json", f"watch.namespaces={json.dumps(watched)}",
    )  # fmt: skip
    expected = BASE_KINDS | {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    expected |= {"KopfPeering", "PodDisruptionBudget", "ServiceMonitor"} | {
        kind for kind, present in FILE_KINDS.items() if present
    }
    assert kinds(objects) == expected
    apply(objects)

    custom = client.CustomObjectsApi(api_client)
    for ns in watched:
        custom.get_namespaced_custom_object("kopf.dev", "v1", ns, "kopfpeerings", "ctsync-peering")
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert set(deployments) == {"ctsync", "ctsync-standby"}
    priorities = {name: [a for a in args(d) if a.startswith("--priority")] for name, d in deployments.items()}
    assert priorities == {"ctsync": ["--priority=200"], "ctsync-standby": ["--priority=100"]}
    pod = deployments["ctsync"]["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    (account,) = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"] == (
        "5a6b7c8d-0000-4000-8000-000000000001"
    )

    user = f"system:serviceaccount:{namespace}:ctsync-operator"
    for ns in watched:
        assert can(api_client, user, "get", "secrets", ns)
        assert can(api_client, user, "patch", "kopf.dev/kopfpeerings", ns)
    # Served namespaces are exactly the listed ones: not even the release namespace's Secrets.
    assert not can(api_client, user, "get", "secrets", namespace)


def test_all_namespaces_applies(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    apply: Callable[[list[dict[str, Any]]], None],
    monitoring_crds: None,
    namespace: str,
) -> None:
    peering = f"ctsync-{namespace}"  # cluster-scoped: unique per test
    objects = render(
        helm, "ctsync", CHART, "--namespace", namespace, "--include-crds", "-f", ALL_ENABLED,
        "--set", "watch.allNamespaces=true", "--set-json", "watch.namespaces=[]",
        "--set", f"peering.name={peering}",
    )  # fmt: skip
    assert "Role" not in kinds(objects)
    assert {"ClusterRole", "ClusterRoleBinding", "ClusterKopfPeering"} <= kinds(objects)
    apply(objects)

    custom = client.CustomObjectsApi(api_client)
    custom.get_cluster_custom_object("kopf.dev", "v1", "clusterkopfpeerings", peering)
    deployment = deployments(objects)["operator"]
    assert "--all-namespaces" in args(deployment)
    user = f"system:serviceaccount:{namespace}:ctsync-operator"
    assert can(api_client, user, "get", "secrets", "any-namespace")
    assert not can(api_client, user, "watch", "secrets", "any-namespace")
    assert can(api_client, user, "patch", "ctsync.io/syncscopes", "any-namespace")
    assert can(api_client, user, "patch", "kopf.dev/clusterkopfpeerings")
    assert not can(api_client, user, "create", "secrets", "any-namespace")


def test_alerts_and_dashboards_are_embedded(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    apply: Callable[[list[dict[str, Any]]], None],
    monitoring_crds: None,
    namespace: str,
    tmp_path: Path,
) -> None:
    # A copy of the chart with sample files, whatever the chart's own alerts and dashboards hold.
    chart = tmp_path / "ctsync"
    shutil.copytree(CHART, chart)
    (chart / "files").mkdir(exist_ok=True)
    (chart / "dashboards").mkdir(exist_ok=True)
    shutil.copy(TESTDATA / "helm" / "sample-alerts.yaml", chart / "files" / "alerts.yaml")
    for old in (chart / "dashboards").glob("*.json"):
        old.unlink()
    shutil.copy(TESTDATA / "helm" / "sample-dashboard.json", chart / "dashboards" / "ctsync.json")

    objects = render(
        helm, "ctsync", chart, "--namespace", namespace, "-f", ALL_ENABLED,
        "--show-only", "templates/prometheusrule.yaml", "--show-only", "templates/grafana-dashboard.yaml",
    )  # fmt: skip
    by_kind = {o["kind"]: o for o in objects}
    sample = yaml.safe_load((TESTDATA / "helm" / "sample-alerts.yaml").read_text())
    assert by_kind["PrometheusRule"]["spec"] == {"groups": sample["groups"]}
    assert by_kind["PrometheusRule"]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    dashboards = by_kind["ConfigMap"]
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboards["data"] == {"ctsync.json": (TESTDATA / "helm" / "sample-dashboard.json").read_text()}
    apply(objects)

    # Switched off, neither is rendered even with the files present.
    off = render(helm, "ctsync", chart, "--set", "alerts.enabled=false,grafanaDashboard.enabled=false")
    assert not {"PrometheusRule", "ConfigMap"} & kinds(off)


def test_helm_install_and_uninstall_keep_the_crds(
    helm: Callable[..., subprocess.CompletedProcess[str]],
    api_client: client.ApiClient,
    kube_config: Path,
    monitoring_crds: None,
    namespace: str,
) -> None:
    # What a user runs: helm installs crds/kopf/ first (skipping existing ones), then the templates. The
    # session applied ctsync's CRDs without helm, as `kubectl apply -f crds/` does: the release takes them over.
    installed = helm(
        "install", "ctsync", CHART, "--namespace", namespace, "--kubeconfig", kube_config, "-f", ALL_ENABLED,
        "--set-json", f"watch.namespaces={json.dumps([namespace])}", "--take-ownership",
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    notes = installed.stdout
    assert f"system:serviceaccount:{namespace}:ctsync-operator" in notes
    assert f"kubectl -n {namespace} create secret generic" in notes
    assert "--from-literal=clientSecret=" in notes and "--from-file=tls.key=" in notes
    assert f"kubectl -n {namespace} get tenantpairs,syncscopes,attributemappings" in notes
    assert "Peering is enabled (KopfPeering ctsync-peering, priority 200; standby priority 100)" in notes
    custom = client.CustomObjectsApi(api_client)
    custom.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", "ctsync-peering")

    uninstalled = helm("uninstall", "ctsync", "--namespace", namespace, "--kubeconfig", kube_config)
    assert uninstalled.returncode == 0, uninstalled.stderr
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", "ctsync-peering")
    assert gone.value.status == 404
    # helm never deletes what crds/ installed, nor the CRDs it keeps (crds.keep): the TenantPairs stay.
    assert "kept due to the resource policy" in uninstalled.stdout
    ext = client.ApiextensionsV1Api(api_client)
    for name in ("tenantpairs.ctsync.io", "kopfpeerings.kopf.dev", "clusterkopfpeerings.kopf.dev"):
        ext.read_custom_resource_definition(name)
