"""Routes of the login host. `{tenant}` is a tenant id or its initial domain."""

from __future__ import annotations

from aiohttp import web

from . import responses

ROUTES = [
    web.get("/common/discovery/instance", responses.instance_discovery),
    web.get("/{tenant}/v2.0/.well-known/openid-configuration", responses.openid_configuration),
    web.get("/{tenant}/discovery/v2.0/keys", responses.keys),
    web.post("/{tenant}/oauth2/v2.0/devicecode", responses.device_code),
    web.post("/{tenant}/oauth2/v2.0/token", responses.token),
]
