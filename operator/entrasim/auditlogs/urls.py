"""Routes of the auditlogs service.

Graph documents AuditLog.Read.All *and* Directory.Read.All for the provisioning logs (a known issue of
the API); the emulator requires AuditLog.Read.All, the permission that actually governs the data, for the
provisioning logs and the directory audits alike."""

from __future__ import annotations

from ..core.http import Route, route
from . import responses

READ = ("AuditLog.Read.All",)

ROUTES: list[Route] = [
    route("GET", "/auditLogs/provisioning", responses.list_provisioning, *READ),
    route("GET", "/auditLogs/provisioning/{id}", responses.get_provisioning, *READ),
    route("GET", "/auditLogs/directoryAudits", responses.list_directory_audits, *READ),
    route("GET", "/auditLogs/directoryAudits/{id}", responses.get_directory_audit, *READ),
]
