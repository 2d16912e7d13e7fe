"""HTTP layer of the applications service: templates, applications, service principals, assignments."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from ..core.errors import AuthorizationRequestDenied, BadRequest, UnsupportedQuery
from ..core.http import GraphRequest, Reply, collection, created, no_content, ok
from ..core.odata import SEARCH_NEEDS_EVENTUAL, apply_query, compile_search, consistency_eventual, select_fields
from ..core.resources import RESOURCES
from ..identity.delegated import DIRECTORY_ROLES
from .credentials import FIC_PROPERTIES
from .models import ApplicationsBackend

# Properties of an appRoleAssignment a client may send; the service computes the read-only ones itself.
ASSIGNMENT_PROPERTIES = {
    "principalId",
    "resourceId",
    "appRoleId",
    "principalType",
    "principalDisplayName",
    "resourceDisplayName",
    "createdDateTime",
    "deletedDateTime",
    "id",
}
# Granting or removing an assignment needs AppRoleAssignment.ReadWrite.All *and* one of these.
ASSIGNMENT_COMPANIONS = frozenset(
    {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)


# A signed-in user needs one of these directory roles for app registrations, and one of the stronger
# ones to grant Microsoft Graph app roles (admin consent to application permissions).
APP_ADMINS = frozenset(
    DIRECTORY_ROLES[n] for n in ("Global Administrator", "Application Administrator", "Cloud Application Administrator")
)
GRAPH_GRANTERS = frozenset(DIRECTORY_ROLES[n] for n in ("Global Administrator", "Privileged Role Administrator"))
APPLICATION_CREATE = {"displayName", "signInAudience", "requiredResourceAccess", "tags", "notes", "description"}
APPLICATION_CREATE |= {"isFallbackPublicClient", "keyCredentials"}


def _require_admin(req: GraphRequest, roles: frozenset[str] = APP_ADMINS) -> None:
    """A delegated caller (a user) also needs a directory role; an app's permissions are checked by the route."""
    assert req.ctx is not None
    if req.ctx.user_id is not None and not req.ctx.wids & roles:
        raise AuthorizationRequestDenied()


def _apps(req: GraphRequest) -> ApplicationsBackend:
    return req.tenant.applications


def _list(req: GraphRequest, items: list[dict[str, Any]], context: str, kind: str | None = None) -> Reply:
    """A collection; a directory resource (`kind`) is shown with its default or $select-ed properties."""
    opts = req.options()
    if kind is None:
        return collection(req, apply_query(items, opts), context=context, opts=opts)
    RESOURCES[kind].check_select(opts.select, listing=True)
    found = apply_query(items, opts)
    # directory objects: $search and @odata.count need ConsistencyLevel: eventual, as for users and groups
    eventual = consistency_eventual(req.headers, req.query)
    opts.count = opts.count and eventual
    if "$search" in req.query:
        if not eventual:
            raise UnsupportedQuery(SEARCH_NEEDS_EVENTUAL)
        matches = compile_search(req.query["$search"], RESOURCES[kind])
        found = [o for o in found if matches(o)]
    view = partial(RESOURCES[kind].view, select=opts.select)
    return collection(req, found, context=context, opts=opts, view=view)


def _entity(req: GraphRequest, obj: dict[str, Any], context: str, kind: str | None = None) -> Reply:
    select = req.options().select
    if kind is None:
        return ok(select_fields(obj, select), context=context, req=req)
    RESOURCES[kind].check_select(select, listing=False)
    return ok(RESOURCES[kind].view(obj, select), context=context, req=req)


def _service_principal(req: GraphRequest) -> dict[str, Any]:
    """The service principal addressed by id or by the appId alternate key."""
    if "appId" in req.params:
        return _apps(req).service_principal_by_app_id(req.params["appId"])
    return _apps(req).service_principal(req.params["id"])


def list_templates(req: GraphRequest) -> Reply:
    return _list(req, _apps(req).list_templates(), "applicationTemplates")


def get_template(req: GraphRequest) -> Reply:
    return _entity(req, _apps(req).get_template(req.params["id"]), "applicationTemplates/$entity")


def instantiate(req: GraphRequest) -> Reply:
    body = req.json_object(allowed={"displayName"})
    app, sp = _apps(req).instantiate(req.params["id"], body.get("displayName"))
    req.world.replication.written(app["id"])
    req.world.replication.written(sp["id"])
    return created(
        {
            "application": RESOURCES["application"].view(app, None),
            "servicePrincipal": RESOURCES["servicePrincipal"].view(sp, None),
        },
        context="microsoft.graph.applicationServicePrincipal",
        req=req,
    )


def list_applications(req: GraphRequest) -> Reply:
    return _list(req, _apps(req).list_applications(), "applications", "application")


def get_application(req: GraphRequest) -> Reply:
    return _entity(req, _apps(req).get_application(req.params["id"]), "applications/$entity", "application")


def create_application(req: GraphRequest) -> Reply:
    _require_admin(req)
    app = _apps(req).create_application(req.json_object(allowed=APPLICATION_CREATE))
    req.world.replication.written(app["id"])
    return created(RESOURCES["application"].view(app, None), context="applications/$entity", req=req)


def add_password(req: GraphRequest) -> Reply:
    _require_admin(req)
    password = _apps(req).add_password(req.params["id"], req.json_object(allowed={"passwordCredential"}))
    return ok(password, context="microsoft.graph.passwordCredential", req=req)


def add_key(req: GraphRequest) -> Reply:
    _require_admin(req)
    body = req.json_object(allowed={"keyCredential", "passwordCredential", "proof"})
    return ok(_apps(req).add_key(req.params["id"], body), context="microsoft.graph.keyCredential", req=req)


def list_federated(req: GraphRequest) -> Reply:
    app_id = req.params["id"]
    return _list(
        req, _apps(req).federated_credentials(app_id), f"applications('{app_id}')/federatedIdentityCredentials"
    )


def create_federated(req: GraphRequest) -> Reply:
    _require_admin(req)
    app_id = req.params["id"]
    fic = _apps(req).add_federated_credential(app_id, req.json_object(allowed=FIC_PROPERTIES))
    return created(fic, context=f"applications('{app_id}')/federatedIdentityCredentials/$entity", req=req)


def get_federated(req: GraphRequest) -> Reply:
    app_id = req.params["id"]
    fic = _apps(req).federated_credential(app_id, req.params["ficId"])
    return _entity(req, fic, f"applications('{app_id}')/federatedIdentityCredentials/$entity")


def delete_federated(req: GraphRequest) -> Reply:
    _require_admin(req)
    _apps(req).delete_federated_credential(req.params["id"], req.params["ficId"])
    return no_content()


def create_service_principal(req: GraphRequest) -> Reply:
    _require_admin(req)
    sp = _apps(req).create_service_principal(req.json_object(allowed={"appId", "tags", "notes", "description"}))
    req.world.replication.written(sp["id"])
    return created(RESOURCES["servicePrincipal"].view(sp, None), context="servicePrincipals/$entity", req=req)


def my_directory_roles(req: GraphRequest) -> Reply:
    """GET /me/memberOf/microsoft.graph.directoryRole: the signed-in user's directory roles."""
    assert req.ctx is not None
    if req.ctx.user_id is None:
        raise BadRequest("/me request is only valid with delegated authentication flow.")
    names = {template: name for name, template in DIRECTORY_ROLES.items()}
    roles: list[Mapping[str, Any]] = [
        {
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": template,
            "displayName": names.get(template),
            "roleTemplateId": template,
        }
        for template in sorted(req.ctx.wids)
    ]
    return collection(req, roles, context="directoryRoles", opts=req.options())


def update_application(req: GraphRequest) -> Reply:
    _require_admin(req)
    _apps(req).update_application(req.params["id"], req.json_object())
    return no_content()


def delete_application(req: GraphRequest) -> Reply:
    _apps(req).delete_application(req.params["id"])
    return no_content()


def list_service_principals(req: GraphRequest) -> Reply:
    return _list(req, _apps(req).list_service_principals(), "servicePrincipals", "servicePrincipal")


def get_service_principal(req: GraphRequest) -> Reply:
    return _entity(req, _service_principal(req), "servicePrincipals/$entity", "servicePrincipal")


def update_service_principal(req: GraphRequest) -> Reply:
    _apps(req).update_service_principal(_service_principal(req)["id"], req.json_object())
    return no_content()


def delete_service_principal(req: GraphRequest) -> Reply:
    _apps(req).delete_service_principal(req.params["id"])
    return no_content()


def _require_companion_role(req: GraphRequest) -> None:
    assert req.ctx is not None
    if not req.ctx.roles & ASSIGNMENT_COMPANIONS:
        raise AuthorizationRequestDenied()


def assign(req: GraphRequest) -> Reply:
    _require_companion_role(req)
    sp = _service_principal(req)
    _require_admin(req, GRAPH_GRANTERS if sp is _apps(req).graph else APP_ADMINS)
    assignment = _apps(req).assign(sp["id"], req.json_object(allowed=ASSIGNMENT_PROPERTIES))
    req.world.replication.written(assignment["id"])
    return created(assignment, context=f"servicePrincipals('{sp['id']}')/appRoleAssignedTo/$entity", req=req)


def list_assigned_to(req: GraphRequest) -> Reply:
    sp = _service_principal(req)
    return _list(req, _apps(req).assignments(sp["id"]), f"servicePrincipals('{sp['id']}')/appRoleAssignedTo")


def unassign(req: GraphRequest) -> Reply:
    _require_companion_role(req)
    _require_admin(req, GRAPH_GRANTERS if _service_principal(req) is _apps(req).graph else APP_ADMINS)
    _apps(req).unassign(req.params["id"], req.params["assignmentId"])
    return no_content()


def list_sp_assignments(req: GraphRequest) -> Reply:
    sp = _service_principal(req)
    return _list(req, _apps(req).assignments_of(sp["id"]), f"servicePrincipals('{sp['id']}')/appRoleAssignments")


def list_user_assignments(req: GraphRequest) -> Reply:
    user = req.tenant.directory.get_user(req.params["id"])
    return _list(req, _apps(req).assignments_of(user["id"]), f"users('{user['id']}')/appRoleAssignments")


def list_group_assignments(req: GraphRequest) -> Reply:
    group = req.tenant.directory.get_group(req.params["id"])
    return _list(req, _apps(req).assignments_of(group["id"]), f"groups('{group['id']}')/appRoleAssignments")
