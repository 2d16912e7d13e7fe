"""HTTP layer of /servicePrincipals/{id}/synchronization: requests in, Graph-shaped replies out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.http import GraphRequest, Reply, collection, created, no_content, ok
from .models import SynchronizationBackend
from .schema import filter_operators, mapping_functions


def _backend(req: GraphRequest) -> SynchronizationBackend:
    return req.tenant.synchronization


def _root(req: GraphRequest) -> str:
    return f"servicePrincipals('{req.params['id']}')/synchronization"


def _body(req: GraphRequest, *allowed: str) -> dict[str, Any]:
    """The JSON object body, or {} when the caller sent none (actions whose body is optional)."""
    return req.json_object(allowed=set(allowed)) if req.raw_body.strip() else {}


def _job_action(
    action: Callable[[SynchronizationBackend, str, str], None],
) -> Callable[[GraphRequest], Reply]:
    """A bodiless call on one job that answers 204 No Content."""

    def handler(req: GraphRequest) -> Reply:
        action(_backend(req), req.params["id"], req.params["jobId"])
        return no_content()

    return handler


# --- secrets and templates ------------------------------------------------------------------------------


def put_secrets(req: GraphRequest) -> Reply:
    _backend(req).put_secrets(req.params["id"], req.json_object(allowed={"value"}).get("value"))
    return no_content()


def list_secrets(req: GraphRequest) -> Reply:
    return ok({"value": _backend(req).secrets(req.params["id"])}, context=f"{_root(req)}/secrets", req=req)


def list_templates(req: GraphRequest) -> Reply:
    items: list[Mapping[str, Any]] = list(_backend(req).templates(req.params["id"]))
    return collection(req, items, context=f"{_root(req)}/templates")


def get_template(req: GraphRequest) -> Reply:
    found = _backend(req).template(req.params["id"], req.params["templateId"])
    return ok(found, context=f"{_root(req)}/templates/$entity", req=req)


def get_template_schema(req: GraphRequest) -> Reply:
    found = _backend(req).template(req.params["id"], req.params["templateId"])
    return ok(found["schema"], context=f"{_root(req)}/templates('{found['id']}')/schema/$entity", req=req)


# --- jobs -------------------------------------------------------------------------------------------------


def list_jobs(req: GraphRequest) -> Reply:
    items: list[Mapping[str, Any]] = list(_backend(req).jobs(req.params["id"]))
    return collection(req, items, context=f"{_root(req)}/jobs")


def create_job(req: GraphRequest) -> Reply:
    template_id = req.json_object(allowed={"templateId"}).get("templateId")
    job = _backend(req).create_job(req.params["id"], template_id)
    return created(job.to_graph(), context=f"{_root(req)}/jobs/$entity", req=req)


def get_job(req: GraphRequest) -> Reply:
    job = _backend(req).job(req.params["id"], req.params["jobId"])
    return ok(job.to_graph(), context=f"{_root(req)}/jobs/$entity", req=req)


delete_job = _job_action(SynchronizationBackend.delete_job)
patch_job = _job_action(SynchronizationBackend.patch_job)
start_job = _job_action(SynchronizationBackend.start_job)
pause_job = _job_action(SynchronizationBackend.pause_job)


def restart_job(req: GraphRequest) -> Reply:
    criteria = _body(req, "criteria").get("criteria")
    _backend(req).restart_job(req.params["id"], req.params["jobId"], criteria)
    return no_content()


_VALIDATE_PROPERTIES = ("useSavedCredentials", "templateId", "credentials", "applicationIdentifier")


def validate_credentials(req: GraphRequest) -> Reply:
    body = _body(req, *_VALIDATE_PROPERTIES)
    _backend(req).validate_credentials(req.params["id"], req.params.get("jobId"), body)
    return no_content()


def provision_on_demand(req: GraphRequest) -> Reply:
    parameters = req.json_object(allowed={"parameters"}).get("parameters")
    pair = _backend(req).provision_on_demand(req.params["id"], req.params["jobId"], parameters)
    return ok(pair, context="microsoft.graph.stringKeyStringValuePair", req=req)


# --- schema -----------------------------------------------------------------------------------------------


def _schema_context(req: GraphRequest) -> str:
    return f"{_root(req)}/jobs('{req.params['jobId']}')/schema/$entity"


def get_schema(req: GraphRequest) -> Reply:
    return ok(_backend(req).schema(req.params["id"], req.params["jobId"]), context=_schema_context(req), req=req)


def put_schema(req: GraphRequest) -> Reply:
    body = req.json_object(allowed={"id", "version", "synchronizationRules", "directories"})
    _backend(req).put_schema(req.params["id"], req.params["jobId"], body)
    return no_content()


delete_schema = _job_action(SynchronizationBackend.reset_schema)
patch_schema = _job_action(SynchronizationBackend.patch_schema)


def _owner_exists(req: GraphRequest) -> None:
    """The schema helpers answer for an existing job or template of an existing service principal."""
    if "jobId" in req.params:
        _backend(req).job(req.params["id"], req.params["jobId"])
    else:
        _backend(req).template(req.params["id"], req.params["templateId"])


def list_filter_operators(req: GraphRequest) -> Reply:
    _owner_exists(req)
    return collection(req, filter_operators(), context="Collection(microsoft.graph.filterOperatorSchema)")


def list_functions(req: GraphRequest) -> Reply:
    _owner_exists(req)
    return collection(req, mapping_functions(), context="Collection(microsoft.graph.attributeMappingFunctionSchema)")


def parse_expression(req: GraphRequest) -> Reply:
    _owner_exists(req)
    body = req.json_object(allowed={"expression", "testInputObject", "targetAttributeDefinition"})
    return ok(
        SynchronizationBackend.parse_expression(body),
        context="microsoft.graph.parseExpressionResponse",
        req=req,
    )
