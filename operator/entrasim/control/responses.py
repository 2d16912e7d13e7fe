"""HTTP layer of the control API. Bodies are plain JSON; errors use Graph's envelope for uniformity."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..core.errors import BadRequest, GraphError, ResourceNotFound
from ..core.faults import Fault
from ..core.profile import Profile, ProfileError, profile_named, tuned
from ..identity.delegated import role_template_id
from ..identity.exceptions import AadstsError
from ..seed import SeedError, load_seed
from ..synchronization import faults as provisioning
from ..world import WORLD, World

MAX_ADVANCE_SECONDS = 366 * 24 * 3600.0  # a year per call: catching up runs every cycle on the way
MAX_TIME_SCALE = 1e6  # simulated seconds per wall second
MAX_TOKEN_LIFETIME = 24 * 3600.0
# Settings that override one knob of the world's profile.
PROFILE_SETTINGS = {
    "replicationDelay": "replication_delay",
    "ownWriteVisibility": "own_write_visibility",
    "latencyScale": "latency_scale",
    "transientErrorRate": "transient_error_rate",
}


def _error(exc: GraphError | ValueError, world: World) -> web.Response:
    error = exc if isinstance(exc, GraphError) else BadRequest(str(exc))
    return web.json_response(
        error.body(request_id="control", client_request_id=None, date=world.clock.iso_now()),
        status=error.status,
    )


def _number(body: dict[str, Any], key: str, default: float, *, high: float) -> float:
    """A finite, non-negative JSON number up to `high` (simulated time must stay within calendar range)."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise BadRequest(f"'{key}' must be a number from 0 to {high:,.0f}.")
    return float(value)


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
        seconds = _number(await _json(request), "seconds", 0.0, high=MAX_ADVANCE_SECONDS)
    except GraphError as exc:
        return _error(exc, world)
    world.clock.advance(seconds)
    world.tick()
    return web.json_response({"now": world.clock.iso_now()})


async def reset_delta(request: web.Request) -> web.Response:
    """A tenant's directory drops its change tracking: its delta tokens answer 410 Gone from now on."""
    world = request.app[WORLD]
    try:
        tenant = (await _json(request)).get("tenant")
        if not isinstance(tenant, str):
            raise BadRequest("'tenant' must be a tenant id or initial domain.")
        world.tenant(tenant).directory.reset_delta()
    except GraphError as exc:
        return _error(exc, world)
    return web.Response(status=204)


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


async def list_provisioning_faults(request: web.Request) -> web.Response:
    faults = request.app[WORLD].provisioning_faults.all()
    return web.json_response({"provisioningFaults": [f.describe() for f in faults]})


async def add_provisioning_fault(request: web.Request) -> web.Response:
    """Makes the provisioning engine's exports of one source user fail with a given error code."""
    world = request.app[WORLD]
    try:
        tenant_name, user_name, code, reason, times = provisioning.parse(await _json(request))
        tenant = world.tenant(tenant_name)
        user = tenant.directory.get_user(user_name)
    except GraphError as exc:
        return _error(exc, world)
    fault = provisioning.ProvisioningFault(tenant.id, user["id"], code, reason, times)
    world.provisioning_faults.add(fault)
    return web.json_response(fault.describe(), status=201)


async def clear_provisioning_faults(request: web.Request) -> web.Response:
    request.app[WORLD].provisioning_faults.clear()
    return web.Response(status=204)


async def list_requests(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    since = request.query.get("since", "0") or "0"
    if not since.isdigit():
        return _error(BadRequest("'since' must be the sequence number of a logged request."), world)
    return web.json_response({"requests": world.requests.since(int(since))})


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
        unknown = set(body) - {"throttling", "tokenLifetimeSeconds", "timeScale", "profile", *PROFILE_SETTINGS}
        if unknown:
            raise BadRequest(f"Unknown settings: {sorted(unknown)}.")
        if not isinstance(body.get("throttling", True), bool):
            raise BadRequest("'throttling' must be true or false.")
        lifetime = _number(body, "tokenLifetimeSeconds", world.tokens.lifetime_seconds, high=MAX_TOKEN_LIFETIME)
        if lifetime < 1 or lifetime != int(lifetime):
            raise BadRequest("'tokenLifetimeSeconds' must be a whole number of seconds, at least 1.")
        time_scale = _number(body, "timeScale", world.clock.time_scale, high=MAX_TIME_SCALE)
        profile = _profile(body, world.profile)
    except (GraphError, ProfileError) as exc:
        return _error(exc, world)
    if profile != world.profile:
        world.set_profile(profile)
    world.throttle.enabled = body.get("throttling", world.throttle.enabled)
    world.tokens.lifetime_seconds = int(lifetime)
    if "timeScale" in body:
        world.clock.set_time_scale(time_scale)
    return web.json_response(
        {
            "throttling": world.throttle.enabled,
            "timeScale": world.clock.time_scale,
            "tokenLifetimeSeconds": world.tokens.lifetime_seconds,
            "profile": _describe(world.profile),
        }
    )


def _profile(body: dict[str, Any], current: Profile) -> Profile:
    """The profile a config body asks for: a named one (else the current), with its knob overrides."""
    profile = profile_named(body["profile"], "'profile'") if "profile" in body else current
    for key, knob in PROFILE_SETTINGS.items():
        if key in body:
            profile = tuned(profile, knob, body[key], f"'{key}'")
    return profile


def _describe(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "replicationDelay": profile.replication_delay,
        "ownWriteVisibility": profile.own_write_visibility,
        "latencyMedian": profile.latency_median,
        "latencyP99": profile.latency_p99,
        "transientErrorRate": profile.transient_error_rate,
    }


async def complete_device_code(request: web.Request) -> web.Response:
    """Completes (or declines) a pending device flow as the user would in a browser: {"user": UPN or id,
    "decline": false}. Test-only stand-in for the interactive sign-in page."""
    world = request.app[WORLD]
    user_code = request.match_info["user_code"]
    try:
        body = await _json(request)
        if not isinstance(body.get("user"), str):
            raise BadRequest("'user' (the signing-in user's UPN or id) is required.")
        tenant = next((t for t in world.tenants.values() if t.identity.device_flows.by_user_code(user_code)), None)
        if tenant is None:
            raise ResourceNotFound(f"No device flow has the user code '{user_code}'.")
        user = tenant.directory.get_user(body["user"])
        try:
            tenant.identity.complete_device_flow(user_code, user["id"], decline=bool(body.get("decline")))
        except AadstsError as exc:
            raise BadRequest(exc.detail) from None
    except GraphError as exc:
        return _error(exc, world)
    return web.json_response({"tenant": tenant.id, "user": user["userPrincipalName"], "completed": True})


async def assign_directory_role(request: web.Request) -> web.Response:
    """Gives a user a built-in directory role: {"tenant", "user", "role": "Global Administrator"}."""
    world = request.app[WORLD]
    try:
        body = await _json(request)
        tenant = world.tenant(str(body.get("tenant", "")))
        user = tenant.directory.get_user(str(body.get("user", "")))
        template = role_template_id(str(body.get("role", "")))
    except (GraphError, ValueError) as exc:
        return _error(exc, world)
    tenant.identity.directory_roles.setdefault(user["id"], set()).add(template)
    return web.json_response({"tenant": tenant.id, "user": user["userPrincipalName"], "roleTemplateId": template})
