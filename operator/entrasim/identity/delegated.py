"""Delegated sign-in: the device authorization grant and the directory roles a signed-in user holds.

A device flow starts at `/devicecode`, stays `authorization_pending` at the token endpoint until someone
completes it for a user (the control API stands in for the browser sign-in), and then yields a delegated
token: `scp` lists the scopes consented, `wids` the user's directory role template ids. Delegated scopes are
consented by the signing-in user here; what the user may actually do is decided by `wids`."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from . import exceptions as err

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_FLOW_SECONDS = 900
POLL_INTERVAL_SECONDS = 5
GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})

# First-party public clients every tenant knows (device code needs a public client).
KNOWN_PUBLIC_CLIENTS = {
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
}

# Built-in directory roles by name -> role template id (the `wids` claim carries template ids).
DIRECTORY_ROLES = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
}


def role_template_id(name: str) -> str:
    if name not in DIRECTORY_ROLES:
        raise ValueError(f"unknown directory role {name!r}; known: {', '.join(DIRECTORY_ROLES)}")
    return DIRECTORY_ROLES[name]


@dataclass
class DeviceFlow:
    client_id: str
    scopes: tuple[str, ...]  # Graph scope names, without the resource prefix
    user_code: str
    expires_at: float  # simulated clock, seconds
    user_id: str | None = None  # set when completed
    declined: bool = False
    redeemed: bool = False


@dataclass
class DeviceFlows:
    """The device flows of one tenant, by device code; user codes are unique while pending."""

    flows: dict[str, DeviceFlow] = field(default_factory=dict)

    def start(self, client_id: str, scopes: tuple[str, ...], now: float) -> tuple[str, DeviceFlow]:
        device_code = secrets.token_urlsafe(48)
        user_code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
        flow = DeviceFlow(client_id, scopes, user_code, now + DEVICE_FLOW_SECONDS)
        self.flows[device_code] = flow
        return device_code, flow

    def by_user_code(self, user_code: str) -> DeviceFlow | None:
        return next((f for f in self.flows.values() if f.user_code == user_code.upper()), None)

    def redeem(self, device_code: str, client_id: str, now: float) -> DeviceFlow:
        """The completed flow for a token request, or the AADSTS error the poller reads."""
        flow = self.flows.get(device_code)
        if flow is None or flow.client_id.lower() != client_id.lower() or flow.redeemed:
            raise err.BadVerificationCode("The provided value for the input parameter 'device_code' is not valid.")
        if flow.declined:
            raise err.AuthorizationDeclined("The end user denied the authorization request.")
        if now >= flow.expires_at:
            raise err.ExpiredToken("The provided value for the 'device_code' has expired.")
        if flow.user_id is None:
            raise err.AuthorizationPending("The user has not yet completed the sign-in.")
        flow.redeemed = True
        return flow


def graph_scopes(scope_param: str) -> tuple[str, ...]:
    """The Graph permission names of a delegated scope request; `.default` means none beyond sign-in.
    Other resources are refused: this login host serves Graph only."""
    names = []
    for item in scope_param.split():
        if item in OIDC_SCOPES:
            continue
        if item.lower().startswith(GRAPH_RESOURCE):
            item = item[len(GRAPH_RESOURCE) :]
        elif "://" in item:
            raise err.InvalidScope(f"The scope '{item}' is not a Microsoft Graph scope.")
        if item != ".default":
            names.append(item)
    return tuple(dict.fromkeys(names))
