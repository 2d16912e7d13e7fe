"""Fuzzing every route of the emulator: whatever the path, method, query or body, the answer is never a 500
and every error is JSON: Graph's envelope with a code (the login host: its AADSTS body).

Each example starts from the same populated world (users, groups, a CTS configuration that has run a cycle,
partner policies, a Conditional Access policy), so generated paths reach real objects as well as missing
ones. The run is bounded: about 300 examples in all."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrasim.app import ROUTER
from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.applications.urls import SP_BY_APP_ID
from entrasim.control import urls as control_urls
from entrasim.core.odata import QueryOptions, encode_skiptoken
from entrasim.identity import urls as identity_urls
from entrasim.seed import load_seed
from entrasim.server import EntraSim
from entrasim.synchronization.job import CYCLE_INTERVAL_SECONDS
from entrasim.synchronization.schema import RULE_ID
from entrasim.world import World
from support.sim import CONTOSO, FABRIKAM, ca_context, fetch_token, two_tenant_seed

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"\{(\w+)\}")
USER_ID = "a1b2c3d4-0000-4000-8000-000000000001"
GROUP_ID = "a1b2c3d4-0000-4000-8000-0000000000a1"
DYNAMIC_ID = "a1b2c3d4-0000-4000-8000-0000000000a2"
CA_POLICY_ID = "a1b2c3d4-0000-4000-8000-0000000000c1"
JUNK = ("'", "''", "%", "..", "null", "$count", "$ref", "delta()", " ", "a'b", "(", ")", "x" * 300, "0", "-1")
UNICODE = ("é", "🙂", "用户", "\u202e", "\x00", "Ω≈ç√")
FILTERS = (
    "displayName eq 'Adele'",
    "startswith(displayName,'A')",
    "department in ('Sales','Finance')",
    "accountEnabled eq true and not(userType eq 'Guest')",
    "identities/any(i:i/issuer eq 'x')",
    "activityDateTime gt 2024-01-01T00:00:00Z",
    "id eq 1",
    "eq eq eq",
    "(((",
    "contains(mail,'@')",
)
QUERY_KEYS = (
    "$top",
    "$select",
    "$filter",
    "$orderby",
    "$count",
    "$expand",
    "$skiptoken",
    "$deltatoken",
    "$search",
    "$skip",
    "$format",
    "since",
    "tenant",
)


# --- the world every example starts from ------------------------------------------------------------------


def _seed() -> dict[str, Any]:
    users = [
        {"id": USER_ID, "userPrincipalName": "adele@contoso.onmicrosoft.com", "displayName": "Adele"},
        {"userPrincipalName": "alex@contoso.onmicrosoft.com", "displayName": "Alex", "department": "Sales"},
    ]
    groups = [
        {"id": GROUP_ID, "displayName": "CTS-Fabrikam", "members": [u["userPrincipalName"] for u in users]},
        {"id": DYNAMIC_ID, "displayName": "Sales", "membershipRule": 'user.department -eq "Sales"'},
    ]
    seed = two_tenant_seed(users={"contoso": users}, groups={"contoso": groups})
    seed["tenants"][0]["conditionalAccessPolicies"] = [
        {"id": CA_POLICY_ID, "displayName": "Block legacy", "state": "enabled", "conditions": {}}
    ]
    return seed


def _allow_sync(world: World) -> None:
    source, target = world.tenant(CONTOSO).policies, world.tenant(FABRIKAM).policies
    target.create_partner({"tenantId": CONTOSO})
    target.create_identity_sync(CONTOSO, {"userSyncInbound": {"isSyncAllowed": True}})
    target.update_partner(CONTOSO, {"automaticUserConsentSettings": {"inboundAllowed": True}})
    source.create_partner({"tenantId": FABRIKAM})
    source.update_partner(FABRIKAM, {"automaticUserConsentSettings": {"outboundAllowed": True}})


def _populate(world: World) -> dict[str, list[str]]:
    """Resets the world to the fuzzing baseline. Returns the ids that exist by route parameter (`{id}`: by
    collection), and what valid bodies need (the service principal, its role, the job's schema)."""
    world.reset()
    world.throttle.enabled = False
    world.clock.set_time_scale(0)
    load_seed(world, _seed())
    _allow_sync(world)
    source = world.tenant(CONTOSO)
    app, sp = source.applications.instantiate(CTS_TEMPLATE_ID, "Fabrikam")
    role = sp["appRoles"][0]["id"]
    assignment = source.applications.assign(
        sp["id"], {"principalId": GROUP_ID, "resourceId": sp["id"], "appRoleId": role}
    )
    sync = source.synchronization
    job = sync.create_job(sp["id"], "Azure2Azure")
    sync.put_secrets(sp["id"], [{"key": "CompanyId", "value": FABRIKAM}])
    sync.start_job(sp["id"], job.id)
    world.clock.advance(CYCLE_INTERVAL_SECONDS)
    world.tick()
    gone = source.directory.create_user(
        {"userPrincipalName": "gone@contoso.onmicrosoft.com", "displayName": "Gone", "accountEnabled": True}
    )
    source.directory.delete_user(gone["id"])
    events = [e["id"] for e in source.audit.provisioning(QueryOptions())]
    return {
        "spId": [sp["id"]],
        "appRoleId": [role],
        "schema": [json.dumps(job.schema)],
        # "{id}" names a different kind of object under each collection
        "users": [USER_ID],
        "groups": [GROUP_ID, DYNAMIC_ID],
        "applications": [app["id"]],
        "servicePrincipals": [sp["id"]],
        "applicationTemplates": [CTS_TEMPLATE_ID],
        "identity": [CA_POLICY_ID],
        "directory": [gone["id"]],
        "auditLogs": events,
        "jobId": [job.id],
        "templateId": ["Azure2Azure"],
        "tenantId": [CONTOSO, FABRIKAM],
        "member_id": [USER_ID, GROUP_ID],
        "assignmentId": [assignment["id"]],
        "appId": [sp["appId"]],
    }


@pytest.fixture
def fuzz(sim: EntraSim) -> Iterator[tuple[EntraSim, httpx.Client]]:
    token = fetch_token(sim, "contoso")
    with httpx.Client(base_url=sim.base_url, verify=ca_context(sim), timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield sim, client


# --- strategies -------------------------------------------------------------------------------------------


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in `one_in` draws (Hypothesis favours small integers, so not integers(...) == 0)."""
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def segment(real: list[str], draw: st.DrawFn) -> str:
    """A path parameter: mostly an existing id, else a GUID or something that is not an id at all."""
    if real and not rarely(draw, 3):
        return draw(st.sampled_from(real))
    return draw(st.one_of(st.uuids().map(str), st.sampled_from(JUNK + UNICODE), st.text(min_size=1, max_size=40)))


def graph_path(template: str, ids: dict[str, list[str]], draw: st.DrawFn) -> str:
    collection = template.strip("/").split("/")[0].split("(")[0]

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(segment(ids.get(collection if name == "id" else name, []), draw), safe="")

    path = PARAM.sub(fill, template)
    if rarely(draw, 10):
        path += "/" + quote(draw(st.sampled_from(JUNK + UNICODE)), safe="")  # a segment no route has
    return path


def query_options(draw: st.DrawFn) -> dict[str, str]:
    value = st.one_of(
        st.sampled_from(FILTERS),
        st.sampled_from(("1", "0", "999", "1000", "true", "false", "displayName", "displayName desc", "id,mail")),
        st.text(max_size=30),
    )
    tokens = st.fixed_dictionaries({}, optional={"offset": json_values, "lo": json_values, "c": json_values}).map(
        encode_skiptoken
    )
    if not rarely(draw, 3):
        return {}
    return draw(st.dictionaries(st.sampled_from(QUERY_KEYS), value | tokens, max_size=3))


def batch_body(templates: list[str], ids: dict[str, list[str]], draw: st.DrawFn) -> dict[str, Any]:
    items = []
    for n in range(draw(st.integers(0, 4))):
        item: dict[str, Any] = {
            "id": draw(st.sampled_from((str(n), str(n), "x", ""))),
            "method": draw(st.sampled_from((*METHODS, "HEAD", "get"))),
            "url": graph_path(draw(st.sampled_from(templates)), ids, draw).lstrip("/"),
        }
        if draw(st.booleans()):
            item["body"] = draw(json_values)
            item["headers"] = {"Content-Type": "application/json"}
        if rarely(draw, 4):
            item["dependsOn"] = draw(st.lists(st.sampled_from(("0", "1", "9")), max_size=2))
        items.append(item)
    return {"requests": items}


def valid_body(template: str, ids: dict[str, list[str]]) -> Any:
    """A body the route accepts as it stands (or None when the route takes none)."""
    user_ref = f"https://graph.microsoft.com/v1.0/directoryObjects/{USER_ID}"
    sync_secrets = [{"key": "CompanyId", "value": FABRIKAM}, {"key": "SyncAll", "value": "true"}]
    on_demand = {"ruleId": RULE_ID, "subjects": [{"objectId": USER_ID, "objectTypeName": "User"}]}
    bodies: dict[str, Any] = {
        "/users": {
            "accountEnabled": True,
            "displayName": "New",
            "mailNickname": "new",
            "userPrincipalName": "new@contoso.onmicrosoft.com",
            "passwordProfile": {"password": "x"},
        },
        "/users/{id}": {"department": "Ops", "accountEnabled": False},
        "/groups": {"displayName": "G", "mailEnabled": False, "mailNickname": "g", "securityEnabled": True},
        "/groups/{id}": {"description": "d", "membershipRule": 'user.department -eq "Ops"'},
        "/groups/{id}/members/$ref": {"@odata.id": user_ref},
        "/policies/crossTenantAccessPolicy/partners": {"tenantId": "0e6b2f4c-1d3a-4b5c-8d7e-9f0a1b2c3d4e"},
        "/policies/crossTenantAccessPolicy/partners/{tenantId}": {
            "inboundTrust": {"isMfaAccepted": True},
            "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
        },
        "/policies/crossTenantAccessPolicy/partners/{tenantId}/identitySynchronization": {
            "userSyncInbound": {"isSyncAllowed": False}
        },
        "/policies/crossTenantAccessPolicy/default": {"inboundTrust": {"isMfaAccepted": True}},
        "/applicationTemplates/{id}/instantiate": {"displayName": "Other"},
        "/applications/{id}": {"notes": "n", "tags": ["a"]},
        "/servicePrincipals/{id}": {"appRoleAssignmentRequired": False},
        "/servicePrincipals/{id}/appRoleAssignedTo": {
            "principalId": USER_ID,
            "resourceId": ids["spId"][0],
            "appRoleId": ids["appRoleId"][0],
        },
        "/servicePrincipals/{id}/synchronization/jobs": {"templateId": "Azure2Azure"},
        "/servicePrincipals/{id}/synchronization/secrets": {"value": sync_secrets},
        "/servicePrincipals/{id}/synchronization/jobs/validateCredentials": {
            "useSavedCredentials": False,
            "templateId": "Azure2Azure",
            "credentials": sync_secrets,
        },
        "/servicePrincipals/{id}/synchronization/jobs/{jobId}/restart": {"criteria": {"resetScope": "Full"}},
        "/servicePrincipals/{id}/synchronization/jobs/{jobId}/provisionOnDemand": {"parameters": [on_demand]},
        "/servicePrincipals/{id}/synchronization/jobs/{jobId}/schema": json.loads(ids["schema"][0]),
        "/servicePrincipals/{id}/synchronization/jobs/{jobId}/schema/parseExpression": {
            "expression": 'Join(",", [givenName], ToUpper([surname]))',
            "testInputObject": {"properties": [{"key": "givenName", "value": "a"}, {"key": "surname", "value": 1}]},
        },
    }
    bodies[SP_BY_APP_ID + "/appRoleAssignedTo"] = bodies["/servicePrincipals/{id}/appRoleAssignedTo"]
    bodies[SP_BY_APP_ID] = bodies["/servicePrincipals/{id}"]
    bodies["/servicePrincipals/{id}/synchronization/templates/{templateId}/schema/parseExpression"] = bodies[
        "/servicePrincipals/{id}/synchronization/jobs/{jobId}/schema/parseExpression"
    ]
    return bodies.get(template)


def mutated(value: Any, draw: st.DrawFn) -> Any:
    """The value with one member, at any depth, replaced by arbitrary JSON (or an unknown property added)."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        if rarely(draw, 5):
            return {**value, draw(st.text(max_size=10)): draw(json_values)}
        return {**value, key: mutated(value[key], draw)}
    if isinstance(value, list) and value:
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], mutated(value[index], draw), *value[index + 1 :]]
    return draw(json_values)


def graph_body(template: str, ids: dict[str, list[str]], draw: st.DrawFn) -> tuple[bytes | None, str | None]:
    valid = valid_body(template, ids)
    if valid is None:
        return body(draw)
    how = draw(st.sampled_from(("valid", "mutated", "mutated", "random")))
    if how == "random":
        return body(draw)
    return json.dumps(valid if how == "valid" else mutated(valid, draw)).encode(), "application/json"


def body(draw: st.DrawFn) -> tuple[bytes | None, str | None]:
    """(raw body, Content-Type): nothing, JSON of any shape, or bytes that are not JSON."""
    content_type = draw(
        st.sampled_from(
            ("application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", "x/y", None)
        )
    )
    raw = draw(
        st.one_of(
            st.none(),
            json_values.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=64),
            st.sampled_from((b"{", b"[]", b"null", b'{"a":', b"\xff\xfe", b"   ")),
        )
    )
    return raw, content_type


# --- assertions -------------------------------------------------------------------------------------------


def assert_graph_reply(reply: httpx.Response) -> None:
    """Never a 500; a body is JSON (or the text of a $count); an error carries Graph's envelope."""
    where = f"{reply.request.method} {reply.request.url}"
    assert reply.status_code != 500, f"{where} -> 500: {reply.text}"
    if reply.status_code >= 400:
        error = reply.json()["error"]
        assert isinstance(error["code"], str) and error["code"], f"{where}: {reply.text}"
        assert isinstance(error["message"], str), f"{where}: {reply.text}"
    elif reply.content and not reply.headers["content-type"].startswith("text/plain"):
        reply.json()
    if reply.request.url.path.endswith("/$batch") and reply.status_code == 200:
        for item in reply.json()["responses"]:
            assert item["status"] != 500, f"{where}: {item}"
            if item["status"] >= 400:
                assert item["body"]["error"]["code"], f"{where}: {item}"


def assert_no_internal_errors(sim: EntraSim) -> None:
    errors = sim.call(lambda world: list(world.internal_errors))
    assert not errors, errors


# --- the fuzzers ------------------------------------------------------------------------------------------

GRAPH_TEMPLATES = sorted({r.template for r in ROUTER.routes})
ROUTE_METHODS = {t: sorted({r.method for r in ROUTER.routes if r.template == t}) for t in GRAPH_TEMPLATES}


@settings(
    max_examples=int(os.environ.get("ENTRASIM_FUZZ_EXAMPLES", "240")),  # raise it to fuzz harder locally
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_graph_routes_never_fail_with_500(fuzz: tuple[EntraSim, httpx.Client], data: st.DataObject) -> None:
    sim, client = fuzz
    ids = sim.call(_populate)
    draw = data.draw
    template = draw(st.sampled_from(GRAPH_TEMPLATES))
    method = draw(st.sampled_from(METHODS if rarely(draw, 8) else ROUTE_METHODS[template]))
    path = graph_path(template, ids, draw)
    headers: dict[str, str] = {}
    if template == "/$batch" and draw(st.booleans()):
        raw: bytes | None = json.dumps(batch_body(GRAPH_TEMPLATES, ids, draw)).encode()
        content_type: str | None = "application/json"
    else:
        raw, content_type = graph_body(template, ids, draw)
    if content_type:
        headers["Content-Type"] = content_type
    if rarely(draw, 4):
        headers["ConsistencyLevel"] = "eventual"
    if rarely(draw, 40):
        headers["Authorization"] = draw(st.sampled_from(("", "Bearer", "Bearer x.y.z", "Basic abc")))
    reply = client.request(method, f"/v1.0{path}", params=query_options(draw), content=raw, headers=headers)
    assert_graph_reply(reply)
    assert_no_internal_errors(sim)


LOGIN_PATHS = [r.path for r in identity_urls.ROUTES]  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_login_routes_answer_json_errors(fuzz: tuple[EntraSim, httpx.Client], data: st.DataObject) -> None:
    _, client = fuzz
    draw = data.draw
    tenant = segment([CONTOSO, "contoso.onmicrosoft.com", "common"], draw)
    path = draw(st.sampled_from(LOGIN_PATHS)).replace("{tenant}", quote(tenant, safe=""))
    form = draw(
        st.dictionaries(
            st.sampled_from(
                ("grant_type", "client_id", "client_secret", "scope", "client_assertion", "client_assertion_type")
            ),
            st.one_of(st.sampled_from(("client_credentials", "https://graph.microsoft.com/.default")), st.text()),
            max_size=6,
        )
    )
    raw, content_type = body(draw)
    method = draw(st.sampled_from(METHODS))
    headers = {"Content-Type": content_type} if content_type else {}
    if draw(st.booleans()):
        basic = draw(
            st.text(alphabet="ABCabc012+/=:%", min_size=1, max_size=20)
        )  # HTTP forbids control characters in headers
        reply = client.request(method, path, data=form, headers={"Authorization": f"Basic {basic}"})
    else:
        reply = client.request(method, path, content=raw, headers=headers)
    assert reply.status_code != 500, f"{method} {path} -> 500: {reply.text}"
    if reply.status_code >= 400:  # AADSTS errors carry a string, everything else Graph's envelope
        assert isinstance(reply.json()["error"], str | dict), reply.text


CONTROL_ROUTES = [(r.method, r.path) for r in control_urls.ROUTES]  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_control_routes_answer_json_errors(fuzz: tuple[EntraSim, httpx.Client], data: st.DataObject) -> None:
    sim, client = fuzz
    sim.call(_populate)
    draw = data.draw
    method, path = draw(st.sampled_from(CONTROL_ROUTES))
    if rarely(draw, 4):
        method = draw(st.sampled_from(METHODS))  # one the route does not serve: 405 in JSON
    raw = draw(
        st.one_of(
            json_values.map(lambda v: json.dumps(v).encode()),
            st.dictionaries(
                st.sampled_from(("seconds", "throttling", "timeScale", "tokenLifetimeSeconds", "path", "status")),
                json_values,
                max_size=3,
            ).map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=32),
        )
    )
    reply = client.request(method, path, params=query_options(draw), content=raw)
    assert reply.status_code != 500, f"{method} {path} -> 500: {reply.text}"
    if reply.status_code >= 400:
        assert reply.json()["error"]["code"], reply.text
    sim.call(_populate)  # a fault or a setting the example added must not leak into the next one
    assert_graph_reply(client.get(f"/v1.0/users/{USER_ID}"))
