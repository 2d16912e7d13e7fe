"""Directory errors whose wire form differs from the core classes."""

from __future__ import annotations

from ..core.errors import BadRequest, Conflict, GraphError


class ObjectConflict(BadRequest, Conflict):
    """A unique property is taken. A conflict in kind (code that handles conflicts catches it), but the
    directory answers it as a 400 Request_BadRequest with an ObjectConflict detail, not as a 409."""

    def __init__(self, prop: str) -> None:
        message = f"Another object with the same value for property {prop} already exists."
        super().__init__(message, details=[{"code": "ObjectConflict", "message": message, "target": prop}])


class InvalidObjectIdentifier(BadRequest):
    def __init__(self, value: str) -> None:
        super().__init__(f"Invalid object identifier '{value}'.")


class SyncStateNotFound(GraphError):
    """A $deltatoken that is malformed, from another collection, or older than the directory keeps changes."""

    status, code = 400, "syncStateNotFound"

    def __init__(self) -> None:
        super().__init__(
            "The sync state generation is not found. The delta token is expired and data must be synchronized again."
        )


class DeltaReset(GraphError):
    """A $deltatoken from before the directory reset its change tracking: Graph answers 410 Gone with a
    Location header, the same request with an empty token, where a full round starts again."""

    status, code = 410, "resyncRequired"

    def __init__(self) -> None:
        super().__init__("The delta token is no longer valid: restart the synchronization with a full round.")
