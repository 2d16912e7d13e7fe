"""Routes of the synchronization service, under /servicePrincipals/{id}/synchronization."""

from __future__ import annotations

from ..core.http import Route, route
from . import responses as r

# Any one of these application permissions grants access (least privileged first).
READ = (
    "Synchronization.Read.All",
    "Synchronization.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Application.ReadWrite.All",
)
WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All")

_SYNC = "/servicePrincipals/{id}/synchronization"
_JOB = f"{_SYNC}/jobs/{{jobId}}"
_TEMPLATE = f"{_SYNC}/templates/{{templateId}}"


def _schema_helpers(owner: str) -> list[Route]:
    return [
        route("GET", f"{owner}/schema/filterOperators", r.list_filter_operators, *READ),
        route("GET", f"{owner}/schema/functions", r.list_functions, *READ),
        route("POST", f"{owner}/schema/parseExpression", r.parse_expression, *WRITE),
    ]


ROUTES: list[Route] = [
    route("PUT", f"{_SYNC}/secrets", r.put_secrets, *WRITE),
    route("GET", f"{_SYNC}/secrets", r.list_secrets, *READ),
    route("GET", f"{_SYNC}/templates", r.list_templates, *READ),
    route("GET", _TEMPLATE, r.get_template, *READ),
    route("GET", f"{_TEMPLATE}/schema", r.get_template_schema, *READ),
    *_schema_helpers(_TEMPLATE),
    route("GET", f"{_SYNC}/jobs", r.list_jobs, *READ),
    route("POST", f"{_SYNC}/jobs", r.create_job, *WRITE),
    route("POST", f"{_SYNC}/jobs/validateCredentials", r.validate_credentials, *WRITE),
    route("GET", _JOB, r.get_job, *READ),
    route("DELETE", _JOB, r.delete_job, *WRITE),
    route("PATCH", _JOB, r.patch_job, *WRITE),
    route("POST", f"{_JOB}/start", r.start_job, *WRITE),
    route("POST", f"{_JOB}/pause", r.pause_job, *WRITE),
    route("POST", f"{_JOB}/restart", r.restart_job, *WRITE),
    route("POST", f"{_JOB}/validateCredentials", r.validate_credentials, *WRITE),
    route("POST", f"{_JOB}/provisionOnDemand", r.provision_on_demand, *WRITE),
    route("GET", f"{_JOB}/schema", r.get_schema, *READ),
    route("PUT", f"{_JOB}/schema", r.put_schema, *WRITE),
    route("DELETE", f"{_JOB}/schema", r.delete_schema, *WRITE),
    route("PATCH", f"{_JOB}/schema", r.patch_schema, *WRITE),
    *_schema_helpers(_JOB),
]
