"""Routes of the cross-tenant access policy. Reads accept either policy role; writes need ReadWrite."""

from __future__ import annotations

from ..core.http import route
from . import responses as r

READ = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
WRITE = ("Policy.ReadWrite.CrossTenantAccess",)
_BASE = "/policies/crossTenantAccessPolicy"
_PARTNER = f"{_BASE}/partners/{{tenantId}}"

ROUTES = [
    route("GET", _BASE, r.get_root, *READ),
    route("PATCH", _BASE, r.update_root, *WRITE),
    route("GET", f"{_BASE}/partners", r.list_partners, *READ),
    route("POST", f"{_BASE}/partners", r.create_partner, *WRITE),
    route("GET", _PARTNER, r.get_partner, *READ),
    route("PATCH", _PARTNER, r.update_partner, *WRITE),
    route("DELETE", _PARTNER, r.delete_partner, *WRITE),
    route("PUT", f"{_PARTNER}/identitySynchronization", r.put_identity_sync, *WRITE),
    route("GET", f"{_PARTNER}/identitySynchronization", r.get_identity_sync, *READ),
    route("PATCH", f"{_PARTNER}/identitySynchronization", r.update_identity_sync, *WRITE),
    route("DELETE", f"{_PARTNER}/identitySynchronization", r.delete_identity_sync, *WRITE),
    route("GET", f"{_BASE}/default", r.get_default, *READ),
    route("PATCH", f"{_BASE}/default", r.update_default, *WRITE),
    route("POST", f"{_BASE}/default/resetToSystemDefault", r.reset_default, *WRITE),
]
