"""HTTP layer of /auditLogs: the provisioning logs (provisioningObjectSummary) and directory audits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.http import GraphRequest, Reply, collection, ok
from ..core.odata import QueryOptions

MAX_TOP = 1000
PAGE_SIZE = 100


def _page(req: GraphRequest, query: Callable[[QueryOptions], list[Mapping[str, Any]]], context: str) -> Reply:
    opts = req.options(max_top=MAX_TOP)
    return collection(req, query(opts), context=context, opts=opts, default_top=PAGE_SIZE)


def list_provisioning(req: GraphRequest) -> Reply:
    return _page(req, req.tenant.audit.provisioning, "auditLogs/provisioning")


def get_provisioning(req: GraphRequest) -> Reply:
    event = req.tenant.audit.provisioning_event(req.params["id"])
    return ok(dict(event), context="auditLogs/provisioning/$entity", req=req)


def list_directory_audits(req: GraphRequest) -> Reply:
    return _page(req, req.tenant.audit.directory_audits, "auditLogs/directoryAudits")


def get_directory_audit(req: GraphRequest) -> Reply:
    audit = req.tenant.audit.directory_audit(req.params["id"])
    return ok(dict(audit), context="auditLogs/directoryAudits/$entity", req=req)
