"""Wire contract of templates, applications, service principals and app role assignments, over HTTP and
through the real msgraph-sdk."""

from __future__ import annotations

import uuid

import httpx
import pytest

from support.sim import CONTOSO, app_client

CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
INSTANTIATE = f"/applicationTemplates/{CTS_TEMPLATE}/instantiate"
ADA = "aaaaaaaa-0000-4000-8000-000000000001"
GROUP = "bbbbbbbb-0000-4000-8000-000000000001"
UNKNOWN = "44444444-4444-4444-8444-444444444444"
LIMITED_APP = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f59"


@pytest.fixture
def source(sim, graph_http) -> httpx.Client:
    """Contoso with one user (Ada) and one security group."""

    def people(world) -> None:
        directory = world.tenant(CONTOSO).directory
        directory.create_user(
            {
                "userPrincipalName": "ada@contoso.onmicrosoft.com",
                "displayName": "Ada",
                "accountEnabled": True,
            },
            object_id=ADA,
        )
        directory.create_group(
            {"displayName": "CTS", "mailEnabled": False, "mailNickname": "cts", "securityEnabled": True},
            object_id=GROUP,
        )

    sim.call(people)
    return graph_http("contoso")


@pytest.fixture
def pair(source) -> dict:
    reply = source.post(INSTANTIATE, json={"displayName": "Fabrikam"})
    assert reply.status_code == 201, reply.text
    return reply.json()


def _assign(graph: httpx.Client, sp: dict, principal: str, role: str | None = None) -> httpx.Response:
    body = {"principalId": principal, "resourceId": sp["id"], "appRoleId": role or sp["appRoles"][0]["id"]}
    return graph.post(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=body)


def _error(reply: httpx.Response, status: int) -> dict:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


def test_templates_list_and_get(source):
    listed = source.get("/applicationTemplates").json()["value"]
    assert CTS_TEMPLATE in [t["id"] for t in listed]
    assert source.get(f"/applicationTemplates/{CTS_TEMPLATE}").json()["id"] == CTS_TEMPLATE
    assert _error(source.get(f"/applicationTemplates/{UNKNOWN}"), 404)["code"] == "Request_ResourceNotFound"


def test_instantiate_answers_the_documented_application_service_principal(pair):
    app, sp = pair["application"], pair["servicePrincipal"]
    assert pair["@odata.context"].endswith("/v1.0/$metadata#microsoft.graph.applicationServicePrincipal")
    assert app["applicationTemplateId"] == sp["applicationTemplateId"] == CTS_TEMPLATE
    assert app["appId"] == sp["appId"] and sp["servicePrincipalNames"] == [app["appId"]]
    assert app["appRoles"] == sp["appRoles"] and len(sp["appRoles"]) == 1
    assert sp["appRoles"][0]["displayName"] == "msiam_access" and sp["appRoles"][0]["value"] is None
    assert sp["appRoleAssignmentRequired"] is True
    assert sp["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert sp["servicePrincipalType"] == "Application"
    assert app["signInAudience"] == "AzureADMyOrg"


def test_instantiate_twice_creates_two_pairs(source, pair):
    second = source.post(INSTANTIATE, json={"displayName": "Fabrikam"}).json()
    assert second["servicePrincipal"]["id"] != pair["servicePrincipal"]["id"]
    found = source.get("/servicePrincipals", params={"$filter": "displayName eq 'Fabrikam'"}).json()["value"]
    assert len(found) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({}, 400, id="no-display-name"),
        pytest.param({"displayName": "x", "notes": "y"}, 400, id="unknown-property"),
    ],
)
def test_instantiate_errors(source, body, status):
    assert source.post(INSTANTIATE, json=body).status_code == status


@pytest.mark.parametrize(
    "filter_",
    [
        "displayName eq 'Fabrikam'",
        f"applicationTemplateId eq '{CTS_TEMPLATE}'",
        "startswith(displayName,'Fab')",
        "tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')",
    ],
)
def test_service_principal_filters(source, pair, filter_):
    reply = source.get("/servicePrincipals", params={"$filter": filter_, "$select": "id,appId"})
    assert reply.status_code == 200
    assert reply.json()["value"] == [{"id": pair["servicePrincipal"]["id"], "appId": pair["servicePrincipal"]["appId"]}]


def test_service_principal_filter_by_app_id_and_misses(source, pair):
    app_id = pair["servicePrincipal"]["appId"]
    assert len(source.get("/servicePrincipals", params={"$filter": f"appId eq '{app_id}'"}).json()["value"]) == 1
    assert source.get("/servicePrincipals", params={"$filter": "displayName eq 'Nope'"}).json()["value"] == []


def test_service_principal_by_id_and_by_app_id(source, pair):
    sp = pair["servicePrincipal"]
    by_id = source.get(f"/servicePrincipals/{sp['id']}")
    assert by_id.status_code == 200 and by_id.json()["id"] == sp["id"]
    by_app_id = source.get(f"/servicePrincipals(appId='{sp['appId']}')")
    assert by_app_id.status_code == 200 and by_app_id.json()["id"] == sp["id"]
    assert _error(source.get(f"/servicePrincipals/{UNKNOWN}"), 404)["code"] == "Request_ResourceNotFound"
    assert source.get(f"/servicePrincipals(appId='{UNKNOWN}')").status_code == 404


def test_applications_list_get_and_delete(source, pair):
    app, sp = pair["application"], pair["servicePrincipal"]
    assert [a["id"] for a in source.get("/applications").json()["value"]] == [app["id"]]
    assert source.get(f"/applications/{app['id']}", params={"$select": "displayName"}).json()["displayName"] == (
        "Fabrikam"
    )
    assert source.delete(f"/applications/{app['id']}").status_code == 204
    assert source.get(f"/applications/{app['id']}").status_code == 404
    assert source.get(f"/servicePrincipals/{sp['id']}").status_code == 404


def test_delete_service_principal(source, pair):
    sp = pair["servicePrincipal"]
    assert source.delete(f"/servicePrincipals/{sp['id']}").status_code == 204
    assert source.get("/servicePrincipals").json()["value"] == []
    assert source.delete(f"/servicePrincipals/{sp['id']}").status_code == 404


def test_patch_service_principal_tags_and_application_notes(source, pair):
    sp, app = pair["servicePrincipal"], pair["application"]
    tags = [*sp["tags"], "ctsync.io/owner=default/contoso-to-fabrikam"]
    assert source.patch(f"/servicePrincipals/{sp['id']}", json={"tags": tags}).status_code == 204
    assert source.get(f"/servicePrincipals/{sp['id']}").json()["tags"] == tags
    assert source.patch(f"/applications/{app['id']}", json={"notes": "managed"}).status_code == 204
    assert source.get(f"/applications/{app['id']}").json()["notes"] == "managed"


@pytest.mark.parametrize("body", [{"appId": "x"}, {"tags": "not-a-list"}, {"tags": [1]}, {"bogus": True}])
def test_patch_service_principal_rejects_read_only_and_bad_values(source, pair, body):
    assert _error(source.patch(f"/servicePrincipals/{pair['servicePrincipal']['id']}", json=body), 400)


def test_assign_list_and_unassign(source, pair):
    sp = pair["servicePrincipal"]
    reply = _assign(source, sp, ADA)
    assert reply.status_code == 201
    assignment = reply.json()
    assert assignment["@odata.context"].endswith(f"servicePrincipals('{sp['id']}')/appRoleAssignedTo/$entity")
    assert (assignment["principalType"], assignment["principalDisplayName"]) == ("User", "Ada")
    assert assignment["resourceDisplayName"] == "Fabrikam" and assignment["resourceId"] == sp["id"]
    assert _assign(source, sp, GROUP).json()["principalType"] == "Group"
    listed = source.get(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo").json()["value"]
    assert {a["principalId"] for a in listed} == {ADA, GROUP}
    by_user = source.get(f"/users/{ADA}/appRoleAssignments").json()["value"]
    assert [a["id"] for a in by_user] == [assignment["id"]]
    assert len(source.get(f"/groups/{GROUP}/appRoleAssignments").json()["value"]) == 1
    assert source.delete(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo/{assignment['id']}").status_code == 204
    assert source.get(f"/users/{ADA}/appRoleAssignments").json()["value"] == []
    gone = source.delete(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo/{assignment['id']}")
    assert _error(gone, 404)["code"] == "Request_ResourceNotFound"


def test_assignments_are_paged(source, pair):
    sp = pair["servicePrincipal"]
    _assign(source, sp, ADA)
    _assign(source, sp, GROUP)
    first = source.get(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", params={"$top": 1}).json()
    assert len(first["value"]) == 1
    second = source.get(first["@odata.nextLink"]).json()  # nextLink is absolute and followed verbatim
    assert len(second["value"]) == 1 and "@odata.nextLink" not in second


def test_duplicate_assignment_is_400_permission_already_exists(source, pair):
    sp = pair["servicePrincipal"]
    _assign(source, sp, ADA)
    error = _error(_assign(source, sp, ADA), 400)
    assert error["code"] == "Request_BadRequest"
    assert error["message"] == "Permission being assigned already exists on the object"


@pytest.mark.parametrize(
    ("principal", "role", "status", "code"),
    [
        pytest.param(UNKNOWN, None, 404, "Request_ResourceNotFound", id="unknown-principal"),
        pytest.param(ADA, UNKNOWN, 400, "Request_BadRequest", id="unknown-role"),
        pytest.param(ADA, "00000000-0000-0000-0000-000000000000", 400, "Request_BadRequest", id="default-role"),
        pytest.param("ada", None, 400, "Request_BadRequest", id="not-a-guid"),
    ],
)
def test_assign_errors(source, pair, principal, role, status, code):
    assert _error(_assign(source, pair["servicePrincipal"], principal, role), status)["code"] == code


def test_assign_resource_must_be_the_service_principal(source, pair):
    sp = pair["servicePrincipal"]
    body = {"principalId": ADA, "resourceId": UNKNOWN, "appRoleId": sp["appRoles"][0]["id"]}
    assert source.post(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=body).status_code == 400


def test_assignment_needs_a_companion_read_role(sim, source, pair):
    with app_client(sim, "contoso", LIMITED_APP, {"AppRoleAssignment.ReadWrite.All"}) as limited:
        assert _error(_assign(limited, pair["servicePrincipal"], ADA), 403)["code"] == "Authorization_RequestDenied"
        assert limited.post(INSTANTIATE, json={"displayName": "x"}).status_code == 403
        assert limited.get("/applicationTemplates").status_code == 200  # any valid token reads the gallery


async def test_instantiate_and_assign_through_the_msgraph_sdk(sdk_client, source):
    from msgraph.generated.application_templates.item.instantiate.instantiate_post_request_body import (
        InstantiatePostRequestBody,
    )
    from msgraph.generated.models.app_role_assignment import AppRoleAssignment
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    client = sdk_client("contoso")
    template = client.application_templates.by_application_template_id(CTS_TEMPLATE)
    created = await template.instantiate.post(InstantiatePostRequestBody(display_name="Fabrikam"))
    sp = created.service_principal
    assert created.application.app_id == sp.app_id
    assert sp.app_role_assignment_required is True
    role_id = sp.app_roles[0].id
    assert role_id == created.application.app_roles[0].id

    assigned_to = client.service_principals.by_service_principal_id(sp.id).app_role_assigned_to
    body = AppRoleAssignment(principal_id=uuid.UUID(ADA), resource_id=uuid.UUID(sp.id), app_role_id=role_id)
    assignment = await assigned_to.post(body)
    assert assignment.principal_type == "User" and assignment.principal_display_name == "Ada"
    with pytest.raises(ODataError) as duplicate:
        await assigned_to.post(body)
    assert duplicate.value.response_status_code == 400
    assert [a.id for a in (await assigned_to.get()).value] == [assignment.id]
