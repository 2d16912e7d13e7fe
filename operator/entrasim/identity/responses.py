"""HTTP layer of the identity platform (the login host): form in, AADSTS-style JSON out."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from ..core.errors import ResourceNotFound
from ..world import WORLD, Tenant
from . import exceptions as err
from .delegated import DEVICE_CODE_GRANT, POLL_INTERVAL_SECONDS


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _tenant(request: web.Request) -> Tenant:
    try:
        return request.app[WORLD].tenant(request.match_info["tenant"])
    except ResourceNotFound:
        raise err.TenantNotFound(
            f"Tenant '{request.match_info['tenant']}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud."
        ) from None


def _error_reply(request: web.Request, exc: err.AadstsError) -> web.Response:
    return web.json_response(exc.body(request.app[WORLD].clock.iso_now()), status=exc.status)


async def openid_configuration(request: web.Request) -> web.Response:
    try:
        tenant = _tenant(request)
    except err.AadstsError as exc:
        return _error_reply(request, exc)
    base, segment = _base(request), request.match_info["tenant"]
    return web.json_response(
        {
            "issuer": f"{base}/{tenant.id}/v2.0",
            "authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{segment}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/{segment}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }
    )


async def keys(request: web.Request) -> web.Response:
    return web.json_response(request.app[WORLD].tokens.jwks())


async def instance_discovery(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "tenant_discovery_endpoint": f"{_base(request)}/common/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [
                {
                    "preferred_network": request.host,
                    "preferred_cache": request.host,
                    "aliases": [request.host],
                }
            ],
        }
    )


async def device_code(request: web.Request) -> web.Response:
    """Starts a device flow; the user completes it elsewhere (here: the control API)."""
    world = request.app[WORLD]
    try:
        tenant = _tenant(request)
        device, flow = tenant.identity.start_device_flow(await _form(request))
    except err.AadstsError as exc:
        return _error_reply(request, exc)
    verification_uri = f"{_base(request)}/devicelogin"
    return web.json_response(
        {
            "user_code": flow.user_code,
            "device_code": device,
            "verification_uri": verification_uri,
            "expires_in": int(flow.expires_at - world.clock.now()),
            "interval": POLL_INTERVAL_SECONDS,
            "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
            f"{flow.user_code} to authenticate.",
        }
    )


async def token(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        tenant = _tenant(request)
        form = await _form(request)
        if form.get("grant_type") == DEVICE_CODE_GRANT:
            return _delegated_token(request, tenant, form)
        if "client_secret" not in form and request.headers.get("Authorization", "").startswith("Basic "):
            form.update(_basic_credentials(request.headers["Authorization"]))
        app = tenant.identity.authenticate(form, request.path)
    except err.AadstsError as exc:
        world.token_errors[exc.error] = world.token_errors.get(exc.error, 0) + 1
        return _error_reply(request, exc)
    return web.json_response(world.tokens.issue(tenant, app, f"https://sts.windows.net/{tenant.id}/"))


def _delegated_token(request: web.Request, tenant: Tenant, form: dict[str, str]) -> web.Response:
    flow = tenant.identity.redeem_device_code(form)
    user = tenant.directory.users.get(flow.user_id or "")
    if user is None:  # deleted between sign-in and redemption
        raise err.BadVerificationCode("The user who completed the sign-in no longer exists.")
    wids = tenant.identity.directory_roles.get(user["id"], set())
    return web.json_response(request.app[WORLD].tokens.issue_delegated(tenant, flow, user, wids, _base(request)))


async def _form(request: web.Request) -> dict[str, str]:
    """The token request's parameters. Entra reads application/x-www-form-urlencoded bodies only: any other
    body is a request without parameters (never a multipart parse that could fail)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        text = (await request.read()).decode()
    except UnicodeDecodeError:
        raise err.MissingParameter("The request body must be UTF-8 form data.") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _basic_credentials(header: str) -> dict[str, str]:
    try:
        client_id, _, secret = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, IndexError):
        return {}
    return {"client_id": unquote(client_id), "client_secret": unquote(secret)}
