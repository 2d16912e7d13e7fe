"""A Graph session as a signed-in administrator (for `ctsync bootstrap`), through the device code sign-in.

The delegated session is the same GraphClient as the operator's, with a different credential: azure-identity's
DeviceCodeCredential (it has no async form, so its token calls run in a thread). It asks for the delegated
scopes the bootstrap needs whatever scope the client asks for: `.default` would mean only what the public
client was consented before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity import DeviceCodeCredential

from ..errors import TenantRole
from .client import GraphClient
from .endpoints import CloudEndpoints

# Microsoft Graph Command Line Tools: a first-party public client every tenant knows.
PUBLIC_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
DELEGATED_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All")
Prompt = Callable[[str, str, datetime], None]  # verification uri, user code, expiry


class _DeviceCodeSession(AsyncTokenCredential):
    def __init__(self, sync: DeviceCodeCredential, scopes: Sequence[str]) -> None:
        self._sync, self._scopes = sync, tuple(scopes)

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return await asyncio.to_thread(self._sync.get_token, *self._scopes)

    async def close(self) -> None:
        self._sync.close()

    async def __aexit__(self, *args: object) -> None:
        await self.close()


def delegated_client(
    role: TenantRole,
    tenant_id: str,
    endpoints: CloudEndpoints,
    prompt: Prompt,
    *,
    known_cloud: bool = True,
    ca_file: str | None = None,
) -> GraphClient:
    graph_resource = endpoints.scope.removesuffix(".default")
    device = DeviceCodeCredential(
        client_id=PUBLIC_CLIENT_ID,
        tenant_id=tenant_id,
        authority=endpoints.authority_host,
        connection_verify=ca_file or True,
        # a Custom cloud (an emulator, a proxy) is not in Microsoft's list of login hosts
        disable_instance_discovery=not known_cloud,
        prompt_callback=prompt,
        timeout=900,
    )
    scopes = [graph_resource + scope for scope in DELEGATED_SCOPES]
    return GraphClient(
        role=role,
        tenant_id=tenant_id,
        credential=_DeviceCodeSession(device, scopes),
        endpoints=endpoints,
        ca_file=ca_file,
    )
