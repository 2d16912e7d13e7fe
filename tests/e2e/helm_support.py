"""The Helm chart's test plumbing, shared by the chart tests and the install test: helm itself, rendering,
and applying objects (CRDs first, until Established) to the e2e API server."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from support.hack_binaries import built

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "ctsync"
TESTDATA = Path(__file__).parent / "testdata"
FIELD_MANAGER = "ctsync-e2e"
ESTABLISH_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess[str]]:
    """helm(*args) runs the helm hack/helm.sh prints (built the first time), with private config dirs."""
    binary = built("helm.sh", "helm chart tests need helm")
    home = tmp_path_factory.mktemp("helm-home")
    # helm must not read or write the developer's repositories, plugins or cache.
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, env=env, timeout=120)

    return run


def render(helm: Callable[..., subprocess.CompletedProcess[str]], *args: str | Path) -> list[dict[str, Any]]:
    """The objects `helm template` renders."""
    result = helm("template", *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The rendered Deployments by component: "operator" (the active one), "standby"."""
    found = [o for o in objects if o["kind"] == "Deployment"]
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in found}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    """The Deployment's only container."""
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def args(deployment: dict[str, Any]) -> list[str]:
    return list(container(deployment)["args"])


def establish(api_client: client.ApiClient, crds: list[dict[str, Any]]) -> None:
    """Server-side applies the CRDs and waits until each is Established."""
    ext = client.ApiextensionsV1Api(api_client)
    for crd in crds:
        ext.patch_custom_resource_definition(
            crd["metadata"]["name"],
            crd,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    def established(name: str) -> bool:
        status = ext.read_custom_resource_definition(name).status
        conditions = (status.conditions if status else None) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    deadline = time.monotonic() + ESTABLISH_TIMEOUT
    pending = [crd["metadata"]["name"] for crd in crds]
    while pending := [name for name in pending if not established(name)]:
        assert time.monotonic() < deadline, f"CRDs not Established in {ESTABLISH_TIMEOUT:.0f} s: {pending}"
        time.sleep(0.05)


@pytest.fixture
def apply(
    api_client: client.ApiClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """apply(objects) applies CRDs (waiting until Established), then the rest, server-side and strictly.

    Cluster-scoped objects other than CRDs are deleted afterwards; namespaced ones go with their namespace.
    """
    created: list[tuple[Any, str]] = []
    dynamic: list[DynamicClient] = []

    def run(objects: list[dict[str, Any]]) -> None:
        establish(api_client, [o for o in objects if o["kind"] == "CustomResourceDefinition"])
        # A fresh discovery cache, so that the CRDs applied just now are known.
        cache = tmp_path_factory.mktemp("discovery") / "cache.json"
        dynamic[:] = [DynamicClient(api_client, cache_file=str(cache))]
        for obj in objects:
            if obj["kind"] == "CustomResourceDefinition":
                continue
            resource = dynamic[0].resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
            name = obj["metadata"]["name"]
            try:
                # Strict: a field the API does not know (a typo in a template) is an error, not dropped.
                resource.server_side_apply(
                    body=obj,
                    field_manager=FIELD_MANAGER,
                    force_conflicts=True,
                    query_params=[("fieldValidation", "Strict")],
                )
            except ApiException as e:
                message = json.loads(e.body).get("message", e.body) if e.body else e.reason
                pytest.fail(f"the API server rejected {obj['kind']} {name}: {message}", pytrace=False)
            if not resource.namespaced:
                created.append((resource, name))

    yield run
    for resource, name in created:
        dynamic[0].delete(resource, name=name)
