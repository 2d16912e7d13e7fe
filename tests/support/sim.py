"""The two-tenant entrasim world most tests use, and clients that reach it over HTTPS."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from entrasim.core.profile import FAST, Profile
from entrasim.server import EntraSim

CONTOSO = "5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10"
FABRIKAM = "9c3e1b7a-2d4f-4e8b-a1c6-7f5d0e2b4a93"
CTSYNC_APP = "0b7e3c1a-5d2f-4a8e-9c6b-1e4f7a2d3b58"
SECRET = "s3cret"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

# Every application permission the emulator checks: the test app is consented to all of them.
ALL_ROLES = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "AppRoleAssignment.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.CrossTenantAccess",
    "Synchronization.Read.All",
    "Synchronization.ReadWrite.All",
    "AuditLog.Read.All",
]

TENANTS = {
    "contoso": (CONTOSO, "contoso.onmicrosoft.com", "Contoso"),
    "fabrikam": (FABRIKAM, "fabrikam.onmicrosoft.com", "Fabrikam"),
}


def two_tenant_seed(users: dict[str, list[dict]] | None = None, groups: dict[str, list[dict]] | None = None) -> dict:
    users, groups = users or {}, groups or {}
    return {
        "tenants": [
            {
                "id": tid,
                "domain": domain,
                "displayName": name,
                "apps": [{"appId": CTSYNC_APP, "displayName": "ctsync", "roles": ALL_ROLES, "secrets": [SECRET]}],
                "users": users.get(key, []),
                "groups": groups.get(key, []),
            }
            for key, (tid, domain, name) in TENANTS.items()
        ]
    }


def ca_context(server: EntraSim) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_path))


def fetch_token(server: EntraSim, tenant_key: str, *, app_id: str = CTSYNC_APP, secret: str = SECRET) -> str:
    with httpx.Client(verify=ca_context(server)) as client:
        reply = client.post(
            f"{server.base_url}/{TENANTS[tenant_key][0]}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app_id,
                "client_secret": secret,
                "scope": GRAPH_SCOPE,
            },
        )
    reply.raise_for_status()
    return reply.json()["access_token"]


def graph_sdk_client(server: EntraSim, tenant_key: str):  # type: ignore[no-untyped-def]
    """A msgraph GraphServiceClient reaching entrasim through azure-identity's async ClientSecretCredential,
    with the CA passed explicitly (never through SSL_CERT_FILE)."""
    from azure.identity.aio import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.graph_request_adapter import options as graph_default_options
    from msgraph_core import GraphClientFactory

    credential = ClientSecretCredential(
        TENANTS[tenant_key][0],
        CTSYNC_APP,
        SECRET,
        authority=server.base_url,
        connection_verify=str(server.ca_path),
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ca_context(server)), options=dict(graph_default_options)
    )
    adapter = GraphRequestAdapter(AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE]), client=http)
    adapter.base_url = f"{server.base_url}/v1.0"  # no trailing slash: URL templates add their own
    return GraphServiceClient(request_adapter=adapter)


def ctsync_graph_client(
    server: EntraSim, tenant_key: str, role: str, *, secret: str = SECRET, observer=None, **options
):  # type: ignore[no-untyped-def]
    """ctsync's own GraphClient for one tenant of the emulator, as a TenantPair with cloud Custom builds it."""
    from ctsync.graph.client import GraphClient
    from ctsync.graph.credentials import make_credential
    from ctsync.graph.endpoints import endpoints_for

    endpoints = endpoints_for("Custom", server.base_url, server.base_url)
    tenant_id = TENANTS[tenant_key][0]
    credential = make_credential(
        tenant_id, {"clientId": CTSYNC_APP, "clientSecret": secret}, endpoints, ca_file=str(server.ca_path)
    )
    return GraphClient(
        role=role,
        tenant_id=tenant_id,
        credential=credential,
        endpoints=endpoints,  # type: ignore[arg-type]
        ca_file=str(server.ca_path),
        observer=observer,
        **options,
    )


def credentials_secrets(server: EntraSim, *, secret: str = SECRET) -> dict[str, dict[str, str]]:
    """The Secrets a TenantPair on the emulator refers to: one per tenant, plus the emulator's CA."""
    return {
        "contoso-credentials": {"clientId": CTSYNC_APP, "clientSecret": secret},
        "fabrikam-credentials": {"clientId": CTSYNC_APP, "clientSecret": secret},
        "entrasim-ca": {"ca.crt": server.ca_path.read_text()},
    }


def tenant_pair_body(
    server: EntraSim,
    *,
    name: str = "contoso-to-fabrikam",
    namespace: str = "tenants",
    generation: int = 1,
    **spec: object,
) -> dict:
    """A TenantPair CR body (as the API server returns it, defaults applied) for Contoso -> Fabrikam."""

    def side(tenant_key: str) -> dict:
        return {
            "tenantId": TENANTS[tenant_key][0],
            "credentialsRef": {"name": f"{tenant_key}-credentials"},
            "cloud": "Custom",
            "endpoints": {
                "authorityHost": server.base_url,
                "graphEndpoint": server.base_url,
                "caSecretRef": {"name": "entrasim-ca", "key": "ca.crt"},
            },
        }

    body_spec = {
        "source": side("contoso"),
        "target": side("fabrikam"),
        "trust": {"mfa": True, "compliantDevice": False, "hybridJoinedDevice": False},
        "automaticRedemption": True,
        "userSyncInbound": True,
        "managementPolicy": "Manage",
        "deletionPolicy": "Orphan",
        "suspend": False,
        **spec,
    }
    return {
        "apiVersion": "ctsync.io/v1alpha1",
        "kind": "TenantPair",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": body_spec,
    }


def sync_scope_body(
    *,
    name: str = "contoso-to-fabrikam",
    namespace: str = "tenants",
    generation: int = 1,
    annotations: dict | None = None,
    **spec: object,
) -> dict:
    """A SyncScope CR body scoped to the CTS-Fabrikam group of Contoso."""
    body_spec = {
        "tenantPairRef": {"name": "contoso-to-fabrikam"},
        "configurationName": "Sync to Fabrikam",
        "adoptionPolicy": "AdoptOrCreate",
        "scope": {"syncAll": False, "groups": [{"displayName": "CTS-Fabrikam"}]},
        "deprovisioning": {"deletionThreshold": 500, "maxScopeShrinkPercent": 20},
        "suspend": False,
        **spec,
    }
    return {
        "apiVersion": "ctsync.io/v1alpha1",
        "kind": "SyncScope",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generation": generation,
            "annotations": annotations or {},
        },
        "spec": body_spec,
    }


def attribute_mapping_body(
    *, name: str = "contoso-to-fabrikam", namespace: str = "tenants", generation: int = 1, **spec: object
) -> dict:
    body_spec = {
        "syncScopeRef": {"name": "contoso-to-fabrikam"},
        "mappings": [
            {"target": "jobTitle", "source": "[jobTitle]", "apply": "Always"},
            {"target": "companyName", "source": '"Contoso (Synced)"', "apply": "Always"},
        ],
        "denyAttributes": ["employeeId"],
        **spec,
    }
    return {
        "apiVersion": "ctsync.io/v1alpha1",
        "kind": "AttributeMapping",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": body_spec,
    }


def contoso_people(count: int, *, in_group: int | None = None) -> dict:
    """Seed additions: `count` Contoso members across departments; the first `in_group` are in CTS-Fabrikam."""
    domain = TENANTS["contoso"][1]
    departments = ("Finance", "Sales", "Engineering", "Legal")
    users = [
        {
            "userPrincipalName": f"person{i:04d}@{domain}",
            "displayName": f"Person {i:04d}",
            "department": departments[i % 4],
            "jobTitle": "Analyst",
            "accountEnabled": True,
        }
        for i in range(count)
    ]
    members = [u["userPrincipalName"] for u in users[: count if in_group is None else in_group]]
    return {
        "users": {"contoso": users},
        "groups": {"contoso": [{"displayName": "CTS-Fabrikam", "members": members}]},
    }


def app_client(server: EntraSim, tenant_key: str, app_id: str, roles: set[str]) -> httpx.Client:
    """Registers an app granted only `roles` in that tenant and returns a Graph client with its token
    (for permission tests); close it after use, e.g. `with app_client(...) as graph:`."""
    from entrasim.identity.models import ClientApp

    tenant_id = TENANTS[tenant_key][0]
    server.call(lambda w: w.tenant(tenant_id).identity.register(ClientApp(app_id, "limited", roles, secrets=[SECRET])))
    token = fetch_token(server, tenant_key, app_id=app_id)
    return httpx.Client(
        base_url=f"{server.base_url}/v1.0", verify=ca_context(server), headers={"Authorization": f"Bearer {token}"}
    )


def start_sim(state_dir: Path, *, profile: Profile = FAST, random_seed: int = 0) -> EntraSim:
    """A started emulator with the two tenants, frozen clock, on the given profile (seeded); stop it after use."""
    from entrasim.seed import load_seed

    server = EntraSim(state_dir, time_scale=0, profile=profile, random_seed=random_seed).start()
    server.call(lambda world: load_seed(world, two_tenant_seed()))
    return server


BOOTSTRAP_SCOPES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
)


def add_user_with_roles(server: EntraSim, tenant_key: str, upn: str, roles: tuple[str, ...]) -> str:
    """Adds a user holding these built-in directory roles (names, e.g. "Global Administrator"); its id."""
    from entrasim.identity.delegated import role_template_id

    def add(world):  # type: ignore[no-untyped-def]
        tenant = world.tenant(TENANTS[tenant_key][0])
        user = tenant.directory.create_user(
            {"userPrincipalName": upn, "displayName": upn.split("@")[0], "accountEnabled": True}
        )
        tenant.identity.directory_roles[user["id"]] = {role_template_id(r) for r in roles}
        return user["id"]

    return str(server.call(add))


def delegated_token(server: EntraSim, tenant_key: str, upn: str, scopes: tuple[str, ...] = BOOTSTRAP_SCOPES) -> str:
    """A delegated Graph token for `upn`, through the device code flow completed on the control API."""
    tenant_id, public_client = TENANTS[tenant_key][0], "14d82eec-204b-4c2f-b7e8-296a70dab67e"
    login = f"{server.base_url}/{tenant_id}/oauth2/v2.0"
    with httpx.Client(verify=ca_context(server)) as http:
        scope = " ".join(f"https://graph.microsoft.com/{s}" for s in scopes)
        flow = http.post(f"{login}/devicecode", data={"client_id": public_client, "scope": scope}).json()
        completed = http.post(
            f"{server.base_url}/_entrasim/device-codes/{flow['user_code']}/complete", json={"user": upn}
        )
        completed.raise_for_status()
        reply = http.post(
            f"{login}/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": public_client,
                "device_code": flow["device_code"],
            },
        )
    reply.raise_for_status()
    return str(reply.json()["access_token"])
