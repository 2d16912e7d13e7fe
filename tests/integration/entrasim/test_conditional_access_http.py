"""Wire contract of /identity/conditionalAccess/policies: seeded policies, read with Policy.Read.All."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from entrasim.conditionalaccess.models import PROPERTIES
from entrasim.identity.models import ClientApp
from support.sim import ALL_ROLES, CTSYNC_APP, GRAPH_SCOPE, SECRET, ca_context

POLICIES = "/identity/conditionalAccess/policies"
POLICY_ID = "10ef4fe6-5e51-4f5e-b5a2-8fed19d0be67"
BLOCK_LEGACY = {
    "id": POLICY_ID,
    "displayName": "Block legacy authentication",
    "state": "enabled",
    "conditions": {"clientAppTypes": ["exchangeActiveSync", "other"], "users": {"includeUsers": ["All"]}},
    "grantControls": {"operator": "OR", "builtInControls": ["block"]},
}
REPORT_ONLY = {"displayName": "MFA for guests", "state": "enabledForReportingButNotEnforced", "conditions": {}}
TAILSPIN = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
READER_APP = "2c4e6a8b-1d3f-4b5a-9c7e-0f1a2b3c4d5e"
OTHER_APP = "3d5f7b9c-2e4a-4c6b-8d0f-1a2b3c4d5e6f"


@pytest.fixture
def graph(sim, control) -> Iterator[httpx.Client]:
    """A third tenant, Tailspin, seeded through the control API with two Conditional Access policies."""
    app = {"appId": CTSYNC_APP, "displayName": "ctsync", "roles": ALL_ROLES, "secrets": [SECRET]}
    seed = {
        "tenants": [
            {
                "id": TAILSPIN,
                "domain": "tailspin.onmicrosoft.com",
                "apps": [app],
                "conditionalAccessPolicies": [BLOCK_LEGACY, REPORT_ONLY],
            }
        ]
    }
    assert control.post("/seed", json=seed).status_code == 200
    with _client(sim, CTSYNC_APP) as client:
        yield client


def _client(sim, app_id: str, roles: set[str] | None = None) -> httpx.Client:  # type: ignore[no-untyped-def]
    """A Graph client for an app of Tailspin; with `roles`, the app is registered first."""
    if roles is not None:
        sim.call(lambda world: world.tenant(TAILSPIN).identity.register(ClientApp(app_id, "app", roles, [SECRET])))
    form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": SECRET, "scope": GRAPH_SCOPE}
    token = httpx.post(f"{sim.base_url}/{TAILSPIN}/oauth2/v2.0/token", data=form, verify=ca_context(sim))
    return httpx.Client(
        base_url=f"{sim.base_url}/v1.0",
        verify=ca_context(sim),
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )


def test_list_answers_the_documented_collection(graph):
    body = graph.get(POLICIES).json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#identity/conditionalAccess/policies")
    assert [p["displayName"] for p in body["value"]] == ["Block legacy authentication", "MFA for guests"]
    first = body["value"][0]
    assert tuple(first) == PROPERTIES  # every v1.0 property, in the order Graph returns them
    assert first["id"] == POLICY_ID
    assert first["grantControls"] == BLOCK_LEGACY["grantControls"]
    assert "@odata.nextLink" not in body


def test_list_supports_filter_select_top_and_count(graph):
    body = graph.get(POLICIES, params={"$filter": "state eq 'enabled'", "$select": "displayName,state"}).json()
    assert body["@odata.context"].endswith("#identity/conditionalAccess/policies(displayName,state)")
    assert body["value"] == [{"id": POLICY_ID, "displayName": "Block legacy authentication", "state": "enabled"}]
    paged = graph.get(POLICIES, params={"$top": "1", "$count": "true", "$orderby": "displayName desc"}).json()
    assert paged["@odata.count"] == 2
    assert [p["displayName"] for p in paged["value"]] == ["MFA for guests"]
    rest = graph.get(paged["@odata.nextLink"]).json()
    assert [p["displayName"] for p in rest["value"]] == ["Block legacy authentication"]


def test_list_supports_skip(graph):
    body = graph.get(POLICIES, params={"$skip": "1"}).json()
    assert [p["displayName"] for p in body["value"]] == ["MFA for guests"]
    assert graph.get(POLICIES, params={"$skip": "-1"}).status_code == 400


def test_get_by_id(graph):
    reply = graph.get(f"{POLICIES}/{POLICY_ID.upper()}", params={"$select": "state"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["@odata.context"].endswith("#identity/conditionalAccess/policies(state)/$entity")
    assert body == {"@odata.context": body["@odata.context"], "state": "enabled", "id": POLICY_ID}


@pytest.mark.parametrize("policy_id", ["11111111-1111-4111-8111-111111111111", "not-a-guid"])
def test_unknown_policy_is_404(graph, policy_id):
    reply = graph.get(f"{POLICIES}/{policy_id}")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "Request_ResourceNotFound"


def test_policies_are_per_tenant(graph, graph_http):
    assert graph_http("fabrikam").get(POLICIES).json()["value"] == []


def test_writes_are_not_routed(graph):
    reply = graph.post(POLICIES, json=REPORT_ONLY)
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "Request_BadRequest"


def test_policy_read_all_is_required(sim, graph):
    with _client(sim, READER_APP, {"Policy.Read.All"}) as reader:
        assert reader.get(POLICIES).status_code == 200
        assert reader.get(f"{POLICIES}/{POLICY_ID}").status_code == 200
    with _client(sim, OTHER_APP, {"Policy.ReadWrite.CrossTenantAccess", "Directory.Read.All"}) as other:
        denied = other.get(POLICIES)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
