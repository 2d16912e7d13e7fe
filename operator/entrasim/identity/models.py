"""App registrations of a tenant and the rules for issuing client-credentials tokens.

Three client credentials are accepted, as Entra does: a client secret, a certificate assertion
(a JWT signed with the registered certificate's key, in the RS256/x5t form MSAL sends and the
PS256/x5t#S256 form azure-identity's async credential sends), and a federated assertion
(workload identity: an external token whose issuer and subject match a federated credential)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import exceptions as err
from .delegated import KNOWN_PUBLIC_CLIENTS, DeviceFlow, DeviceFlows, graph_scopes

if TYPE_CHECKING:
    from ..world import Tenant

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
CLOCK_SKEW_SECONDS = 300


@dataclass
class FederatedCredential:
    issuer: str
    subject: str
    audiences: tuple[str, ...] = (FEDERATION_AUDIENCE,)


@dataclass
class ClientApp:
    app_id: str
    display_name: str
    roles: set[str] = field(default_factory=set)  # granted application permissions (admin-consented)
    secrets: list[str] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    federated: list[FederatedCredential] = field(default_factory=list)
    public_client: bool = False  # may run the device code flow (isFallbackPublicClient)

    def certificate_for(self, header: dict[str, Any]) -> x509.Certificate | None:
        # Clients differ in the thumbprint encoding (base64url, or padded standard base64): compare normalised.
        x5t, x5t_s256 = _normalise_b64(header.get("x5t")), _normalise_b64(header.get("x5t#S256"))
        for cert in self.certificates:
            der = cert.public_bytes(serialization.Encoding.DER)
            if x5t == _b64url(hashlib.sha1(der).digest()):
                return cert
            if x5t_s256 == _b64url(hashlib.sha256(der).digest()):
                return cert
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "displayName": self.display_name,
            "roles": sorted(self.roles),
            "credentials": {
                "secrets": len(self.secrets),
                "certificates": len(self.certificates),
                "federated": [{"issuer": f.issuer, "subject": f.subject} for f in self.federated],
            },
        }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _normalise_b64(value: object) -> str | None:
    return value.rstrip("=").replace("+", "-").replace("/", "_") if isinstance(value, str) else None


class IdentityBackend:
    """The app registrations (with their granted application permissions) of one tenant."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.apps: dict[str, ClientApp] = {}
        self.device_flows = DeviceFlows()
        self.directory_roles: dict[str, set[str]] = {}  # user id -> directory role template ids

    def register(self, app: ClientApp) -> ClientApp:
        self.apps[app.app_id.lower()] = app
        return app

    def unregister(self, app_id: str) -> None:
        self.apps.pop(app_id.lower(), None)

    def app(self, app_id: str) -> ClientApp | None:
        return self.apps.get(app_id.lower())

    def start_device_flow(self, form: dict[str, str]) -> tuple[str, DeviceFlow]:
        client_id = self._public_client(form)
        return self.device_flows.start(client_id, graph_scopes(form.get("scope", "")), self.tenant.world.clock.now())

    def complete_device_flow(self, user_code: str, user_id: str, *, decline: bool = False) -> DeviceFlow:
        flow = self.device_flows.by_user_code(user_code)
        if flow is None or flow.redeemed:
            raise err.BadVerificationCode(f"No pending device flow has the user code '{user_code}'.")
        flow.declined, flow.user_id = decline, None if decline else user_id
        return flow

    def redeem_device_code(self, form: dict[str, str]) -> DeviceFlow:
        client_id = self._public_client(form)
        device_code = form.get("device_code", "")
        if not device_code:
            raise err.MissingParameter("The request body must contain the following parameter: 'device_code'.")
        return self.device_flows.redeem(device_code, client_id, self.tenant.world.clock.now())

    def _public_client(self, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "")
        if not client_id:
            raise err.MissingParameter("The request body must contain the following parameter: 'client_id'.")
        if client_id.lower() in KNOWN_PUBLIC_CLIENTS:
            return client_id
        app = self.app(client_id)
        if app is None:
            raise err.ApplicationNotFound(
                f"Application with identifier '{client_id}' was not found in the directory '{self.tenant.id}'."
            )
        if not app.public_client:
            raise err.NotPublicClient(
                "The provided request must include a 'client_assertion' or 'client_secret' input parameter."
            )
        return client_id

    def authenticate(self, form: dict[str, str], token_url_path: str) -> ClientApp:
        """Checks a client-credentials request and returns the authenticated app."""
        if form.get("grant_type") != "client_credentials":
            raise err.UnsupportedGrantType(
                f"The provided value for the input parameter 'grant_type' is not valid: {form.get('grant_type')!r}."
            )
        client_id = form.get("client_id", "")
        if not client_id:
            raise err.MissingParameter("The request body must contain the following parameter: 'client_id'.")
        if form.get("scope") != GRAPH_SCOPE:
            raise err.InvalidScope(
                f"The provided value '{form.get('scope')}' for the input parameter 'scope' is "
                f"not valid. Only {GRAPH_SCOPE} is served here."
            )
        app = self.apps.get(client_id.lower())
        if app is None:
            raise err.ApplicationNotFound(
                f"Application with identifier '{client_id}' was not found in the directory '{self.tenant.id}'."
            )
        if "client_secret" in form:
            if form["client_secret"] not in app.secrets:
                raise err.InvalidClientSecret(f"Invalid client secret provided for app '{client_id}'.")
            return app
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise err.MissingParameter(
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
            )
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise err.InvalidAssertionSignature("The client assertion is not a valid JWT.") from None
        if "x5t" in header or "x5t#S256" in header:
            self._verify_certificate_assertion(app, header, assertion, token_url_path)
        else:
            self._verify_federated_assertion(app, assertion)
        return app

    def _verify_certificate_assertion(
        self, app: ClientApp, header: dict[str, Any], assertion: str, token_url_path: str
    ) -> None:
        cert = app.certificate_for(header)
        if cert is None:
            raise err.CertificateNotRegistered(
                f"Client assertion contains an invalid signature. [Reason - The key was not found., "
                f"Thumbprint of key used by client: '{header.get('x5t') or header.get('x5t#S256')}']"
            )
        if header.get("alg") not in ("RS256", "PS256"):
            raise err.InvalidAssertionSignature(f"Client assertion algorithm '{header.get('alg')}' is not supported.")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):  # RS256 and PS256 need an RSA certificate
            raise err.InvalidAssertionSignature("Client assertion certificate does not hold an RSA key.")
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "PS256"],
                options={"verify_aud": False},
                leeway=CLOCK_SKEW_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise err.AssertionExpired("Client assertion is not within its valid time range.") from None
        except jwt.InvalidTokenError as exc:
            raise err.InvalidAssertionSignature(f"Client assertion contains an invalid signature. ({exc})") from None
        if claims.get("iss") != app.app_id or claims.get("sub") != app.app_id:
            raise err.InvalidAssertionSignature("Client assertion 'iss' and 'sub' must be the client id.")
        aud = claims.get("aud")
        if not isinstance(aud, str) or not aud.rstrip("/").endswith(token_url_path.rstrip("/")):
            raise err.InvalidAssertionAudience(f"The audience claim '{aud}' does not match the token endpoint.")

    def _verify_federated_assertion(self, app: ClientApp, assertion: str) -> None:
        # The external issuer's keys are not reachable from here: the signature is not checked,
        # the issuer/subject/audience match against the federated credential is.
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False, "verify_exp": False})
        except jwt.InvalidTokenError:
            raise err.InvalidAssertionSignature("The federated assertion is not a valid JWT.") from None
        if claims.get("exp") is not None and claims["exp"] + CLOCK_SKEW_SECONDS < time.time():
            raise err.AssertionExpired("The federated assertion has expired.")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        for cred in app.federated:
            if (
                cred.issuer == claims.get("iss")
                and cred.subject == claims.get("sub")
                and set(cred.audiences) & set(audiences)
            ):
                return
        raise err.NoMatchingFederatedIdentity(
            f"No matching federated identity record found for presented assertion issuer '{claims.get('iss')}' "
            f"and subject '{claims.get('sub')}'."
        )


class TokenIssuer:
    """Signs access tokens for every tenant of the world with one RSA key (published on jwks_uri)."""

    def __init__(self, *, lifetime_seconds: int = 3599) -> None:
        self.lifetime_seconds = lifetime_seconds
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = _b64url(hashlib.sha256(self.public_pem()).digest()[:16])
        self._verified: dict[str, dict[str, Any]] = {}  # token -> claims; verification is the hot path

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()

        def b64int(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.key_id,
                    "n": b64int(numbers.n),
                    "e": b64int(numbers.e),
                }
            ]
        }

    def issue(self, tenant: Tenant, app: ClientApp, issuer: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "aud": GRAPH_AUDIENCE,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            "tid": tenant.id,
            "appid": app.app_id,
            "app_displayname": app.display_name,
            "idtyp": "app",
            "oid": app.app_id,
            "sub": app.app_id,
            "roles": sorted(app.roles),
            "ver": "1.0",
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id, "x5t": self.key_id})
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "ext_expires_in": self.lifetime_seconds,
            "access_token": token,
        }

    def issue_delegated(
        self, tenant: Tenant, flow: DeviceFlow, user: dict[str, Any], wids: set[str], login_base: str
    ) -> dict[str, Any]:
        """An access token for the signed-in user (scp, wids), with the id token and client info MSAL
        builds its account from, and a refresh token (opaque here, not redeemable)."""
        now = int(time.time())
        identity = {"tid": tenant.id, "oid": user["id"], "sub": user["id"]}
        claims = {
            "aud": GRAPH_AUDIENCE,
            "iss": f"https://sts.windows.net/{tenant.id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            **identity,
            "appid": flow.client_id,
            "idtyp": "user",
            "upn": user["userPrincipalName"],
            "name": user.get("displayName"),
            "scp": " ".join(flow.scopes),
            "wids": sorted(wids),
            "ver": "1.0",
        }
        id_claims = {
            "aud": flow.client_id,
            "iss": f"{login_base}/{tenant.id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            **identity,
            "preferred_username": user["userPrincipalName"],
            "name": user.get("displayName"),
            "ver": "2.0",
        }
        headers = {"kid": self.key_id}
        client_info = json.dumps({"uid": user["id"], "utid": tenant.id}).encode()
        return {
            "token_type": "Bearer",
            "scope": " ".join(f"https://graph.microsoft.com/{s}" for s in flow.scopes) or "openid profile",
            "expires_in": self.lifetime_seconds,
            "ext_expires_in": self.lifetime_seconds,
            "access_token": jwt.encode(claims, self._key, algorithm="RS256", headers=headers),
            "refresh_token": _b64url(os.urandom(48)),
            "id_token": jwt.encode(id_claims, self._key, algorithm="RS256", headers=headers),
            "client_info": _b64url(client_info),
        }

    def verify(self, token: str) -> dict[str, Any] | None:
        """Claims of a valid, unexpired token of ours, else None."""
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self._key.public_key(),
                    algorithms=["RS256"],
                    audience=GRAPH_AUDIENCE,
                    options={"verify_exp": False},
                )
            except jwt.InvalidTokenError:
                return None
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = claims
        return claims if claims["exp"] > time.time() else None


def load_certificate(pem: str | bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
