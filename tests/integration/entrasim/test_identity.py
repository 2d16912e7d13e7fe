"""The token endpoint, driven by the real azure-identity credentials (secret, certificate, workload identity)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential as SyncCertificateCredential
from azure.identity import ClientSecretCredential as SyncClientSecretCredential
from azure.identity.aio import CertificateCredential, ClientSecretCredential, WorkloadIdentityCredential

from entrasim.identity.models import ClientApp, FederatedCredential
from support.sim import CONTOSO, CTSYNC_APP, GRAPH_SCOPE, SECRET, ca_context

CERT_APP = "3d9f2a4b-6c1e-4f7a-8b2d-5e0c9a1f3b64"
WI_APP = "7a1c4e2f-9b3d-4c6a-8e5f-2d0b1a9c7e38"
ISSUER = "https://oidc.example.test/cluster-1"
SUBJECT = "system:serviceaccount:ctsync-system:ctsync"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def test_client_secret_async_credential_gets_a_token_with_roles(sim):
    cred = ClientSecretCredential(
        CONTOSO, CTSYNC_APP, SECRET, authority=sim.base_url, connection_verify=str(sim.ca_path)
    )
    async with cred:
        token = await cred.get_token(GRAPH_SCOPE)
    claims = claims_of(token.token)
    assert claims["tid"] == CONTOSO and claims["appid"] == CTSYNC_APP
    assert "Synchronization.ReadWrite.All" in claims["roles"]
    assert token.expires_on > time.time() + 3000


def test_sync_msal_credential_reads_openid_configuration(sim):
    cred = SyncClientSecretCredential(
        CONTOSO,
        CTSYNC_APP,
        SECRET,
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
        disable_instance_discovery=True,
    )
    assert claims_of(cred.get_token(GRAPH_SCOPE).token)["tid"] == CONTOSO


async def test_wrong_secret_is_aadsts7000215(sim):
    cred = ClientSecretCredential(
        CONTOSO, CTSYNC_APP, "wrong", authority=sim.base_url, connection_verify=str(sim.ca_path)
    )
    async with cred:
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
            await cred.get_token(GRAPH_SCOPE)


@pytest.fixture
def certificate_pem(sim, tmp_path: Path) -> Path:
    """An RSA certificate registered on CERT_APP; key and certificate in one PEM, as azure-identity reads it."""
    issued = trustme.CA().issue_cert("ctsync-client", key_type=trustme.KeyType.RSA)
    pem = tmp_path / "client.pem"
    pem.write_bytes(issued.private_key_pem.bytes() + issued.cert_chain_pems[0].bytes())

    def register(world):
        from entrasim.identity.models import load_certificate

        world.tenant(CONTOSO).identity.register(
            ClientApp(
                CERT_APP,
                "cert-app",
                {"User.Read.All"},
                certificates=[load_certificate(issued.cert_chain_pems[0].bytes())],
            )
        )

    sim.call(register)
    return pem


async def test_certificate_assertion_ps256_async(sim, certificate_pem):
    cred = CertificateCredential(
        CONTOSO,
        CERT_APP,
        certificate_path=str(certificate_pem),
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
    )
    async with cred:
        assert claims_of((await cred.get_token(GRAPH_SCOPE)).token)["appid"] == CERT_APP


def test_certificate_assertion_rs256_sync_msal(sim, certificate_pem):
    cred = SyncCertificateCredential(
        CONTOSO,
        CERT_APP,
        certificate_path=str(certificate_pem),
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
        disable_instance_discovery=True,
    )
    assert claims_of(cred.get_token(GRAPH_SCOPE).token)["appid"] == CERT_APP


async def test_unregistered_certificate_is_refused(sim, certificate_pem, tmp_path):
    other = trustme.CA().issue_cert("intruder", key_type=trustme.KeyType.RSA)
    pem = tmp_path / "other.pem"
    pem.write_bytes(other.private_key_pem.bytes() + other.cert_chain_pems[0].bytes())
    cred = CertificateCredential(
        CONTOSO,
        CERT_APP,
        certificate_path=str(pem),
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
    )
    async with cred:
        with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
            await cred.get_token(GRAPH_SCOPE)


def _service_account_token(tmp_path: Path, subject: str) -> Path:
    token = jwt.encode(
        {
            "iss": ISSUER,
            "sub": subject,
            "aud": ["api://AzureADTokenExchange"],
            "exp": int(time.time()) + 3600,
        },
        "cluster-signing-key-that-entrasim-does-not-check",
        algorithm="HS256",
    )
    path = tmp_path / "azure-identity-token"
    path.write_text(token)
    return path


@pytest.mark.parametrize(("subject", "accepted"), [(SUBJECT, True), ("system:serviceaccount:other:sa", False)])
async def test_workload_identity_federated_assertion(sim, tmp_path, subject, accepted):
    sim.call(
        lambda w: w.tenant(CONTOSO).identity.register(
            ClientApp(WI_APP, "wi-app", {"Policy.Read.All"}, federated=[FederatedCredential(ISSUER, SUBJECT)])
        )
    )
    cred = WorkloadIdentityCredential(
        tenant_id=CONTOSO,
        client_id=WI_APP,
        token_file_path=str(_service_account_token(tmp_path, subject)),
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
    )
    async with cred:
        if accepted:
            assert claims_of((await cred.get_token(GRAPH_SCOPE)).token)["roles"] == ["Policy.Read.All"]
        else:
            with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
                await cred.get_token(GRAPH_SCOPE)


@pytest.mark.parametrize(
    ("tenant", "form", "status", "error"),
    [
        ("00000000-0000-0000-0000-00000000dead", {}, 400, "AADSTS90002"),
        (CONTOSO, {"client_id": "4e1b7a2c-0000-4000-8000-000000000000"}, 400, "AADSTS700016"),
        (CONTOSO, {"grant_type": "password"}, 400, "AADSTS70003"),
        (CONTOSO, {"scope": "https://management.azure.com/.default"}, 400, "AADSTS1002012"),
        (CONTOSO, {"client_secret": None}, 400, "AADSTS900144"),
    ],
)
def test_token_endpoint_errors_use_the_aadsts_format(sim, tenant, form, status, error):
    data = {
        "grant_type": "client_credentials",
        "client_id": CTSYNC_APP,
        "client_secret": SECRET,
        "scope": GRAPH_SCOPE,
        **form,
    }
    data = {k: v for k, v in data.items() if v is not None}
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.post(f"{sim.base_url}/{tenant}/oauth2/v2.0/token", data=data)
    assert reply.status_code == status
    body = reply.json()
    assert body["error_description"].startswith(error)
    assert {"error", "error_codes", "timestamp", "trace_id", "correlation_id"} <= set(body)


def test_token_endpoint_accepts_the_initial_domain(sim):
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.post(
            f"{sim.base_url}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CTSYNC_APP,
                "client_secret": SECRET,
                "scope": GRAPH_SCOPE,
            },
        )
    assert claims_of(reply.json()["access_token"])["tid"] == CONTOSO
