"""The aiohttp application: the login host, Microsoft Graph v1.0 and the control API on one server.

Graph requests go through one dispatcher that owns the wire: path normalisation (Graph tolerates
`//`), request ids, faults, authentication, permissions, throttling and the error envelope. The
same dispatcher serves the items of a $batch."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from .applications import urls as applications_urls
from .auditlogs import urls as auditlogs_urls
from .batch import urls as batch_urls
from .conditionalaccess import urls as conditionalaccess_urls
from .control import urls as control_urls
from .core.errors import (
    AuthorizationRequestDenied,
    GraphError,
    InternalServerError,
    InvalidAuthenticationToken,
    TooManyRequests,
)
from .core.faults import Fault
from .core.http import CallContext, GraphRequest, Reply
from .core.ids import new_guid
from .core.routing import Router
from .directory import urls as directory_urls
from .identity import urls as identity_urls
from .policies import urls as policies_urls
from .synchronization import urls as synchronization_urls
from .world import WORLD, World

GRAPH_PREFIX = "/v1.0"
_SLASHES = re.compile(r"/{2,}")
JSON_CONTENT_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
)

ROUTER = Router(
    r
    for module in (
        directory_urls,
        policies_urls,
        applications_urls,
        synchronization_urls,
        auditlogs_urls,
        conditionalaccess_urls,
        batch_urls,
    )
    for r in module.ROUTES
)


def create_app(world: World) -> web.Application:
    # Seed documents of 100k+ users arrive through the control API in one request.
    app = web.Application(client_max_size=512 * 1024 * 1024)
    app[WORLD] = world

    async def dispatch(ctx: CallContext, method: str, url: str, headers: Mapping[str, str], body: Any) -> Reply:
        return await _dispatch_inner(ctx, method, url, headers, body, world)

    world.dispatch = dispatch  # $batch items re-enter the dispatcher
    app.add_routes(control_urls.ROUTES)
    # [\s\S], not ".": a decoded path may hold a newline (%0A), which Graph answers like any other segment
    app.router.add_route("*", GRAPH_PREFIX + r"{tail:[\s\S]*}", _graph)
    app.add_routes(identity_urls.ROUTES)
    app.middlewares.extend([_unrouted_middleware, _faults_middleware])
    return app


# --- what no route serves ----------------------------------------------------------------------------------


@web.middleware
async def _unrouted_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """aiohttp's own refusals (a path or method of the login host or the control API that no route serves, a
    body over the size limit) answered in JSON like everything else, with the reason as the code."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = GraphError(
            f"{exc.reason}: {request.method} {request.path}", status=exc.status, code=exc.reason.replace(" ", "")
        )
        request_id = new_guid()
        body = error.body(request_id=request_id, client_request_id=None, date=request.app[WORLD].clock.iso_now())
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return _json_response(exc.status, body, allow, request_id, request)


# --- faults (every route but the control API) ---------------------------------------------------------


@web.middleware
async def _faults_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith(control_urls.PREFIX):
        return await handler(request)
    fault = request.app[WORLD].faults.pick(request.method, request.path)
    if fault is None:
        return await handler(request)
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        _log_faulted(request, 0, new_guid())  # status 0: no answer at all
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("fault injected: connection dropped")
    if fault.status is None:
        return await handler(request)
    return _fault_reply(request, fault)


def _log_faulted(request: web.Request, status: int, request_id: str) -> None:
    """Logs a faulted request like any other: Graph path, route template and caller when they can be told."""
    world = request.app[WORLD]
    path = request.path
    route = tenant = app_id = None
    if path.startswith(GRAPH_PREFIX):
        path = _SLASHES.sub("/", path[len(GRAPH_PREFIX) :]) or "/"
        try:
            route = ROUTER.match(request.method, path)[0].template
            ctx = _authenticate(world, request.headers.get("Authorization"))
            tenant, app_id = ctx.tenant.id, ctx.app_id
        except GraphError:
            pass  # an unknown route or a bad token: logged without them
    world.requests.add(
        time=world.clock.iso_now(),
        method=request.method,
        path=path,
        route=route,
        status=status,
        tenant=tenant,
        app_id=app_id,
        request_id=request_id,
    )


def _fault_reply(request: web.Request, fault: Fault) -> web.Response:
    error = GraphError(
        f"Fault injected by the emulator ({fault.status}).",
        status=fault.status,
        code={
            429: "TooManyRequests",
            503: "ServiceUnavailable",
            504: "GatewayTimeout",
            502: "BadGateway",
        }.get(fault.status or 500, "InternalServerError"),
    )
    headers = fault.retry_after_header()
    return _error_reply(request, error, headers)


def _error_reply(request: web.Request, error: GraphError, headers: Mapping[str, str]) -> web.Response:
    """Answers an error that stopped the request before any service saw it, and logs it."""
    request_id = new_guid()
    _log_faulted(request, error.status, request_id)
    body = error.body(
        request_id=request_id,
        client_request_id=request.headers.get("client-request-id"),
        date=request.app[WORLD].clock.iso_now(),
    )
    return _json_response(error.status, body, headers, request_id, request)


# --- Graph ----------------------------------------------------------------------------------------------


async def _graph(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    latency = world.transients.latency(world.profile)
    if latency:
        await asyncio.sleep(latency)
    transient = world.transients.error(world.profile, request.method)
    if transient is not None and not transient.applied:
        error = transient.error()
        return _error_reply(request, error, error.headers)
    request_id = new_guid()
    path = _SLASHES.sub("/", request.match_info["tail"]) or "/"
    base_url = f"{request.scheme}://{request.host}{GRAPH_PREFIX}"
    body = await request.read()
    req = GraphRequest(
        method=request.method,
        path=path,
        params={},
        query=dict(request.query),
        headers=request.headers,
        raw_body=body,
        world=world,
        base_url=base_url,
    )
    reply, template = await _serve(req, request.headers.get("Authorization"))
    if transient is not None:  # the gateway timed out on a request the service carried out
        error = transient.error()
        reply = Reply(error.status, error, dict(error.headers))
    ctx = req.ctx
    world.requests.add(
        time=world.clock.iso_now(),
        method=request.method,
        path=path,
        route=template,
        status=reply.status,
        tenant=ctx.tenant.id if ctx else None,
        app_id=ctx.app_id if ctx else None,
        request_id=request_id,
    )
    if reply.status >= 400 and isinstance(reply.body, GraphError):
        reply.body = reply.body.body(
            request_id=request_id,
            client_request_id=request.headers.get("client-request-id"),
            date=world.clock.iso_now(),
        )
    return _json_response(reply.status, reply.body, reply.headers, request_id, request)


async def _serve(req: GraphRequest, authorization: str | None) -> tuple[Reply, str | None]:
    """Authenticates, authorises, throttles and runs one Graph request. Errors come back as replies."""
    template = None
    try:
        if req.ctx is None:
            req.ctx = _authenticate(req.world, authorization)
        route, params = ROUTER.match(req.method, req.path)
        template = route.template
        req.params = params
        if route.permissions and not (req.ctx.roles & set(route.permissions)):
            raise AuthorizationRequestDenied()
        verdict = req.world.throttle.charge(
            req.ctx.app_id,
            req.ctx.tenant.id,
            len(req.ctx.tenant.directory.users),
            req.method,
            route.template,
            dict(req.query),
        )
        if not verdict.allowed:
            raise TooManyRequests(
                f"Application {req.ctx.app_id} in tenant {req.ctx.tenant.id} exceeded its request limits "
                f"({verdict.information}).",
                headers=verdict.headers,
            )
        with req.world.replication.reading_as(req.ctx.tenant.id, req.ctx.app_id):
            result = route.handler(req)
            reply = await result if asyncio.iscoroutine(result) else result
        assert isinstance(reply, Reply)
        reply.headers.update(verdict.headers)
        return reply, template
    except GraphError as exc:
        return Reply(exc.status, exc, dict(exc.headers)), template
    except Exception as exc:
        req.world.internal_errors.append(f"{req.method} {req.path}: {exc!r}")
        error = InternalServerError("An internal server error occurred in the emulator.")
        return Reply(500, error), template


def _authenticate(world: World, authorization: str | None) -> CallContext:
    if not authorization or not authorization.startswith("Bearer ") or not authorization[7:].strip():
        raise InvalidAuthenticationToken("Access token is empty.")
    claims = world.tokens.verify(authorization[7:].strip())
    if claims is None:
        raise InvalidAuthenticationToken("Access token validation failure. Invalid audience, signature or lifetime.")
    tenant = world.tenants.get(claims["tid"])
    if tenant is None:
        raise InvalidAuthenticationToken("Access token validation failure: unknown tenant.")
    if claims.get("idtyp") == "user":
        return CallContext(
            tenant=tenant,
            app_id=claims["appid"],
            roles=frozenset(claims.get("scp", "").split()),
            user_id=claims["oid"],
            wids=frozenset(claims.get("wids", ())),
        )
    return CallContext(tenant=tenant, app_id=claims["appid"], roles=frozenset(claims.get("roles", ())))


async def _dispatch_inner(
    ctx: CallContext, method: str, url: str, headers: Mapping[str, str], body: Any, world: World
) -> Reply:
    """Runs one $batch item (a relative URL under /v1.0) with the caller's identity."""
    parts = urlsplit(url)
    raw = (
        json.dumps(body).encode()
        if body is not None and not isinstance(body, bytes | str)
        else (body.encode() if isinstance(body, str) else (body or b""))
    )
    req = GraphRequest(
        method=method.upper(),
        path=_SLASHES.sub("/", parts.path) or "/",
        params={},
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        raw_body=raw,
        world=world,
        base_url=world.base_url + GRAPH_PREFIX,
        ctx=ctx,
    )
    reply, _ = await _serve(req, None)
    if isinstance(reply.body, GraphError):
        reply.body = reply.body.body(request_id=new_guid(), client_request_id=None, date=world.clock.iso_now())
    return reply


def _json_response(
    status: int, body: Any, headers: Mapping[str, str], request_id: str, request: web.Request
) -> web.Response:
    out = {
        "request-id": request_id,
        "x-ms-ags-diagnostic": '{"ServerInfo":{"DataCenter":"Local","Slice":"E"}}',
        **headers,
    }
    client_request_id = request.headers.get("client-request-id")
    if client_request_id:
        out["client-request-id"] = client_request_id
    if body is None:
        return web.Response(status=status, headers=out)
    if isinstance(body, str):
        return web.Response(status=status, text=body, content_type="text/plain", headers=out)
    out["Content-Type"] = JSON_CONTENT_TYPE
    return web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(), headers=out)
