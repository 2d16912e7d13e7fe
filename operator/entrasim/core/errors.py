"""Graph's error envelope. Every service raises a GraphError subclass; the HTTP layer serialises it."""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    """An error Graph answers with `{"error": {"code", "message", "innerError"}}`."""

    status = 400
    code = "BadRequest"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}

    def body(self, *, request_id: str, client_request_id: str | None, date: str) -> dict[str, Any]:
        inner: dict[str, Any] = {"date": date, "request-id": request_id}
        if client_request_id:
            inner["client-request-id"] = client_request_id
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = inner
        return {"error": error}


class BadRequest(GraphError):
    status, code = 400, "Request_BadRequest"


class InvalidRequest(GraphError):
    """Generic malformed request, as answered by non-directory workloads (synchronization)."""

    status, code = 400, "BadRequest"


class UnsupportedQuery(GraphError):
    status, code = 400, "Request_UnsupportedQuery"


class ResourceNotFound(GraphError):
    status, code = 404, "Request_ResourceNotFound"


class ObjectNotFound(GraphError):
    status, code = 404, "Directory_ObjectNotFound"


class MethodNotAllowed(GraphError):
    status, code = 405, "Request_BadRequest"

    def __init__(self) -> None:
        super().__init__("Specified HTTP method is not allowed for the request target.")


class Conflict(GraphError):
    status, code = 409, "Request_MultipleObjectsWithSameKeyValue"


class InvalidAuthenticationToken(GraphError):
    status, code = 401, "InvalidAuthenticationToken"


class AuthorizationRequestDenied(GraphError):
    status, code = 403, "Authorization_RequestDenied"

    def __init__(self, message: str = "Insufficient privileges to complete the operation.") -> None:
        super().__init__(message)


class TooManyRequests(GraphError):
    status, code = 429, "TooManyRequests"


class ServiceUnavailable(GraphError):
    status, code = 503, "ServiceUnavailable"


class InternalServerError(GraphError):
    status, code = 500, "InternalServerError"
