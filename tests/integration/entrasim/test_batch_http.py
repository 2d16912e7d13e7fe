"""JSON batching: one POST /$batch, each item dispatched, authorised and answered on its own."""

from __future__ import annotations

import json

import httpx
import pytest

from support.sim import CONTOSO, app_client

CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
ADA = "aaaaaaaa-0000-4000-8000-000000000001"
UNKNOWN = "44444444-4444-4444-8444-444444444444"
POLICY_ONLY_APP = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f60"
JSON = {"Content-Type": "application/json"}
RESET = "/policies/crossTenantAccessPolicy/default/resetToSystemDefault"
ABSOLUTE = "https://graph.microsoft.com/v1.0/applicationTemplates"
INSTANTIATE = f"/applicationTemplates/{CTS_TEMPLATE}/instantiate"


@pytest.fixture
def graph(sim, graph_http) -> httpx.Client:
    sim.call(
        lambda w: w.tenant(CONTOSO).directory.create_user(
            {
                "userPrincipalName": "ada@contoso.onmicrosoft.com",
                "displayName": "Ada",
                "accountEnabled": True,
            },
            object_id=ADA,
        )
    )
    return graph_http("contoso")


@pytest.fixture
def sp(graph) -> dict:
    reply = graph.post(INSTANTIATE, json={"displayName": "Fabrikam"})
    return reply.json()["servicePrincipal"]


def _batch(graph: httpx.Client, *requests: dict) -> dict[str, dict]:
    reply = graph.post("/$batch", json={"requests": list(requests)})
    assert reply.status_code == 200, reply.text
    responses = reply.json()["responses"]
    assert [r["id"] for r in responses] == [r["id"] for r in requests]
    return {r["id"]: r for r in responses}


def _get(item_id: str, url: str, **extra) -> dict:
    return {"id": item_id, "method": "GET", "url": url, **extra}


def _assignment(item_id: str, sp: dict, **extra) -> dict:
    body = {"principalId": ADA, "resourceId": sp["id"], "appRoleId": sp["appRoles"][0]["id"]}
    return {"id": item_id, "method": "POST", "url": f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
            "body": body, "headers": JSON, **extra}  # fmt: skip


def test_items_are_answered_with_status_headers_and_body(graph, sp):
    out = _batch(graph, _get("1", "/servicePrincipals?$top=1&$select=id"), _get("2", "applicationTemplates"))
    assert out["1"]["status"] == 200
    assert out["1"]["body"]["value"] == [{"id": sp["id"]}]
    assert out["1"]["headers"]["Content-Type"].startswith("application/json")
    assert out["2"]["status"] == 200 and out["2"]["body"]["value"][0]["id"] == CTS_TEMPLATE


def test_writes_run_and_their_errors_are_graph_envelopes(graph, sp):
    out = _batch(graph, _assignment("a", sp), _assignment("b", sp, dependsOn=["a"]))
    assert out["a"]["status"] == 201 and out["a"]["body"]["principalType"] == "User"
    assert out["b"]["status"] == 400
    assert out["b"]["body"]["error"]["message"] == "Permission being assigned already exists on the object"
    assert "request-id" in out["b"]["body"]["error"]["innerError"]


def test_dependents_of_a_failed_request_get_424(graph, sp):
    out = _batch(
        graph,
        _get("1", f"/servicePrincipals/{UNKNOWN}"),
        _assignment("2", sp, dependsOn=["1"]),
        _get("3", "/servicePrincipals", dependsOn=["2"]),
        _get("4", f"/servicePrincipals/{sp['id']}"),
    )
    assert [out[i]["status"] for i in "1234"] == [404, 424, 424, 200]
    assert graph.get(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo").json()["value"] == []


def test_depends_on_runs_requests_in_order(graph, sp):
    # listed first, but it depends on the assignment, so it sees it
    out = _batch(
        graph,
        _get("list", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", dependsOn=["grant"]),
        _assignment("grant", sp),
    )
    assert [a["principalId"] for a in out["list"]["body"]["value"]] == [ADA]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        pytest.param(_get("x", ABSOLUTE), "Invalid request URL", id="absolute"),
        pytest.param(
            {"id": "x", "method": "POST", "url": INSTANTIATE, "body": {"displayName": "n"}},
            "Write request id : x does not contain Content-Type header or body.",
            id="body-without-content-type",
        ),
        pytest.param(
            {"id": "x", "method": "POST", "url": RESET},
            "Write request id : x does not contain Content-Type header or body.",
            id="write-without-body",
        ),
        pytest.param(
            {"id": "x", "method": "POST", "url": "/$batch", "body": {}, "headers": JSON},
            "batch",
            id="nested-batch",
        ),
    ],
)
def test_malformed_items_fail_alone(graph, item, message):
    out = _batch(graph, item, _get("ok", "/applicationTemplates"))
    assert out["x"]["status"] == 400
    assert message in out["x"]["body"]["error"]["message"]
    assert out["ok"]["status"] == 200
    assert graph.get("/applications").json()["value"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"requests": [_get(str(n), "/applicationTemplates") for n in range(21)]}, id="21-requests"),
        pytest.param({"requests": [_get("a", "/applications"), _get("A", "/applications")]}, id="duplicate-ids"),
        pytest.param({"requests": [_get("a", "/applications", dependsOn=["z"])]}, id="unknown-dependency"),
        pytest.param(
            {
                "requests": [
                    _get("a", "/applications", dependsOn=["b"]),
                    _get("b", "/applications", dependsOn=["a"]),
                ]
            },
            id="cycle",
        ),
        pytest.param({"requests": [{"id": "a", "url": "/applications"}]}, id="no-method"),
        pytest.param({"requests": [_get("a", "/applications", headers=[])]}, id="headers-not-an-object"),
        pytest.param({"value": []}, id="no-requests"),
    ],
)
def test_malformed_batches_fail_as_a_whole(graph, body):
    reply = graph.post("/$batch", json=body)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "BadRequest"


def test_twenty_requests_are_allowed(graph):
    out = _batch(graph, *[_get(str(n), "/applicationTemplates") for n in range(20)])
    assert {r["status"] for r in out.values()} == {200}


def test_malformed_json_is_400(graph):
    assert graph.post("/$batch", content=b"{", headers=JSON).status_code == 400


def test_each_item_is_authorised_on_its_own(sim, graph):
    with app_client(sim, "contoso", POLICY_ONLY_APP, {"Policy.Read.All"}) as limited:
        out = _batch(limited, _get("1", "/policies/crossTenantAccessPolicy/default"), _get("2", "/applications"))
    assert out["1"]["status"] == 200
    assert out["2"]["status"] == 403 and out["2"]["body"]["error"]["code"] == "Authorization_RequestDenied"


async def test_hand_rolled_batch_through_the_sdk_request_adapter(sdk_client, sp):
    """The $batch the SDK cannot send itself, through its request adapter (auth, retry, error mapping)."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    client = sdk_client("contoso")
    ri = RequestInformation(Method.POST, "{+baseurl}/$batch", {})
    ri.headers.try_add("Content-Type", "application/json")
    ri.content = json.dumps(
        {
            "requests": [
                {"id": "1", "method": "GET", "url": "/servicePrincipals?$top=2"},
                _assignment("2", sp, dependsOn=["1"]),
                # a body-less POST: Graph wants a body and Content-Type on every write in a batch
                {"id": "3", "method": "POST", "url": f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                 "dependsOn": ["2"]},
                {"id": "4", "method": "GET", "url": f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                 "dependsOn": ["3"]},
            ]
        }
    ).encode()  # fmt: skip
    raw = await client.request_adapter.send_primitive_async(ri, "bytes", {"XXX": ODataError})
    out = {r["id"]: r for r in json.loads(raw)["responses"]}
    assert [out[i]["status"] for i in "1234"] == [200, 201, 400, 424]
    assert out["1"]["body"]["value"][0]["id"] == sp["id"]
    assert out["2"]["body"]["principalId"] == ADA
