"""HTTP layer of the applications service: templates, applications, service principals, assignments."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..core.errors import AuthorizationRequestDenied, UnsupportedQuery
from ..core.http import GraphRequest, Reply, collection, created, no_content, ok
from ..core.odata import SEARCH_NEEDS_EVENTUAL, apply_query, compile_search, consistency_eventual, select_fields
from ..core.resources import RESOURCES
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


def update_application(req: GraphRequest) -> Reply:
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
    assignment = _apps(req).assign(sp["id"], req.json_object(allowed=ASSIGNMENT_PROPERTIES))
    req.world.replication.written(assignment["id"])
    return created(assignment, context=f"servicePrincipals('{sp['id']}')/appRoleAssignedTo/$entity", req=req)


def list_assigned_to(req: GraphRequest) -> Reply:
    sp = _service_principal(req)
    return _list(req, _apps(req).assignments(sp["id"]), f"servicePrincipals('{sp['id']}')/appRoleAssignedTo")


def unassign(req: GraphRequest) -> Reply:
    _require_companion_role(req)
    _apps(req).unassign(req.params["id"], req.params["assignmentId"])
    return no_content()


def list_user_assignments(req: GraphRequest) -> Reply:
    user = req.tenant.directory.get_user(req.params["id"])
    return _list(req, _apps(req).assignments_of(user["id"]), f"users('{user['id']}')/appRoleAssignments")


def list_group_assignments(req: GraphRequest) -> Reply:
    group = req.tenant.directory.get_group(req.params["id"])
    return _list(req, _apps(req).assignments_of(group["id"]), f"groups('{group['id']}')/appRoleAssignments")
