"""The whole CTS sequence through the real msgraph-sdk: partner policies in both tenants, the configuration
app, test connection, job, secrets, assignment and start; then provisioning cycles on the simulated clock
create, update, disable, soft-delete and restore users in the target, with matching job status and
provisioning logs, and the accidental-deletion threshold's quarantine and ForceDeletes release."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from support.sim import CONTOSO, FABRIKAM

CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
CYCLE = 40 * 60
NAMES = ("ada", "bob", "cy")


def _people(world: Any) -> dict[str, Any]:
    directory = world.tenant(CONTOSO).directory
    users = {
        n: directory.create_user(
            {
                "userPrincipalName": f"{n}@contoso.onmicrosoft.com",
                "displayName": n.title(),
                "accountEnabled": True,
                "department": "Sales",
            }
        )
        for n in NAMES
    }
    group = directory.create_group(
        {"displayName": "CTS", "mailEnabled": False, "mailNickname": "cts", "securityEnabled": True}
    )
    for user in users.values():
        directory.add_member(group["id"], user["id"])
    return {"users": {n: u["id"] for n, u in users.items()}, "group": group["id"]}


def _advance(sim: Any, seconds: float) -> None:
    sim.call(lambda w: (w.clock.advance(seconds), w.tick()))


def _target_user(sim: Any, name: str) -> dict[str, Any] | None:
    upn = f"{name}_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"

    def find(world: Any) -> dict[str, Any] | None:
        directory = world.tenant(FABRIKAM).directory
        found = next(
            (u for u in [*directory.users.values(), *directory.deleted.values()] if u["userPrincipalName"] == upn),
            None,
        )
        return dict(found) if found else None

    return sim.call(find)


def _source(sim: Any, change: Any) -> None:
    sim.call(lambda w: change(w.tenant(CONTOSO).directory))


async def _allow_sync(sdk_client: Any) -> None:
    """Steps 1-5: the target's partner, inbound sync and inbound redemption; the source's outbound."""
    from msgraph.generated.models.cross_tenant_access_policy_configuration_partner import (
        CrossTenantAccessPolicyConfigurationPartner as Partner,
    )
    from msgraph.generated.models.cross_tenant_identity_sync_policy_partner import (
        CrossTenantIdentitySyncPolicyPartner,
    )
    from msgraph.generated.models.cross_tenant_user_sync_inbound import CrossTenantUserSyncInbound
    from msgraph.generated.models.inbound_outbound_policy_configuration import (
        InboundOutboundPolicyConfiguration as Consent,
    )

    target = sdk_client("fabrikam").policies.cross_tenant_access_policy.partners
    await target.post(Partner(tenant_id=CONTOSO))
    partner = target.by_cross_tenant_access_policy_configuration_partner_tenant_id(CONTOSO)
    await partner.identity_synchronization.put(
        CrossTenantIdentitySyncPolicyPartner(
            display_name="Contoso", user_sync_inbound=CrossTenantUserSyncInbound(is_sync_allowed=True)
        )
    )
    await partner.patch(Partner(automatic_user_consent_settings=Consent(inbound_allowed=True)))
    source = sdk_client("contoso").policies.cross_tenant_access_policy.partners
    await source.post(Partner(tenant_id=FABRIKAM))
    await source.by_cross_tenant_access_policy_configuration_partner_tenant_id(FABRIKAM).patch(
        Partner(automatic_user_consent_settings=Consent(outbound_allowed=True))
    )


def _secret(key: str, value: str) -> Any:
    from msgraph.generated.models.synchronization_secret import SynchronizationSecret
    from msgraph.generated.models.synchronization_secret_key_string_value_pair import (
        SynchronizationSecretKeyStringValuePair,
    )

    return SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret(key), value=value)


async def _configure(sdk_client: Any, people: dict[str, Any], *, threshold: int | None = None) -> tuple[Any, str]:
    """Steps 6-12 in the source: instantiate, test connection, job, secrets, assignment, start."""
    from msgraph.generated.application_templates.item.instantiate.instantiate_post_request_body import (
        InstantiatePostRequestBody,
    )
    from msgraph.generated.models.app_role_assignment import AppRoleAssignment
    from msgraph.generated.models.synchronization_job import SynchronizationJob
    from msgraph.generated.service_principals.item.synchronization.jobs.validate_credentials import (
        validate_credentials_post_request_body as validate,
    )
    from msgraph.generated.service_principals.item.synchronization.secrets.secrets_put_request_body import (
        SecretsPutRequestBody,
    )

    client = sdk_client("contoso")
    template = client.application_templates.by_application_template_id(CTS_TEMPLATE)
    sp = (await template.instantiate.post(InstantiatePostRequestBody(display_name="Fabrikam"))).service_principal
    sync = client.service_principals.by_service_principal_id(sp.id).synchronization
    await sync.jobs.validate_credentials.post(
        validate.ValidateCredentialsPostRequestBody(
            use_saved_credentials=False,
            template_id="Azure2Azure",
            credentials=[_secret("CompanyId", FABRIKAM), _secret("AuthenticationType", "SyncPolicy")],
        )
    )
    job = await sync.jobs.post(SynchronizationJob(template_id="Azure2Azure"))
    assert (job.schedule.state, job.status.code) == ("Disabled", "Paused")
    settings = (
        '{"Enabled":false,"DeleteThresholdEnabled":false}'
        if threshold is None
        else f'{{"Enabled":false,"DeleteThresholdEnabled":true,"DeleteThresholdValue":{threshold}}}'
    )
    await sync.secrets.put(
        SecretsPutRequestBody(
            value=[
                _secret("AuthenticationType", "SyncPolicy"),
                _secret("CompanyId", FABRIKAM),
                _secret("SyncNotificationSettings", settings),
                _secret("SyncAll", "false"),
            ]
        )
    )
    await client.service_principals.by_service_principal_id(sp.id).app_role_assigned_to.post(
        AppRoleAssignment(
            principal_id=uuid.UUID(people["group"]),
            resource_id=uuid.UUID(sp.id),
            app_role_id=sp.app_roles[0].id,
        )
    )
    jobs = sync.jobs.by_synchronization_job_id(job.id)
    await jobs.start.post()
    return jobs, sp.id


async def test_cts_end_to_end_through_the_sdk(sim: Any, sdk_client: Any) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.audit_logs.provisioning.provisioning_request_builder import (
        ProvisioningRequestBuilder,
    )

    people = sim.call(_people)
    await _allow_sync(sdk_client)
    job, sp_id = await _configure(sdk_client, people)
    started = await job.get()
    assert (started.schedule.state, started.status.code) == ("Active", "NotRun")

    _advance(sim, 60)  # the initial cycle: three creations, 2.4 simulated seconds each
    ada = _target_user(sim, "ada")
    assert ada is not None
    assert (ada["userType"], ada["creationType"], ada["externalUserState"], ada["showInAddressList"]) == (
        "Member",
        "Invitation",
        "Accepted",
        True,
    )
    status = (await job.get()).status
    assert status.code == "Active"
    assert status.last_execution.count_exported == 3
    assert [(e.key, e.value) for e in status.synchronized_entry_count_by_type] == [("User", 3)]

    _source(sim, lambda d: d.update_user(people["users"]["ada"], {"department": "Engineering"}))
    _source(sim, lambda d: d.update_user(people["users"]["bob"], {"accountEnabled": False}))
    _advance(sim, CYCLE)
    assert _target_user(sim, "ada")["department"] == "Engineering"  # type: ignore[index]
    bob = _target_user(sim, "bob")
    assert bob is not None and bob["accountEnabled"] is False and bob["deletedDateTime"] is None

    _source(sim, lambda d: d.remove_member(people["group"], people["users"]["cy"]))
    _advance(sim, CYCLE)
    cy = _target_user(sim, "cy")
    assert cy is not None and cy["deletedDateTime"] is not None  # soft-deleted
    _source(sim, lambda d: d.add_member(people["group"], people["users"]["cy"]))
    _advance(sim, CYCLE)
    restored = _target_user(sim, "cy")
    assert restored is not None and restored["id"] == cy["id"] and restored["deletedDateTime"] is None

    query = ProvisioningRequestBuilder.ProvisioningRequestBuilderGetQueryParameters(
        filter=f"servicePrincipal/id eq '{sp_id}'", orderby=["activityDateTime asc"], top=500
    )
    logs = await sdk_client("contoso").audit_logs.provisioning.get(RequestConfiguration(query_parameters=query))
    actions = [(e.provisioning_action.value, e.source_identity.display_name) for e in logs.value]
    assert actions == [
        ("create", "Ada"),
        ("create", "Bob"),
        ("create", "Cy"),
        ("update", "Ada"),
        ("disable", "Bob"),
        ("delete", "Cy"),
        ("update", "Cy"),
    ]
    assert {e.provisioning_status_info.status.value for e in logs.value} == {"success"}
    job_id = (await job.get()).id
    assert all(e.job_id == job_id for e in logs.value)


async def test_deletion_threshold_quarantine_and_force_deletes_through_the_sdk(sim: Any, sdk_client: Any) -> None:
    from msgraph.generated.models.synchronization_job_restart_criteria import (
        SynchronizationJobRestartCriteria,
    )
    from msgraph.generated.models.synchronization_job_restart_scope import SynchronizationJobRestartScope
    from msgraph.generated.service_principals.item.synchronization.jobs.item.restart import (
        restart_post_request_body as restart,
    )

    people = sim.call(_people)
    await _allow_sync(sdk_client)
    job, _ = await _configure(sdk_client, people, threshold=2)
    _advance(sim, 60)
    for name in NAMES:
        _source(sim, lambda d, n=name: d.remove_member(people["group"], people["users"][n]))
    _advance(sim, CYCLE)
    status = (await job.get()).status
    assert status.code.value == "Quarantine"
    assert status.quarantine.reason.value == "TooManyDeletes"
    assert all(_target_user(sim, n)["deletedDateTime"] is None for n in NAMES)  # type: ignore[index]

    await job.restart.post(
        restart.RestartPostRequestBody(
            criteria=SynchronizationJobRestartCriteria(reset_scope=SynchronizationJobRestartScope.ForceDeletes)
        )
    )
    _advance(sim, 60)
    assert all(_target_user(sim, n)["deletedDateTime"] is not None for n in NAMES)  # type: ignore[index]
    status = (await job.get()).status
    assert (status.code.value, status.quarantine) == ("Active", None)


async def test_schema_put_through_the_request_adapter_and_patch_refused(sim: Any, sdk_client: Any) -> None:
    from kiota_abstractions.method import Method
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    people = sim.call(_people)
    await _allow_sync(sdk_client)
    job, _ = await _configure(sdk_client, people)
    schema = await job.schema.get()
    rule = schema.synchronization_rules[0]
    assert rule.name == "USER_INBOUND_USER"
    with pytest.raises(ODataError) as refused:
        await job.schema.patch(schema)  # what the SDK offers; the service answers 404
    assert refused.value.response_status_code == 404
    request = job.schema.to_patch_request_information(schema)
    request.http_method = Method.PUT
    client = sdk_client("contoso")
    await client.request_adapter.send_no_response_content_async(request, {"XXX": ODataError})
    assert (await job.schema.get()).synchronization_rules[0].id == rule.id
