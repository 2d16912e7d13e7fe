"""Errors of the cross-tenant access policy endpoints, with the messages Graph answers them with."""

from __future__ import annotations

from ..core.errors import BadRequest, Conflict, ObjectNotFound

_CONFLICT_MESSAGE = (
    "A conflicting object with one or more of the specified property values is present in the directory."
)


class InvalidProperty(BadRequest):
    """A property the resource type does not have (Graph: "Invalid property 'b2BDirectConnectInbound'")."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid property '{name}'.")


class InvalidValue(BadRequest):
    def __init__(self, name: str, type_name: str) -> None:
        super().__init__(f"Invalid value specified for property '{name}' of resource '{type_name}'.")


class PartnerExists(Conflict):
    def __init__(self) -> None:
        super().__init__("Another object with the same value for property tenantId already exists.")


class ConflictingObjects(Conflict):
    """PUT identitySynchronization on a partner that already has one (documented body, with details)."""

    def __init__(self) -> None:
        super().__init__(_CONFLICT_MESSAGE, details=[{"code": "ConflictingObjects", "message": _CONFLICT_MESSAGE}])


class SyncPolicyNotFound(ObjectNotFound):
    """Graph's documented answer to PATCH on a missing identitySynchronization; used for GET/DELETE too."""

    def __init__(self) -> None:
        super().__init__("Unable to read the company information from the directory.")
