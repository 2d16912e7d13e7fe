"""ctsync's Graph client against entrasim: msgraph-sdk transport, raw JSON, paging, retries, error mapping."""

from __future__ import annotations

import pytest

from ctsync import errors
from ctsync.graph.client import Backoff
from ctsync.graph.errors import GraphConflict, GraphNotFound
from support.sim import CONTOSO, FABRIKAM, ctsync_graph_client

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
FAST_BACKOFF = Backoff(attempts=3, base=0.01, cap=0.05)


@pytest.fixture
async def contoso(sim):
    seen: list[tuple] = []
    # 503/504 backoff shortened: the attempts are the point here, not the wait.
    client = ctsync_graph_client(
        sim, "contoso", "source", observer=lambda *call: seen.append(call), backoff=FAST_BACKOFF
    )
    client.seen = seen
    yield client
    await client.close()


def seed_users(sim, count: int) -> None:
    def add(world):
        directory = world.tenant(CONTOSO).directory
        for i in range(count):
            directory.create_user(
                {
                    "userPrincipalName": f"u{i}@contoso.onmicrosoft.com",
                    "displayName": f"U {i}",
                    "accountEnabled": True,
                }
            )

    sim.call(add)


async def test_pages_are_followed_and_parsed_as_plain_json(sim, contoso):
    seed_users(sim, 2_500)
    users = await contoso.list_all("/users", {"$top": "999", "$select": "id,displayName"})
    assert len(users) == 2_500 and len({u["id"] for u in users}) == 2_500
    assert isinstance(users[0], dict)
    assert [call[2] for call in contoso.seen] == ["/users"] * 3


async def test_observer_sees_route_templates_and_statuses(contoso):
    assert await contoso.get_optional(f"{PARTNERS}/{FABRIKAM}") is None
    assert contoso.seen[-1][:4] == ("source", "GET", "/policies/crossTenantAccessPolicy/partners/{id}", 404)


async def test_create_conflict_and_not_found_map_to_domain_errors(contoso):
    await contoso.post(PARTNERS, {"tenantId": FABRIKAM})
    with pytest.raises(GraphConflict):
        await contoso.post(PARTNERS, {"tenantId": FABRIKAM})
    with pytest.raises(GraphNotFound):
        await contoso.delete(f"{PARTNERS}/00000000-0000-4000-8000-000000000000")


async def test_short_throttling_is_retried_in_the_call(contoso, control):
    control.post("/faults", json={"path": "/v1.0/users$", "status": 429, "retryAfter": 1, "times": 2})
    assert (await contoso.get("/users"))["value"] == []
    assert [call[3] for call in contoso.seen] == [429, 429, 200]


async def test_long_retry_after_is_raised_not_slept(contoso, control):
    control.post("/faults", json={"path": "/v1.0/users$", "status": 429, "retryAfter": 120, "times": 1})
    with pytest.raises(errors.Throttled) as caught:
        await contoso.get("/users")
    assert caught.value.retry_after == 120
    assert len(contoso.seen) == 1


async def test_non_idempotent_post_is_not_retried(contoso, control):
    control.post("/faults", json={"path": "/partners$", "method": "POST", "status": 503, "retryAfter": 1, "times": 1})
    with pytest.raises(errors.GraphUnavailable):
        await contoso.post(PARTNERS, {"tenantId": FABRIKAM}, retry=False)
    assert len(contoso.seen) == 1


async def test_unavailable_without_retry_after_backs_off_in_the_call_only(contoso, control):
    for status in (503, 504):
        control.post("/faults", json={"path": "/v1.0/users$", "status": status, "times": 2})
        assert (await contoso.get("/users"))["value"] == []
    assert [call[3] for call in contoso.seen] == [503, 503, 200, 504, 504, 200]
    control.post("/faults", json={"path": "/v1.0/users$", "status": 503})
    with pytest.raises(errors.GraphUnavailable) as caught:
        await contoso.get("/users")
    assert not isinstance(caught.value, errors.Throttled) and caught.value.retry_after is None
    assert [call[3] for call in contoso.seen[6:]] == [503] * FAST_BACKOFF.attempts
    control.delete("/faults")
    # Nothing holds the tenant's other callers afterwards.
    assert await contoso.get_optional(f"{PARTNERS}/{FABRIKAM}") is None


async def test_unavailable_create_is_neither_repeated_nor_held(contoso, control):
    control.post("/faults", json={"path": "/partners$", "method": "POST", "status": 503, "times": 1})
    with pytest.raises(errors.GraphUnavailable):
        await contoso.post(PARTNERS, {"tenantId": FABRIKAM}, retry=False)
    assert len(contoso.seen) == 1
    assert await contoso.get_optional(f"{PARTNERS}/{FABRIKAM}") is None  # the caller's look-up is not held


async def test_a_failed_later_page_is_an_incomplete_read(sim, contoso, control):
    seed_users(sim, 250)
    control.post("/faults", json={"path": "/v1.0/users$", "status": 500, "times": 1})
    with pytest.raises(errors.GraphUnavailable):
        await contoso.list_all("/users")  # the first page failing is plain unavailability
    pages = contoso.pages("/users", {"$top": "100"})
    assert len(await anext(pages)) == 100
    control.post("/faults", json={"path": "/v1.0/users$", "status": 500})
    with pytest.raises(errors.ReadIncomplete):
        await anext(pages)


async def test_wrong_secret_is_authentication_failed_without_the_secret(sim):
    client = ctsync_graph_client(sim, "contoso", "source", secret="not-the-secret-value")
    with pytest.raises(errors.AuthenticationFailed) as caught:
        await client.get("/users")
    await client.close()
    assert "AADSTS7000215" in str(caught.value)
    assert "not-the-secret-value" not in str(caught.value)


async def test_granted_roles_come_from_the_token(contoso):
    assert "Synchronization.ReadWrite.All" in await contoso.granted_roles()


async def test_error_codes_and_messages_survive_the_transport(contoso):
    with pytest.raises(errors.GraphRequestFailed) as caught:
        await contoso.get("/groups/not-a-guid/members")
    assert caught.value.status == 400 and caught.value.code == "Request_BadRequest"
    assert "not-a-guid" in caught.value.message


async def test_a_retry_after_given_as_an_http_date_holds_the_tenant_that_long(contoso, control):
    fault = {"path": "/v1.0/users$", "status": 503, "retryAfter": 90, "retryAfterDate": True, "times": 1}
    control.post("/faults", json=fault)
    with pytest.raises(errors.Throttled) as caught:
        await contoso.get("/users")
    assert 80 <= caught.value.retry_after <= 91
    with pytest.raises(errors.Throttled, match="still within Graph's Retry-After"):
        await contoso.get_optional(f"{PARTNERS}/{FABRIKAM}")
    assert len(contoso.seen) == 1
