"""HTTP layer of the cross-tenant access policy: partners, identitySynchronization and the default."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.errors import BadRequest
from ..core.http import GraphRequest, Reply, collection, created, no_content, ok
from ..core.odata import QueryOptions, apply_query, select_fields
from .models import PoliciesBackend

PARTNERS = "policies/crossTenantAccessPolicy/partners"
SYNC = "identitySynchronization"


def _policies(req: GraphRequest) -> PoliciesBackend:
    return req.tenant.policies


def _expands_sync(opts: QueryOptions) -> bool:
    for name in opts.expand:
        if name != SYNC:
            raise BadRequest(
                f"Could not find a property named '{name}' on type "
                "'microsoft.graph.crossTenantAccessPolicyConfigurationPartner'."
            )
    return bool(opts.expand)


def _partner_view(req: GraphRequest, partner: Mapping[str, Any], opts: QueryOptions, expand: bool) -> dict[str, Any]:
    view = select_fields(partner, opts.select)
    if expand:
        view[SYNC] = _policies(req).identity_sync(partner["tenantId"])
    return view


def list_partners(req: GraphRequest) -> Reply:
    opts = req.options()
    expand = _expands_sync(opts)
    items: list[Mapping[str, Any]] = [
        _partner_view(req, p, opts, expand) for p in apply_query(_policies(req).list_partners(), opts)
    ]
    return collection(
        req,
        items,
        context=PARTNERS,
        opts=QueryOptions(top=opts.top, count=opts.count, skiptoken=opts.skiptoken),
    )


def create_partner(req: GraphRequest) -> Reply:
    return created(_policies(req).create_partner(req.json_object()), context=f"{PARTNERS}/$entity", req=req)


def get_partner(req: GraphRequest) -> Reply:
    opts = req.options()
    partner = _policies(req).get_partner(req.params["tenantId"])
    return ok(_partner_view(req, partner, opts, _expands_sync(opts)), context=f"{PARTNERS}/$entity", req=req)


def get_identity_sync(req: GraphRequest) -> Reply:
    policy = _policies(req).get_identity_sync(req.params["tenantId"])
    context = f"{PARTNERS}('{policy['tenantId']}')/{SYNC}/$entity"
    return ok(select_fields(policy, req.options().select), context=context, req=req)


def get_root(req: GraphRequest) -> Reply:
    root = _policies(req).root
    return ok(select_fields(root, req.options().select), context="policies/crossTenantAccessPolicy/$entity", req=req)


def update_root(req: GraphRequest) -> Reply:
    _policies(req).update_root(req.json_object())
    return no_content()


def get_default(req: GraphRequest) -> Reply:
    default = _policies(req).default
    return ok(
        select_fields(default, req.options().select),
        context="policies/crossTenantAccessPolicy/default/$entity",
        req=req,
    )


def update_default(req: GraphRequest) -> Reply:
    _policies(req).update_default(req.json_object())
    return no_content()


def reset_default(req: GraphRequest) -> Reply:
    _policies(req).reset_default()
    return no_content()


def _write(
    change: Callable[[PoliciesBackend, str, dict[str, Any]], object],
) -> Callable[[GraphRequest], Reply]:
    """A PATCH or PUT on an object addressed by the partner's tenant id: 204 on success."""

    def handler(req: GraphRequest) -> Reply:
        change(_policies(req), req.params["tenantId"], req.json_object())
        return no_content()

    return handler


def _delete(remove: Callable[[PoliciesBackend, str], None]) -> Callable[[GraphRequest], Reply]:
    def handler(req: GraphRequest) -> Reply:
        remove(_policies(req), req.params["tenantId"])
        return no_content()

    return handler


update_partner = _write(PoliciesBackend.update_partner)
delete_partner = _delete(PoliciesBackend.delete_partner)
put_identity_sync = _write(PoliciesBackend.create_identity_sync)
update_identity_sync = _write(PoliciesBackend.update_identity_sync)
delete_identity_sync = _delete(PoliciesBackend.delete_identity_sync)
