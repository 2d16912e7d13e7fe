"""Credentials of an application, as Graph stores and answers them: password credentials (the secret text is
answered once, by addPassword, and never stored in the object), key credentials (certificates) and federated
identity credentials (workload identity)."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core.clock import iso
from ..core.errors import BadRequest
from ..core.ids import new_guid

TWO_YEARS = 2 * 365 * 24 * 3600
FIC_AUDIENCE = "api://AzureADTokenExchange"
_FIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
FIC_PROPERTIES = {"name", "issuer", "subject", "audiences", "description"}


def _timestamp(value: Any, name: str, default: float) -> float:
    if value is None:
        return default
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadRequest(f"Invalid value specified for property '{name}' of resource 'PasswordCredential'.") from None


def new_password(body: Mapping[str, Any], now: float) -> tuple[dict[str, Any], str]:
    """The stored passwordCredential (hint, no secret) and the secret text."""
    cred = body.get("passwordCredential") or {}
    if not isinstance(cred, dict):
        raise BadRequest("Property 'passwordCredential' must be an object.")
    start = _timestamp(cred.get("startDateTime"), "startDateTime", now)
    end = _timestamp(cred.get("endDateTime"), "endDateTime", start + TWO_YEARS)
    if end <= start:
        raise BadRequest("The endDateTime of a password credential must be after its startDateTime.")
    text = secrets.token_urlsafe(30)[:40]
    stored = {
        "customKeyIdentifier": None,
        "displayName": cred.get("displayName"),
        "endDateTime": iso(end),
        "hint": text[:3],
        "keyId": new_guid(),
        "secretText": None,
        "startDateTime": iso(start),
    }
    return stored, text


def new_key(entry: Any) -> tuple[dict[str, Any], x509.Certificate]:
    """A keyCredential from a PATCH or addKey body: an X.509 certificate (base64 DER or PEM) for Verify."""
    if not isinstance(entry, dict):
        raise BadRequest("Each keyCredential must be an object.")
    if entry.get("type") != "AsymmetricX509Cert" or entry.get("usage") != "Verify":
        raise BadRequest("Only keyCredentials of type 'AsymmetricX509Cert' with usage 'Verify' are supported.")
    cert = _certificate(entry.get("key"))
    thumbprint = cert.fingerprint(hashes.SHA1())
    stored = {
        "customKeyIdentifier": base64.b64encode(thumbprint).decode(),
        "displayName": entry.get("displayName") or cert.subject.rfc4514_string(),
        "endDateTime": iso(cert.not_valid_after_utc.timestamp()),
        "key": None,  # Graph returns the key only on $select
        "keyId": new_guid(),
        "startDateTime": iso(cert.not_valid_before_utc.timestamp()),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }
    return stored, cert


def _certificate(key: Any) -> x509.Certificate:
    if not isinstance(key, str) or not key:
        raise BadRequest("Invalid value specified for property 'key' of resource 'KeyCredential'.")
    try:
        raw = base64.b64decode(key, validate=True)
        if raw.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except (binascii.Error, ValueError):
        raise BadRequest("Key credential 'key' is not a valid base64 X.509 certificate.") from None


def new_federated(body: Mapping[str, Any], existing: list[dict[str, Any]]) -> dict[str, Any]:
    """A federatedIdentityCredential, validated as Graph does: name URL-safe and at most 120 characters,
    issuer and subject at most 600, exactly one audience; name, and issuer+subject, unique per app."""
    name, issuer, subject = body.get("name"), body.get("issuer"), body.get("subject")
    if not isinstance(name, str) or not _FIC_NAME.match(name):
        raise BadRequest("Property 'name' is required: 1 to 120 letters, digits, '-' or '_'.")
    for prop, value in (("issuer", issuer), ("subject", subject)):
        if not isinstance(value, str) or not value or len(value) > 600:
            raise BadRequest(f"Property '{prop}' is required and must be at most 600 characters.")
    audiences = body.get("audiences", [FIC_AUDIENCE])
    if not isinstance(audiences, list) or len(audiences) != 1 or not isinstance(audiences[0], str):
        raise BadRequest("Property 'audiences' must hold exactly one audience.")
    if any(f["name"] == name for f in existing):
        raise BadRequest(f"FederatedIdentityCredential with name {name} already exists.")
    if any(f["issuer"] == issuer and f["subject"] == subject for f in existing):
        raise BadRequest("FederatedIdentityCredential with the same issuer and subject already exists.")
    return {
        "id": new_guid(),
        "name": name,
        "issuer": issuer,
        "subject": subject,
        "audiences": audiences,
        "description": body.get("description"),
    }


PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"


def verify_proof(proof: Any, app_object_id: str, certificates: list[x509.Certificate]) -> x509.Certificate | None:
    """The current certificate that signed an addKey proof (aud the AAD Graph id, iss the application's object
    id, nbf/exp within 10 minutes), or None."""
    if not isinstance(proof, str):
        return None
    for cert in certificates:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or cert.not_valid_after_utc.timestamp() < time.time():
            continue
        try:
            claims = jwt.decode(proof, key, algorithms=["RS256"], audience=PROOF_AUDIENCE, leeway=300)
        except jwt.InvalidTokenError:
            continue
        if claims.get("iss") == app_object_id and claims.get("exp", 0) - claims.get("nbf", 0) <= 600:
            return cert
    return None
