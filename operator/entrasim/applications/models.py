"""State and rules of the applications service for one tenant: gallery templates, the applications and
service principals instantiated from them, and app role assignments (who is in a CTS configuration's
scope).

Reads see only what the serving replica has (core/replication.py). Not modelled: ownership limits of
Application.ReadWrite.OwnedBy, and the recycle bin for applications and service principals (deletes are
hard deletes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import BadRequest, Conflict, ResourceNotFound
from ..core.ids import is_guid, new_guid, opaque_id
from ..core.replication import hidden, visible_only
from ..identity.models import ClientApp, FederatedCredential
from . import credentials, microsoft_graph
from .exceptions import AssignmentExists, InvalidValue, RoleNotFound

if TYPE_CHECKING:
    from cryptography import x509

    from ..world import Tenant

CTS_TEMPLATE_ID = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"
CTS_HOME_PAGE = (
    "https://account.activedirectory.windowsazure.com:444/applications/default.aspx"
    "?metadata=aad2aadsync|ISV9.1|primary|z"
)
_NO_INFO = dict.fromkeys(("logoUrl", "marketingUrl", "privacyStatementUrl", "supportUrl", "termsOfServiceUrl"))
_NO_PUBLISHER = {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}

# The gallery this emulator knows. The CTS template's display name is not documented.
TEMPLATES: dict[str, dict[str, Any]] = {
    CTS_TEMPLATE_ID: {
        "id": CTS_TEMPLATE_ID,
        "displayName": "Cross-Tenant Synchronization",
        "homePageUrl": CTS_HOME_PAGE,
        "supportedSingleSignOnModes": ["notSupported"],
        "supportedProvisioningTypes": ["sync"],
        "logoUrl": None,
        "categories": ["security"],
        "publisher": "Microsoft Corporation",
        "description": "Synchronize users from this tenant into another Microsoft Entra tenant.",
    },
}


def not_found(object_id: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."
    )


# What PATCH may change; ids, appId and template links are read-only.
UPDATABLE_APPLICATION = {
    "displayName": str,
    "notes": str,
    "tags": list,
    "description": str,
    "signInAudience": str,
    "isFallbackPublicClient": bool,
}


def _required_resource_access(value: Any) -> list[dict[str, Any]]:
    """Declared permissions: [{resourceAppId, resourceAccess: [{id, type: Role|Scope}]}]. Declaring grants nothing."""
    ok = isinstance(value, list) and all(
        isinstance(r, dict)
        and is_guid(r.get("resourceAppId"))
        and isinstance(r.get("resourceAccess"), list)
        and all(
            isinstance(a, dict) and is_guid(a.get("id")) and a.get("type") in ("Role", "Scope")
            for a in r["resourceAccess"]
        )
        for r in value
    )
    if not ok:
        raise BadRequest("Invalid value specified for property 'requiredResourceAccess' of resource 'Application'.")
    return [
        {
            "resourceAppId": r["resourceAppId"],
            "resourceAccess": [{"id": a["id"], "type": a["type"]} for a in r["resourceAccess"]],
        }
        for r in value
    ]


UPDATABLE_SERVICE_PRINCIPAL = {
    "tags": list,
    "notes": str,
    "description": str,
    "appRoleAssignmentRequired": bool,
    "accountEnabled": bool,
    "notificationEmailAddresses": list,
}


def _has_type(value: object, expected: type) -> bool:
    """A scalar of the expected type, or (for list properties) a list of strings."""
    if isinstance(value, list):
        return expected is list and all(isinstance(v, str) for v in value)
    return isinstance(value, expected)


def _update(obj: dict[str, Any], changes: Mapping[str, Any], allowed: Mapping[str, type], kind: str) -> None:
    for key, value in changes.items():
        if key not in allowed:
            raise BadRequest(f"Property '{key}' is read-only or does not exist on type 'microsoft.graph.{kind}'.")
        if value is not None and not _has_type(value, allowed[key]):
            raise BadRequest(f"Invalid value specified for property '{key}' of resource '{kind}'.")
    obj.update(changes)


def _lookup(store: Mapping[str, dict[str, Any]], object_id: str) -> dict[str, Any]:
    found = store.get(object_id.lower())
    if found is None or hidden(found["id"]):
        raise not_found(object_id)
    return found


def _cts_roles_and_scopes(display_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    role = {
        "allowedMemberTypes": ["User"],
        "displayName": "msiam_access",
        "id": new_guid(),
        "isEnabled": True,
        "description": "msiam_access",
        "value": None,
        "origin": "Application",
    }
    scope = {
        "adminConsentDescription": f"Allow the application to access {display_name} on behalf of the signed-in user.",
        "adminConsentDisplayName": f"Access {display_name}",
        "id": new_guid(),
        "isEnabled": True,
        "type": "User",
        "userConsentDescription": f"Allow the application to access {display_name} on your behalf.",
        "userConsentDisplayName": f"Access {display_name}",
        "value": "user_impersonation",
    }
    return role, scope


class ApplicationsBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.applications: dict[str, dict[str, Any]] = {}
        self.service_principals: dict[str, dict[str, Any]] = {}
        self._sp_by_app_id: dict[str, str] = {}  # appId -> service principal id
        self._sps_by_template: dict[str, dict[str, None]] = {}  # template id -> service principal ids, in order
        self._assignments: dict[str, dict[str, dict[str, Any]]] = {}  # sp id -> assignment id -> assignment
        self._by_principal: dict[str, dict[str, str]] = {}  # principal id -> assignment id -> sp id
        self._certificates: dict[str, x509.Certificate] = {}  # keyCredential keyId -> certificate
        self._federated: dict[str, list[dict[str, Any]]] = {}  # application id -> its federated credentials
        self.graph = microsoft_graph.service_principal(new_guid())
        self.service_principals[self.graph["id"]] = self.graph
        self._sp_by_app_id[microsoft_graph.GRAPH_APP_ID] = self.graph["id"]
        self._assignments[self.graph["id"]] = {}

    def _now(self) -> str:
        return self.tenant.world.clock.iso_now()

    # --- templates -----------------------------------------------------------------------------------
    def list_templates(self) -> list[dict[str, Any]]:
        return list(TEMPLATES.values())

    def get_template(self, template_id: str) -> dict[str, Any]:
        return _lookup(TEMPLATES, template_id)

    def instantiate(self, template_id: str, display_name: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Adds an application and its service principal. Not idempotent: each call creates a new pair."""
        template = self.get_template(template_id)
        if not isinstance(display_name, str) or not display_name.strip():
            raise BadRequest("Property 'displayName' is required and must be a non-empty string.")
        app = self._new_application(template["id"], display_name)
        sp = self._new_service_principal(app)
        self.applications[app["id"]] = app
        self.service_principals[sp["id"]] = sp
        self._sp_by_app_id[app["appId"]] = sp["id"]
        self._sps_by_template.setdefault(template["id"], {})[sp["id"]] = None
        self._assignments[sp["id"]] = {}
        return app, sp

    def _new_application(self, template_id: str | None, display_name: str) -> dict[str, Any]:
        role, scope = _cts_roles_and_scopes(display_name)
        return {
            "id": new_guid(),
            "appId": new_guid(),
            "applicationTemplateId": template_id,
            "createdDateTime": self._now(),
            "deletedDateTime": None,
            "displayName": display_name,
            "description": None,
            "groupMembershipClaims": None,
            "identifierUris": [],
            "isFallbackPublicClient": False,
            "signInAudience": "AzureADMyOrg",
            "tags": [],
            "tokenEncryptionKeyId": None,
            "defaultRedirectUri": None,
            "optionalClaims": None,
            "addIns": [],
            "api": {
                "acceptMappedClaims": None,
                "knownClientApplications": [],
                "requestedAccessTokenVersion": None,
                "oauth2PermissionScopes": [scope],
                "preAuthorizedApplications": [],
            },
            "appRoles": [role],
            "info": dict(_NO_INFO),
            "keyCredentials": [],
            "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
            "passwordCredentials": [],
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [],
            "verifiedPublisher": dict(_NO_PUBLISHER),
            "web": {"homePageUrl": CTS_HOME_PAGE, "redirectUris": [], "logoutUrl": None},
        }

    def _new_service_principal(self, app: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": new_guid(),
            "deletedDateTime": None,
            "accountEnabled": True,
            "appId": app["appId"],
            "applicationTemplateId": app["applicationTemplateId"],
            "appDisplayName": app["displayName"],
            "alternativeNames": [],
            "appOwnerOrganizationId": self.tenant.id,
            "displayName": app["displayName"],
            "appRoleAssignmentRequired": True,
            "loginUrl": None,
            "logoutUrl": None,
            "homepage": CTS_HOME_PAGE,
            "notificationEmailAddresses": [],
            "preferredSingleSignOnMode": None,
            "preferredTokenSigningKeyThumbprint": None,
            "replyUrls": [],
            "servicePrincipalNames": [app["appId"]],
            "servicePrincipalType": "Application",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
            "tokenEncryptionKeyId": None,
            "samlSingleSignOnSettings": None,
            "addIns": [],
            "appRoles": [dict(r) for r in app["appRoles"]],
            "info": dict(_NO_INFO),
            "keyCredentials": [],
            "oauth2PermissionScopes": [dict(s) for s in app["api"]["oauth2PermissionScopes"]],
            "passwordCredentials": [],
            "verifiedPublisher": dict(_NO_PUBLISHER),
        }

    # --- applications --------------------------------------------------------------------------------
    def list_applications(self) -> list[dict[str, Any]]:
        return visible_only(list(self.applications.values()))

    def get_application(self, app_object_id: str) -> dict[str, Any]:
        return _lookup(self.applications, app_object_id)

    def update_application(self, app_object_id: str, changes: Mapping[str, Any]) -> None:
        app = self.get_application(app_object_id)
        changes = dict(changes)
        if "requiredResourceAccess" in changes:
            app["requiredResourceAccess"] = _required_resource_access(changes.pop("requiredResourceAccess"))
        if "keyCredentials" in changes:
            self.set_key_credentials(app, changes.pop("keyCredentials"))
        _update(app, changes, UPDATABLE_APPLICATION, "application")
        if "isFallbackPublicClient" in changes:
            self._client(app).public_client = bool(app["isFallbackPublicClient"])

    def delete_application(self, app_object_id: str) -> None:
        """Deleting an application also deletes its service principal in this tenant."""
        app = self.get_application(app_object_id)
        del self.applications[app["id"]]
        self._federated.pop(app["id"], None)
        for key in app["keyCredentials"]:
            self._certificates.pop(key["keyId"], None)
        self.tenant.identity.unregister(app["appId"])
        sp_id = self._sp_by_app_id.get(app["appId"])
        if sp_id is not None:  # even if this replica does not have the service principal yet
            self._remove_service_principal(self.service_principals[sp_id])

    def create_application(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /applications: a plain app registration, which may then get tokens once it has a credential."""
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("Property 'displayName' is required and must be a non-empty string.")
        app = self._new_application(None, name)
        app.update(appRoles=[], identifierUris=[], web={"homePageUrl": None, "redirectUris": [], "logoutUrl": None})
        app["api"]["oauth2PermissionScopes"] = []
        self.applications[app["id"]] = app
        self.tenant.identity.register(ClientApp(app["appId"], name))
        self.update_application(app["id"], {k: v for k, v in body.items() if k != "displayName"})
        return app

    def create_service_principal(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /servicePrincipals {"appId"}: the enterprise app of an application of this tenant."""
        app_id = body.get("appId")
        app = next((a for a in self.list_applications() if a["appId"] == str(app_id).lower()), None)
        if app is None:
            raise BadRequest(
                f"The appId '{app_id}' of the service principal does not reference a valid application object.",
                details=[{"code": "NoBackingApplicationObject", "target": "appId"}],
            )
        if app["appId"] in self._sp_by_app_id:
            raise Conflict("The service principal name is already present for the tenant.")
        sp = self._new_service_principal(app)
        sp.update(homepage=None, tags=[])
        self.service_principals[sp["id"]] = sp
        self._sp_by_app_id[app["appId"]] = sp["id"]
        self._assignments[sp["id"]] = {}
        self.update_service_principal(sp["id"], {k: v for k, v in body.items() if k != "appId"})
        return sp

    # --- credentials -----------------------------------------------------------------------------------
    def _client(self, app: Mapping[str, Any]) -> ClientApp:
        client = self.tenant.identity.app(app["appId"])
        if client is None:  # an application made from a template: it may get tokens once it has a credential
            client = self.tenant.identity.register(ClientApp(app["appId"], app["displayName"]))
        return client

    def add_password(self, app_object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        app = self.get_application(app_object_id)
        stored, text = credentials.new_password(body, self.tenant.world.clock.now())
        app["passwordCredentials"].append(stored)
        self._client(app).secrets.append(text)
        return {**stored, "secretText": text}

    def set_key_credentials(self, app: dict[str, Any], entries: Any) -> None:
        """PATCH keyCredentials replaces the set: an entry naming an existing keyId without a key keeps it."""
        if not isinstance(entries, list):
            raise BadRequest("Property 'keyCredentials' must be a list.")
        kept = {k["keyId"]: k for k in app["keyCredentials"]}
        new_set, certs = [], []
        for entry in entries:
            if isinstance(entry, dict) and entry.get("keyId") in kept and not entry.get("key"):
                new_set.append(kept[entry["keyId"]])
                certs.append(self._certificates[entry["keyId"]])
                continue
            stored, cert = credentials.new_key(entry)
            self._certificates[stored["keyId"]] = cert
            new_set.append(stored)
            certs.append(cert)
        for key_id in set(kept) - {k["keyId"] for k in new_set}:
            self._certificates.pop(key_id, None)
        app["keyCredentials"] = new_set
        self._client(app).certificates = certs

    def add_key(self, app_object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """addKey: a further certificate, proven by a JWT signed with a certificate the app already has."""
        app = self.get_application(app_object_id)
        proven_by = credentials.verify_proof(
            body.get("proof"), app["id"], [self._certificates[k["keyId"]] for k in app["keyCredentials"]]
        )
        if proven_by is None:
            raise BadRequest("The proof is not a valid JWT signed by a current certificate of the application.")
        stored, cert = credentials.new_key(body.get("keyCredential"))
        self._certificates[stored["keyId"]] = cert
        app["keyCredentials"].append(stored)
        self._client(app).certificates.append(cert)
        return stored

    def federated_credentials(self, app_object_id: str) -> list[dict[str, Any]]:
        return self._federated.setdefault(self.get_application(app_object_id)["id"], [])

    def add_federated_credential(self, app_object_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        app = self.get_application(app_object_id)
        existing = self.federated_credentials(app["id"])
        fic = credentials.new_federated(body, existing)
        existing.append(fic)
        self._sync_federated(app)
        return fic

    def federated_credential(self, app_object_id: str, fic_id: str) -> dict[str, Any]:
        for fic in self.federated_credentials(app_object_id):
            if fic_id in (fic["id"], fic["name"]):
                return fic
        raise not_found(fic_id)

    def delete_federated_credential(self, app_object_id: str, fic_id: str) -> None:
        fic = self.federated_credential(app_object_id, fic_id)
        self.federated_credentials(app_object_id).remove(fic)
        self._sync_federated(self.get_application(app_object_id))

    def _sync_federated(self, app: Mapping[str, Any]) -> None:
        self._client(app).federated = [
            FederatedCredential(f["issuer"], f["subject"], tuple(f["audiences"])) for f in self._federated[app["id"]]
        ]

    # --- service principals --------------------------------------------------------------------------
    def list_service_principals(self) -> list[dict[str, Any]]:
        """The tenant's own service principals; Microsoft Graph's is addressable but not listed."""
        return visible_only([sp for sp in self.service_principals.values() if sp is not self.graph])

    def service_principal(self, sp_id: str) -> dict[str, Any]:
        return _lookup(self.service_principals, sp_id)

    def update_service_principal(self, sp_id: str, changes: Mapping[str, Any]) -> None:
        _update(self.service_principal(sp_id), changes, UPDATABLE_SERVICE_PRINCIPAL, "servicePrincipal")

    def service_principal_by_app_id(self, app_id: str) -> dict[str, Any]:
        sp_id = self._sp_by_app_id.get(app_id.lower())
        if sp_id is None or hidden(sp_id):
            raise not_found(app_id)
        return self.service_principals[sp_id]

    def service_principals_by_template(self, template_id: str) -> list[dict[str, Any]]:
        return visible_only([self.service_principals[i] for i in self._sps_by_template.get(template_id.lower(), {})])

    def delete_service_principal(self, sp_id: str) -> None:
        """Removes the service principal, its app role assignments and its synchronization state."""
        if self.service_principal(sp_id) is self.graph:
            raise BadRequest("Microsoft first-party service principals cannot be deleted.")
        self._remove_service_principal(self.service_principal(sp_id))

    def _remove_service_principal(self, sp: Mapping[str, Any]) -> None:
        del self.service_principals[sp["id"]]
        del self._sp_by_app_id[sp["appId"]]
        self._sps_by_template.get(sp["applicationTemplateId"], {}).pop(sp["id"], None)
        for assignment in self._assignments.pop(sp["id"], {}).values():
            self._forget_assignment(assignment)
        for assignment_id, resource_id in self._by_principal.pop(sp["id"], {}).items():  # what it was granted
            self._grant_graph_role(self._assignments[resource_id].pop(assignment_id), granted=False)
        self.tenant.synchronization.forget_service_principal(sp["id"])

    # --- app role assignments ------------------------------------------------------------------------
    def assign(self, sp_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        sp = self.service_principal(sp_id)
        for prop in ("principalId", "resourceId", "appRoleId"):
            if not is_guid(body.get(prop)):
                raise InvalidValue(prop)
        if body["resourceId"].lower() != sp["id"]:
            raise BadRequest(
                f"The resourceId '{body['resourceId']}' must be the id of the service principal "
                "the assignment is created on."
            )
        role_id = body["appRoleId"].lower()
        self._check_role(sp, role_id)
        principal_type, principal = self._principal(body["principalId"].lower())
        if self._find(sp["id"], principal["id"], role_id):
            raise AssignmentExists()
        assignment = {
            "id": opaque_id(),
            "deletedDateTime": None,
            "appRoleId": role_id,
            "createdDateTime": self._now(),
            "principalDisplayName": principal.get("displayName"),
            "principalId": principal["id"],
            "principalType": principal_type,
            "resourceDisplayName": sp["displayName"],
            "resourceId": sp["id"],
        }
        self._assignments[sp["id"]][assignment["id"]] = assignment
        self._by_principal.setdefault(principal["id"], {})[assignment["id"]] = sp["id"]
        self._grant_graph_role(assignment, granted=True)
        return assignment

    def _grant_graph_role(self, assignment: Mapping[str, Any], *, granted: bool) -> None:
        """An assignment of a Microsoft Graph app role to an app's service principal is admin consent to that
        application permission: it shows in the app's next client-credentials token."""
        if assignment["resourceId"] != self.graph["id"] or assignment["principalType"] != "ServicePrincipal":
            return
        sp = self.service_principals.get(assignment["principalId"])
        client = self.tenant.identity.app(sp["appId"]) if sp else None
        value = next(r["value"] for r in self.graph["appRoles"] if r["id"] == assignment["appRoleId"])
        if client is not None:
            (client.roles.add if granted else client.roles.discard)(value)

    @staticmethod
    def _check_role(sp: Mapping[str, Any], role_id: str) -> None:
        """Only the service principal's enabled roles; the default role only when it declares none."""
        roles = {r["id"] for r in sp["appRoles"] if r.get("isEnabled", True)}
        if role_id not in roles and not (role_id == DEFAULT_ACCESS_ROLE_ID and not sp["appRoles"]):
            raise RoleNotFound()

    def _principal(self, principal_id: str) -> tuple[str, dict[str, Any]]:
        directory = self.tenant.directory
        if hidden(principal_id):
            raise not_found(principal_id)
        if principal_id in directory.users:
            return "User", directory.users[principal_id]
        if principal_id in directory.groups:
            return "Group", directory.groups[principal_id]
        if principal_id in self.service_principals:
            return "ServicePrincipal", self.service_principals[principal_id]
        raise not_found(principal_id)

    def _find(self, sp_id: str, principal_id: str, role_id: str) -> bool:
        return any(
            sid == sp_id and self._assignments[sp_id][aid]["appRoleId"] == role_id
            for aid, sid in self._by_principal.get(principal_id, {}).items()
        )

    def _is_live(self, assignment: Mapping[str, Any]) -> bool:
        # a deleted user or group drops out of the lists; restoring it brings its assignments back
        directory, principal = self.tenant.directory, assignment["principalId"]
        return principal in directory.users or principal in directory.groups or principal in self.service_principals

    def assignments(self, sp_id: str) -> list[dict[str, Any]]:
        """The app role assignments granted on a service principal (its appRoleAssignedTo)."""
        sp = self.service_principal(sp_id)
        return visible_only([a for a in self._assignments[sp["id"]].values() if self._is_live(a)])

    def assignments_of(self, principal_id: str) -> list[dict[str, Any]]:
        """The app role assignments a user or group holds (its appRoleAssignments)."""
        held = self._by_principal.get(principal_id.lower(), {})
        return visible_only([self._assignments[sp_id][aid] for aid, sp_id in held.items()])

    def unassign(self, sp_id: str, assignment_id: str) -> None:
        sp = self.service_principal(sp_id)
        assignment = self._assignments[sp["id"]].get(assignment_id)
        if assignment is None or not self._is_live(assignment):
            raise not_found(assignment_id)
        del self._assignments[sp["id"]][assignment_id]
        self._forget_assignment(assignment)
        self._grant_graph_role(assignment, granted=False)

    def _forget_assignment(self, assignment: Mapping[str, Any]) -> None:
        held = self._by_principal.get(assignment["principalId"], {})
        held.pop(assignment["id"], None)
        if not held:
            self._by_principal.pop(assignment["principalId"], None)
