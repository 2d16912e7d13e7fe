"""Errors of the applications service, with the messages Graph answers them with."""

from __future__ import annotations

from ..core.errors import BadRequest

_ASSIGNMENT_EXISTS = "Permission being assigned already exists on the object"


class AssignmentExists(BadRequest):
    """Graph answers a duplicate app role assignment with a 400, not a 409."""

    def __init__(self) -> None:
        super().__init__(_ASSIGNMENT_EXISTS, details=[{"code": "InvalidUpdate", "message": _ASSIGNMENT_EXISTS}])


class RoleNotFound(BadRequest):
    def __init__(self) -> None:
        super().__init__("Permission being assigned was not found on application")


class InvalidValue(BadRequest):
    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid value specified for property '{name}' of resource 'AppRoleAssignment'.")
