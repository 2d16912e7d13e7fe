"""Graph clients for both tenants of a TenantPair, built from the credentials Secrets it names.

Clients are pooled by what they sign in as: the tenant, its side, and a fingerprint of the Secret's content
and the endpoints. A hub tenant that is the source of many pairs with the same credentials has one client,
one token and one Retry-After for all of them, as Graph throttles per app and tenant. A client is rebuilt
when its fingerprint changes and closed when no pair uses it any more."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ..api.tenantpair import TenantPair, TenantSide
from ..config import Settings
from ..errors import AuthenticationFailed, DependencyNotReady
from ..graph.client import GraphClient, RequestObserver
from ..graph.credentials import CredentialsMalformed, make_credential
from ..graph.cts import SourceTenant, TargetTenant
from ..graph.endpoints import endpoints_for
from ..graph.request_slots import RequestSlots

ClientKey = tuple[str, str, str]  # (side, tenant id, fingerprint of the credentials and endpoints)
PairSide = tuple[str, str, str]  # (namespace, TenantPair name, side)
# (namespace, Secret name) -> the Secret's data, decoded; None when the Secret does not exist.
SecretReader = Callable[[str, str], Awaitable[Mapping[str, str] | None]]


@dataclass
class TenantClients:
    source: SourceTenant
    target: TargetTenant


class ClientPool:
    def __init__(
        self,
        read_secret: SecretReader,
        observer: RequestObserver | None = None,
        *,
        max_requests: int = Settings.max_graph_requests,
        max_requests_per_tenant: int = Settings.max_graph_requests_per_tenant,
    ) -> None:
        self._read_secret = read_secret
        self._observer = observer
        self._slots = RequestSlots(max_requests, max_requests_per_tenant)  # shared by every client of the pool
        self._clients: dict[ClientKey, GraphClient] = {}
        self._in_use: dict[PairSide, ClientKey] = {}  # which client each pair's side uses now
        self._ca_dir = tempfile.mkdtemp(prefix="ctsync-ca-")

    async def for_pair(self, pair: TenantPair) -> TenantClients:
        source = await self._client(pair, pair.source)
        target = await self._client(pair, pair.target)
        return TenantClients(SourceTenant(source), TargetTenant(target))

    async def forget(self, pair: TenantPair) -> None:
        for side in (pair.source, pair.target):
            await self._release((pair.namespace, pair.name, side.role))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        self._in_use.clear()
        shutil.rmtree(self._ca_dir, ignore_errors=True)

    async def _release(self, user: PairSide) -> None:
        key = self._in_use.pop(user, None)
        client = self._clients.pop(key, None) if key is not None and key not in self._in_use.values() else None
        if client is not None:
            await client.close()

    async def _client(self, pair: TenantPair, side: TenantSide) -> GraphClient:
        secret = await self._secret(pair.namespace, side.credentials_secret, side)
        endpoints = side.effective_endpoints()
        ca_file = await self._ca_file(pair.namespace, side)
        fingerprint = _fingerprint(secret, endpoints.authority_host, endpoints.graph_endpoint, ca_file or "")
        key: ClientKey = (side.role, side.tenant_id.lower(), fingerprint)
        user: PairSide = (pair.namespace, pair.name, side.role)
        if self._in_use.get(user) != key:
            await self._release(user)  # its Secret or endpoints changed: the old client may be unused now
            self._in_use[user] = key
        cached = self._clients.get(key)
        if cached is not None:
            return cached
        cloud = endpoints_for(side.cloud, endpoints.authority_host, endpoints.graph_endpoint)
        try:
            credential = make_credential(side.tenant_id, secret, cloud, ca_file=ca_file)
        except CredentialsMalformed as exc:
            raise AuthenticationFailed(side.role, f"Secret {side.credentials_secret}: {exc}") from None
        client = GraphClient(
            role=side.role,
            tenant_id=side.tenant_id,
            credential=credential,
            endpoints=cloud,
            ca_file=ca_file,
            observer=self._observer,
            slots=self._slots,
        )
        self._clients[key] = client
        return client

    async def _secret(self, namespace: str, name: str, side: TenantSide) -> Mapping[str, str]:
        secret = await self._read_secret(namespace, name)
        if secret is None:
            raise DependencyNotReady(f"{side.role} tenant: credentials Secret {namespace}/{name} does not exist")
        return secret

    async def _ca_file(self, namespace: str, side: TenantSide) -> str | None:
        """A Custom cloud's CA bundle, from its Secret into a file: httpx and azure-identity read paths."""
        endpoints = side.endpoints
        if endpoints is None or endpoints.ca_secret_name is None:
            return None
        secret = await self._secret(namespace, endpoints.ca_secret_name, side)
        pem = secret.get(endpoints.ca_secret_key)
        if not pem:
            raise DependencyNotReady(
                f"{side.role} tenant: Secret {namespace}/{endpoints.ca_secret_name} "
                f"has no key {endpoints.ca_secret_key}"
            )
        path = os.path.join(self._ca_dir, hashlib.sha256(pem.encode()).hexdigest()[:16] + ".pem")
        if not os.path.exists(path):
            with open(path, "w") as handle:
                handle.write(pem)
        return path


def _fingerprint(secret: Mapping[str, str], *parts: str) -> str:
    digest = hashlib.sha256()
    for key in sorted(secret):
        digest.update(f"{key}\0{secret[key]}\0".encode())
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()
