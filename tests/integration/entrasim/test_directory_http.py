"""Wire contract of the directory endpoints (users, groups, membership, delta, deletedItems), over plain
HTTP and through the real msgraph-sdk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from entrasim.identity.models import ClientApp
from entrasim.server import EntraSim
from support.sim import FABRIKAM, ca_context, fetch_token

EVENTUAL = {"ConsistencyLevel": "eventual"}
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
GUEST_UPN = "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com"


def seed_users(sim: EntraSim, count: int, **props: Any) -> list[str]:
    """Creates users directly in Fabrikam's directory (fast), returning their ids."""

    def create(world) -> list[str]:  # type: ignore[no-untyped-def]
        d = world.tenant(FABRIKAM).directory
        return [
            d.create_user({"userPrincipalName": f"user{i:05d}@fabrikam.com", "displayName": f"User {i:05d}",
                           "accountEnabled": True, "department": ("Finance", "Sales")[i % 2], **props})["id"]
            for i in range(count)
        ]  # fmt: skip

    return sim.call(create)


@pytest.fixture
def graph(graph_http) -> httpx.Client:
    return graph_http("fabrikam")


def error_of(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


def new_user_body(name: str, **props: Any) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": name.title(), "mailNickname": name,
            "userPrincipalName": f"{name}@fabrikam.com", "passwordProfile": {"password": "P@ssw0rd!x"},
            **props}  # fmt: skip


# Graph's documented default set for users (List users, "Default properties")
USER_DEFAULTS = {
    "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation",
    "preferredLanguage", "surname", "userPrincipalName",
}  # fmt: skip


def new_group_body(name: str, **props: Any) -> dict[str, Any]:
    return {"displayName": name, "mailEnabled": False, "mailNickname": name, "securityEnabled": True, **props}


# --- users ----------------------------------------------------------------------------------------------


def test_list_users_default_properties_and_default_page(sim, graph):
    seed_users(sim, 150)
    body = graph.get("/users").json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#users")
    assert len(body["value"]) == 100
    assert set(body["value"][0]) == USER_DEFAULTS
    assert "$skiptoken=" in body["@odata.nextLink"]
    assert len(graph.get(body["@odata.nextLink"]).json()["value"]) == 50


def test_paging_2500_users_with_top_999_gets_each_exactly_once(sim, graph):
    ids = seed_users(sim, 2500)
    seen: list[str] = []
    pages = 0
    url: str | None = "/users?$top=999&$select=id,userPrincipalName"
    while url:
        body = graph.get(url).json()
        seen += [u["id"] for u in body["value"]]
        pages += 1
        url = body.get("@odata.nextLink")
    assert pages == 3
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("top", ["1000", "0", "ten"])
def test_bad_top_is_400(graph, top):
    assert error_of(graph.get("/users", params={"$top": top}), 400)["code"] == "Request_BadRequest"


@pytest.mark.parametrize("path", ["/users", "/groups", "/directory/deletedItems/microsoft.graph.user"])
def test_skip_is_refused_by_directory_collections(graph, path):
    error = error_of(graph.get(path, params={"$skip": "1"}), 400)
    assert (error["code"], error["message"]) == ("Request_BadRequest", "'$skip' is not supported by the service.")


def test_select_and_context(sim, graph):
    seed_users(sim, 1)
    body = graph.get("/users", params={"$select": "displayName,accountEnabled"}).json()
    assert body["@odata.context"].endswith("$metadata#users(displayName,accountEnabled)")
    assert set(body["value"][0]) == {"id", "displayName", "accountEnabled"}
    error = error_of(graph.get("/users", params={"$select": "shoeSize"}), 400)
    assert error["code"] == "Request_BadRequest"


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("startswith(displayName,'User 0000')", 6),
        ("department eq 'finance'", 3),
        ("userPrincipalName in ('user00001@fabrikam.com', 'user00002@fabrikam.com')", 2),
        ("accountEnabled eq false", 1),
        ("userType eq 'Member'", 6),
        ("userType eq 'Guest'", 0),
    ],
)
def test_filters_supported_by_default(sim, graph, flt, expected):
    seed_users(sim, 6)
    sim.call(lambda w: w.tenant(FABRIKAM).directory.update_user("user00003@fabrikam.com", {"accountEnabled": False}))
    body = graph.get("/users", params={"$filter": flt}).json()
    assert len(body["value"]) == expected, body


def test_extension_attribute_filter_needs_advanced_query(sim, graph):
    seed_users(sim, 4, onPremisesExtensionAttributes={"extensionAttribute1": "CTS"})
    params = {"$filter": "onPremisesExtensionAttributes/extensionAttribute1 eq 'CTS'"}
    error = error_of(graph.get("/users", params=params), 400)
    assert error["code"] == "Request_UnsupportedQuery"
    assert (
        error["message"]
        == "Property 'extensionAttribute1' does not exist as a declared property or extension property."
    )
    assert error_of(graph.get("/users", params={**params, "$count": "true"}), 400)["code"] == "Request_UnsupportedQuery"
    body = graph.get("/users", params={**params, "$count": "true"}, headers=EVENTUAL).json()
    assert body["@odata.count"] == 4 and len(body["value"]) == 4


def test_unsupported_filters_are_400(graph):
    error = error_of(graph.get("/users", params={"$filter": "accountEnabled ne true"}), 400)
    assert error["code"] == "Request_UnsupportedQuery"
    assert "ConsistencyLevel:eventual" in error["message"]
    error = error_of(graph.get("/users", params={"$filter": "displayName eq"}), 400)
    assert error["code"] == "Request_UnsupportedQuery"


def test_count_query_needs_consistency_level_else_it_is_ignored(sim, graph):
    seed_users(sim, 3)
    assert "@odata.count" not in graph.get("/users", params={"$count": "true"}).json()
    assert graph.get("/users", params={"$count": "true"}, headers=EVENTUAL).json()["@odata.count"] == 3


def test_raw_count(sim, graph):
    seed_users(sim, 3)
    error = error_of(graph.get("/users/$count"), 400)
    assert error["code"] == "Request_UnsupportedQuery"
    assert "ConsistencyLevel:eventual" in error["message"]
    reply = graph.get("/users/$count", headers=EVENTUAL)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert reply.text == "3"
    assert graph.get("/users/$count", params={"$filter": "department eq 'Sales'"}, headers=EVENTUAL).text == "1"


def test_search_needs_consistency_level(sim, graph):
    seed_users(sim, 12)
    error = error_of(graph.get("/users", params={"$search": '"displayName:User"'}), 400)
    assert error["code"] == "Request_UnsupportedQuery"
    body = graph.get("/users", params={"$search": '"displayName:00011"'}, headers=EVENTUAL).json()
    assert [u["displayName"] for u in body["value"]] == ["User 00011"]


def test_get_user_by_id_and_upn_and_unknown_is_404(sim, graph):
    [user_id] = seed_users(sim, 1)
    by_id = graph.get(f"/users/{user_id}")
    assert by_id.status_code == 200
    assert by_id.json()["@odata.context"].endswith("$metadata#users/$entity")
    assert graph.get("/users/USER00000@fabrikam.com").json()["id"] == user_id
    selected = graph.get(f"/users/{user_id}", params={"$select": "department"}).json()
    assert selected["@odata.context"].endswith("$metadata#users(department)/$entity")
    assert {k: v for k, v in selected.items() if k != "@odata.context"} == {
        "id": user_id,
        "department": "Finance",
    }
    for missing in (NO_SUCH_ID, "nobody@fabrikam.com"):
        error = error_of(graph.get(f"/users/{missing}"), 404)
        assert error["code"] == "Request_ResourceNotFound"
        assert set(error["innerError"]) >= {"date", "request-id"}


def test_guest_user_created_by_the_provisioning_engine_round_trips(sim, graph):
    props = {"userPrincipalName": GUEST_UPN, "displayName": "Alice", "accountEnabled": True,
             "userType": "Guest", "creationType": "Invitation", "externalUserState": "Accepted",
             "showInAddressList": True}  # fmt: skip
    sim.call(lambda w: w.tenant(FABRIKAM).directory.create_user(props))
    select = ",".join(props)
    body = graph.get(f"/users/{quote(GUEST_UPN)}", params={"$select": select}).json()
    assert {k: body[k] for k in props} == props
    listed = graph.get("/users", params={"$filter": "userType eq 'Guest'", "$select": select}).json()["value"]
    assert [u["userPrincipalName"] for u in listed] == [GUEST_UPN]


def test_create_update_delete_user(graph):
    reply = graph.post("/users", json=new_user_body("bob", department="Sales"))
    assert reply.status_code == 201
    created = reply.json()
    assert created["@odata.context"].endswith("$metadata#users/$entity")
    assert created["userPrincipalName"] == "bob@fabrikam.com" and "passwordProfile" not in created
    patched = graph.patch(f"/users/{created['id']}", json={"jobTitle": "CFO"})
    assert (patched.status_code, patched.content) == (204, b"")
    assert graph.get(f"/users/{created['id']}").json()["jobTitle"] == "CFO"
    assert graph.delete(f"/users/{created['id']}").status_code == 204
    assert error_of(graph.get(f"/users/{created['id']}"), 404)["code"] == "Request_ResourceNotFound"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (new_user_body("bob", shoeSize=9), "Property 'shoeSize' does not exist"),
        ({k: v for k, v in new_user_body("bob").items() if k != "passwordProfile"}, "passwordProfile"),
        (new_user_body("bob", userPrincipalName="bob"), "userPrincipalName"),
    ],
)
def test_create_user_errors(graph, body, message):
    error = error_of(graph.post("/users", json=body), 400)
    assert error["code"] == "Request_BadRequest"
    assert message in error["message"]


def test_duplicate_upn_is_400_with_object_conflict_detail(graph):
    assert graph.post("/users", json=new_user_body("bob")).status_code == 201
    error = error_of(graph.post("/users", json=new_user_body("bob")), 400)
    assert error["code"] == "Request_BadRequest"
    assert error["details"][0]["code"] == "ObjectConflict"
    assert error["details"][0]["target"] == "userPrincipalName"


def test_malformed_json_and_unknown_patch_property_are_400(sim, graph):
    [user_id] = seed_users(sim, 1)
    reply = graph.post("/users", content=b"{not json", headers={"Content-Type": "application/json"})
    assert error_of(reply, 400)["code"] == "Request_BadRequest"
    assert error_of(graph.patch(f"/users/{user_id}", json={"shoeSize": 9}), 400)["code"] == "Request_BadRequest"
    assert error_of(graph.patch(f"/users/{NO_SUCH_ID}", json={"jobTitle": "x"}), 404)["code"] == (
        "Request_ResourceNotFound"
    )


def test_wrong_method_is_405(graph):
    assert error_of(graph.put("/users", json={}), 405)["code"] == "Request_BadRequest"


def test_missing_permission_is_403(sim):
    reader = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f59"
    sim.call(lambda w: w.tenant(FABRIKAM).identity.register(
        ClientApp(app_id=reader, display_name="reader", roles={"User.Read.All"}, secrets=["s"])))  # fmt: skip
    token = fetch_token(sim, "fabrikam", app_id=reader, secret="s")
    with httpx.Client(base_url=f"{sim.base_url}/v1.0", verify=ca_context(sim),
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
        assert client.get("/users").status_code == 200
        assert error_of(client.post("/users", json=new_user_body("x")), 403)["code"] == "Authorization_RequestDenied"
        assert error_of(client.get("/groups"), 403)["code"] == "Authorization_RequestDenied"


# --- groups and membership ------------------------------------------------------------------------------


@pytest.fixture
def team(graph) -> dict[str, Any]:
    reply = graph.post("/groups", json=new_group_body("Team"))
    assert reply.status_code == 201, reply.text
    return reply.json()


def ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


def test_create_get_and_filter_groups(graph, team):
    assert team["@odata.context"].endswith("$metadata#groups/$entity")
    assert team["groupTypes"] == [] and team["securityEnabled"] is True
    assert graph.get(f"/groups/{team['id']}").json()["displayName"] == "Team"
    body = graph.get("/groups", params={"$filter": "displayName eq 'team'"}).json()
    assert [g["id"] for g in body["value"]] == [team["id"]]
    assert (
        graph.get("/groups", params={"$filter": "startswith(displayName,'Te')"}).json()["value"][0]["id"]
        == (team["id"])
    )
    error = error_of(graph.post("/groups", json=new_group_body("Mail", mailEnabled=True)), 400)
    assert error["code"] == "Request_BadRequest"


def test_bad_group_id_is_400_and_unknown_is_404(graph):
    error = error_of(graph.get("/groups/not-a-guid"), 400)
    assert (error["code"], error["message"]) == (
        "Request_BadRequest",
        "Invalid object identifier 'not-a-guid'.",
    )
    assert error_of(graph.get(f"/groups/{NO_SUCH_ID}"), 404)["code"] == "Request_ResourceNotFound"
    assert error_of(graph.get(f"/groups/{NO_SUCH_ID}/members"), 404)["code"] == "Request_ResourceNotFound"


def test_members_ref_add_list_cast_count_remove(sim, graph, team):
    alice, bob = seed_users(sim, 2)
    inner = graph.post("/groups", json=new_group_body("Inner")).json()
    for group_id, member in ((team["id"], alice), (team["id"], inner["id"]), (inner["id"], bob)):
        reply = graph.post(f"/groups/{group_id}/members/$ref", json=ref(member))
        assert (reply.status_code, reply.content) == (204, b"")
    error = error_of(graph.post(f"/groups/{team['id']}/members/$ref", json=ref(alice)), 400)
    assert "already exist" in error["message"]
    assert error_of(graph.post(f"/groups/{team['id']}/members/$ref", json=ref(NO_SUCH_ID)), 404)["code"] == (
        "Request_ResourceNotFound"
    )
    assert error_of(graph.post(f"/groups/{team['id']}/members/$ref", json={"@odata.id": "x"}), 400)["code"] == (
        "Request_BadRequest"
    )

    members = graph.get(f"/groups/{team['id']}/members").json()
    assert members["@odata.context"].endswith("$metadata#directoryObjects")
    types = {m["id"]: m["@odata.type"] for m in members["value"]}
    assert types == {alice: "#microsoft.graph.user", inner["id"]: "#microsoft.graph.group"}
    for cast in ("microsoft.graph.user", "graph.user"):
        users = graph.get(f"/groups/{team['id']}/transitiveMembers/{cast}").json()
        assert users["@odata.context"].endswith("$metadata#users")
        assert sorted(u["id"] for u in users["value"]) == sorted([alice, bob])
    counted = graph.get(f"/groups/{team['id']}/transitiveMembers/microsoft.graph.user",
                        params={"$count": "true", "$select": "id"}, headers=EVENTUAL).json()  # fmt: skip
    assert counted["@odata.count"] == 2
    assert graph.get(f"/groups/{team['id']}/members/$count", headers=EVENTUAL).text == "2"
    assert error_of(graph.get(f"/groups/{team['id']}/members/$count"), 400)["code"] == "Request_UnsupportedQuery"

    assert graph.delete(f"/groups/{team['id']}/members/{alice}/$ref").status_code == 204
    assert error_of(graph.delete(f"/groups/{team['id']}/members/{alice}/$ref"), 404)["code"] == (
        "Request_ResourceNotFound"
    )
    assert [m["id"] for m in graph.get(f"/groups/{team['id']}/members").json()["value"]] == [inner["id"]]


def test_group_created_with_members_bind(sim, graph):
    [alice] = seed_users(sim, 1)
    body = new_group_body("Bound", **{"members@odata.bind": [ref(alice)["@odata.id"]]})
    created = graph.post("/groups", json=body).json()
    assert [m["id"] for m in graph.get(f"/groups/{created['id']}/members").json()["value"]] == [alice]


def test_dynamic_group_membership_is_computed_and_closed_to_manual_changes(sim, graph):
    finance_ids = seed_users(sim, 4)[0::2]
    rule = '(user.department -eq "Finance") -and (user.accountEnabled -eq true)'
    reply = graph.post("/groups", json=new_group_body("Finance", groupTypes=["DynamicMembership"],
                                                      membershipRule=rule))  # fmt: skip
    assert reply.status_code == 201
    group = reply.json()
    assert group["membershipRuleProcessingState"] == "On"
    members = graph.get(f"/groups/{group['id']}/members").json()["value"]
    assert sorted(m["id"] for m in members) == sorted(finance_ids)
    new = graph.post("/users", json=new_user_body("zoe", department="Finance")).json()
    assert new["id"] in {m["id"] for m in graph.get(f"/groups/{group['id']}/members").json()["value"]}
    error = error_of(graph.post(f"/groups/{group['id']}/members/$ref", json=ref(new["id"])), 400)
    assert error["code"] == "Request_BadRequest"
    bad_rule = new_group_body("Bad", groupTypes=["DynamicMembership"], membershipRule="user.x -eq 1")
    assert "Dynamic membership rule validation error" in error_of(graph.post("/groups", json=bad_rule), 400)["message"]


# --- delta ----------------------------------------------------------------------------------------------


def drain(graph: httpx.Client, url: str) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        body = graph.get(url).json()
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]
        assert "$skiptoken=" in url


def test_users_delta_rounds(sim, graph):
    ids = seed_users(sim, 250)
    items, delta_link = drain(graph, "/users/delta?$select=displayName,department")
    assert sorted(u["id"] for u in items) == sorted(ids)
    assert set(items[0]) == {"id", "displayName", "department"}
    assert "$deltatoken=" in delta_link
    assert drain(graph, delta_link)[0] == []

    graph.patch(f"/users/{ids[0]}", json={"department": "Legal"})
    graph.delete(f"/users/{ids[1]}")
    graph.delete(f"/users/{ids[2]}")
    assert graph.delete(f"/directory/deletedItems/{ids[2]}").status_code == 204
    changes, _ = drain(graph, delta_link)
    assert changes == [
        {"id": ids[0], "displayName": "User 00000", "department": "Legal"},  # $select carried by the token
        {"id": ids[1], "@removed": {"reason": "changed"}},
        {"id": ids[2], "@removed": {"reason": "deleted"}},
    ]


def test_delta_latest_and_sdk_style_path(sim, graph):
    seed_users(sim, 3)
    body = graph.get("/users/delta()", params={"$deltatoken": "latest"}).json()
    assert body["value"] == [] and "/users/delta()?$deltatoken=" in body["@odata.deltaLink"]
    new = graph.post("/users", json=new_user_body("zed")).json()
    assert [u["id"] for u in drain(graph, body["@odata.deltaLink"])[0]] == [new["id"]]


@pytest.mark.parametrize("token", ["garbage!", "eyJ4IjoxfQ"])
def test_invalid_delta_token_is_400_sync_state_not_found(graph, token):
    error = error_of(graph.get("/users/delta", params={"$deltatoken": token}), 400)
    assert error["code"] == "syncStateNotFound"


def test_delta_token_of_another_collection_or_expired_is_refused(sim, graph):
    _, users_link = drain(graph, "/users/delta")
    token = users_link.split("$deltatoken=")[1]
    assert error_of(graph.get("/groups/delta", params={"$deltatoken": token}), 400)["code"] == "syncStateNotFound"
    sim.call(lambda w: w.clock.advance(8 * 24 * 3600))
    assert error_of(graph.get(users_link), 400)["code"] == "syncStateNotFound"


def test_delta_reset_answers_410_gone_with_a_location_that_restarts_the_round(sim, graph, control):
    ids = seed_users(sim, 2)
    _, delta_link = drain(graph, "/users/delta?$select=displayName")
    assert control.post("/delta/reset", json={"tenant": FABRIKAM}).status_code == 204
    reply = graph.get(delta_link)
    assert error_of(reply, 410)["code"] == "resyncRequired"
    restart = reply.headers["Location"]
    assert restart.endswith("$deltatoken=") and "/users/delta" in restart
    items, _ = drain(graph, restart)  # a full round again, with the $select the old token carried
    assert sorted(u["id"] for u in items) == sorted(ids)
    assert set(items[0]) == {"id", "displayName"}
    error = error_of(control.post("/delta/reset", json={"tenant": "nobody"}), 404)
    assert "nobody" in error["message"]


def test_users_delta_with_select_skips_changes_of_other_properties(sim, graph):
    alice, bob = seed_users(sim, 2)
    _, delta_link = drain(graph, "/users/delta?$select=department")
    graph.patch(f"/users/{alice}", json={"jobTitle": "CFO"})
    graph.patch(f"/users/{bob}", json={"department": "Legal"})
    assert drain(graph, delta_link)[0] == [{"id": bob, "department": "Legal"}]


def test_users_delta_reports_a_disabled_user(sim, graph):
    [alice] = seed_users(sim, 1)
    _, delta_link = drain(graph, "/users/delta?$select=accountEnabled")
    graph.patch(f"/users/{alice}", json={"accountEnabled": False})
    assert drain(graph, delta_link)[0] == [{"id": alice, "accountEnabled": False}]


def test_groups_delta_reports_membership_changes(sim, graph, team):
    alice, bob = seed_users(sim, 2)
    graph.post(f"/groups/{team['id']}/members/$ref", json=ref(alice))
    [initial], delta_link = drain(graph, "/groups/delta?$select=displayName,members")
    assert initial["displayName"] == "Team"
    assert initial["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": alice}]
    graph.post(f"/groups/{team['id']}/members/$ref", json=ref(bob))
    graph.delete(f"/groups/{team['id']}/members/{alice}/$ref")
    [changed], _ = drain(graph, delta_link)
    assert changed["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": bob},
        {"@odata.type": "#microsoft.graph.user", "id": alice, "@removed": {"reason": "deleted"}},
    ]
    plain, _ = drain(graph, "/groups/delta?$select=displayName")
    assert "members@delta" not in plain[0]
    [only_members], _ = drain(graph, "/groups/delta?$select=members")
    assert set(only_members) == {"id", "members@delta"}


# --- recycle bin ----------------------------------------------------------------------------------------


def test_deleted_items_list_get_restore_and_purge(sim, graph):
    alice, bob = seed_users(sim, 2)
    graph.delete(f"/users/{alice}")
    graph.delete(f"/users/{bob}")
    listed = graph.get("/directory/deletedItems/microsoft.graph.user").json()
    assert listed["@odata.context"].endswith("$metadata#directory/deletedItems/microsoft.graph.user")
    assert sorted(u["id"] for u in listed["value"]) == sorted([alice, bob])
    assert all(u["deletedDateTime"] for u in listed["value"])
    assert graph.get("/directory/deletedItems/graph.group").json()["value"] == []

    got = graph.get(f"/directory/deletedItems/{alice}").json()
    assert (got["@odata.type"], got["id"]) == ("#microsoft.graph.user", alice)
    restored = graph.post(f"/directory/deletedItems/{alice}/restore")
    assert restored.status_code == 200
    assert restored.json()["@odata.type"] == "#microsoft.graph.user"
    assert restored.json()["deletedDateTime"] is None
    assert graph.get(f"/users/{alice}").status_code == 200

    assert graph.delete(f"/directory/deletedItems/{bob}").status_code == 204
    assert error_of(graph.post(f"/directory/deletedItems/{bob}/restore"), 404)["code"] == "Request_ResourceNotFound"
    assert error_of(graph.get("/directory/deletedItems/nope"), 400)["code"] == "Request_BadRequest"


def test_unified_group_is_recycled_and_restored(graph):
    body = new_group_body("Team365", mailEnabled=True, securityEnabled=False, groupTypes=["Unified"])
    group = graph.post("/groups", json=body).json()
    assert group["mail"] == "Team365@fabrikam.onmicrosoft.com"
    assert graph.delete(f"/groups/{group['id']}").status_code == 204
    assert [g["id"] for g in graph.get("/directory/deletedItems/microsoft.graph.group").json()["value"]] == [
        group["id"]
    ]
    assert graph.post(f"/directory/deletedItems/{group['id']}/restore").json()["@odata.type"] == (
        "#microsoft.graph.group"
    )


# --- msgraph-sdk ----------------------------------------------------------------------------------------


async def test_users_groups_and_casts_through_the_msgraph_sdk(sim, sdk_client):
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    alice, bob = seed_users(sim, 2)
    client = sdk_client("fabrikam")
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=1, select=["id", "department"])
    page = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    seen = [u.id for u in page.value]
    while page.odata_next_link:
        page = await client.users.with_url(page.odata_next_link).get()
        seen += [u.id for u in page.value]
    assert sorted(seen) == sorted([alice, bob])

    from msgraph.generated.models.group import Group
    from msgraph.generated.models.reference_create import ReferenceCreate

    group = await client.groups.post(Group(display_name="SDK", mail_enabled=False, mail_nickname="sdk",
                                           security_enabled=True))  # fmt: skip
    members = client.groups.by_group_id(group.id).members
    await members.ref.post(ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{alice}"))
    cast = await members.graph_user.get()
    assert [u.id for u in cast.value] == [alice]
    delta = await client.users.delta.get()
    assert sorted(u.id for u in delta.value) == sorted([alice, bob])
    assert delta.odata_delta_link
