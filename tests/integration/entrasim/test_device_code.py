"""The device authorization grant, driven by azure-identity's DeviceCodeCredential: pending until the user
completes the sign-in (through the control API), then a delegated token with the user's scopes and roles."""

from __future__ import annotations

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import DeviceCodeCredential

from entrasim.identity.delegated import DIRECTORY_ROLES
from support.sim import CONTOSO, ca_context

GRAPH_CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
ADMIN = "admin@contoso.onmicrosoft.com"
SCOPES = ("https://graph.microsoft.com/Application.ReadWrite.All",)


@pytest.fixture
def admin(sim):
    def add(world):
        tenant = world.tenant(CONTOSO)
        user = tenant.directory.create_user(
            {"userPrincipalName": ADMIN, "displayName": "Admin", "accountEnabled": True}
        )
        tenant.identity.directory_roles[user["id"]] = {DIRECTORY_ROLES["Global Administrator"]}
        return user["id"]

    return sim.call(add)


def device_credential(sim, on_prompt) -> DeviceCodeCredential:
    return DeviceCodeCredential(
        client_id=GRAPH_CLI,
        tenant_id=CONTOSO,
        authority=sim.base_url,
        connection_verify=str(sim.ca_path),
        disable_instance_discovery=True,
        prompt_callback=lambda uri, user_code, expires_on: on_prompt(uri, user_code),
        timeout=30,
    )


def test_completed_device_flow_yields_a_delegated_token_with_scopes_and_roles(sim, control, admin):
    prompts = []

    def complete(uri, user_code):
        prompts.append(uri)
        control.post(f"/device-codes/{user_code}/complete", json={"user": ADMIN}).raise_for_status()

    token = device_credential(sim, complete).get_token(*SCOPES)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert prompts == [f"{sim.base_url}/devicelogin"]
    assert claims["idtyp"] == "user" and claims["oid"] == admin and claims["upn"] == ADMIN
    assert claims["scp"] == "Application.ReadWrite.All"
    assert claims["wids"] == [DIRECTORY_ROLES["Global Administrator"]]
    with httpx.Client(verify=ca_context(sim), headers={"Authorization": f"Bearer {token.token}"}) as graph:
        assert graph.get(f"{sim.base_url}/v1.0/applications").status_code == 200
        assert graph.get(f"{sim.base_url}/v1.0/users").status_code == 403  # User.Read.All was not consented


def test_polling_is_pending_until_completed_then_the_code_is_spent(sim, control, admin):
    token_url = f"{sim.base_url}/{CONTOSO}/oauth2/v2.0/token"
    with httpx.Client(verify=ca_context(sim)) as http:
        flow = http.post(
            f"{sim.base_url}/{CONTOSO}/oauth2/v2.0/devicecode", data={"client_id": GRAPH_CLI, "scope": SCOPES[0]}
        ).json()
        assert flow["interval"] == 5 and flow["expires_in"] == 900 and "verification_uri_complete" not in flow
        poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": GRAPH_CLI}
        poll["device_code"] = flow["device_code"]
        pending = http.post(token_url, data=poll)
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        control.post(f"/device-codes/{flow['user_code']}/complete", json={"user": ADMIN}).raise_for_status()
        assert http.post(token_url, data=poll).status_code == 200
        assert http.post(token_url, data=poll).json()["error"] == "bad_verification_code"


def test_declined_and_expired_flows_stop_the_poller(sim, control, admin):
    def decline(uri, user_code):
        control.post(f"/device-codes/{user_code}/complete", json={"user": ADMIN, "decline": True})

    with pytest.raises(ClientAuthenticationError, match=r"authorization_declined|denied"):
        device_credential(sim, decline).get_token(*SCOPES)

    def let_expire(uri, user_code):
        control.post("/clock/advance", json={"seconds": 901}).raise_for_status()

    with pytest.raises(ClientAuthenticationError, match="expired"):
        device_credential(sim, let_expire).get_token(*SCOPES)


def test_confidential_app_cannot_start_a_device_flow(sim):
    with httpx.Client(verify=ca_context(sim)) as http:
        reply = http.post(
            f"{sim.base_url}/{CONTOSO}/oauth2/v2.0/devicecode",
            data={"client_id": "0b7e3c1a-5d2f-4a8e-9c6b-1e4f7a2d3b58", "scope": SCOPES[0]},
        )
    assert reply.status_code == 401 and "AADSTS7000218" in reply.json()["error_description"]


def test_control_api_names_an_unknown_user_code(control, admin):
    reply = control.post("/device-codes/NOPE12345/complete", json={"user": ADMIN})
    assert reply.status_code == 404
