"""The Microsoft Graph service principal every tenant holds: the resource whose app roles are Graph's
application permissions (granting one = an app role assignment on it) and whose scopes are the delegated
ones. Ids as Microsoft's permission reference lists them for the global cloud."""

from __future__ import annotations

from typing import Any

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

# permission -> (application role id, delegated scope id or None)
PERMISSIONS: dict[str, tuple[str, str | None]] = {
    "Policy.Read.All": ("246dd0d5-5bd0-4def-940b-0421030a5b68", "572fea84-0151-49b2-9301-11cb16974376"),
    "Policy.ReadWrite.CrossTenantAccess": (
        "338163d7-f101-4c92-94ba-ca46fe52447c",
        "014b43d0-6ed4-4fc6-84dc-4b6f7bae7d85",
    ),
    "Policy.Read.ConditionalAccess": ("37730810-e9ba-4e46-b07e-8ca78d182097", "633e0fce-8c58-4cfb-9495-12bbd5a24f7c"),
    "Application.Read.All": ("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "c79f8feb-a9db-4090-85f9-90d820caa0eb"),
    "Application.ReadWrite.All": ("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "bdfbf15f-ee85-4955-8675-146e8e5296b5"),
    "Application.ReadWrite.OwnedBy": ("18a4783c-866b-4cc7-a460-3d5e5662c884", None),
    "AppRoleAssignment.ReadWrite.All": (
        "06b708a9-e830-4db3-a914-8e69da51d44f",
        "84bccea3-f856-4a8a-967b-dbe0a3d53a64",
    ),
    "Synchronization.Read.All": ("5ba43d2f-fa88-4db2-bd1c-a67c5f0fb1ce", "7aa02aeb-824f-4fbe-a3f7-611f751f5b55"),
    "Synchronization.ReadWrite.All": ("9b50c33d-700f-43b1-b2eb-87e89b703581", "7bb27fa3-ea8f-4d67-a916-87715b6188bd"),
    "Directory.Read.All": ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "06da0dbc-49e2-44d2-8312-53f166ab848a"),
    "Directory.ReadWrite.All": ("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "c5366453-9fb0-48a5-a156-24f0c49a4b84"),
    "User.Read.All": ("df021288-bdef-4463-88db-98f22de89214", "a154be20-db9c-4678-8ab7-66f6cc099a59"),
    "Group.Read.All": ("5b567255-7703-4780-807c-7be8301ae99b", "5f8c59db-677d-491f-a6b8-5f174b11ec1d"),
    "AuditLog.Read.All": ("b0afded3-3588-46d8-8b3d-9842eff778da", "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20"),
    "ProvisioningLog.Read.All": ("091937d3-3e38-47a1-8649-b2f99d3035f1", "95aec97b-cf27-4a8d-a67d-42f60b5b38ef"),
}


def service_principal(object_id: str) -> dict[str, Any]:
    roles = [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to use {name} without a signed-in user.",
            "displayName": name,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": name,
        }
        for name, (role_id, _) in PERMISSIONS.items()
    ]
    scopes = [
        {
            "adminConsentDescription": f"Allows the app to use {name} on behalf of the signed-in user.",
            "adminConsentDisplayName": name,
            "id": scope_id,
            "isEnabled": True,
            "type": "Admin",
            "userConsentDescription": None,
            "userConsentDisplayName": None,
            "value": name,
        }
        for name, (_, scope_id) in PERMISSIONS.items()
        if scope_id is not None
    ]
    return {
        "id": object_id,
        "deletedDateTime": None,
        "accountEnabled": True,
        "appId": GRAPH_APP_ID,
        "applicationTemplateId": None,
        "appDisplayName": "Microsoft Graph",
        "alternativeNames": [],
        "appOwnerOrganizationId": MICROSOFT_TENANT,
        "displayName": "Microsoft Graph",
        "appRoleAssignmentRequired": False,
        "homepage": None,
        "loginUrl": None,
        "logoutUrl": None,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": [],
        "servicePrincipalNames": [GRAPH_APP_ID, "https://graph.microsoft.com"],
        "servicePrincipalType": "Application",
        "tags": [],
        "tokenEncryptionKeyId": None,
        "samlSingleSignOnSettings": None,
        "addIns": [],
        "appRoles": roles,
        "info": None,
        "keyCredentials": [],
        "oauth2PermissionScopes": scopes,
        "passwordCredentials": [],
        "verifiedPublisher": None,
    }
