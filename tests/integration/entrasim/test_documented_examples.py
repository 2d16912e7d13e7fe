"""Microsoft's own example requests from the Graph v1.0 reference pages (List users, Get user, List groups,
Get group, List servicePrincipals, crossTenantAccessPolicy Get/Update, partners, default), replayed over
HTTPS against entrasim, plus the OData and URL semantics Graph applies to them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrasim.seed import load_seed
from entrasim.server import EntraSim
from support.sim import CONTOSO, FABRIKAM, app_client, two_tenant_seed

EVENTUAL = {"ConsistencyLevel": "eventual"}
ADELE = "a1b2c3d4-0000-4000-8000-000000000001"
SALES = "a1b2c3d4-0000-4000-8000-0000000000a1"
PARTNER = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
READER_APP = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f58"

USERS = [
    {"id": ADELE, "userPrincipalName": "AdeleV@fabrikam.onmicrosoft.com", "displayName": "Adele Vance",
     "mail": "AdeleV@fabrikam.com", "givenName": "Adele", "surname": "Vance", "postalCode": "98004",
     "identities": [{"signInType": "emailAddress", "issuer": "My B2C tenant",
                     "issuerAssignedId": "j.smith@yahoo.com"}]},
    {"userPrincipalName": "AlexW@fabrikam.onmicrosoft.com", "displayName": "Alex Wilber", "mail": "AlexW@contoso.com"},
    {"userPrincipalName": "wanda@fabrikam.onmicrosoft.com", "displayName": "Wanda Maximoff"},
]  # fmt: skip
GROUPS = [
    {"id": SALES, "displayName": "All Sales", "description": "Sales and Marketing", "members": [ADELE]},
    {"displayName": "Video Production", "description": "video", "groupTypes": ["Unified"], "mailEnabled": True,
     "securityEnabled": False},
    {"displayName": "Marketing", "membershipRule": 'user.department -eq "Marketing"'},
]  # fmt: skip


@pytest.fixture
def graph(sim: EntraSim, graph_http) -> httpx.Client:
    sim.call(lambda world: load_seed(world, two_tenant_seed(users={"fabrikam": USERS}, groups={"fabrikam": GROUPS})))
    return graph_http("fabrikam")


# (method, path and query as the docs write them, headers, body, expected status, what the answer must hold)
EXAMPLES: list[tuple[str, str, dict[str, str], Any, int, dict[str, Any]]] = [
    # List users
    ("GET", "/users", {}, None, 200, {"count": 3}),
    ("GET", "/users?$select=displayName,id&$filter=identities/any(c:c/issuerAssignedId eq 'j.smith@yahoo.com' "
     "and c/issuer eq 'My B2C tenant')", {}, None, 200, {"ids": [ADELE]}),
    ("GET", "/users?$filter=startswith(displayName,'a')&$orderby=displayName&$count=true&$top=1", EVENTUAL, None,
     200, {"@odata.count": 2, "names": ["Adele Vance"]}),
    ("GET", "/users?$filter=endswith(mail,'a@contoso.com')&$orderby=userPrincipalName&$count=true", EVENTUAL,
     None, 200, {"@odata.count": 0}),
    ("GET", "/users?$search=\"displayName:wa\"&$orderby=displayName&$count=true", EVENTUAL, None, 200,
     {"names": ["Wanda Maximoff"]}),
    ("GET", "/users?$search=\"displayName:wa\" OR \"displayName:ad\"&$orderbY=displayName&$count=true", EVENTUAL,
     None, 200, {"names": ["Adele Vance", "Wanda Maximoff"]}),
    ("GET", "/users?$filter=assignedLicenses/$count ne 0&$count=true", EVENTUAL, None, 200, {"@odata.count": 0}),
    ("GET", "/users?$select=id,mail,assignedLicenses&$filter=assignedLicenses/any(u:u/skuId eq "
     "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46)", {}, None, 200, {"count": 0}),
    ("GET", "/users?$count=true&ConsistencyLevel=eventual&$filter=endswith(userPrincipalName,"
     "'@fabrikam.onmicrosoft.com')", {}, None, 200, {"@odata.count": 3}),
    # Get user
    ("GET", f"/users/{ADELE}", {}, None, 200, {"keys": "user default"}),
    ("GET", "/users/AdeleV@fabrikam.onmicrosoft.com", {}, None, 200, {"id": ADELE}),
    ("GET", "/users('AdeleV@fabrikam.onmicrosoft.com')", {}, None, 200, {"id": ADELE}),
    ("GET", f"/users/{ADELE}?$select=displayName,givenName,postalCode,identities", {}, None, 200,
     {"postalCode": "98004"}),
    ("GET", f"/users/{ADELE}?$select=displayName,employeeLeaveDateTime,signInActivity", {}, None, 200,
     {"employeeLeaveDateTime": None, "signInActivity": None}),
    # List groups, Get group
    ("GET", "/groups", {}, None, 200, {"count": 3, "keys": "group default"}),
    ("GET", "/groups?$filter=startswith(displayName, 'a')&$count=true&$top=1&$orderby=displayName", EVENTUAL,
     None, 200, {"@odata.count": 1, "names": ["All Sales"]}),
    ("GET", "/groups?$filter=NOT groupTypes/any(c:c eq 'Unified')&$count=true", EVENTUAL, None, 200,
     {"@odata.count": 2}),
    ("GET", "/groups?$filter=mailEnabled eq false and securityEnabled eq true and NOT(groupTypes/any(s:s eq "
     "'Unified')) and membershipRuleProcessingState eq 'On'&$count=true&$select=id,membershipRule,"
     "membershipRuleProcessingState", EVENTUAL, None, 200, {"@odata.count": 1}),
    ("GET", "/groups?$search=\"displayName:Video\" OR \"description:prod\"&$orderby=displayName&$count=true",
     EVENTUAL, None, 200, {"names": ["Video Production"]}),
    ("GET", "/groups?$filter=hasMembersWithLicenseErrors eq true&$select=id,displayName", {}, None, 200,
     {"count": 0}),
    ("GET", "/groups?$select=id,assignedLicenses&$filter=assignedLicenses/any()", {}, None, 200, {"count": 0}),
    ("GET", f"/groups/{SALES}", {}, None, 200, {"keys": "group default"}),
    ("GET", "/groups/delta/?$select=displayName,description", {}, None, 200, {"count": 3}),
    # List servicePrincipals
    ("GET", "/servicePrincipals", {}, None, 200, {"keys": "servicePrincipal default"}),
    ("GET", "/servicePrincipals?$filter=startswith(displayName, 'a')&$count=true&$top=1&$orderby=displayName",
     EVENTUAL, None, 200, {"count": 0}),
    ("GET", "/servicePrincipals?$count=true&$search=\"displayName:Team\"&$select=appDisplayName,displayName",
     EVENTUAL, None, 200, {"@odata.count": 0}),
    ("GET", "/servicePrincipals?$search=\"displayName:cts\"&$count=true", EVENTUAL, None, 200, {"@odata.count": 1}),
    ("GET", "/applications", {}, None, 200, {"keys": "application default"}),
    # crossTenantAccessPolicy: the root, the default, partners
    ("GET", "/policies/crossTenantAccessPolicy", {}, None, 200,
     {"displayName": "CrossTenantAccessPolicy", "allowedCloudEndpoints": []}),
    ("PATCH", "/policies/crossTenantAccessPolicy", {}, {"allowedCloudEndpoints": ["microsoftonline.us",
     "partner.microsoftonline.cn"]}, 204, {}),
    ("GET", "/policies/crossTenantAccessPolicy/default", {}, None, 200, {"isServiceDefault": True}),
    ("PATCH", "/policies/crossTenantAccessPolicy/default", {}, {"b2bCollaborationOutbound": {"usersAndGroups": {
     "accessType": "blocked", "targets": [{"target": "0be493dc-cb56-4a53-936f-9cf64410b8b0",
     "targetType": "group"}]}}}, 204, {}),
    ("POST", "/policies/crossTenantAccessPolicy/default/resetToSystemDefault", {}, None, 204, {}),
    ("GET", "/policies/crossTenantAccessPolicy/partners", {}, None, 200, {"count": 0}),
    ("POST", "/policies/crossTenantAccessPolicy/partners", {}, {"tenantId": PARTNER, "b2bDirectConnectOutbound": {
     "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971",
     "targetType": "group"}]}}, "b2bDirectConnectInbound": {"applications": {"accessType": "allowed",
     "targets": [{"target": "Office365", "targetType": "application"}]}}}, 201, {"tenantId": PARTNER}),
]  # fmt: skip

DEFAULT_KEYS = {
    "user default": {"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
                     "officeLocation", "preferredLanguage", "surname", "userPrincipalName"},
    "group default": {"id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName",
                      "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
                      "mailNickname", "membershipRule", "membershipRuleProcessingState",
                      "onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
                      "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
                      "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "theme",
                      "visibility", "onPremisesProvisioningErrors"},
    "servicePrincipal default": {"id", "deletedDateTime", "accountEnabled", "alternativeNames", "appDisplayName",
                                 "appDescription", "appId", "applicationTemplateId", "appOwnerOrganizationId",
                                 "appRoleAssignmentRequired", "description", "disabledByMicrosoftStatus",
                                 "displayName", "homepage", "loginUrl", "logoutUrl", "notes",
                                 "notificationEmailAddresses", "preferredSingleSignOnMode",
                                 "preferredTokenSigningKeyThumbprint", "replyUrls", "servicePrincipalNames",
                                 "servicePrincipalType", "signInAudience", "tags", "tokenEncryptionKeyId",
                                 "samlSingleSignOnSettings", "addIns", "appRoles", "info", "keyCredentials",
                                 "oauth2PermissionScopes", "passwordCredentials",
                                 "resourceSpecificApplicationPermissions", "verifiedPublisher"},
    "application default": {"id", "deletedDateTime", "appId", "applicationTemplateId", "disabledByMicrosoftStatus",
                            "createdDateTime", "displayName", "description", "groupMembershipClaims",
                            "identifierUris", "isDeviceOnlyAuthSupported", "isFallbackPublicClient",
                            "nativeAuthenticationApisEnabled", "notes", "publisherDomain",
                            "serviceManagementReference", "signInAudience", "tags", "tokenEncryptionKeyId",
                            "uniqueName", "samlMetadataUrl", "defaultRedirectUri", "certification",
                            "optionalClaims", "servicePrincipalLockConfiguration", "requestSignatureVerification",
                            "addIns", "api", "appRoles", "info", "keyCredentials", "parentalControlSettings",
                            "passwordCredentials", "publicClient", "requiredResourceAccess", "verifiedPublisher",
                            "web", "spa"},
}  # fmt: skip


def _check(body: dict[str, Any], expect: dict[str, Any]) -> None:
    items = body.get("value", [body])
    for key, want in expect.items():
        if key == "count":
            assert len(items) == want, body
        elif key == "ids":
            assert [o["id"] for o in items] == want
        elif key == "names":
            assert [o["displayName"] for o in items] == want
        elif key == "keys":
            assert items, body
            assert all(set(o) - {"@odata.type", "@odata.context"} == DEFAULT_KEYS[want] for o in items), (
                set(items[0]) ^ DEFAULT_KEYS[want]
            )
        else:
            assert body[key] == want, body


@pytest.mark.parametrize(("method", "url", "headers", "body", "status", "expect"), EXAMPLES,
                         ids=[f"{m} {u[:90]}" for m, u, *_ in EXAMPLES])  # fmt: skip
def test_documented_example(graph, method, url, headers, body, status, expect):
    if "servicePrincipals" in url or "applications" in url:
        created = graph.post(f"/applicationTemplates/{CTS_TEMPLATE}/instantiate", json={"displayName": "CTS"})
        assert created.status_code == 201
    reply = graph.request(method, url, headers=headers, json=body)
    assert reply.status_code == status, reply.text
    if status != 204:
        _check(reply.json(), expect)


def test_the_root_policy_keeps_what_a_patch_sets_and_refuses_unknown_clouds(graph):
    root = "/policies/crossTenantAccessPolicy"
    assert graph.patch(root, json={"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    assert graph.get(root).json()["allowedCloudEndpoints"] == ["microsoftonline.us"]
    refused = graph.patch(root, json={"allowedCloudEndpoints": ["example.com"]})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Invalid value specified for property 'allowedCloudEndpoints' of resource 'crossTenantAccessPolicy'."
    )
    assert graph.get(f"{root}?$select=displayName").json()["displayName"] == "CrossTenantAccessPolicy"


def test_the_default_policy_has_every_documented_property(graph):
    body = graph.get("/policies/crossTenantAccessPolicy/default").json()
    assert set(body) - {"@odata.context"} == {
        "isServiceDefault", "inboundTrust", "automaticUserConsentSettings", "b2bCollaborationInbound",
        "b2bCollaborationOutbound", "b2bDirectConnectInbound", "b2bDirectConnectOutbound",
        "invitationRedemptionIdentityProviderConfiguration", "tenantRestrictions",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("url", "status", "code", "message"),
    [
        ("/users?$select=aboutMe", 501, "NotImplemented", "only supported when reading a single"),
        ("/users?$select=shoeSize", 400, "Request_BadRequest", "Could not find a property named 'shoeSize'"),
        ("/servicePrincipals?$search=\"displayName:cts\"", 400, "Request_UnsupportedQuery",
         "only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"),
        ("/servicePrincipals?$select=shoeSize", 400, "Request_BadRequest",
         "on type 'microsoft.graph.servicePrincipal'"),
        ("/users?$filter=endswith(mail,'a@contoso.com')&$count=true", 400, "Request_UnsupportedQuery",
         "Operator 'endsWith' is not supported because the required parameters might be missing."),
        ("/users?$filter=proxyAddresses/all(p:startswith(p,'smtp:'))", 400, "Request_UnsupportedQuery",
         "property 'proxyAddresses' of resource 'User'"),
        ("/users?$filter=assignedLicenses/$count eq 0", 400, "Request_UnsupportedQuery",
         "property 'assignedLicenses/$count' of resource 'User'"),
    ],
)  # fmt: skip
def test_unsupported_queries_answer_graphs_errors(graph, url, status, code, message):
    reply = graph.get(url)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code
    assert message in reply.json()["error"]["message"]


def test_a_single_user_serves_properties_lists_refuse(graph):
    assert graph.get(f"/users/{ADELE}?$select=aboutMe,skills").json() | {"@odata.context": None} == {
        "@odata.context": None, "id": ADELE, "aboutMe": None, "skills": [],
    }  # fmt: skip


def test_trailing_slashes_and_option_names_in_any_case(graph):
    assert graph.get("/users/?$TOP=1").json()["value"][0]["id"]
    assert graph.get(f"/users/{ADELE}/").json()["id"] == ADELE
    assert [u["displayName"] for u in graph.get("/users?$orderBy=displayName desc&$Select=displayName").json()[
        "value"]] == ["Wanda Maximoff", "Alex Wilber", "Adele Vance"]  # fmt: skip


# --- property: $filter on users over HTTPS -----------------------------------------------------------------
FILTERS = st.sampled_from([
    "startswith(displayName,'a')", "displayName eq 'adele vance'", "endswith(mail,'@contoso.com')",
    "userType ne 'Guest'", "not(accountEnabled eq false)", "companyName eq 'x'", "contains(mail,'a')",
    "identities/any(i:i/issuer eq 'My B2C tenant' and i/signInType eq 'emailAddress')", "shoeSize eq 9",
    "proxyAddresses/all(p:p eq 'x')", "id in ('a', 'b')", "department eq null",
])  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=st.lists(FILTERS, min_size=1, max_size=3), joiner=st.sampled_from([" and ", " or "]),
       advanced=st.booleans())  # fmt: skip
def test_any_filter_answers_200_or_a_documented_400(graph, sim, filters, joiner, advanced):
    headers = EVENTUAL if advanced else {}
    reply = graph.get("/users", params={"$filter": joiner.join(filters), "$count": "true"}, headers=headers)
    assert reply.status_code in (200, 400), reply.text
    if reply.status_code == 400:
        error = reply.json()["error"]
        assert error["code"] in ("Request_UnsupportedQuery", "Request_BadRequest")
        assert error["message"].startswith(("Operator '", "Unsupported or invalid query filter clause", "Could not"))
    assert sim.call(lambda world: list(world.internal_errors)) == []


def test_tenants_see_only_their_own_policy_root(graph, graph_http):
    assert graph.patch("/policies/crossTenantAccessPolicy", json={"allowedCloudEndpoints": ["microsoftonline.us"]})
    assert graph_http("contoso").get("/policies/crossTenantAccessPolicy").json()["allowedCloudEndpoints"] == []
    assert CONTOSO != FABRIKAM


def test_sign_in_activity_needs_the_audit_log_permission(sim, graph):
    """Documented: reading signInActivity with an app-only token needs AuditLog.Read.All."""
    with app_client(sim, "fabrikam", READER_APP, {"User.Read.All"}) as reader:
        denied = reader.get("/users?$select=displayName,signInActivity")
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
        assert reader.get(f"/users/{ADELE}?$select=signInActivity").status_code == 403
        assert reader.get("/users?$select=displayName").status_code == 200
    assert graph.get("/users?$select=displayName,signInActivity").json()["value"][0]["signInActivity"] is None
