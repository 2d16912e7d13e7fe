"""Rules of the applications backend: instantiating the CTS template, service principals, assignments."""

from __future__ import annotations

import pytest

from entrasim.applications.models import CTS_TEMPLATE_ID, DEFAULT_ACCESS_ROLE_ID, ApplicationsBackend
from entrasim.core.errors import BadRequest, ResourceNotFound
from entrasim.core.ids import is_guid
from entrasim.world import Tenant, World

HOME = "11111111-1111-4111-8111-111111111111"
UNKNOWN = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def tenant() -> Tenant:
    tenant = World().add_tenant(HOME, "home.onmicrosoft.com", "Home")
    tenant.directory.create_user(
        {"userPrincipalName": "ada@home.onmicrosoft.com", "displayName": "Ada", "accountEnabled": True},
        object_id="aaaaaaaa-0000-4000-8000-000000000001",
    )
    tenant.directory.create_group(
        {"displayName": "Sync", "mailEnabled": False, "mailNickname": "sync", "securityEnabled": True},
        object_id="bbbbbbbb-0000-4000-8000-000000000001",
    )
    return tenant


@pytest.fixture
def apps(tenant: Tenant) -> ApplicationsBackend:
    return tenant.applications


@pytest.fixture
def sp(apps: ApplicationsBackend) -> dict:
    return apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")[1]


def _body(sp: dict, principal: str, role: str | None = None) -> dict:
    return {"principalId": principal, "resourceId": sp["id"], "appRoleId": role or sp["appRoles"][0]["id"]}


def test_instantiate_creates_the_documented_cts_pair(apps, tenant):
    app, sp = apps.instantiate(CTS_TEMPLATE_ID.upper(), "Fabrikam")
    assert app["applicationTemplateId"] == sp["applicationTemplateId"] == CTS_TEMPLATE_ID
    assert app["appId"] == sp["appId"] != sp["id"] != app["id"]
    assert app["displayName"] == sp["displayName"] == sp["appDisplayName"] == "Fabrikam"
    assert app["signInAudience"] == "AzureADMyOrg"
    assert [r["displayName"] for r in app["appRoles"]] == ["msiam_access"]
    assert app["appRoles"] == sp["appRoles"]
    assert app["appRoles"][0]["allowedMemberTypes"] == ["User"]
    assert app["api"]["oauth2PermissionScopes"][0]["value"] == "user_impersonation"
    assert "aad2aadsync" in app["web"]["homePageUrl"]
    assert sp["appRoleAssignmentRequired"] is True
    assert sp["servicePrincipalType"] == "Application"
    assert sp["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert sp["servicePrincipalNames"] == [app["appId"]]
    assert sp["appOwnerOrganizationId"] == tenant.id


def test_instantiate_is_not_idempotent(apps):
    first = apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")[1]
    second = apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")[1]
    assert first["id"] != second["id"]
    assert [s["id"] for s in apps.service_principals_by_template(CTS_TEMPLATE_ID)] == [
        first["id"],
        second["id"],
    ]
    assert len(apps.list_applications()) == 2


@pytest.mark.parametrize("name", [None, "", "   ", 42])
def test_instantiate_needs_a_display_name(apps, name):
    with pytest.raises(BadRequest):
        apps.instantiate(CTS_TEMPLATE_ID, name)
    assert apps.list_service_principals() == []


def test_unknown_template_is_404(apps):
    with pytest.raises(ResourceNotFound):
        apps.instantiate(UNKNOWN, "x")


def test_service_principal_lookups(apps, sp):
    assert apps.service_principal(sp["id"].upper()) is sp
    assert apps.service_principal_by_app_id(sp["appId"]) is sp
    for call in (lambda: apps.service_principal(UNKNOWN), lambda: apps.service_principal_by_app_id(UNKNOWN)):
        with pytest.raises(ResourceNotFound):
            call()
    assert apps.service_principals_by_template(UNKNOWN) == []


def test_assign_user_and_group(apps, sp):
    user = apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    group = apps.assign(sp["id"], _body(sp, "BBBBBBBB-0000-4000-8000-000000000001"))
    assert (user["principalType"], user["principalDisplayName"]) == ("User", "Ada")
    assert (group["principalType"], group["principalDisplayName"]) == ("Group", "Sync")
    assert user["resourceDisplayName"] == "Fabrikam"
    assert user["id"] != group["id"] and not is_guid(user["id"])  # opaque ids
    assert apps.assignments(sp["id"]) == [user, group]
    assert apps.assignments_of("aaaaaaaa-0000-4000-8000-000000000001") == [user]


def test_duplicate_assignment_is_graphs_400(apps, sp):
    apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    with pytest.raises(BadRequest) as caught:
        apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    assert caught.value.code == "Request_BadRequest"
    assert caught.value.message == "Permission being assigned already exists on the object"
    assert len(apps.assignments(sp["id"])) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"appRoleId": UNKNOWN}, BadRequest, id="role-not-on-the-sp"),
        pytest.param({"appRoleId": DEFAULT_ACCESS_ROLE_ID}, BadRequest, id="default-role-when-roles-exist"),
        pytest.param({"resourceId": UNKNOWN}, BadRequest, id="other-resource"),
        pytest.param({"principalId": UNKNOWN}, ResourceNotFound, id="unknown-principal"),
        pytest.param({"principalId": "ada@home.onmicrosoft.com"}, BadRequest, id="upn-not-id"),
        pytest.param({"appRoleId": None}, BadRequest, id="missing-role"),
    ],
)
def test_assign_refuses(apps, sp, change, error):
    with pytest.raises(error):
        apps.assign(sp["id"], {**_body(sp, "aaaaaaaa-0000-4000-8000-000000000001"), **change})
    assert apps.assignments(sp["id"]) == []


def test_default_role_is_accepted_when_the_sp_declares_no_roles(apps, sp):
    sp["appRoles"] = []
    assignment = apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001", DEFAULT_ACCESS_ROLE_ID))
    assert assignment["appRoleId"] == DEFAULT_ACCESS_ROLE_ID


def test_deleted_principal_drops_out_and_comes_back_on_restore(apps, sp, tenant):
    apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    tenant.directory.delete_user("aaaaaaaa-0000-4000-8000-000000000001")
    assert apps.assignments(sp["id"]) == []
    tenant.directory.restore("aaaaaaaa-0000-4000-8000-000000000001")
    assert len(apps.assignments(sp["id"])) == 1


def test_unassign(apps, sp):
    assignment = apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    apps.unassign(sp["id"], assignment["id"])
    assert apps.assignments(sp["id"]) == []
    assert apps.assignments_of("aaaaaaaa-0000-4000-8000-000000000001") == []
    with pytest.raises(ResourceNotFound):
        apps.unassign(sp["id"], assignment["id"])
    apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))  # can be granted again


def test_deleting_the_application_deletes_its_service_principal_and_assignments(apps, sp):
    apps.assign(sp["id"], _body(sp, "aaaaaaaa-0000-4000-8000-000000000001"))
    app = apps.list_applications()[0]
    apps.delete_application(app["id"])
    assert apps.list_applications() == apps.list_service_principals() == []
    assert apps.service_principals_by_template(CTS_TEMPLATE_ID) == []
    assert apps.assignments_of("aaaaaaaa-0000-4000-8000-000000000001") == []
    with pytest.raises(ResourceNotFound):
        apps.assignments(sp["id"])


def test_deleting_the_service_principal_keeps_the_application(apps, sp):
    apps.delete_service_principal(sp["id"])
    assert len(apps.list_applications()) == 1
    with pytest.raises(ResourceNotFound):
        apps.service_principal_by_app_id(sp["appId"])
    apps.delete_application(apps.list_applications()[0]["id"])  # no service principal left to delete
    assert apps.list_applications() == []
