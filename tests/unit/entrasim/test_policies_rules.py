"""Rules of the cross-tenant access policy backend: partners, identity synchronization, the default."""

from __future__ import annotations

import pytest

from entrasim.core.errors import BadRequest, Conflict, ObjectNotFound, ResourceNotFound
from entrasim.policies.models import PoliciesBackend, system_default
from entrasim.world import World

HOME = "11111111-1111-4111-8111-111111111111"
PARTNER = "22222222-2222-4222-8222-222222222222"
FRESH_PARTNER_KEYS = [
    "tenantId", "isServiceProvider", "inboundTrust", "b2bCollaborationOutbound", "b2bCollaborationInbound",
    "b2bDirectConnectOutbound", "b2bDirectConnectInbound", "tenantRestrictions",
    "crossCloudMeetingConfiguration", "automaticUserConsentSettings",
]  # fmt: skip


@pytest.fixture
def policies() -> PoliciesBackend:
    return World().add_tenant(HOME, "home.onmicrosoft.com", "Home").policies


@pytest.fixture
def with_partner(policies: PoliciesBackend) -> PoliciesBackend:
    policies.create_partner({"tenantId": PARTNER})
    return policies


def test_fresh_partner_has_the_documented_shape(policies):
    partner = policies.create_partner({"tenantId": PARTNER.upper()})
    assert list(partner) == FRESH_PARTNER_KEYS
    assert partner["tenantId"] == PARTNER
    assert partner["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": None}
    assert partner["crossCloudMeetingConfiguration"] == {"inboundAllowed": None, "outboundAllowed": None}
    assert all(partner[k] is None for k in FRESH_PARTNER_KEYS[1:8])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({}, "Request_BadRequest", id="no-tenant-id"),
        pytest.param({"tenantId": "not-a-guid"}, "Request_BadRequest", id="not-a-guid"),
        pytest.param({"tenantId": HOME}, "Request_BadRequest", id="own-tenant"),
        pytest.param({"tenantId": PARTNER, "bogus": 1}, "Request_BadRequest", id="unknown-property"),
        pytest.param({"tenantId": PARTNER, "isServiceProvider": "yes"}, "Request_BadRequest", id="wrong-type"),
    ],
)
def test_create_partner_refuses_bad_bodies(policies, body, code):
    with pytest.raises(BadRequest) as caught:
        policies.create_partner(body)
    assert caught.value.code == code
    assert policies.list_partners() == []


def test_duplicate_partner_is_409_with_same_key_value(with_partner):
    with pytest.raises(Conflict) as caught:
        with_partner.create_partner({"tenantId": PARTNER})
    assert caught.value.code == "Request_MultipleObjectsWithSameKeyValue"
    assert caught.value.status == 409
    assert "tenantId" in caught.value.message


def test_unknown_property_message_names_it_the_way_graph_does(with_partner):
    with pytest.raises(BadRequest, match=r"^Invalid property 'b2BDirectConnectInbound'\.$"):
        with_partner.update_partner(PARTNER, {"b2BDirectConnectInbound": {}})


def test_patch_replaces_a_nested_object_as_a_whole(with_partner):
    with_partner.update_partner(PARTNER, {"automaticUserConsentSettings": {"inboundAllowed": True}})
    with_partner.update_partner(PARTNER, {"automaticUserConsentSettings": {"outboundAllowed": True}})
    assert with_partner.partner(PARTNER)["automaticUserConsentSettings"] == {
        "inboundAllowed": None,
        "outboundAllowed": True,
    }
    assert not with_partner.inbound_auto_redemption(PARTNER)
    assert with_partner.outbound_auto_redemption(PARTNER)


def test_patch_leaves_properties_it_does_not_name(with_partner):
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": True,
    }
    with_partner.update_partner(PARTNER, {"inboundTrust": trust})
    with_partner.update_partner(PARTNER, {"isServiceProvider": True})
    partner = with_partner.partner(PARTNER)
    assert partner["inboundTrust"] == trust
    assert partner["isServiceProvider"] is True


def test_explicit_null_resets_to_inherit(with_partner):
    with_partner.update_partner(
        PARTNER,
        {
            "inboundTrust": {"isMfaAccepted": True},
            "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
        },
    )
    with_partner.update_partner(PARTNER, {"inboundTrust": None, "automaticUserConsentSettings": None})
    partner = with_partner.partner(PARTNER)
    assert partner["inboundTrust"] is None
    assert partner["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": None}
    assert not with_partner.inbound_auto_redemption(PARTNER)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"automaticUserConsentSettings": {"inboundAllowed": "true"}}, id="string-for-bool"),
        pytest.param({"automaticUserConsentSettings": True}, id="scalar-for-object"),
        pytest.param({"automaticUserConsentSettings": {"sideways": True}}, id="unknown-nested"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "maybe"}}}, id="bad-enum"),
        pytest.param({"b2bCollaborationInbound": {"usersAndGroups": {"targets": "AllUsers"}}}, id="not-a-list"),
        pytest.param({"tenantId": "33333333-3333-4333-8333-333333333333"}, id="other-tenant-id"),
        pytest.param({"isInMultiTenantOrganization": True}, id="read-only"),
    ],
)
def test_patch_partner_validates_types(with_partner, body):
    before = dict(with_partner.partner(PARTNER))
    with pytest.raises(BadRequest):
        with_partner.update_partner(PARTNER, body)
    assert with_partner.partner(PARTNER) == before


def test_b2b_settings_are_stored_with_every_declared_property(with_partner):
    with_partner.update_partner(
        PARTNER,
        {
            "b2bDirectConnectInbound": {
                "usersAndGroups": {
                    "accessType": "allowed",
                    "targets": [{"target": "AllUsers", "targetType": "user"}],
                },
                "@odata.type": "#microsoft.graph.crossTenantAccessPolicyB2BSetting",
            }
        },
    )
    setting = with_partner.partner(PARTNER)["b2bDirectConnectInbound"]
    assert setting == {
        "usersAndGroups": {
            "accessType": "allowed",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": None,
    }


def test_unknown_partner_is_404(policies):
    for call in (
        lambda: policies.get_partner(PARTNER),
        lambda: policies.update_partner(PARTNER, {}),
        lambda: policies.delete_partner(PARTNER),
        lambda: policies.create_identity_sync(PARTNER, {}),
    ):
        with pytest.raises(ResourceNotFound):
            call()


def test_identity_sync_put_creates_once(with_partner):
    policy = with_partner.create_identity_sync(
        PARTNER, {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    )
    assert policy == {
        "tenantId": PARTNER,
        "displayName": "Fabrikam",
        "userSyncInbound": {"isSyncAllowed": True},
    }
    assert with_partner.inbound_sync_allowed(PARTNER)
    with pytest.raises(Conflict) as caught:
        with_partner.create_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": False}})
    assert caught.value.code == "Request_MultipleObjectsWithSameKeyValue"
    assert caught.value.details == [{"code": "ConflictingObjects", "message": caught.value.message}]
    assert with_partner.inbound_sync_allowed(PARTNER)


def test_identity_sync_patch_and_delete_need_an_existing_policy(with_partner):
    for call in (
        lambda: with_partner.update_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": True}}),
        lambda: with_partner.get_identity_sync(PARTNER),
        lambda: with_partner.delete_identity_sync(PARTNER),
    ):
        with pytest.raises(ObjectNotFound) as caught:
            call()
        assert caught.value.code == "Directory_ObjectNotFound"
        assert caught.value.message == "Unable to read the company information from the directory."


def test_identity_sync_patch_turns_sync_off(with_partner):
    with_partner.create_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": True}})
    with_partner.update_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": False}})
    assert not with_partner.inbound_sync_allowed(PARTNER)
    assert with_partner.identity_sync(PARTNER)["displayName"] is None


def test_identity_sync_refuses_unknown_properties_and_wrong_types(with_partner):
    with pytest.raises(BadRequest):
        with_partner.create_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": "yes"}})
    with pytest.raises(BadRequest):
        with_partner.create_identity_sync(PARTNER, {"userSyncOutbound": {}})
    assert with_partner.identity_sync(PARTNER) is None


def test_partner_cannot_be_deleted_while_it_has_an_identity_sync_policy(with_partner):
    with_partner.create_identity_sync(PARTNER, {"userSyncInbound": {"isSyncAllowed": True}})
    with pytest.raises(BadRequest) as caught:
        with_partner.delete_partner(PARTNER)
    assert caught.value.status == 400
    assert with_partner.partner(PARTNER) is not None
    with_partner.delete_identity_sync(PARTNER)
    with_partner.delete_partner(PARTNER)
    assert with_partner.partner(PARTNER) is None


def test_engine_queries_answer_false_for_unknown_partners(policies):
    assert policies.partner(PARTNER) is None
    assert policies.identity_sync(PARTNER) is None
    assert not policies.inbound_auto_redemption(PARTNER)
    assert not policies.outbound_auto_redemption(PARTNER)
    assert not policies.inbound_sync_allowed(PARTNER)


def test_default_is_the_system_default_until_patched_and_after_reset(policies):
    assert policies.default == system_default()
    assert policies.default["automaticUserConsentSettings"] == {
        "inboundAllowed": False,
        "outboundAllowed": False,
    }
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    policies.update_default({"inboundTrust": trust})
    assert policies.default["isServiceDefault"] is False
    assert policies.default["inboundTrust"] == trust
    policies.reset_default()
    assert policies.default == system_default()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"automaticUserConsentSettings": {"inboundAllowed": True}}, id="consent-is-read-only"),
        pytest.param({"isServiceDefault": False}, id="is-service-default-is-read-only"),
        pytest.param({"inboundTrust": None}, id="null"),
        pytest.param({"isServiceProvider": True}, id="not-on-default"),
    ],
)
def test_default_patch_refuses(policies, body):
    with pytest.raises(BadRequest):
        policies.update_default(body)
    assert policies.default == system_default()


def test_default_patch_accepts_false_consent_settings(policies):
    policies.update_default({"automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False}})
    assert policies.default["automaticUserConsentSettings"] == {
        "inboundAllowed": False,
        "outboundAllowed": False,
    }
