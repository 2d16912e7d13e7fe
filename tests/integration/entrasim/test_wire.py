"""What every Graph request goes through: authentication, permissions, faults, throttling, the envelope."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from entrasim.identity.models import ClientApp
from support.sim import CONTOSO, SECRET, ca_context, fetch_token

READER_APP = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f57"


def test_missing_token_is_401_invalid_authentication_token(sim):
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.get(f"{sim.base_url}/v1.0/users", headers={"client-request-id": "abc"})
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["innerError"]["request-id"] == reply.headers["request-id"]
    assert error["innerError"]["client-request-id"] == "abc" == reply.headers["client-request-id"]


def test_forged_token_is_401(sim):
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.get(f"{sim.base_url}/v1.0/users", headers={"Authorization": "Bearer a.b.c"})
    assert reply.status_code == 401


def test_expired_token_is_401(sim, control):
    control.post("/config", json={"tokenLifetimeSeconds": 1})
    token = fetch_token(sim, "contoso")
    time.sleep(1.2)
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.get(f"{sim.base_url}/v1.0/users", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401


def test_missing_permission_is_403_authorization_request_denied(sim):
    sim.call(
        lambda w: w.tenant(CONTOSO).identity.register(
            ClientApp(READER_APP, "reader", {"AuditLog.Read.All"}, secrets=[SECRET])
        )
    )
    token = fetch_token(sim, "contoso", app_id=READER_APP)
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.get(f"{sim.base_url}/v1.0/users", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "Authorization_RequestDenied"


def test_double_slash_after_version_is_tolerated(sim):
    # msgraph-sdk's default client sends /v1.0//users (its base URL ends in a slash); Graph accepts it.
    with httpx.Client(verify=ca_context(sim)) as client:
        reply = client.get(
            f"{sim.base_url}/v1.0//users", headers={"Authorization": f"Bearer {fetch_token(sim, 'contoso')}"}
        )
    assert reply.status_code == 200, reply.text


def test_unknown_segment_is_400_and_wrong_method_405(graph_http):
    graph = graph_http("contoso")
    assert graph.get("/nonsense").status_code == 400
    reply = graph.request("PUT", "/users")
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == "Request_BadRequest"


def test_injected_429_carries_retry_after_n_times(graph_http, control):
    graph = graph_http("contoso")
    assert (
        control.post("/faults", json={"path": "/v1.0/users$", "status": 429, "retryAfter": 7, "times": 2}).status_code
        == 201
    )
    statuses = [graph.get("/users") for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "7"
    assert statuses[0].json()["error"]["code"] == "TooManyRequests"


def test_injected_retry_after_can_be_an_http_date(graph_http, control):
    fault = {"path": "/v1.0/users$", "status": 503, "retryAfter": 60, "retryAfterDate": True, "times": 1}
    assert control.post("/faults", json=fault).status_code == 201
    reply = graph_http("contoso").get("/users")
    assert reply.status_code == 503
    wait = parsedate_to_datetime(reply.headers["Retry-After"]) - datetime.now(UTC)
    assert 55 <= wait.total_seconds() <= 61
    assert control.post("/faults", json={"status": 503, "retryAfterDate": True}).status_code == 400


def test_injected_fault_matches_method(graph_http, control):
    control.post("/faults", json={"path": "/users", "method": "POST", "status": 503})
    assert graph_http("contoso").get("/users").status_code == 200


def test_dropped_connection_is_a_transport_error(graph_http, control):
    control.post("/faults", json={"path": "/users", "drop": True, "times": 1})
    with pytest.raises(httpx.TransportError):
        graph_http("contoso").get("/users")


@pytest.mark.parametrize(
    "fault",
    [
        {"path": "x"},
        {"path": "x", "status": 418},
        {"path": "(", "status": 500},
        {"path": "x", "status": 500, "bogus": 1},
    ],
)
def test_control_api_rejects_bad_faults(control, fault):
    assert control.post("/faults", json=fault).status_code == 400


def test_throttling_answers_429_with_graph_headers(sim, graph_http, control):
    # The budget's window on the frozen simulated clock: however long the requests take, they all fall in
    # one window, and it ends only when the clock is moved.
    sim.call(lambda world: setattr(world.throttle, "clock", world.clock.now))
    graph = graph_http("contoso")
    # A tenant under 50 users has 3,500 resource units per 10 s; GET /users costs 2.
    statuses = [graph.get("/users") for _ in range(1_760)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert len(throttled) == 10
    assert throttled[0].headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert throttled[0].headers["x-ms-throttle-scope"].startswith("Tenant_Application/ReadWrite/")
    assert throttled[0].headers["Retry-After"] == "10"
    assert statuses[0].headers["x-ms-resource-unit"] == "2"
    control.post("/clock/advance", json={"seconds": 9})
    assert graph.get("/users").headers["Retry-After"] == "1"
    control.post("/clock/advance", json={"seconds": 1})
    assert graph.get("/users").status_code == 200


def test_throttling_can_be_turned_off(graph_http, control):
    control.post("/config", json={"throttling": False})
    graph = graph_http("contoso")
    assert all(graph.get("/users").status_code == 200 for _ in range(1_800))


def test_clock_advance_and_request_log(graph_http, control):
    before = control.get("/clock").json()["now"]
    after = control.post("/clock/advance", json={"seconds": 2400}).json()["now"]
    assert after > before
    graph_http("contoso").get("/users")
    logged = control.get("/requests").json()["requests"]
    assert logged[-1]["route"] == "/users" and logged[-1]["status"] == 200 and logged[-1]["tenant"] == CONTOSO


def test_reset_empties_the_world(control):
    assert control.post("/reset").status_code == 200
    assert control.get("/state").json()["tenants"] == {}


def test_paths_and_methods_outside_graph_that_no_route_serves_are_json(sim, control):
    with httpx.Client(base_url=sim.base_url, verify=ca_context(sim)) as client:
        missing = client.get("/nothing/here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    wrong = control.get("/reset")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"
    assert wrong.json()["error"]["code"] == "MethodNotAllowed"
