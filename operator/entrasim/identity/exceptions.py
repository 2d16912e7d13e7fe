"""Token endpoint errors in the AADSTS format: {"error", "error_description", "error_codes", ...}."""

from __future__ import annotations

import uuid
from typing import Any


class AadstsError(Exception):
    status = 400
    error = "invalid_request"
    aadsts = 900144

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self, timestamp: str) -> dict[str, Any]:
        trace = str(uuid.uuid4())
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.detail} Trace ID: {trace} Timestamp: {timestamp}",
            "error_codes": [self.aadsts],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
            "error_uri": "https://login.microsoftonline.com/error?code=" + str(self.aadsts),
        }


class TenantNotFound(AadstsError):
    status, error, aadsts = 400, "invalid_request", 90002


class UnsupportedGrantType(AadstsError):
    status, error, aadsts = 400, "unsupported_grant_type", 70003


class MissingParameter(AadstsError):
    status, error, aadsts = 400, "invalid_request", 900144


class InvalidScope(AadstsError):
    status, error, aadsts = 400, "invalid_scope", 1002012


class ApplicationNotFound(AadstsError):
    status, error, aadsts = 400, "unauthorized_client", 700016


class InvalidClientSecret(AadstsError):
    status, error, aadsts = 401, "invalid_client", 7000215


class InvalidAssertionSignature(AadstsError):
    status, error, aadsts = 401, "invalid_client", 700027


class AssertionExpired(AadstsError):
    status, error, aadsts = 401, "invalid_client", 700024


class CertificateNotRegistered(AadstsError):
    status, error, aadsts = 401, "invalid_client", 700027


class InvalidAssertionAudience(AadstsError):
    status, error, aadsts = 401, "invalid_client", 700021


class NoMatchingFederatedIdentity(AadstsError):
    status, error, aadsts = 400, "invalid_client", 70021


# Device code polling: the error names are the protocol (RFC 8628); the poller reads them.
class AuthorizationPending(AadstsError):
    status, error, aadsts = 400, "authorization_pending", 70016


class AuthorizationDeclined(AadstsError):
    status, error, aadsts = 400, "authorization_declined", 70000


class BadVerificationCode(AadstsError):
    status, error, aadsts = 400, "bad_verification_code", 70019


class ExpiredToken(AadstsError):
    status, error, aadsts = 400, "expired_token", 70019


class NotPublicClient(AadstsError):
    status, error, aadsts = 401, "invalid_client", 7000218
