"""Injected provisioning failures: the engine's export of one source user (create, update or soft delete in
the target) fails with a given provisioning error code, as the real service fails for reasons the emulator
does not model (a target that blocks guest invitations, a full directory quota, a role the guest holds).
The failure is logged like any other and escrowed: the user is tried again at the next cycle."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.errors import BadRequest

# The provisioning service's own codes (the spelling its logs use) and what it says with them.
KNOWN_CODES = {
    "AzureActiveDirectoryForbidden": "Guest invitations not allowed for your company. Contact your company "
    "administrator for more details.",
    "AzureActiveDirectoryQuotaLimitExceeded": "The directory object quota limit for the tenant has been exceeded.",
    "AzureActiveDirectoryInsufficientRights": "The user holds a directory role that does not allow the "
    "provisioning service to change it.",
    "AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService": "The object's properties are managed "
    "in the target tenant and cannot be updated by synchronization.",
    "AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises": "The object is synchronized from an "
    "on-premises directory and cannot be updated in the cloud.",
    "AzureActiveDirectoryConflict": "Another object with the same value for property userPrincipalName already exists.",
    "InvitationCreationFailure": "The invitation could not be created: the target tenant's collaboration "
    "restrictions block the source tenant.",
    "InvitationCreationFailureInvalidPropertyValue": "The invitation could not be created: a property has an "
    "invalid value.",
    "InvitationCreationFailureAmbiguousUser": "The invitation could not be created: a proxy address matches "
    "an internal user of the target tenant.",
    "AzureActiveDirectoryInvalidInput": "A property value is not valid for the target directory.",
    "InvalidAnchor": "The user the service matched before no longer exists in the target.",
    "MandatoryFieldsMissing": "A required attribute has no value.",
    "DuplicateTargetEntries": "More than one target user matches the source user.",
    "TooManyRequests": "The target directory throttled the request; it is retried.",
    "InternalServerError": "The target directory failed to process the request; it is retried at the next cycle.",
    "Timeout": "The request to the target directory timed out; it is retried at the next cycle.",
}
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_PROPERTIES = {"tenant", "user", "code", "reason", "times"}


@dataclass
class ProvisioningFault:
    tenant_id: str  # the source tenant
    user_id: str  # the source user whose exports fail
    code: str
    reason: str
    times: int | None = None  # None = until cleared
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "user": self.user_id,
            "code": self.code,
            "reason": self.reason,
            "times": self.times,
            "hits": self.hits,
        }


def parse(spec: dict[str, Any]) -> tuple[str, str, str, str, int | None]:
    """(tenant, user, code, reason, times) of a control-API body; the tenant and user still to resolve."""
    unknown = set(spec) - _PROPERTIES
    if unknown:
        raise BadRequest(f"Unknown provisioning fault properties: {sorted(unknown)}.")
    tenant, user, code = spec.get("tenant"), spec.get("user"), spec.get("code")
    if not isinstance(tenant, str) or not tenant:
        raise BadRequest("Provisioning fault 'tenant' must name the source tenant (id or initial domain).")
    if not isinstance(user, str) or not user:
        raise BadRequest("Provisioning fault 'user' must name a source user (id or userPrincipalName).")
    if not isinstance(code, str) or not _CODE.match(code):
        raise BadRequest("Provisioning fault 'code' must be an error code (letters, digits, underscores).")
    reason = spec.get("reason", KNOWN_CODES.get(code, f"Provisioning failed with {code}."))
    if not isinstance(reason, str):
        raise BadRequest("Provisioning fault 'reason' must be a string.")
    times = spec.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise BadRequest("Provisioning fault 'times' must be an integer of at least 1.")
    return tenant, user, code, reason, times


class ProvisioningFaults:
    """The injected failures, one per source user (a new one replaces the user's previous one)."""

    def __init__(self) -> None:
        self._by_user: dict[tuple[str, str], ProvisioningFault] = {}

    def add(self, fault: ProvisioningFault) -> None:
        self._by_user[fault.tenant_id, fault.user_id] = fault

    def clear(self) -> None:
        self._by_user.clear()

    def all(self) -> list[ProvisioningFault]:
        return list(self._by_user.values())

    def pick(self, tenant_id: str, user_id: str) -> ProvisioningFault | None:
        """The user's fault, counted as hit; an exhausted one is removed."""
        if not self._by_user:
            return None
        fault = self._by_user.get((tenant_id, user_id))
        if fault is None:
            return None
        fault.hits += 1
        if fault.times is not None and fault.hits >= fault.times:
            del self._by_user[tenant_id, user_id]
        return fault
