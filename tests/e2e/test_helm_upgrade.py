"""helm upgrade from the previous chart to this one, on an API server of its own: the CRDs move into the release
and upgrade with it, the TenantPair, SyncScope and AttributeMapping in the cluster stay as they were, and
helm uninstall keeps the CRDs and with them those resources.

testdata/helm/ctsync-0.1.0.tgz is chart 0.1.0 as `helm package` made it: the last version whose CRDs were in
the chart's crds/ directory, which Helm installs once and never upgrades."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.config import new_client_from_config

from e2e.helm_support import CHART, ROOT, TESTDATA

pytestmark = pytest.mark.e2e

PREVIOUS_CHART = TESTDATA / "helm" / "ctsync-0.1.0.tgz"
EXAMPLE = ROOT / "examples" / "tenants" / "contoso-to-fabrikam"
PLURALS = {"TenantPair": "tenantpairs", "SyncScope": "syncscopes", "AttributeMapping": "attributemappings"}
CRDS = [f"{plural}.ctsync.io" for plural in PLURALS.values()]
NAMESPACE = "ctsync"
# A field only the next chart's TenantPair schema knows: it reaches the cluster only if helm upgrades CRDs.
PROBE_FIELD = "upgradeProbe"

Helm = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def api(empty_cluster: Path) -> Iterator[client.ApiClient]:
    with new_client_from_config(config_file=str(empty_cluster)) as api_client:
        yield api_client


def crd(api: client.ApiClient, name: str) -> dict[str, Any]:
    """The CRD as the API server holds it, in its JSON field names."""
    response = client.ApiextensionsV1Api(api).read_custom_resource_definition(name, _preload_content=False)
    return dict(json.loads(response.data))


def example_objects() -> list[dict[str, Any]]:
    return [yaml.safe_load((EXAMPLE / f"{kind.lower()}.yaml").read_text()) for kind in PLURALS]


def keeps(live: Any, before: Any) -> bool:
    """Every field `before` had, `live` has with the same value; a newer schema may add defaulted fields."""
    if isinstance(before, dict):
        return isinstance(live, dict) and all(k in live and keeps(live[k], v) for k, v in before.items())
    return bool(live == before)


def assert_intact(api: client.ApiClient, before: dict[str, dict[str, Any]]) -> None:
    live = read_objects(api)
    assert {kind: o["uid"] for kind, o in live.items()} == {kind: o["uid"] for kind, o in before.items()}
    for kind, obj in before.items():
        assert keeps(live[kind]["spec"], obj["spec"]), f"{kind} lost or changed spec fields: {live[kind]['spec']}"


def read_objects(api: client.ApiClient) -> dict[str, dict[str, Any]]:
    """uid, spec and labels of the example's objects, by kind."""
    custom = client.CustomObjectsApi(api)
    found = {}
    for obj in example_objects():
        live = custom.get_namespaced_custom_object(
            "ctsync.io", "v1alpha1", NAMESPACE, PLURALS[obj["kind"]], obj["metadata"]["name"]
        )
        found[obj["kind"]] = {"uid": live["metadata"]["uid"], "spec": live["spec"]}
    return found


def chart_with_probe_field(tmp_path: Path) -> Path:
    """A copy of this chart whose TenantPair schema has one more spec field: the next release's chart."""
    chart = tmp_path / "ctsync"
    shutil.copytree(CHART, chart)
    path = chart / "files" / "crds" / "ctsync.io_tenantpairs.yaml"
    tenant_pair = yaml.safe_load(path.read_text())
    (version,) = tenant_pair["spec"]["versions"]
    version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][PROBE_FIELD] = {"type": "string"}
    path.write_text(yaml.safe_dump(tenant_pair, sort_keys=False))
    return chart


def test_upgrade_from_the_previous_chart_upgrades_the_crds_and_keeps_the_resources(
    helm: Helm, api: client.ApiClient, empty_cluster: Path, tmp_path: Path
) -> None:
    kube = ["--namespace", NAMESPACE, "--kubeconfig", empty_cluster]
    installed = helm("install", "ctsync", PREVIOUS_CHART, *kube, "--create-namespace")
    assert installed.returncode == 0, installed.stderr
    # The previous chart installed the CRDs from its crds/: they belong to no release.
    assert "meta.helm.sh/release-name" not in crd(api, CRDS[0])["metadata"].get("annotations", {})

    custom = client.CustomObjectsApi(api)
    for obj in example_objects():
        custom.create_namespaced_custom_object("ctsync.io", "v1alpha1", NAMESPACE, PLURALS[obj["kind"]], obj)
    before = read_objects(api)

    # Helm refuses to take over objects another release or no release owns, unless told to, once.
    refused = helm("upgrade", "ctsync", CHART, *kube)
    assert refused.returncode != 0
    assert 'CustomResourceDefinition "attributemappings.ctsync.io"' in refused.stderr
    assert "invalid ownership metadata" in refused.stderr
    # Refused before it changed anything: the release is still the previous chart's.
    status = helm("status", "ctsync", *kube, "--output", "json")
    assert status.returncode == 0, status.stderr
    assert (json.loads(status.stdout)["version"], json.loads(status.stdout)["info"]["status"]) == (1, "deployed")

    upgraded = helm("upgrade", "ctsync", CHART, *kube, "--reset-then-reuse-values", "--take-ownership")
    assert upgraded.returncode == 0, upgraded.stderr

    for name in CRDS:
        live = crd(api, name)
        assert live["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        assert live["metadata"]["annotations"]["meta.helm.sh/release-name"] == "ctsync"
        assert live["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        source = yaml.safe_load((ROOT / "crds" / f"ctsync.io_{name.split('.')[0]}.yaml").read_text())
        assert live["spec"]["versions"] == source["spec"]["versions"]
    assert_intact(api, before)

    # The next upgrade adds a field to the TenantPair schema: a plain helm upgrade brings it to the cluster.
    upgraded = helm("upgrade", "ctsync", chart_with_probe_field(tmp_path), *kube)
    assert upgraded.returncode == 0, upgraded.stderr
    (version,) = crd(api, "tenantpairs.ctsync.io")["spec"]["versions"]
    assert PROBE_FIELD in version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert_intact(api, before)

    uninstalled = helm("uninstall", "ctsync", *kube)
    assert uninstalled.returncode == 0, uninstalled.stderr
    assert "kept due to the resource policy" in uninstalled.stdout + uninstalled.stderr
    for name in CRDS:
        crd(api, name)
    assert_intact(api, before)
