"""HTTP layer of /identity/conditionalAccess/policies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.http import GraphRequest, Reply, collection, odata_context, ok
from ..core.odata import apply_query, select_fields

ENTITY_SET = "identity/conditionalAccess/policies"
# A tenant holds at most 195 policies: without $top they all come in one page.
PAGE_SIZE = 999


def list_policies(req: GraphRequest) -> Reply:
    opts = req.options()
    items: list[Mapping[str, Any]] = apply_query(req.tenant.conditional_access.list(), opts)
    return collection(req, items, context=odata_context(ENTITY_SET, opts.select), opts=opts, default_top=PAGE_SIZE)


def get_policy(req: GraphRequest) -> Reply:
    opts = req.options()
    policy = req.tenant.conditional_access.get(req.params["id"])
    return ok(select_fields(policy, opts.select), context=odata_context(ENTITY_SET, opts.select, "/$entity"), req=req)
