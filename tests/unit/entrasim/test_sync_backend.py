"""The synchronization backend's API rules (secrets, jobs, credentials, schema, on-demand), without HTTP.

`Cts` builds the two-tenant CTS setup the engine tests share: Contoso syncs into Fabrikam, with the
partner policies, automatic redemption and inbound sync all allowed."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.auditlogs.models import ProvisioningEvent
from entrasim.core.errors import GraphError, InvalidRequest, TooManyRequests
from entrasim.core.odata import QueryOptions
from entrasim.synchronization import schema as cts_schema
from entrasim.synchronization.exceptions import (
    InvalidSecret,
    JobAlreadyExists,
    NoHttpResource,
    PolicyCheckFailure,
    RequestParameterInvalid,
    SchemaInvalid,
    SyncObjectNotFound,
    SyncPolicyCheckFailure,
)
from entrasim.synchronization.job import Job
from entrasim.synchronization.models import SynchronizationBackend
from entrasim.synchronization.provisioning import external_upn
from entrasim.world import Tenant, World

CONTOSO = "5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10"
FABRIKAM = "9c3e1b7a-2d4f-4e8b-a1c6-7f5d0e2b4a93"
MINUTES = 60


@dataclass
class Cts:
    world: World
    source: Tenant
    target: Tenant
    sp: dict[str, Any]
    job: Job

    @property
    def sync(self) -> Any:
        return self.source.synchronization

    def user(self, name: str, **props: Any) -> dict[str, Any]:
        return self.source.directory.create_user(
            {
                "userPrincipalName": f"{name}@contoso.com",
                "displayName": name.title(),
                "accountEnabled": True,
                "mail": f"{name}@contoso.com",
                **props,
            }
        )

    def group(self, name: str, *members: dict[str, Any]) -> dict[str, Any]:
        group = self.source.directory.create_group(
            {"displayName": name, "mailEnabled": False, "mailNickname": name, "securityEnabled": True}
        )
        for member in members:
            self.source.directory.add_member(group["id"], member["id"])
        return group

    def assign(self, principal: dict[str, Any]) -> dict[str, Any]:
        role = self.sp["appRoles"][0]["id"]
        return self.source.applications.assign(
            self.sp["id"], {"principalId": principal["id"], "resourceId": self.sp["id"], "appRoleId": role}
        )

    def secrets(self, **values: str) -> None:
        self.sync.put_secrets(self.sp["id"], [{"key": k, "value": v} for k, v in values.items()])

    def start(self) -> None:
        self.sync.start_job(self.sp["id"], self.job.id)
        self.world.tick()

    def advance(self, seconds: float) -> None:
        self.world.clock.advance(seconds)
        self.world.tick()

    def target_user(self, source_user: dict[str, Any]) -> dict[str, Any] | None:
        upn = external_upn(source_user["userPrincipalName"], self.target.initial_domain).lower()
        directory = self.target.directory
        return next(
            (
                u
                for u in [*directory.users.values(), *directory.deleted.values()]
                if u["userPrincipalName"].lower() == upn
            ),
            None,
        )

    def events(self, action: str | None = None) -> list[dict[str, Any]]:
        found: list[ProvisioningEvent] = self.source.audit.provisioning(QueryOptions())  # type: ignore[assignment]
        return [dict(e) for e in found if action is None or e["provisioningAction"] == action]


def allow_sync(
    source: Tenant, target: Tenant, *, outbound: bool = True, inbound: bool = True, inbound_sync: bool = True
) -> None:
    """The partner policies of §0: target partner + identity sync + inbound redemption, source outbound."""
    target.policies.create_partner({"tenantId": source.id})
    target.policies.create_identity_sync(source.id, {"userSyncInbound": {"isSyncAllowed": inbound_sync}})
    target.policies.update_partner(source.id, {"automaticUserConsentSettings": {"inboundAllowed": inbound}})
    source.policies.create_partner({"tenantId": target.id})
    source.policies.update_partner(target.id, {"automaticUserConsentSettings": {"outboundAllowed": outbound}})


def build_cts(*, policies: bool = True, threshold: int | None = None, **secrets: str) -> Cts:
    world = World(time_scale=0)
    source = world.add_tenant(CONTOSO, "contoso.onmicrosoft.com", "Contoso")
    target = world.add_tenant(FABRIKAM, "fabrikam.onmicrosoft.com", "Fabrikam")
    if policies:
        allow_sync(source, target)
    _, sp = source.applications.instantiate(CTS_TEMPLATE_ID, "Fabrikam")
    job = source.synchronization.create_job(sp["id"], "Azure2Azure")
    cts = Cts(world, source, target, sp, job)
    notification = (
        '{"Enabled":false,"DeleteThresholdEnabled":false}'
        if threshold is None
        else f'{{"DeleteThresholdEnabled":true,"DeleteThresholdValue":{threshold}}}'
    )
    defaults = {
        "AuthenticationType": "SyncPolicy",
        "CompanyId": FABRIKAM,
        "SyncAll": "false",
        "SyncNotificationSettings": notification,
    }
    cts.secrets(**{**defaults, **secrets})
    return cts


@pytest.fixture
def cts() -> Cts:
    return build_cts()


# --- secrets ----------------------------------------------------------------------------------------------


def test_secrets_merge_and_mask(cts: Cts) -> None:
    cts.secrets(Password="hunter2")
    cts.secrets(SyncAll="true")
    listed = dict((s["key"], s["value"]) for s in cts.sync.secrets(cts.sp["id"]))
    assert listed["Password"] == "*"
    assert listed["SyncAll"] == "true"
    assert listed["CompanyId"] == FABRIKAM


@pytest.mark.parametrize(
    "value",
    [
        [{"key": "NotASecret", "value": "x"}],
        [{"key": "SyncAll", "value": False}],
        [{"key": "SyncAll"}],
        [{"key": "SyncAll", "value": "true", "extra": 1}],
        "SyncAll",
    ],
)
def test_secrets_rejected(cts: Cts, value: object) -> None:
    with pytest.raises(InvalidSecret) as caught:
        cts.sync.put_secrets(cts.sp["id"], value)
    assert caught.value.status == 400


def test_unknown_service_principal_is_404(cts: Cts) -> None:
    with pytest.raises(GraphError) as caught:
        cts.sync.jobs("11111111-1111-4111-8111-111111111111")
    assert caught.value.status == 404


# --- jobs -------------------------------------------------------------------------------------------------


def test_new_job_is_disabled_and_paused(cts: Cts) -> None:
    job = cts.job.to_graph()
    assert re.fullmatch(rf"Azure2Azure\.[0-9a-f]{{32}}\.{CONTOSO}", job["id"])
    assert job["schedule"] == {"expiration": None, "interval": "PT40M", "state": "Disabled"}
    assert job["status"]["code"] == "Paused"
    assert job["status"]["lastExecution"] is None
    assert job["status"]["steadyStateFirstAchievedTime"] == "0001-01-01T00:00:00Z"
    assert [s["name"] for s in job["synchronizationJobSettings"]] == [
        "AzureIngestionAttributeOptimization",
        "LookaheadQueryEnabled",
    ]


def test_one_job_per_configuration_and_known_templates_only(cts: Cts) -> None:
    with pytest.raises(JobAlreadyExists):
        cts.sync.create_job(cts.sp["id"], "Azure2Azure")
    with pytest.raises(InvalidRequest):
        cts.sync.create_job(cts.sp["id"], "gsuite")
    with pytest.raises(InvalidRequest):
        cts.sync.create_job(cts.sp["id"], None)


def test_start_pause_and_lookup(cts: Cts) -> None:
    cts.sync.start_job(cts.sp["id"], cts.job.id.upper())  # ids are matched case-insensitively
    status = cts.job.status
    assert (cts.job.schedule_state, status["code"]) == ("Active", "NotRun")
    assert status["lastExecution"]["state"] == "Failed"
    assert status["lastExecution"]["error"] == {"code": "None", "message": "", "tenantActionable": False}
    cts.sync.pause_job(cts.sp["id"], cts.job.id)
    assert (cts.job.schedule_state, status["code"]) == ("Paused", "Paused")
    with pytest.raises(SyncObjectNotFound):
        cts.sync.job(cts.sp["id"], "Azure2Azure.nope")


def test_delete_job_keeps_provisioned_users(cts: Cts) -> None:
    ada = cts.user("ada")
    cts.assign(ada)
    cts.start()
    assert cts.target_user(ada) is not None
    cts.sync.delete_job(cts.sp["id"], cts.job.id)
    assert cts.sync.jobs(cts.sp["id"]) == []
    assert cts.target_user(ada) is not None


def test_deleting_the_service_principal_forgets_its_jobs(cts: Cts) -> None:
    cts.source.applications.delete_service_principal(cts.sp["id"])
    assert cts.sync.configs == {}


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"resetScope": "Watermark, Bogus"}, "Bogus"),
        ({"resetScope": 3}, "resetScope"),
    ],
)
def test_restart_rejects_unknown_scopes(cts: Cts, criteria: object, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        cts.sync.restart_job(cts.sp["id"], cts.job.id, criteria)


# --- validateCredentials ----------------------------------------------------------------------------------

CREDENTIALS = {
    "templateId": "Azure2Azure",
    "credentials": [
        {"key": "CompanyId", "value": FABRIKAM},
        {"key": "AuthenticationType", "value": "SyncPolicy"},
    ],
}


def test_validate_credentials_passes_with_both_redemptions_and_inbound_sync(cts: Cts) -> None:
    cts.sync.validate_credentials(cts.sp["id"], None, CREDENTIALS)
    cts.sync.validate_credentials(cts.sp["id"], cts.job.id, {"useSavedCredentials": True})


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ({"outbound": False}, PolicyCheckFailure),
        ({"inbound": False}, PolicyCheckFailure),
        ({"inbound_sync": False}, SyncPolicyCheckFailure),
    ],
)
def test_validate_credentials_policy_failures(setting: dict[str, bool], error: type[GraphError]) -> None:
    cts = build_cts(policies=False)
    allow_sync(cts.source, cts.target, **setting)
    with pytest.raises(error) as caught:
        cts.sync.validate_credentials(cts.sp["id"], None, CREDENTIALS)
    assert caught.value.status == 400


def test_validate_credentials_unknown_company(cts: Cts) -> None:
    body = {"credentials": [{"key": "CompanyId", "value": "11111111-1111-4111-8111-111111111111"}]}
    with pytest.raises(PolicyCheckFailure) as caught:
        cts.sync.validate_credentials(cts.sp["id"], None, body)
    assert caught.value.code == "AzureDirectoryB2BManagementPolicyCheckFailure"
    assert caught.value.message == "Policy permitting auto-redemption of invitations not configured."


# --- schema -----------------------------------------------------------------------------------------------


def _schema_with(cts: Cts, change: Any) -> dict[str, Any]:
    schema = copy.deepcopy(cts.sync.schema(cts.sp["id"], cts.job.id))
    change(schema["synchronizationRules"][0]["objectMappings"][0])
    return schema


def test_schema_put_replaces_and_resets_the_watermark(cts: Cts) -> None:
    cts.job.watermark = 7

    def constant_department(mapping: dict[str, Any]) -> None:
        department = next(m for m in mapping["attributeMappings"] if m["targetAttributeName"] == "department")
        department["source"] = {
            "expression": '"Sales"',
            "name": "Sales",
            "type": "Constant",
            "parameters": [],
        }

    cts.sync.put_schema(cts.sp["id"], cts.job.id, _schema_with(cts, constant_department))
    assert cts.job.watermark is None
    assert cts.job.schema["id"] == cts.job.id
    cts.job.watermark = 7
    cts.sync.put_schema(cts.sp["id"], cts.job.id, cts.job.schema)  # same rules: nothing to re-evaluate
    assert cts.job.watermark == 7
    cts.sync.reset_schema(cts.sp["id"], cts.job.id)
    assert cts.job.watermark is None
    assert cts.job.schema == cts_schema.default_schema(cts.job.id)


def test_schema_put_rejects_a_changed_matching_attribute(cts: Cts) -> None:
    def second_match(mapping: dict[str, Any]) -> None:
        mapping["attributeMappings"][-1]["matchingPriority"] = 2

    with pytest.raises(SchemaInvalid) as caught:
        cts.sync.put_schema(cts.sp["id"], cts.job.id, _schema_with(cts, second_match))
    assert (caught.value.status, caught.value.code) == (400, "schemaInvalid")


def test_patch_schema_is_the_backend_404(cts: Cts) -> None:
    with pytest.raises(NoHttpResource) as caught:
        cts.sync.patch_schema(cts.sp["id"], cts.job.id)
    assert (caught.value.status, caught.value.code) == (404, "UnknownError")
    assert "No HTTP resource was found that matches the request URI" in caught.value.message
    assert f"jobs('{cts.job.id}')/schema?api-version=2.0" in caught.value.message


def test_parse_expression() -> None:
    parse = SynchronizationBackend.parse_expression
    reply = parse(
        {
            "expression": 'Replace([preferredLanguage], "-", , , "_", , )',
            "testInputObject": {"properties": [{"key": "preferredLanguage", "value": "EN-US"}]},
        }
    )
    assert reply["parsingSucceeded"] and reply["evaluationSucceeded"]
    assert reply["evaluationResult"] == ["EN_US"]
    assert reply["parsedExpression"]["name"] == "Replace"
    broken = parse({"expression": "Append([a]"})
    assert not broken["parsingSucceeded"] and "missing ')'" in broken["error"]["message"]
    untested = parse({"expression": "[department]"})
    assert untested["parsingSucceeded"] and untested["evaluationResult"] is None
    with pytest.raises(InvalidRequest):
        parse({"expression": 5})


# --- provisionOnDemand ------------------------------------------------------------------------------------


def _on_demand(cts: Cts, user: dict[str, Any], rule_id: str = cts_schema.RULE_ID) -> dict[str, Any]:
    pair = cts.sync.provision_on_demand(
        cts.sp["id"],
        cts.job.id,
        [{"ruleId": rule_id, "subjects": [{"objectId": user["id"], "objectTypeName": "User"}]}],
    )
    return {"key": json.loads(pair["key"]), "value": json.loads(pair["value"])}


def test_provision_on_demand_creates_then_reports_redundant_export(cts: Cts) -> None:
    ada = cts.user("ada")
    cts.assign(ada)
    first = _on_demand(cts, ada)
    assert first["key"] == {"result": "Success", "details": {}}
    assert first["value"]["action"] == "Create"
    assert first["value"]["targetIdentity"]["id"] == cts.target_user(ada)["id"]  # type: ignore[index]
    assert {"Import", "Scoping", "Matching", "Processing", "Export"} <= {
        s["type"] for s in first["value"]["provisioningSteps"]
    }
    again = _on_demand(cts, ada)
    assert again["key"]["result"] == "Skipped"
    assert again["key"]["details"]["errorCode"] == "RedundantExport"
    assert [e["provisioningAction"] for e in cts.events()] == ["create", "other"]


def test_provision_on_demand_skips_unassigned_users(cts: Cts) -> None:
    bob = cts.user("bob")
    reply = _on_demand(cts, bob)
    assert reply["key"]["result"] == "Skipped"
    assert reply["key"]["details"]["errorCode"] == "NotEffectivelyEntitled"
    assert cts.target_user(bob) is None


def test_provision_on_demand_validates_the_request(cts: Cts) -> None:
    ada = cts.user("ada")
    with pytest.raises(RequestParameterInvalid, match="the job does not include the rule"):
        _on_demand(cts, ada, rule_id="")
    with pytest.raises(SyncObjectNotFound):
        _on_demand(cts, {"id": "11111111-1111-4111-8111-111111111111"})


def test_provision_on_demand_rate_limit(cts: Cts) -> None:
    ada = cts.user("ada")
    cts.assign(ada)
    for _ in range(5):
        _on_demand(cts, ada)
    with pytest.raises(TooManyRequests) as caught:
        _on_demand(cts, ada)
    assert int(caught.value.headers["Retry-After"]) >= 1
    cts.advance(10)  # ten simulated seconds free the window
    _on_demand(cts, ada)
