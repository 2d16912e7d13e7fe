"""Routes of the Conditional Access service. Graph documents Policy.Read.All as the one application
permission for both reads (no higher-privileged one is listed)."""

from __future__ import annotations

from ..core.http import Route, route
from . import responses

READ = ("Policy.Read.All",)
_POLICIES = "/identity/conditionalAccess/policies"

ROUTES: list[Route] = [
    route("GET", _POLICIES, responses.list_policies, *READ),
    route("GET", f"{_POLICIES}/{{id}}", responses.get_policy, *READ),
]
