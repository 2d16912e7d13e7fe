"""HTTP layer of the control API. Bodies are plain JSON; errors use Graph's envelope for uniformity."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..core.errors import BadRequest, GraphError
from ..core.faults import Fault
from ..seed import SeedError, load_seed
from ..world import WORLD, World


def _error(exc: GraphError | ValueError, world: World) -> web.Response:
    error = exc if isinstance(exc, GraphError) else BadRequest(str(exc))
    return web.json_response(
        error.body(request_id="control", client_request_id=None, date=world.clock.iso_now()),
        status=error.status,
    )


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise BadRequest("The control API expects a JSON object.") from None
    if not isinstance(body, dict):
        raise BadRequest("The control API expects a JSON object.")
    return body


async def reset(request: web.Request) -> web.Response:
    request.app[WORLD].reset()
    return web.json_response({"reset": True})


async def seed(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        tenants = load_seed(world, await _json(request))
    except (GraphError, SeedError, ValueError) as exc:
        return _error(exc, world)
    return web.json_response({"tenants": [t.describe() for t in tenants]})


async def clock(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    return web.json_response({"now": world.clock.iso_now(), "timeScale": world.clock.time_scale})


async def advance_clock(request: web.Request) -> web.Response:
    """Moves simulated time forward and runs every provisioning cycle that falls due on the way."""
    world = request.app[WORLD]
    try:
        seconds = float((await _json(request)).get("seconds", 0))
        world.clock.advance(seconds)
    except (GraphError, ValueError, TypeError) as exc:
        return _error(exc if isinstance(exc, GraphError) else BadRequest(str(exc)), world)
    world.tick()
    return web.json_response({"now": world.clock.iso_now()})


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [f.describe() for f in request.app[WORLD].faults.faults]})


async def add_fault(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        fault = Fault.from_json(await _json(request))
    except GraphError as exc:
        return _error(exc, world)
    world.faults.add(fault)
    return web.json_response(fault.describe(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    request.app[WORLD].faults.clear()
    return web.Response(status=204)


async def list_requests(request: web.Request) -> web.Response:
    since = int(request.query.get("since", "0") or 0)
    return web.json_response({"requests": request.app[WORLD].requests.since(since)})


async def clear_requests(request: web.Request) -> web.Response:
    request.app[WORLD].requests.clear()
    return web.Response(status=204)


async def dump_state(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    tenants = request.query.getall("tenant", []) or list(world.tenants)
    try:
        dumped = {tid: world.tenant(tid).dump() for tid in tenants}
    except GraphError as exc:
        return _error(exc, world)
    return web.json_response(
        {
            "now": world.clock.iso_now(),
            "tenants": dumped,
            "internalErrors": world.internal_errors,
            "tokenErrors": world.token_errors,
            "throttled": world.throttle.throttled,
        }
    )


async def configure(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        body = await _json(request)
        unknown = set(body) - {"throttling", "tokenLifetimeSeconds", "timeScale"}
        if unknown:
            raise BadRequest(f"Unknown settings: {sorted(unknown)}.")
    except GraphError as exc:
        return _error(exc, world)
    if "throttling" in body:
        world.throttle.enabled = bool(body["throttling"])
    if "tokenLifetimeSeconds" in body:
        world.tokens.lifetime_seconds = int(body["tokenLifetimeSeconds"])
    if "timeScale" in body:
        world.clock.set_time_scale(float(body["timeScale"]))
    return web.json_response(
        {
            "throttling": world.throttle.enabled,
            "timeScale": world.clock.time_scale,
            "tokenLifetimeSeconds": world.tokens.lifetime_seconds,
        }
    )
