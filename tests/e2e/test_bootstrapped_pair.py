"""`ctsync bootstrap` output drives a TenantPair to Ready: the source tenant bootstrapped for workload identity,
the target with a certificate, each by its own administrator through the device code flow; the operator (a real
process on the e2e API server) signs in with nothing but what bootstrap printed."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import yaml
from kubernetes import client

from ctsync import cli
from ctsync.commands import bootstrap as command
from e2e.operator_fixtures import Kube, OperatorProcess, Sim, tenant_pair
from support.sim import CONTOSO, FABRIKAM

ISSUER = "https://oidc.example.test/e2e"
SUBJECT = "system:serviceaccount:ctsync-system:ctsync"
ADMINS = {CONTOSO: "admin@contoso.onmicrosoft.com", FABRIKAM: "admin@fabrikam.onmicrosoft.com"}


def add_admin(sim: Sim, tenant_key: str, tenant_id: str) -> None:
    upn = ADMINS[tenant_id]
    with sim.graph(tenant_key) as graph:
        user = {
            "userPrincipalName": upn,
            "displayName": "Admin",
            "accountEnabled": True,
            "mailNickname": "admin",
            "passwordProfile": {"password": "x-Y-z-123456"},
        }
        graph.post("/users", json=user).raise_for_status()
    sim.control("POST", "/directory-roles", {"tenant": tenant_id, "user": upn, "role": "Global Administrator"})


def bootstrap(sim: Sim, tenant_id: str, role: str, name: str, capsys, monkeypatch, *args: str) -> list[dict]:
    def complete(uri: str, user_code: str, expires_on: object) -> None:
        sim.control("POST", f"/device-codes/{user_code}/complete", {"user": ADMINS[tenant_id]})

    monkeypatch.setattr(command, "_show_prompt", complete)
    common = ["--cloud", "Custom", "--authority-host", sim.base_url, "--graph-endpoint", sim.base_url]
    argv = ["bootstrap", "--tenant", tenant_id, "--role", role, "--secret-name", name, *common]
    code = cli.main([*argv, "--ca-file", str(sim.ca_path), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture
def federated_token(tmp_path: Path, monkeypatch) -> Path:
    """The service account token the workload identity webhook would mount, for the operator's environment."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "iat": now, "exp": now + 3600}
    path = tmp_path / "federated-token"
    path.write_text(jwt.encode(claims, "k" * 32))
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))
    return path


@pytest.fixture
def operator(kube_config: Path, namespace: str, tmp_path: Path, federated_token: Path) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kube_config, namespace, tmp_path / "operator.log")
    yield process
    process.stop()


CREDENTIAL_FLAGS = {
    "workload-identity": ("--credential", "workload-identity", "--issuer", ISSUER, "--subject", SUBJECT),
    "certificate": ("--credential", "certificate"),
    "secret": ("--credential", "secret"),
}
SECRET_KEYS = {"workload-identity": set(), "certificate": {"tls.key"}, "secret": {"clientSecret"}}


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [("workload-identity", "certificate"), ("secret", "secret")],
    ids=["workload-identity+certificate", "secret+secret"],
)
def test_bootstrapped_credentials_bring_a_tenant_pair_to_ready(
    entrasim: Sim,
    api_client: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    capsys,
    monkeypatch,
    source_kind: str,
    target_kind: str,
) -> None:
    add_admin(entrasim, "contoso", CONTOSO)
    add_admin(entrasim, "fabrikam", FABRIKAM)
    source = bootstrap(
        entrasim, CONTOSO, "source", "contoso-credentials", capsys, monkeypatch,
        *CREDENTIAL_FLAGS[source_kind], "--app-name", "ctsync-e2e",
    )  # fmt: skip
    target = bootstrap(
        entrasim, FABRIKAM, "target", "fabrikam-credentials", capsys, monkeypatch,
        *CREDENTIAL_FLAGS[target_kind], "--app-name", "ctsync-e2e",
    )  # fmt: skip
    kube = Kube(api_client, namespace)
    ca = client.V1Secret(
        metadata=client.V1ObjectMeta(name="entrasim-ca"), string_data={"ca.crt": entrasim.ca_path.read_text()}
    )
    kube.core.create_namespaced_secret(namespace, ca)
    for doc in (source[0], target[0]):
        secret = client.V1Secret(
            metadata=client.V1ObjectMeta(name=doc["metadata"]["name"]), string_data=doc["stringData"]
        )
        kube.core.create_namespaced_secret(namespace, secret)
    for doc, kind in ((source[0], source_kind), (target[0], target_kind)):
        assert SECRET_KEYS[kind] <= set(doc["stringData"]) and "clientId" in doc["stringData"]
    operator.start()
    kube.create(tenant_pair(entrasim))
    pair = kube.wait_ready("tenantpairs", "contoso-to-fabrikam", timeout=90)
    conditions = {c["type"]: c["status"] for c in pair["status"]["conditions"]}
    assert conditions["Ready"] == conditions["CredentialsValid"] == "True"
    # the operator signed in as the bootstrapped apps, not the emulator's preseeded one
    with httpx.Client(verify=ssl.create_default_context(cafile=str(entrasim.ca_path))) as http:
        requests = http.get(f"{entrasim.base_url}/_entrasim/requests").json()["requests"]
    writers = {r["app_id"] for r in requests if r["method"] == "PATCH" and "crossTenantAccessPolicy" in r["path"]}
    assert writers == {source[0]["stringData"]["clientId"], target[0]["stringData"]["clientId"]}
    for doc, kind in ((source[0], source_kind), (target[0], target_kind)):
        assert all(doc["stringData"][key] not in operator.log() for key in SECRET_KEYS[kind])
