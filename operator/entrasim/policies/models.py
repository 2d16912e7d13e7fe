"""State and rules of the policies service for one tenant: the cross-tenant access policy's partner
configurations, their identity synchronization policies and the default configuration.

Nested objects in a PATCH replace the stored object as a whole (properties left out become null), which
is the safe reading of Graph's docs; an explicit null resets a setting to "inherit the default"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import BadRequest, ResourceNotFound
from ..core.ids import is_guid
from .exceptions import ConflictingObjects, InvalidProperty, InvalidValue, PartnerExists, SyncPolicyNotFound

if TYPE_CHECKING:
    from ..world import Tenant

# --- request body schemas -----------------------------------------------------------------------------
# A check takes (value, property name) and returns the value normalised for storage, or raises 400.
Check = Callable[[Any, str], Any]


def _scalar(kind: type, type_name: str) -> Check:
    def check(value: Any, name: str) -> Any:
        if value is not None and not isinstance(value, kind):
            raise InvalidValue(name, type_name)
        return value

    return check


def _enum(type_name: str, *members: str) -> Check:
    def check(value: Any, name: str) -> Any:
        if value is not None and value not in members:
            raise InvalidValue(name, type_name)
        return value

    return check


def _collection(item: Check, type_name: str) -> Check:
    def check(value: Any, name: str) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidValue(name, type_name)
        return [item(v, name) for v in value]

    return check


def _complex(type_name: str, fields: Mapping[str, Check], *, null_means_empty: bool = False) -> Check:
    """An object of a complex type: every declared property is stored (absent ones as null)."""

    def check(value: Any, name: str) -> Any:
        if value is None and not null_means_empty:
            return None
        value = {} if value is None else value
        if not isinstance(value, dict):
            raise InvalidValue(name, type_name)
        return validate_object(value, fields)

    return check


def validate_object(body: Mapping[str, Any], fields: Mapping[str, Check]) -> dict[str, Any]:
    for key in body:
        if key not in fields and not key.startswith("@odata."):
            raise InvalidProperty(key)
    return {key: check(body.get(key), key) for key, check in fields.items()}


BOOL = _scalar(bool, "Edm.Boolean")
STRING = _scalar(str, "Edm.String")
INBOUND_OUTBOUND = _complex(
    "inboundOutboundPolicyConfiguration",
    {"inboundAllowed": BOOL, "outboundAllowed": BOOL},
    null_means_empty=True,
)
INBOUND_TRUST = _complex(
    "crossTenantAccessPolicyInboundTrust",
    dict.fromkeys(("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"), BOOL),
)
_TARGET = _complex(
    "crossTenantAccessPolicyTarget",
    {
        "target": STRING,
        "targetType": _enum("crossTenantAccessPolicyTargetType", "user", "group", "application", "unknownFutureValue"),
    },
)
_TARGET_CONFIGURATION = _complex(
    "crossTenantAccessPolicyTargetConfiguration",
    {
        "accessType": _enum(
            "crossTenantAccessPolicyTargetConfigurationAccessType", "allowed", "blocked", "unknownFutureValue"
        ),
        "targets": _collection(_TARGET, "crossTenantAccessPolicyTarget"),
    },
)
B2B_SETTING = _complex(
    "crossTenantAccessPolicyB2BSetting",
    {"usersAndGroups": _TARGET_CONFIGURATION, "applications": _TARGET_CONFIGURATION},
)
TENANT_RESTRICTIONS = _complex(
    "crossTenantAccessPolicyTenantRestrictions",
    {
        "usersAndGroups": _TARGET_CONFIGURATION,
        "applications": _TARGET_CONFIGURATION,
        "devices": _complex(
            "devicesFilter",
            {
                "mode": _enum("crossTenantAccessPolicyTargetConfigurationAccessType", "include", "exclude"),
                "rule": STRING,
            },
        ),
    },
)
IDP_CONFIGURATION = _complex(
    "defaultInvitationRedemptionIdentityProviderConfiguration",
    {
        "primaryIdentityProviderPrecedenceOrder": _collection(
            _enum(
                "b2bIdentityProvidersType",
                "azureActiveDirectory",
                "externalFederation",
                "socialIdentityProviders",
                "emailOneTimePasscode",
                "microsoftAccount",
                "defaultConfiguredIdp",
                "unknownFutureValue",
            ),
            "b2bIdentityProvidersType",
        ),
        "fallbackIdentityProvider": _enum(
            "b2bIdentityProvidersType",
            "defaultConfiguredIdp",
            "emailOneTimePasscode",
            "microsoftAccount",
            "unknownFutureValue",
        ),
    },
)
USER_SYNC_INBOUND = _complex("crossTenantUserSyncInbound", {"isSyncAllowed": BOOL})

_B2B_SETTINGS = (
    "b2bCollaborationOutbound",
    "b2bCollaborationInbound",
    "b2bDirectConnectOutbound",
    "b2bDirectConnectInbound",
)
# Writable partner properties, in the order Graph returns them.
PARTNER_FIELDS: dict[str, Check] = {
    "isServiceProvider": BOOL,
    "inboundTrust": INBOUND_TRUST,
    **dict.fromkeys(_B2B_SETTINGS, B2B_SETTING),
    "tenantRestrictions": TENANT_RESTRICTIONS,
    "crossCloudMeetingConfiguration": INBOUND_OUTBOUND,
    "automaticUserConsentSettings": INBOUND_OUTBOUND,
}
DEFAULT_FIELDS: dict[str, Check] = {
    "inboundTrust": INBOUND_TRUST,
    **dict.fromkeys(_B2B_SETTINGS, B2B_SETTING),
    "invitationRedemptionIdentityProviderConfiguration": IDP_CONFIGURATION,
    "automaticUserConsentSettings": INBOUND_OUTBOUND,
    "tenantRestrictions": TENANT_RESTRICTIONS,
}
CLOUD_ENDPOINTS = ("microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn")
# The root crossTenantAccessPolicy: which other Microsoft clouds the tenant collaborates with.
ROOT_FIELDS: dict[str, Check] = {
    "displayName": STRING,
    "allowedCloudEndpoints": _collection(_enum("crossTenantAccessPolicy", *CLOUD_ENDPOINTS), "Edm.String"),
}
SYNC_FIELDS: dict[str, Check] = {"displayName": STRING, "userSyncInbound": USER_SYNC_INBOUND}


def _b2b(access: str) -> dict[str, Any]:
    def config(target: str, target_type: str) -> dict[str, Any]:
        return {"accessType": access, "targets": [{"target": target, "targetType": target_type}]}

    return {
        "usersAndGroups": config("AllUsers", "user"),
        "applications": config("AllApplications", "application"),
    }


def system_default() -> dict[str, Any]:
    """The service default: trust nothing; B2B collaboration allowed, B2B direct connect blocked."""
    return {
        "isServiceDefault": True,
        "inboundTrust": dict.fromkeys(
            ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"), False
        ),
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "b2bCollaborationOutbound": _b2b("allowed"),
        "b2bCollaborationInbound": _b2b("allowed"),
        "b2bDirectConnectOutbound": _b2b("blocked"),
        "b2bDirectConnectInbound": _b2b("blocked"),
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": [
                "externalFederation",
                "azureActiveDirectory",
                "socialIdentityProviders",
            ],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
        "tenantRestrictions": {**_b2b("allowed"), "devices": None},
    }


def _key(tenant_id: str) -> str:
    return tenant_id.lower()


def _settings(stored: Mapping[str, Any], body: Mapping[str, Any], fields: Mapping[str, Check]) -> dict[str, Any]:
    """The validated body of a write; it may repeat the stored tenantId but not change it."""
    if "tenantId" in body and (not isinstance(body["tenantId"], str) or _key(body["tenantId"]) != stored["tenantId"]):
        raise BadRequest("Property 'tenantId' is read-only and cannot be changed.")
    return validate_object({k: v for k, v in body.items() if k != "tenantId"}, fields)


def _patch(stored: dict[str, Any], body: Mapping[str, Any], fields: Mapping[str, Check]) -> None:
    """Sets the properties the body names; a nested object replaces the stored one as a whole."""
    settings = _settings(stored, body, fields)
    stored.update({k: settings[k] for k in body if k in settings})


class PoliciesBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.partners: dict[str, dict[str, Any]] = {}  # partner tenant id (lower case) -> configuration
        self.sync_policies: dict[str, dict[str, Any]] = {}  # partner tenant id -> identitySynchronization
        self.default = system_default()
        self.root: dict[str, Any] = {"displayName": "CrossTenantAccessPolicy", "allowedCloudEndpoints": []}

    # --- queries for the provisioning engine ---------------------------------------------------------
    def partner(self, tenant_id: str) -> dict[str, Any] | None:
        return self.partners.get(_key(tenant_id))

    def identity_sync(self, tenant_id: str) -> dict[str, Any] | None:
        return self.sync_policies.get(_key(tenant_id))

    def inbound_auto_redemption(self, tenant_id: str) -> bool:
        return self._consent(tenant_id, "inboundAllowed")

    def outbound_auto_redemption(self, tenant_id: str) -> bool:
        return self._consent(tenant_id, "outboundAllowed")

    def inbound_sync_allowed(self, tenant_id: str) -> bool:
        policy = self.identity_sync(tenant_id)
        return bool(policy and (policy.get("userSyncInbound") or {}).get("isSyncAllowed") is True)

    def _consent(self, tenant_id: str, direction: str) -> bool:
        # null inherits the default configuration, whose automatic consent is always false
        partner = self.partner(tenant_id)
        return bool(partner and partner["automaticUserConsentSettings"][direction] is True)

    # --- partners ------------------------------------------------------------------------------------
    def list_partners(self) -> list[dict[str, Any]]:
        return list(self.partners.values())

    def get_partner(self, tenant_id: str) -> dict[str, Any]:
        partner = self.partner(tenant_id)
        if partner is None:
            raise ResourceNotFound(
                f"Resource '{tenant_id}' does not exist or one of its queried reference-property "
                "objects are not present."
            )
        return partner

    def create_partner(self, body: Mapping[str, Any]) -> dict[str, Any]:
        tenant_id = body.get("tenantId")
        if not isinstance(tenant_id, str) or not is_guid(tenant_id):
            raise InvalidValue("tenantId", "crossTenantAccessPolicyConfigurationPartner")
        if _key(tenant_id) == self.tenant.id:
            raise BadRequest("A partner configuration cannot be created for the tenant's own tenant id.")
        settings = validate_object({k: v for k, v in body.items() if k != "tenantId"}, PARTNER_FIELDS)
        if _key(tenant_id) in self.partners:
            raise PartnerExists()
        partner = {"tenantId": _key(tenant_id), **settings}
        self.partners[_key(tenant_id)] = partner
        return partner

    def update_partner(self, tenant_id: str, body: Mapping[str, Any]) -> None:
        _patch(self.get_partner(tenant_id), body, PARTNER_FIELDS)

    def delete_partner(self, tenant_id: str) -> None:
        partner = self.get_partner(tenant_id)
        if partner["tenantId"] in self.sync_policies:
            # Graph documents only "delete the identitySynchronization first"; the refusal is a 400
            raise BadRequest(
                "The partner configuration has an identity synchronization policy; delete the "
                "identitySynchronization policy before deleting the partner configuration."
            )
        del self.partners[partner["tenantId"]]

    # --- identity synchronization --------------------------------------------------------------------
    def get_identity_sync(self, tenant_id: str) -> dict[str, Any]:
        policy = self.identity_sync(tenant_id)
        if policy is None:
            raise SyncPolicyNotFound()
        return policy

    def create_identity_sync(self, tenant_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT creates only: a second PUT is a 409, updates go through PATCH."""
        partner = self.get_partner(tenant_id)
        settings = _settings(partner, body, SYNC_FIELDS)
        if partner["tenantId"] in self.sync_policies:
            raise ConflictingObjects()
        policy = {"tenantId": partner["tenantId"], **settings}
        self.sync_policies[partner["tenantId"]] = policy
        return policy

    def update_identity_sync(self, tenant_id: str, body: Mapping[str, Any]) -> None:
        _patch(self.get_identity_sync(tenant_id), body, SYNC_FIELDS)

    def delete_identity_sync(self, tenant_id: str) -> None:
        del self.sync_policies[self.get_identity_sync(tenant_id)["tenantId"]]

    # --- default configuration -----------------------------------------------------------------------
    def update_default(self, body: Mapping[str, Any]) -> None:
        settings = validate_object(body, DEFAULT_FIELDS)
        for key in body:
            if key.startswith("@odata."):
                continue
            if settings[key] is None:
                raise InvalidValue(key, "crossTenantAccessPolicyConfigurationDefault")
            if key == "automaticUserConsentSettings" and any(settings[key].values()):
                raise BadRequest(
                    "Property 'automaticUserConsentSettings' is read-only in the default configuration "
                    "and is always false."
                )
        self.default.update({k: v for k, v in settings.items() if k in body and k != "automaticUserConsentSettings"})
        self.default["isServiceDefault"] = False

    def reset_default(self) -> None:
        self.default = system_default()

    # --- the root policy -----------------------------------------------------------------------------
    def update_root(self, body: Mapping[str, Any]) -> None:
        settings = validate_object(body, ROOT_FIELDS)
        if "displayName" in body and not settings["displayName"]:
            raise InvalidValue("displayName", "crossTenantAccessPolicy")
        if "allowedCloudEndpoints" in body:
            settings["allowedCloudEndpoints"] = list(dict.fromkeys(settings["allowedCloudEndpoints"]))
        self.root.update({k: v for k, v in settings.items() if k in body})
