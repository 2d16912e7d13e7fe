"""The target's side of the pipe: each user the provisioning engine creates, updates, disables or
soft-deletes in the target leaves a directoryAudit in the target tenant's audit log, initiated by the
service's app, listed through /auditLogs/directoryAudits (newest first, $filter, $orderby, $top, paging)."""

from __future__ import annotations

from typing import Any

from test_provisioning_e2e import CYCLE, _advance, _allow_sync, _configure, _people

from support.sim import CONTOSO, app_client

SERVICE = "initiatedBy/app/displayName eq 'Microsoft.Azure.SyncFabric' and category eq 'UserManagement'"


async def _three_guests_then_changes(sim: Any, sdk_client: Any) -> dict[str, Any]:
    """Ada, Bob and Cy created in Fabrikam; then Ada updated, Bob disabled and Cy soft-deleted."""
    people = sim.call(_people)
    await _allow_sync(sdk_client)
    await _configure(sdk_client, people)
    _advance(sim, 60)

    def change(world: Any) -> None:
        directory = world.tenant(CONTOSO).directory
        directory.update_user(people["users"]["ada"], {"department": "Legal"})
        directory.update_user(people["users"]["bob"], {"accountEnabled": False})
        directory.remove_member(people["group"], people["users"]["cy"])

    sim.call(change)
    _advance(sim, CYCLE)
    return people


async def test_each_change_in_the_target_is_audited_there(sim: Any, sdk_client: Any, graph_http: Any) -> None:
    await _three_guests_then_changes(sim, sdk_client)
    fabrikam = graph_http("fabrikam")
    query = {"$filter": SERVICE, "$orderby": "activityDateTime asc"}
    audits = fabrikam.get("/auditLogs/directoryAudits", params=query).json()["value"]
    rows = [(a["activityDisplayName"], a["targetResources"][0]["userPrincipalName"].split("_")[0]) for a in audits]
    assert rows == [
        ("Add user", "ada"),
        ("Add user", "bob"),
        ("Add user", "cy"),
        ("Update user", "ada"),
        ("Update user", "bob"),
        ("Delete user", "cy"),
    ]
    first = audits[0]
    assert first["initiatedBy"]["app"]["displayName"] == "Microsoft.Azure.SyncFabric"
    assert (first["category"], first["result"], first["operationType"], first["loggedByService"]) == (
        "UserManagement",
        "success",
        "Add",
        "Core Directory",
    )
    assert first["targetResources"][0]["type"] == "User"
    assert fabrikam.get(f"/auditLogs/directoryAudits/{first['id']}").json()["id"] == first["id"]
    # the source tenant's own directory audit log holds none of it
    assert graph_http("contoso").get("/auditLogs/directoryAudits").json()["value"] == []


async def test_listing_is_newest_first_filtered_by_time_and_paged(sim: Any, sdk_client: Any, graph_http: Any) -> None:
    await _three_guests_then_changes(sim, sdk_client)
    fabrikam = graph_http("fabrikam")
    newest_first = fabrikam.get("/auditLogs/directoryAudits").json()["value"]
    assert [a["activityDisplayName"] for a in newest_first][:1] == ["Delete user"]
    times = [a["activityDateTime"] for a in newest_first]
    assert times == sorted(times, reverse=True)
    since = {"$filter": f"activityDateTime ge {times[2]} and {SERVICE}"}
    assert len(fabrikam.get("/auditLogs/directoryAudits", params=since).json()["value"]) == 3

    page = fabrikam.get("/auditLogs/directoryAudits", params={"$top": 4}).json()
    assert len(page["value"]) == 4
    rest = fabrikam.get(page["@odata.nextLink"]).json()
    assert [a["id"] for a in page["value"] + rest["value"]] == [a["id"] for a in newest_first]
    assert "@odata.nextLink" not in rest
    assert fabrikam.get("/auditLogs/directoryAudits/Directory_nope").status_code == 404


def test_reading_directory_audits_needs_audit_log_read_all(sim: Any) -> None:
    with app_client(sim, "fabrikam", "7d4e2a1b-3c5f-4e6d-8a9b-0c1d2e3f4a5b", {"User.Read.All"}) as graph:
        answer = graph.get("/auditLogs/directoryAudits")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
