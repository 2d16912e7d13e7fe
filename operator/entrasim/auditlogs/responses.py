"""HTTP layer of /auditLogs: the provisioning logs (provisioningObjectSummary) and directory audits."""

from __future__ import annotations

from ..core.http import GraphRequest, Reply, collection, ok

MAX_TOP = 1000
PAGE_SIZE = 100


def list_provisioning(req: GraphRequest) -> Reply:
    opts = req.options(max_top=MAX_TOP)
    events = req.tenant.audit.provisioning(opts)
    return collection(req, events, context="auditLogs/provisioning", opts=opts, default_top=PAGE_SIZE)


def get_provisioning(req: GraphRequest) -> Reply:
    event = req.tenant.audit.provisioning_event(req.params["id"])
    return ok(dict(event), context="auditLogs/provisioning/$entity", req=req)


def list_directory_audits(req: GraphRequest) -> Reply:
    opts = req.options(max_top=MAX_TOP)
    audits = req.tenant.audit.directory_audits(opts)
    return collection(req, audits, context="auditLogs/directoryAudits", opts=opts, default_top=PAGE_SIZE)


def get_directory_audit(req: GraphRequest) -> Reply:
    audit = req.tenant.audit.directory_audit(req.params["id"])
    return ok(dict(audit), context="auditLogs/directoryAudits/$entity", req=req)
