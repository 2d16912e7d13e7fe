"""Sample CR bodies and Graph objects (reference shapes) for the ctsync unit tests."""

import copy
from typing import Any

SOURCE = "3f1c5a9e-7b2d-4e8a-9c41-2d6b8e0f7a13"
TARGET = "b84e2c17-59d0-4a6f-8e3b-c1f7a9052d64"
CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
GROUP_A = "11111111-1111-4111-8111-111111111111"
GROUP_B = "22222222-2222-4222-8222-222222222222"
USER_A = "33333333-3333-4333-8333-333333333333"
OWNER = "ctsync.io/owner=tenants/contoso-to-fabrikam"

TENANT_PAIR: dict[str, Any] = {
    "apiVersion": "ctsync.io/v1alpha1",
    "kind": "TenantPair",
    "metadata": {"namespace": "tenants", "name": "contoso-to-fabrikam", "generation": 3},
    "spec": {
        "source": {"tenantId": SOURCE, "credentialsRef": {"name": "contoso-creds"}},
        "target": {"tenantId": TARGET, "credentialsRef": {"name": "fabrikam-creds"}},
    },
}

SYNC_SCOPE: dict[str, Any] = {
    "apiVersion": "ctsync.io/v1alpha1",
    "kind": "SyncScope",
    "metadata": {"namespace": "tenants", "name": "contoso-to-fabrikam", "generation": 7},
    "spec": {
        "tenantPairRef": {"name": "contoso-to-fabrikam"},
        "configurationName": "Contoso to Fabrikam",
        "scope": {"groups": [{"displayName": "CTS-Fabrikam"}]},
    },
}

ATTRIBUTE_MAPPING: dict[str, Any] = {
    "apiVersion": "ctsync.io/v1alpha1",
    "kind": "AttributeMapping",
    "metadata": {"namespace": "tenants", "name": "contoso-to-fabrikam", "generation": 1},
    "spec": {
        "syncScopeRef": {"name": "contoso-to-fabrikam"},
        "mappings": [
            {"target": "jobTitle", "source": "[jobTitle]"},
            {"target": "companyName", "source": '"Contoso (Synced)"', "apply": "Always"},
        ],
    },
}


def body(template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A deep copy of `template` with top-level spec fields replaced."""
    out = copy.deepcopy(template)
    out["spec"].update(copy.deepcopy(spec))
    return out


def mapping(target: str, expression: str, **extra: Any) -> dict[str, Any]:
    """An attributeMapping as the service returns it (its own parameter naming, defaults spelled out)."""
    source_type = "Attribute" if expression.startswith("[") else "Constant"
    name = expression.strip('[]"')
    if "(" in expression:
        source_type, name = "Function", expression.split("(")[0]
    return {
        "defaultValue": None,
        "exportMissingReferences": False,
        "flowBehavior": "FlowWhenChanged",
        "flowType": "Always",
        "matchingPriority": 0,
        "targetAttributeName": target,
        "source": {"expression": expression, "name": name, "type": source_type, "parameters": []},
        **extra,
    }


def cts_schema() -> dict[str, Any]:
    """A trimmed Azure2Azure job schema (reference §5.1-5.3)."""
    user_mappings = [
        mapping("alternativeSecurityIds", "AltSecIdFromNetId([netId])", matchingPriority=1),
        mapping("IsSoftDeleted", "[IsSoftDeleted]"),
        mapping("accountEnabled", "[accountEnabled]"),
        mapping("department", "[department]"),
        mapping("employeeId", "[employeeId]"),
        mapping("displayName", "[displayName]"),
        mapping("showInAddressList", '"true"'),
        mapping("userPrincipalName", "[userPrincipalName]"),
        mapping("userType", '"Member"', flowType="ObjectAddOnly"),
    ]
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('x')/synchronization/jobs('y')/schema/$entity",
        "id": "Azure2Azure.0f1e2d3c4b5a69788796a5b4c3d2e1f0.b84e2c17-59d0-4a6f-8e3b-c1f7a9052d64",
        "version": "v1.2",
        "synchronizationRules": [
            {
                "id": "USER_INBOUND_USER",
                "name": "USER_INBOUND_USER",
                "editable": True,
                "priority": 1,
                "sourceDirectoryName": "Azure Active Directory",
                "targetDirectoryName": "Azure Active Directory (target tenant)",
                "containerFilter": None,
                "groupFilter": None,
                "metadata": [
                    {"key": "defaultSourceObjectMappings", "value": "true"},
                    {"key": "supportsProvisionOnDemand", "value": "true"},
                ],
                "objectMappings": [
                    {
                        "name": "Provision Azure Active Directory Users",
                        "enabled": True,
                        "flowTypes": "Add, Update, Delete",
                        "metadata": [],
                        "scope": None,
                        "sourceObjectName": "User",
                        "targetObjectName": "User",
                        "attributeMappings": user_mappings,
                    },
                    {
                        "name": "Provision Azure Active Directory Groups",
                        "enabled": False,
                        "flowTypes": "Add, Update, Delete",
                        "metadata": [],
                        "scope": None,
                        "sourceObjectName": "Group",
                        "targetObjectName": "Group",
                        "attributeMappings": [mapping("displayName", "[displayName]")],
                    },
                ],
            }
        ],
        "directories": [
            {
                "id": "source",
                "name": "Azure Active Directory",
                "objects": [
                    {
                        "name": "User",
                        "attributes": [
                            {"name": "department", "type": "String", "multivalued": False},
                            {"name": "jobTitle", "type": "String", "multivalued": False},
                        ],
                    }
                ],
            }
        ],
    }


def user_mappings(schema: dict[str, Any]) -> list[dict[str, Any]]:
    mappings: list[dict[str, Any]] = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    return mappings


def service_principal(
    sp_id: str, name: str, tags: tuple[str, ...] = (), template: str | None = CTS_TEMPLATE
) -> dict[str, Any]:
    return {
        "id": sp_id,
        "displayName": name,
        "applicationTemplateId": template,
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp", *tags],
    }


def job(code: str = "Paused", state: str = "Disabled") -> dict[str, Any]:
    return {
        "id": "Azure2Azure.0f1e2d3c4b5a69788796a5b4c3d2e1f0.b84e2c17-59d0-4a6f-8e3b-c1f7a9052d64",
        "templateId": "Azure2Azure",
        "schedule": {"expiration": None, "interval": "PT40M", "state": state},
        "status": {"code": code, "quarantine": None},
    }
