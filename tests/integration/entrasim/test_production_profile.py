"""The production profile over HTTPS: replication delay as another caller sees it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.core.profile import PRODUCTION
from entrasim.server import EntraSim
from support.sim import ca_context, fetch_token, start_sim

OTHER_APP = "7d2e4f6a-8b1c-4d3e-9f5a-6b7c8d9e0f1a"
BY_TEMPLATE = f"applicationTemplateId eq '{CTS_TEMPLATE_ID}'"


@pytest.fixture
def consistent_wire_sim(tmp_path: Path) -> Iterator[EntraSim]:
    """The production profile without transient errors, so each answer below is the replica's."""
    server = start_sim(tmp_path / "entrasim", profile=replace(PRODUCTION, transient_error_rate=0.0))
    yield server
    server.stop()


def _graph(server: EntraSim, app_id: str | None = None) -> httpx.Client:
    token = fetch_token(server, "contoso") if app_id is None else fetch_token(server, "contoso", app_id=app_id)
    return httpx.Client(
        base_url=f"{server.base_url}/v1.0", verify=ca_context(server), headers={"Authorization": f"Bearer {token}"}
    )


def _register_reader(server: EntraSim) -> None:
    from entrasim.identity.models import ClientApp

    roles = {"Application.Read.All"}
    server.call(
        lambda w: w.tenant("contoso.onmicrosoft.com").identity.register(
            ClientApp(OTHER_APP, "reader", roles, secrets=["s3cret"])
        )
    )


def test_a_new_service_principal_is_404_and_unlisted_for_another_caller_until_time_passes(
    consistent_wire_sim: EntraSim,
) -> None:
    server = consistent_wire_sim
    _register_reader(server)
    with _graph(server) as writer, _graph(server, OTHER_APP) as reader:
        created = writer.post(f"/applicationTemplates/{CTS_TEMPLATE_ID}/instantiate", json={"displayName": "Fabrikam"})
        assert created.status_code == 201  # the write answers with the whole object at once
        sp_id = created.json()["servicePrincipal"]["id"]

        missing = reader.get(f"/servicePrincipals/{sp_id}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
        listed = reader.get("/servicePrincipals", params={"$filter": BY_TEMPLATE})
        assert listed.status_code == 200
        assert sp_id not in [sp["id"] for sp in listed.json()["value"]]

        server.call(lambda w: w.clock.advance(PRODUCTION.replication_delay))
        assert reader.get(f"/servicePrincipals/{sp_id}").status_code == 200
        listed = reader.get("/servicePrincipals", params={"$filter": BY_TEMPLATE})
        assert sp_id in [sp["id"] for sp in listed.json()["value"]]


def test_adding_a_just_created_user_to_a_group_is_the_documented_400(consistent_wire_sim: EntraSim) -> None:
    server = consistent_wire_sim
    server.call(lambda w: w.set_profile(replace(w.profile, own_write_visibility=0.0)))  # never its own replica
    with _graph(server) as graph:
        group = graph.post(
            "/groups", json={"displayName": "G", "mailEnabled": False, "mailNickname": "g", "securityEnabled": True}
        )
        user = graph.post(
            "/users",
            json={
                "accountEnabled": True,
                "displayName": "New",
                "mailNickname": "new",
                "userPrincipalName": "new@contoso.onmicrosoft.com",
                "passwordProfile": {"password": "x-Y-z-123456"},
            },
        )
        ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user.json()['id']}"}
        refused = graph.post(f"/groups/{group.json()['id']}/members/$ref", json=ref)
        assert refused.status_code == 400
        assert refused.json()["error"] == {
            "code": "Request_BadRequest",
            "message": "The source resource object or one of the objects being referenced don't exist.",
            "innerError": refused.json()["error"]["innerError"],
        }
        server.call(lambda w: w.clock.advance(PRODUCTION.replication_delay))
        assert graph.post(f"/groups/{group.json()['id']}/members/$ref", json=ref).status_code == 204


def _control(server: EntraSim) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base_url}/_entrasim", verify=ca_context(server))


def test_production_answers_transient_503_and_504_with_both_retry_after_forms(production_sim: EntraSim) -> None:
    server = production_sim
    with _control(server) as control:
        # the production rate (0.5 %) raised through the control API, so that 120 requests show every form
        settings = control.post("/config", json={"transientErrorRate": 0.3}).json()["profile"]
        assert settings["name"] == "production" and settings["transientErrorRate"] == 0.3
    with _graph(server) as graph:
        answers = [graph.get("/users") for _ in range(120)]
    failed = [a for a in answers if a.status_code >= 500]
    assert {a.status_code for a in answers} == {200, 503, 504}
    assert {a.json()["error"]["code"] for a in failed} == {"ServiceUnavailable", "GatewayTimeout"}
    retry_after = [a.headers.get("Retry-After") for a in failed]
    assert None in retry_after
    assert any(r and r.isdigit() for r in retry_after)
    assert any(r and r.endswith(" GMT") for r in retry_after)  # an HTTP date
    elapsed = sorted(a.elapsed.total_seconds() for a in answers)
    assert elapsed[len(elapsed) // 2] >= 0.01  # the latency distribution's median is 30 ms


def test_a_504_on_a_create_may_come_after_the_create_took_effect(production_sim: EntraSim) -> None:
    server = production_sim
    with _control(server) as control:
        control.post("/config", json={"transientErrorRate": 0.5, "latencyScale": 0, "replicationDelay": 0})
    outcomes = set()
    with _graph(server) as graph:
        for i in range(40):
            body = {"displayName": f"G{i}", "mailEnabled": False, "mailNickname": f"g{i}", "securityEnabled": True}
            status = graph.post("/groups", json=body).status_code
            exists = bool(
                server.call(lambda w, name=f"G{i}": w.tenant("contoso.onmicrosoft.com").directory.groups_named(name))
            )
            outcomes.add((status, exists))
    assert (201, True) in outcomes
    assert (503, True) not in outcomes  # a 503 never reached the directory
    assert {(503, False), (504, False), (504, True)} <= outcomes


async def test_the_msgraph_sdk_rides_out_the_transient_errors(production_sim: EntraSim) -> None:
    """The SDK's retry middleware honours both Retry-After forms; every read ends in success."""
    from support.sim import graph_sdk_client

    server = production_sim
    with _control(server) as control:
        control.post("/config", json={"transientErrorRate": 0.2})
    client = graph_sdk_client(server, "contoso")
    for _ in range(8):
        users = await client.users.get()
        assert users is not None and users.value == []
    statuses = [r["status"] for r in server.call(lambda w: w.requests.since(0))]
    assert {503, 504} & set(statuses)  # some were retried
