"""Routes of the applications service, with the application permissions Graph documents for each."""

from __future__ import annotations

from ..core.http import route
from . import responses as r

READ = (
    "Application.Read.All",
    "Application.ReadWrite.OwnedBy",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
WRITE = ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All")
ASSIGN = ("AppRoleAssignment.ReadWrite.All",)  # plus a companion role, checked by the handler
UNASSIGN = ("AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All")
READ_ASSIGNMENTS = (*READ, "AppRoleAssignment.ReadWrite.All")
_USER_READ = (
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
)
_GROUP_READ = (
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
)
SP_BY_APP_ID = "/servicePrincipals(appId='{appId}')"
FIC = "/applications/{id}/federatedIdentityCredentials"

ROUTES = [
    # the gallery is readable with any valid token
    route("GET", "/applicationTemplates", r.list_templates),
    route("GET", "/applicationTemplates/{id}", r.get_template),
    route("POST", "/applicationTemplates/{id}/instantiate", r.instantiate, *WRITE),
    route("GET", "/applications", r.list_applications, *READ),
    route("POST", "/applications", r.create_application, *WRITE),
    route("GET", "/applications/{id}", r.get_application, *READ),
    route("POST", "/applications/{id}/addPassword", r.add_password, *WRITE),
    route("POST", "/applications/{id}/addKey", r.add_key, *WRITE),
    route("GET", FIC, r.list_federated, *READ),
    route("POST", FIC, r.create_federated, *WRITE),
    route("GET", f"{FIC}/{{ficId}}", r.get_federated, *READ),
    route("DELETE", f"{FIC}/{{ficId}}", r.delete_federated, *WRITE),
    route("POST", "/servicePrincipals", r.create_service_principal, *WRITE),
    route("GET", "/me/memberOf/microsoft.graph.directoryRole", r.my_directory_roles),
    route("PATCH", "/applications/{id}", r.update_application, *WRITE),
    route("DELETE", "/applications/{id}", r.delete_application, *WRITE),
    route("GET", "/servicePrincipals", r.list_service_principals, *READ),
    route("GET", "/servicePrincipals/{id}", r.get_service_principal, *READ),
    route("GET", SP_BY_APP_ID, r.get_service_principal, *READ),
    route("PATCH", "/servicePrincipals/{id}", r.update_service_principal, *WRITE),
    route("PATCH", SP_BY_APP_ID, r.update_service_principal, *WRITE),
    route("DELETE", "/servicePrincipals/{id}", r.delete_service_principal, *WRITE),
    route("POST", "/servicePrincipals/{id}/appRoleAssignedTo", r.assign, *ASSIGN),
    route("POST", f"{SP_BY_APP_ID}/appRoleAssignedTo", r.assign, *ASSIGN),
    route("GET", "/servicePrincipals/{id}/appRoleAssignedTo", r.list_assigned_to, *READ_ASSIGNMENTS),
    route("GET", f"{SP_BY_APP_ID}/appRoleAssignedTo", r.list_assigned_to, *READ_ASSIGNMENTS),
    route("DELETE", "/servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}", r.unassign, *UNASSIGN),
    route("GET", "/servicePrincipals/{id}/appRoleAssignments", r.list_sp_assignments, *READ_ASSIGNMENTS),
    route("GET", "/users/{id}/appRoleAssignments", r.list_user_assignments, *_USER_READ),
    route("GET", "/groups/{id}/appRoleAssignments", r.list_group_assignments, *_GROUP_READ),
]
