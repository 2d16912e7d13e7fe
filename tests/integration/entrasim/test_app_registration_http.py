"""App registrations made by a signed-in administrator, as Graph documents them: POST /applications and
/servicePrincipals, addPassword, keyCredentials and addKey, federated identity credentials, and admin consent
as app role assignments on the Microsoft Graph service principal; the credentials then get tokens whose
roles are exactly what was granted."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import httpx
import jwt
import pytest
import trustme
from azure.identity.aio import CertificateCredential, ClientSecretCredential, WorkloadIdentityCredential

from support.sim import CONTOSO, GRAPH_SCOPE, add_user_with_roles, ca_context, delegated_token

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
POLICY_WRITE_ROLE = "338163d7-f101-4c92-94ba-ca46fe52447c"  # Policy.ReadWrite.CrossTenantAccess (Role)
ISSUER = "https://oidc.example.test/cluster-1"
SUBJECT = "system:serviceaccount:ctsync-system:ctsync"


def graph_as(sim, upn: str, *roles: str) -> httpx.Client:
    add_user_with_roles(sim, "contoso", upn, roles)
    token = delegated_token(sim, "contoso", upn)
    return httpx.Client(
        base_url=f"{sim.base_url}/v1.0", verify=ca_context(sim), headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def admin(sim):
    with graph_as(sim, "admin@contoso.onmicrosoft.com", "Global Administrator") as graph:
        yield graph


def register(graph: httpx.Client) -> tuple[dict, dict]:
    app = graph.post(
        "/applications",
        json={
            "displayName": "ctsync",
            "signInAudience": "AzureADMyOrg",
            "tags": ["ctsync"],
            "requiredResourceAccess": [
                {"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": POLICY_WRITE_ROLE, "type": "Role"}]}
            ],
        },
    )
    assert app.status_code == 201, app.text
    sp = graph.post("/servicePrincipals", json={"appId": app.json()["appId"]})
    assert sp.status_code == 201, sp.text
    return app.json(), sp.json()


def grant(graph: httpx.Client, sp: dict, role_id: str = POLICY_WRITE_ROLE) -> httpx.Response:
    graph_sp = graph.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')", params={"$select": "id,appRoles"}).json()
    return graph.post(
        f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
        json={"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_id},
    )


def roles_in(token: str) -> list[str]:
    return jwt.decode(token, options={"verify_signature": False})["roles"]


async def test_secret_gets_a_token_with_exactly_the_granted_roles(sim, admin):
    app, sp = register(admin)
    assert app["requiredResourceAccess"][0]["resourceAccess"] == [{"id": POLICY_WRITE_ROLE, "type": "Role"}]
    assignment = grant(admin, sp)
    assert assignment.status_code == 201 and assignment.json()["principalType"] == "ServicePrincipal"
    password = admin.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "x"}})
    assert password.status_code == 200
    secret = password.json()["secretText"]
    stored = admin.get(f"/applications/{app['id']}").json()["passwordCredentials"]
    assert stored[0]["secretText"] is None and stored[0]["hint"] == secret[:3]
    assert stored[0]["endDateTime"] > time.strftime("%Y", time.gmtime(time.time() + 365 * 86400))
    cred = ClientSecretCredential(
        CONTOSO, app["appId"], secret, authority=sim.base_url, connection_verify=str(sim.ca_path)
    )
    async with cred:
        assert roles_in((await cred.get_token(GRAPH_SCOPE)).token) == ["Policy.ReadWrite.CrossTenantAccess"]
    granted = assignment.json()
    admin.delete(f"/servicePrincipals/{granted['resourceId']}/appRoleAssignedTo/{granted['id']}").raise_for_status()
    # revoked: the next token no longer carries the role
    async with ClientSecretCredential(
        CONTOSO, app["appId"], secret, authority=sim.base_url, connection_verify=str(sim.ca_path)
    ) as again:
        assert roles_in((await again.get_token(GRAPH_SCOPE)).token) == []


async def test_federated_credential_serves_workload_identity(sim, admin, tmp_path: Path):
    app, sp = register(admin)
    grant(admin, sp).raise_for_status()
    fic = {"name": "ctsync-cluster", "issuer": ISSUER, "subject": SUBJECT, "audiences": ["api://AzureADTokenExchange"]}
    created = admin.post(f"/applications/{app['id']}/federatedIdentityCredentials", json=fic)
    assert created.status_code == 201, created.text
    again = admin.post(f"/applications/{app['id']}/federatedIdentityCredentials", json=fic)
    assert again.status_code == 400 and "already exists" in again.text
    listed = admin.get(f"/applications/{app['id']}/federatedIdentityCredentials").json()["value"]
    assert [f["subject"] for f in listed] == [SUBJECT]
    token_file = tmp_path / "token"
    now = int(time.time())
    token_file.write_text(
        jwt.encode(
            {"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": now + 600, "iat": now},
            "k" * 32,
        )
    )
    cred = WorkloadIdentityCredential(
        tenant_id=CONTOSO,
        client_id=app["appId"],
        token_file_path=str(token_file),
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
    )
    async with cred:
        assert roles_in((await cred.get_token(GRAPH_SCOPE)).token) == ["Policy.ReadWrite.CrossTenantAccess"]


async def test_certificate_by_patch_then_a_second_by_add_key_with_proof(sim, admin, tmp_path: Path):
    app, sp = register(admin)
    grant(admin, sp).raise_for_status()
    first, second = (trustme.CA().issue_cert("ctsync", key_type=trustme.KeyType.RSA) for _ in range(2))

    def key_of(issued) -> str:
        return base64.b64encode(issued.cert_chain_pems[0].bytes()).decode()

    patch = {"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": key_of(first)}]}
    admin.patch(f"/applications/{app['id']}", json=patch).raise_for_status()
    now = int(time.time())
    proof = jwt.encode(
        {"aud": "00000002-0000-0000-c000-000000000000", "iss": app["id"], "nbf": now, "exp": now + 600},
        first.private_key_pem.bytes(),
        algorithm="RS256",
    )
    new_key = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": key_of(second)}
    body = {"keyCredential": new_key, "passwordCredential": None, "proof": "not-a-jwt"}
    assert admin.post(f"/applications/{app['id']}/addKey", json=body).status_code == 400
    body["proof"] = proof
    added = admin.post(f"/applications/{app['id']}/addKey", json=body)
    assert added.status_code == 200, added.text
    keys = admin.get(f"/applications/{app['id']}").json()["keyCredentials"]
    assert len(keys) == 2 and all(k["endDateTime"] for k in keys)
    pem = tmp_path / "second.pem"
    pem.write_bytes(second.private_key_pem.bytes() + second.cert_chain_pems[0].bytes())
    cred = CertificateCredential(
        CONTOSO, app["appId"], str(pem), authority=sim.base_url, connection_verify=str(sim.ca_path)
    )
    async with cred:
        assert roles_in((await cred.get_token(GRAPH_SCOPE)).token) == ["Policy.ReadWrite.CrossTenantAccess"]


def test_application_administrator_registers_but_cannot_grant_graph_roles(sim):
    with graph_as(sim, "apps@contoso.onmicrosoft.com", "Application Administrator") as graph:
        _, sp = register(graph)
        denied = grant(graph, sp)
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
        roles = graph.get("/me/memberOf/microsoft.graph.directoryRole").json()["value"]
        assert [r["displayName"] for r in roles] == ["Application Administrator"]
    with graph_as(sim, "pra@contoso.onmicrosoft.com", "Privileged Role Administrator") as graph:
        assert grant(graph, sp).status_code == 201


def test_a_user_without_an_admin_role_cannot_register(sim):
    with graph_as(sim, "adele@contoso.onmicrosoft.com") as graph:
        assert graph.post("/applications", json={"displayName": "x"}).status_code == 403
        assert graph.get("/me/memberOf/microsoft.graph.directoryRole").json()["value"] == []


def test_service_principal_needs_its_application_and_is_made_once(admin):
    missing = admin.post("/servicePrincipals", json={"appId": "2b1c7e8a-0d4f-4a3b-9e6c-5f7a8b9c0d1e"})
    assert missing.status_code == 400 and "NoBackingApplicationObject" in missing.text
    app, _ = register(admin)
    assert admin.post("/servicePrincipals", json={"appId": app["appId"]}).status_code == 409
    assert admin.post("/applications", json={"displayName": "x", "bogus": 1}).status_code == 400
    listed = admin.get("/servicePrincipals").json()["value"]
    assert GRAPH_APP_ID not in [sp["appId"] for sp in listed]  # first-party: addressable, not listed
