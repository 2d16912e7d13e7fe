"""Wire contract of /servicePrincipals/{id}/synchronization and /auditLogs/provisioning over plain HTTP:
status codes, bodies, error envelopes, permissions, paging and $filter."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from support.sim import CONTOSO, FABRIKAM, app_client

CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
READER_APP = "7c3e9a1b-2d4f-4b6a-8e1c-5f0a9b8d7c62"
UNKNOWN = "44444444-4444-4444-8444-444444444444"
CREDENTIALS = [{"key": "CompanyId", "value": FABRIKAM}, {"key": "AuthenticationType", "value": "SyncPolicy"}]


def _allow(world: Any, *, outbound: bool = True) -> None:
    source, target = world.tenant(CONTOSO), world.tenant(FABRIKAM)
    target.policies.create_partner({"tenantId": CONTOSO})
    target.policies.create_identity_sync(CONTOSO, {"userSyncInbound": {"isSyncAllowed": True}})
    target.policies.update_partner(CONTOSO, {"automaticUserConsentSettings": {"inboundAllowed": True}})
    source.policies.create_partner({"tenantId": FABRIKAM})
    source.policies.update_partner(FABRIKAM, {"automaticUserConsentSettings": {"outboundAllowed": outbound}})


def _error(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


@pytest.fixture
def graph(sim: Any, graph_http: Any) -> httpx.Client:
    return graph_http("contoso")


@pytest.fixture
def sp(graph: httpx.Client) -> dict[str, Any]:
    reply = graph.post(f"/applicationTemplates/{CTS_TEMPLATE}/instantiate", json={"displayName": "Fabrikam"})
    assert reply.status_code == 201, reply.text
    return reply.json()["servicePrincipal"]


@pytest.fixture
def sync(sp: dict[str, Any]) -> str:
    return f"/servicePrincipals/{sp['id']}/synchronization"


@pytest.fixture
def job(graph: httpx.Client, sync: str) -> dict[str, Any]:
    reply = graph.post(f"{sync}/jobs", json={"templateId": "Azure2Azure"})
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_job_lifecycle(graph: httpx.Client, sync: str, sp: dict[str, Any], job: dict[str, Any]) -> None:
    assert job["@odata.context"].endswith(f"$metadata#servicePrincipals('{sp['id']}')/synchronization/jobs/$entity")
    assert (job["templateId"], job["schedule"]["state"], job["status"]["code"]) == (
        "Azure2Azure",
        "Disabled",
        "Paused",
    )
    listed = graph.get(f"{sync}/jobs").json()
    assert [j["id"] for j in listed["value"]] == [job["id"]]
    path = f"{sync}/jobs/{job['id']}"
    assert graph.post(f"{path}/start").status_code == 204
    started = graph.get(path).json()
    assert (started["schedule"]["state"], started["status"]["code"]) == ("Active", "NotRun")
    assert graph.post(f"{path}/pause").status_code == 204
    assert graph.get(path).json()["status"]["code"] == "Paused"
    assert graph.post(f"{path}/restart", json={"criteria": {"resetScope": "Watermark, Escrows"}}).status_code == 204
    assert graph.post(f"{path}/restart").status_code == 204  # criteria are optional
    assert _error(graph.post(f"{path}/restart", json={"criteria": {"resetScope": "Everything"}}), 400)["code"] == (
        "BadRequest"
    )
    assert graph.delete(path).status_code == 204
    assert _error(graph.get(path), 404)["code"] == "ResourceNotFound"
    assert _error(graph.post(f"{sync}/jobs", json={"templateId": "gsuite"}), 400)["code"] == "BadRequest"
    assert _error(graph.post(f"{sync}/jobs", json={"templateId": "Azure2Azure", "x": 1}), 400)["code"] == (
        "Request_BadRequest"
    )


def test_second_job_conflicts_and_patch_job_is_refused(graph: httpx.Client, sync: str, job: dict[str, Any]) -> None:
    assert _error(graph.post(f"{sync}/jobs", json={"templateId": "Azure2Azure"}), 409)["code"] == "Conflict"
    error = _error(graph.patch(f"{sync}/jobs/{job['id']}", json={}), 404)
    assert error["code"] == "UnknownError"
    assert "No HTTP resource was found" in json.loads(error["message"])["Message"]


def test_secrets(graph: httpx.Client, sync: str) -> None:
    body = {"value": [*CREDENTIALS, {"key": "Password", "value": "p"}]}
    reply = graph.put(f"{sync}/secrets", json=body)
    assert reply.status_code == 204 and reply.content == b""
    listed = graph.get(f"{sync}/secrets").json()["value"]
    assert {"key": "Password", "value": "*"} in listed and {"key": "CompanyId", "value": FABRIKAM} in listed
    assert _error(graph.put(f"{sync}/secrets", json={"value": [{"key": "Nope", "value": "x"}]}), 400)["code"] == (
        "BadRequest"
    )
    assert graph.put(f"{sync}/secrets", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400


def test_templates(graph: httpx.Client, sync: str, sp: dict[str, Any]) -> None:
    [template] = graph.get(f"{sync}/templates").json()["value"]
    assert (template["id"], template["applicationId"]) == ("Azure2Azure", sp["appId"])
    schema = graph.get(f"{sync}/templates/Azure2Azure/schema").json()
    assert schema["synchronizationRules"][0]["name"] == "USER_INBOUND_USER"
    parsed = graph.post(f"{sync}/templates/Azure2Azure/schema/parseExpression", json={"expression": "[mail]"})
    assert parsed.json()["parsedExpression"]["type"] == "Attribute"
    assert graph.get(f"{sync}/templates/gsuite").status_code == 404


def test_validate_credentials(sim: Any, graph: httpx.Client, sync: str, job: dict[str, Any]) -> None:
    body = {"useSavedCredentials": False, "templateId": "Azure2Azure", "credentials": CREDENTIALS}
    error = _error(graph.post(f"{sync}/jobs/validateCredentials", json=body), 400)
    assert error == {
        **error,
        "code": "AzureDirectoryB2BManagementPolicyCheckFailure",
        "message": "Policy permitting auto-redemption of invitations not configured.",
    }
    sim.call(_allow)
    assert graph.post(f"{sync}/jobs/validateCredentials", json=body).status_code == 204
    assert (
        graph.post(f"{sync}/jobs/{job['id']}/validateCredentials", json={"credentials": CREDENTIALS}).status_code == 204
    )


def test_schema_endpoints(graph: httpx.Client, sync: str, job: dict[str, Any]) -> None:
    path = f"{sync}/jobs/{job['id']}/schema"
    schema = graph.get(path).json()
    assert schema["@odata.context"].endswith(f"/jobs('{job['id']}')/schema/$entity")
    assert (schema["id"], schema["version"]) == (job["id"], "v1.2")
    del schema["@odata.context"]
    mappings = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    mappings.append(
        {
            "targetAttributeName": "extensionAttribute1",
            "source": {"expression": '"CrossTenantSynced"'},
            "flowType": "Always",
            "matchingPriority": 0,
        }
    )
    assert graph.put(path, json=schema).status_code == 204
    assert graph.get(path).json()["synchronizationRules"] == schema["synchronizationRules"]
    mappings[0]["source"] = {"expression": "[objectId]", "type": "Attribute", "name": "objectId"}
    assert _error(graph.put(path, json=schema), 400)["code"] == "schemaInvalid"
    mappings[0]["source"] = {"expression": "AltSecIdFromNetId([netId]"}
    assert "could not be parsed" in _error(graph.put(path, json=schema), 400)["message"]
    assert _error(graph.patch(path, json={}), 404)["code"] == "UnknownError"
    assert graph.delete(path).status_code == 204
    assert len(graph.get(path).json()["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]) == (
        len(mappings) - 1
    )
    operators = {o["name"] for o in graph.get(f"{path}/filterOperators").json()["value"]}
    assert {"EQUALS", "NOT EQUALS", "IS TRUE", "REGEX MATCH", "Includes", "Greater_Than"} <= operators
    functions = {f["name"] for f in graph.get(f"{path}/functions").json()["value"]}
    assert {"Append", "Coalesce", "IIF", "Replace"} <= functions
    parsed = graph.post(
        f"{path}/parseExpression",
        json={
            "expression": "ToUpper([preferredLanguage])",
            "testInputObject": {
                "definition": None,
                "properties": [{"key": "preferredLanguage", "value": "en-us"}],
            },
            "targetAttributeDefinition": None,
        },
    ).json()
    assert parsed["@odata.context"].endswith("$metadata#microsoft.graph.parseExpressionResponse")
    assert (parsed["parsingSucceeded"], parsed["evaluationSucceeded"], parsed["evaluationResult"]) == (
        True,
        True,
        ["EN-US"],
    )


def test_unknown_service_principal_and_permissions(sim: Any, graph: httpx.Client, sync: str) -> None:
    assert _error(graph.get(f"/servicePrincipals/{UNKNOWN}/synchronization/jobs"), 404)["code"] == (
        "Request_ResourceNotFound"
    )
    with app_client(sim, "contoso", READER_APP, {"Synchronization.Read.All"}) as reader:
        assert reader.get(f"{sync}/jobs").status_code == 200
        assert _error(reader.post(f"{sync}/jobs", json={"templateId": "Azure2Azure"}), 403)["code"] == (
            "Authorization_RequestDenied"
        )
        assert reader.get("/auditLogs/provisioning").status_code == 403


# --- provisionOnDemand and the provisioning logs ------------------------------------------------------------


@pytest.fixture
def provisioned(sim: Any, graph: httpx.Client, sp: dict[str, Any], sync: str, job: dict[str, Any]) -> dict[str, Any]:
    """Three assigned users, provisioned by the job's first cycle."""

    def people(world: Any) -> list[str]:
        _allow(world)
        directory = world.tenant(CONTOSO).directory
        return [
            directory.create_user(
                {
                    "userPrincipalName": f"{n}@contoso.onmicrosoft.com",
                    "displayName": n,
                    "accountEnabled": True,
                }
            )["id"]
            for n in ("ada", "bob", "cy")
        ]

    users = sim.call(people)
    assert graph.put(f"{sync}/secrets", json={"value": CREDENTIALS}).status_code == 204
    for user in users:
        body = {"principalId": user, "resourceId": sp["id"], "appRoleId": sp["appRoles"][0]["id"]}
        assert graph.post(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=body).status_code == 201
    assert graph.post(f"{sync}/jobs/{job['id']}/start").status_code == 204
    sim.call(lambda w: (w.clock.advance(60), w.tick()))
    return {"users": users, "job": job["id"], "sp": sp["id"]}


def test_provision_on_demand(sim: Any, graph: httpx.Client, sync: str, provisioned: dict[str, Any]) -> None:
    path = f"{sync}/jobs/{provisioned['job']}/provisionOnDemand"
    rule = graph.get(f"{sync}/jobs/{provisioned['job']}/schema").json()["synchronizationRules"][0]["id"]
    body = {
        "parameters": [{"ruleId": rule, "subjects": [{"objectId": provisioned["users"][0], "objectTypeName": "User"}]}]
    }
    reply = graph.post(path, json=body)
    assert reply.status_code == 200, reply.text
    pair = reply.json()
    assert pair["@odata.context"].endswith("$metadata#microsoft.graph.stringKeyStringValuePair")
    assert json.loads(pair["key"]) == {
        "result": "Skipped",
        "details": {
            "errorCode": "RedundantExport",
            "errorMessage": "The state of the user in both the source and target systems already match.",
        },
    }
    assert json.loads(pair["value"])["reportableIdentifier"] == "ada@contoso.onmicrosoft.com"
    bad_rule = {"parameters": [{**body["parameters"][0], "ruleId": "nope"}]}
    assert _error(graph.post(path, json=bad_rule), 400)["code"] == "RequestParameterInvalid"
    for _ in range(3):  # five calls in all, the refused one included
        assert graph.post(path, json=body).status_code == 200
    throttled = graph.post(path, json=body)
    assert _error(throttled, 429)["code"] == "TooManyRequests"
    assert int(throttled.headers["Retry-After"]) >= 1


def test_provisioning_logs_filters_and_paging(graph: httpx.Client, provisioned: dict[str, Any]) -> None:
    logs = graph.get("/auditLogs/provisioning").json()
    assert logs["@odata.context"].endswith("$metadata#auditLogs/provisioning")
    assert len(logs["value"]) == 3
    times = [e["activityDateTime"] for e in logs["value"]]
    assert times == sorted(times)
    newest_first = graph.get("/auditLogs/provisioning", params={"$orderby": "activityDateTime desc"}).json()
    assert [e["activityDateTime"] for e in newest_first["value"]] == times[::-1]
    filters = {
        f"jobId eq '{provisioned['job']}'": 3,
        f"contains(tolower(servicePrincipal/id), '{provisioned['sp']}')": 3,
        f"servicePrincipal/id eq '{provisioned['sp']}'": 3,
        "provisioningAction eq 'create'": 3,
        "provisioningAction eq 'delete'": 0,
        "provisioningStatusInfo/status eq 'success'": 3,
        f"activityDateTime gt {times[0]}": 2,
        f"activityDateTime ge {times[0]} and activityDateTime lt {times[2]}": 2,
        f"sourceIdentity/id eq '{provisioned['users'][1]}'": 1,
    }
    for expression, count in filters.items():
        reply = graph.get("/auditLogs/provisioning", params={"$filter": expression})
        assert reply.status_code == 200, (expression, reply.text)
        assert len(reply.json()["value"]) == count, expression
    first = graph.get("/auditLogs/provisioning", params={"$top": "2"}).json()
    assert len(first["value"]) == 2
    rest = graph.get(first["@odata.nextLink"]).json()
    assert [e["id"] for e in first["value"] + rest["value"]] == [e["id"] for e in logs["value"]]
    assert "@odata.nextLink" not in rest
    one = graph.get(f"/auditLogs/provisioning/{rest['value'][0]['id']}").json()
    assert one["provisioningSteps"][-1]["provisioningStepType"] == "export"
    assert _error(graph.get(f"/auditLogs/provisioning/{UNKNOWN}"), 404)["code"] == "Request_ResourceNotFound"
    assert graph.get("/auditLogs/provisioning", params={"$top": "1001"}).status_code == 400
