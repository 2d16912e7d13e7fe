"""TenantPair: one direction of cross-tenant sync, parsed from a CR body with the CRD defaults applied."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ctsync.api import constants, fields
from ctsync.errors import InvalidSpec, TenantRole

CLOUDS: Final = ("AzurePublic", "AzureUSGovernment", "AzureChina", "Custom")
DELETION_POLICIES: Final = ("Orphan", "Delete")


@dataclass(frozen=True)
class Endpoints:
    authority_host: str
    graph_endpoint: str
    ca_secret_name: str | None = None
    ca_secret_key: str = "ca.crt"


# Token authority and Graph endpoint of each national cloud.
CLOUD_ENDPOINTS: Final = {
    "AzurePublic": Endpoints("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "AzureUSGovernment": Endpoints("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "AzureChina": Endpoints("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class TenantSide:
    role: TenantRole
    tenant_id: str  # lower-case: Graph compares GUIDs case-insensitively and returns them lower-case
    credentials_secret: str
    cloud: str = "AzurePublic"
    endpoints: Endpoints | None = None

    @classmethod
    def parse(cls, f: fields.Fields, role: TenantRole) -> "TenantSide":
        endpoints = f.opt_child("endpoints")
        return cls(
            role=role,
            tenant_id=f.req_str("tenantId").lower(),
            credentials_secret=f.req_child("credentialsRef").req_str("name"),
            cloud=f.opt_str("cloud") or "AzurePublic",
            endpoints=_parse_endpoints(endpoints) if endpoints else None,
        )

    def effective_endpoints(self) -> Endpoints:
        """The endpoints to use: the explicit ones for Custom, else the cloud's well-known ones."""
        return self.endpoints or CLOUD_ENDPOINTS[self.cloud]


def _parse_endpoints(f: fields.Fields) -> Endpoints:
    ca = f.opt_child("caSecretRef")
    return Endpoints(
        authority_host=f.req_str("authorityHost"),
        graph_endpoint=f.req_str("graphEndpoint"),
        ca_secret_name=ca.req_str("name") if ca else None,
        ca_secret_key=(ca.opt_str("key") if ca else None) or "ca.crt",
    )


@dataclass(frozen=True)
class Trust:
    mfa: bool = False
    compliant_device: bool = False
    hybrid_joined_device: bool = False


@dataclass(frozen=True)
class TenantPair(fields.Resource):
    kind: ClassVar[str] = constants.KIND_TENANT_PAIR
    source: TenantSide
    target: TenantSide
    trust: Trust = Trust()
    automatic_redemption: bool = True
    user_sync_inbound: bool = True
    management_policy: str = "Manage"
    deletion_policy: str = "Orphan"
    suspend: bool = False

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> "TenantPair":
        identity, _ = fields.metadata(body)
        spec = fields.spec(body)
        trust = spec.child("trust")
        return cls(
            *identity,
            source=TenantSide.parse(spec.req_child("source"), "source"),
            target=TenantSide.parse(spec.req_child("target"), "target"),
            trust=Trust(
                mfa=trust.flag("mfa", False),
                compliant_device=trust.flag("compliantDevice", False),
                hybrid_joined_device=trust.flag("hybridJoinedDevice", False),
            ),
            automatic_redemption=spec.flag("automaticRedemption", True),
            user_sync_inbound=spec.flag("userSyncInbound", True),
            management_policy=spec.opt_str("managementPolicy") or "Manage",
            deletion_policy=spec.opt_str("deletionPolicy") or "Orphan",
            suspend=spec.flag("suspend", False),
        )

    def validate(self) -> None:
        """Every TenantPair rule, including those the CRD's CEL rules state (an old API server skips CEL)."""
        for side in (self.source, self.target):
            path = f"spec.{side.role}"
            fields.require_guid(f"{path}.tenantId", side.tenant_id)
            fields.require_non_empty(f"{path}.credentialsRef.name", side.credentials_secret)
            fields.require_one_of(f"{path}.cloud", side.cloud, CLOUDS)
            if side.cloud == "Custom" and side.endpoints is None:
                raise InvalidSpec(f"{path}.endpoints", "is required when cloud is Custom")
            if side.cloud != "Custom" and side.endpoints is not None:
                raise InvalidSpec(f"{path}.endpoints", f"may only be set when cloud is Custom, not {side.cloud}")
            if side.endpoints is not None:
                fields.require_https_url(f"{path}.endpoints.authorityHost", side.endpoints.authority_host)
                fields.require_https_url(f"{path}.endpoints.graphEndpoint", side.endpoints.graph_endpoint)
        if self.source.tenant_id == self.target.tenant_id:
            raise InvalidSpec("spec.target.tenantId", "must differ from spec.source.tenantId")
        fields.require_one_of("spec.managementPolicy", self.management_policy, constants.MANAGEMENT_POLICIES)
        fields.require_one_of("spec.deletionPolicy", self.deletion_policy, DELETION_POLICIES)
