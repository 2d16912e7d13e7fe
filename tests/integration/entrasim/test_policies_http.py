"""Wire contract of the cross-tenant access policy endpoints, over HTTP and through the real msgraph-sdk."""

from __future__ import annotations

import httpx
import pytest

from support.sim import CONTOSO, FABRIKAM, app_client

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
SYNC = f"{PARTNERS}/{CONTOSO}/identitySynchronization"
DEFAULT = "/policies/crossTenantAccessPolicy/default"
READER_APP = "6b2d8f1e-3a7c-4e9b-8d5f-0c1a2b3e4f58"


@pytest.fixture
def target(graph_http) -> httpx.Client:
    """Fabrikam (the target) with a partner configuration for Contoso (the source)."""
    graph = graph_http("fabrikam")
    assert graph.post(PARTNERS, json={"tenantId": CONTOSO}).status_code == 201
    return graph


def _error(reply: httpx.Response, status: int) -> dict:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]


def test_create_partner_answers_the_documented_fresh_partner(graph_http):
    reply = graph_http("fabrikam").post(PARTNERS, json={"tenantId": CONTOSO})
    assert reply.status_code == 201
    assert reply.json() == {
        "@odata.context": reply.json()["@odata.context"],
        "tenantId": CONTOSO,
        "isServiceProvider": None,
        "inboundTrust": None,
        "b2bCollaborationOutbound": None,
        "b2bCollaborationInbound": None,
        "b2bDirectConnectOutbound": None,
        "b2bDirectConnectInbound": None,
        "tenantRestrictions": None,
        "crossCloudMeetingConfiguration": {"inboundAllowed": None, "outboundAllowed": None},
        "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None},
    }
    assert reply.json()["@odata.context"].endswith("/v1.0/$metadata#policies/crossTenantAccessPolicy/partners/$entity")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"tenantId": CONTOSO}, 409, "Request_MultipleObjectsWithSameKeyValue", id="duplicate"),
        pytest.param({"tenantId": "contoso"}, 400, "Request_BadRequest", id="not-a-guid"),
        pytest.param({"tenantId": FABRIKAM}, 400, "Request_BadRequest", id="own-tenant"),
        pytest.param({"tenantId": CONTOSO.replace("5", "6"), "x": 1}, 400, "Request_BadRequest", id="unknown"),
    ],
)
def test_create_partner_errors(target, body, status, code):
    assert _error(target.post(PARTNERS, json=body), status)["code"] == code


def test_malformed_json_is_400(target):
    reply = target.post(PARTNERS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert _error(reply, 400)["code"] == "Request_BadRequest"


def test_list_partners_with_select_and_expand(target):
    target.put(SYNC, json={"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}})
    reply = target.get(PARTNERS, params={"$select": "tenantId", "$expand": "identitySynchronization"})
    assert reply.status_code == 200
    assert reply.json()["value"] == [
        {
            "tenantId": CONTOSO,
            "identitySynchronization": {
                "tenantId": CONTOSO,
                "displayName": "Contoso",
                "userSyncInbound": {"isSyncAllowed": True},
            },
        }
    ]
    plain = target.get(PARTNERS).json()["value"][0]
    assert "identitySynchronization" not in plain and "automaticUserConsentSettings" in plain


def test_unknown_expand_is_400(target):
    assert target.get(PARTNERS, params={"$expand": "owners"}).status_code == 400


def test_get_patch_partner(target):
    partner = f"{PARTNERS}/{CONTOSO}"
    patch = {"inboundTrust": None, "automaticUserConsentSettings": {"inboundAllowed": True}}
    reply = target.patch(partner, json=patch)
    assert reply.status_code == 204 and reply.content == b""
    got = target.get(partner)
    assert got.status_code == 200
    assert got.json()["automaticUserConsentSettings"] == {"inboundAllowed": True, "outboundAllowed": None}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"automaticUserConsentSettings": {"inboundAllowed": "yes"}}, id="wrong-type"),
        pytest.param({"b2BDirectConnectInbound": {}}, id="unknown-property"),
        pytest.param([], id="not-an-object"),
    ],
)
def test_patch_partner_errors(target, body):
    error = _error(target.patch(f"{PARTNERS}/{CONTOSO}", json=body), 400)
    assert error["code"] == "Request_BadRequest"


def test_unknown_partner_is_404(target):
    missing = f"{PARTNERS}/{FABRIKAM}"
    for reply in (target.get(missing), target.patch(missing, json={}), target.delete(missing)):
        assert _error(reply, 404)["code"] == "Request_ResourceNotFound"


def test_identity_synchronization_lifecycle(target):
    body = {"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}
    patch_missing = _error(target.patch(SYNC, json=body), 404)
    assert patch_missing["code"] == "Directory_ObjectNotFound"
    assert patch_missing["message"] == "Unable to read the company information from the directory."
    assert target.put(SYNC, json=body).status_code == 204
    conflict = _error(target.put(SYNC, json=body), 409)
    assert conflict["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert conflict["details"][0]["code"] == "ConflictingObjects"
    assert target.patch(SYNC, json={"userSyncInbound": {"isSyncAllowed": False}}).status_code == 204
    got = target.get(SYNC).json()
    assert got["userSyncInbound"] == {"isSyncAllowed": False} and got["displayName"] == "Contoso"
    assert got["@odata.context"].endswith(f"partners('{CONTOSO}')/identitySynchronization/$entity")
    assert target.delete(SYNC).status_code == 204
    assert _error(target.get(SYNC), 404)["code"] == "Directory_ObjectNotFound"


def test_partner_delete_is_refused_while_identity_sync_exists(target):
    target.put(SYNC, json={"userSyncInbound": {"isSyncAllowed": True}})
    assert _error(target.delete(f"{PARTNERS}/{CONTOSO}"), 400)["code"] == "Request_BadRequest"
    target.delete(SYNC)
    assert target.delete(f"{PARTNERS}/{CONTOSO}").status_code == 204
    assert target.get(PARTNERS).json()["value"] == []


def test_default_policy(graph_http):
    graph = graph_http("contoso")
    default = graph.get(DEFAULT).json()
    assert default["isServiceDefault"] is True
    assert default["automaticUserConsentSettings"] == {"inboundAllowed": False, "outboundAllowed": False}
    assert default["b2bDirectConnectInbound"]["usersAndGroups"]["accessType"] == "blocked"
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": True,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    assert graph.patch(DEFAULT, json={"inboundTrust": trust}).status_code == 204
    assert graph.get(DEFAULT).json()["isServiceDefault"] is False
    patch = {"automaticUserConsentSettings": {"inboundAllowed": True}}
    assert _error(graph.patch(DEFAULT, json=patch), 400)["code"] == "Request_BadRequest"
    assert graph.post(f"{DEFAULT}/resetToSystemDefault").status_code == 204
    assert graph.get(DEFAULT).json() == default


def test_policy_read_all_reads_but_cannot_write(sim):
    with app_client(sim, "fabrikam", READER_APP, {"Policy.Read.All"}) as reader:
        assert reader.get(PARTNERS).status_code == 200
        assert reader.get(DEFAULT).status_code == 200
        denied = reader.post(PARTNERS, json={"tenantId": CONTOSO})
        assert _error(denied, 403)["code"] == "Authorization_RequestDenied"
        assert reader.patch(DEFAULT, json={}).status_code == 403


async def test_target_side_setup_through_the_msgraph_sdk(sdk_client, sim):
    from msgraph.generated.models.cross_tenant_access_policy_configuration_partner import (
        CrossTenantAccessPolicyConfigurationPartner,
    )
    from msgraph.generated.models.cross_tenant_identity_sync_policy_partner import (
        CrossTenantIdentitySyncPolicyPartner,
    )
    from msgraph.generated.models.cross_tenant_user_sync_inbound import CrossTenantUserSyncInbound
    from msgraph.generated.models.inbound_outbound_policy_configuration import (
        InboundOutboundPolicyConfiguration,
    )
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    client = sdk_client("fabrikam")
    partners = client.policies.cross_tenant_access_policy.partners
    created = await partners.post(CrossTenantAccessPolicyConfigurationPartner(tenant_id=CONTOSO))
    assert created.tenant_id == CONTOSO
    assert created.automatic_user_consent_settings.inbound_allowed is None

    p = partners.by_cross_tenant_access_policy_configuration_partner_tenant_id(CONTOSO)
    sync = CrossTenantIdentitySyncPolicyPartner(
        display_name="Contoso", user_sync_inbound=CrossTenantUserSyncInbound(is_sync_allowed=True)
    )
    assert await p.identity_synchronization.put(sync) is None
    with pytest.raises(ODataError) as conflict:
        await p.identity_synchronization.put(sync)
    assert conflict.value.response_status_code == 409
    assert conflict.value.error.code == "Request_MultipleObjectsWithSameKeyValue"

    consent = InboundOutboundPolicyConfiguration(inbound_allowed=True, outbound_allowed=False)
    await p.patch(CrossTenantAccessPolicyConfigurationPartner(automatic_user_consent_settings=consent))
    partner = await p.get()
    assert partner.automatic_user_consent_settings.inbound_allowed is True
    assert partner.automatic_user_consent_settings.outbound_allowed is False
    assert (await p.identity_synchronization.get()).user_sync_inbound.is_sync_allowed is True

    policies = sim.world.tenant(FABRIKAM).policies
    assert sim.call(lambda w: policies.inbound_auto_redemption(CONTOSO) and policies.inbound_sync_allowed(CONTOSO))
