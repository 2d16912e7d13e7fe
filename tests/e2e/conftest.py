"""A real kube-apiserver + etcd for end-to-end tests, one per test session.

The binaries come from KUBEBUILDER_ASSETS (`make test` builds them with hack/envtest.sh), as with
controller-runtime's envtest. CTSYNC_E2E_KUBECONFIG=<path> runs the tests against an existing
cluster instead. Either way the CRDs in crds/ are applied before the first test.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import new_client_from_config

# helm, and applying what it renders: fixtures for the chart's tests.
from e2e.helm_support import apply, helm  # noqa: F401

# entrasim and the operator as subprocesses: fixtures for the operator's end-to-end tests.
from e2e.operator_fixtures import ctsync_operator, entrasim, operators, tenants  # noqa: F401
from support.control_plane import ControlPlane, ControlPlaneError

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
ESTABLISH_TIMEOUT = 30.0
ENABLE_HINT = (
    "e2e tests need a kube-apiserver: run `make test` (it builds one), or set KUBEBUILDER_ASSETS to a "
    "directory holding kube-apiserver and etcd, or CTSYNC_E2E_KUBECONFIG to an existing cluster's kubeconfig"
)
SERVER_INFO = pytest.StashKey[str]()

log = logging.getLogger(__name__)


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _apply_crds(api: client.ApiClient) -> float:
    """Server-side applies every CRD in crds/ and waits until each is Established; returns seconds."""
    started = time.monotonic()
    ext = client.ApiextensionsV1Api(api)
    names = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        try:
            ext.patch_custom_resource_definition(
                crd["metadata"]["name"],
                crd,
                field_manager="ctsync-e2e",
                force=True,
                _content_type="application/apply-patch+yaml",
            )
        except ApiException as e:
            message = json.loads(e.body).get("message", e.body) if e.body else e.reason
            raise pytest.fail.Exception(f"the API server rejected {path.name}: {message}", pytrace=False) from None
        names.append(crd["metadata"]["name"])
    if not names:
        pytest.fail(f"no CRDs found in {CRD_DIR}", pytrace=False)

    def established(name: str) -> bool:
        conditions = ext.read_custom_resource_definition(name).status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    deadline = time.monotonic() + ESTABLISH_TIMEOUT
    pending = names
    while pending := [name for name in pending if not established(name)]:
        if time.monotonic() > deadline:
            pytest.fail(f"CRDs not Established within {ESTABLISH_TIMEOUT:.0f} s: {pending}", pytrace=False)
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture(scope="session")
def kube_config(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Path of a kubeconfig for a cluster admin of a cluster with ctsync's CRDs established."""
    existing = os.environ.get("CTSYNC_E2E_KUBECONFIG")
    if existing:
        with new_client_from_config(config_file=existing) as api:
            version = client.VersionApi(api).get_code().git_version
            crd_seconds = _apply_crds(api)
        info = f"existing cluster from CTSYNC_E2E_KUBECONFIG: kube-apiserver {version}"
        request.config.stash[SERVER_INFO] = f"{info}, CRDs established in {crd_seconds:.1f} s"
        log.info(request.config.stash[SERVER_INFO])
        yield Path(existing)
        return

    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if not assets:
        if _is_ci():
            pytest.fail(f"CI=true and no API server: {ENABLE_HINT}", pytrace=False)
        pytest.skip(ENABLE_HINT)

    plane = ControlPlane(Path(assets))
    # pytest ignores SIGTERM (e.g. a cancelled CI job); as an interrupt it still runs this teardown.
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        try:
            info = plane.start()
        except ControlPlaneError as e:
            raise pytest.fail.Exception(str(e), pytrace=False) from None
        with new_client_from_config(config_file=str(plane.kubeconfig)) as api:
            crd_seconds = _apply_crds(api)
        request.config.stash[SERVER_INFO] = f"{info}, CRDs established in {crd_seconds:.1f} s"
        log.info(request.config.stash[SERVER_INFO])
        yield plane.kubeconfig
    finally:
        plane.stop()
        signal.signal(signal.SIGTERM, previous_handler)


@pytest.fixture(scope="session")
def api_client(kube_config: Path) -> Iterator[client.ApiClient]:
    with new_client_from_config(config_file=str(kube_config)) as api:
        yield api


@pytest.fixture
def namespace(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting for it to be gone)."""
    name = f"ctsync-e2e-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    # pytest lists a fixture's skip once per test function; giving every such skip this file's
    # location folds them into a single "how to enable the e2e tests" line.
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(ENABLE_HINT):
        report.longrepr = (__file__, None, report.longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    # Shows in every run which API server version the e2e tests ran against and how long it took to start.
    info = config.stash.get(SERVER_INFO, None)
    if info:
        terminalreporter.write_line(f"e2e: {info}")


@pytest.fixture
def empty_cluster() -> Iterator[Path]:
    """A kubeconfig for a kube-apiserver of its own, without ctsync's CRDs: for tests that install them."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if not assets:
        if _is_ci():
            pytest.fail(f"CI=true and no API server: {ENABLE_HINT}", pytrace=False)
        pytest.skip(f"this test starts an API server of its own: {ENABLE_HINT}")
    plane = ControlPlane(Path(assets))
    try:
        try:
            plane.start()
        except ControlPlaneError as e:
            raise pytest.fail.Exception(str(e), pytrace=False) from None
        yield plane.kubeconfig
    finally:
        plane.stop()
