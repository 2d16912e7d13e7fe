"""Routes of the control API, under a prefix no Graph path uses."""

from __future__ import annotations

from aiohttp import web

from . import responses

PREFIX = "/_entrasim"

ROUTES = [
    web.post(f"{PREFIX}/reset", responses.reset),
    web.post(f"{PREFIX}/seed", responses.seed),
    web.get(f"{PREFIX}/clock", responses.clock),
    web.post(f"{PREFIX}/clock/advance", responses.advance_clock),
    web.post(f"{PREFIX}/delta/reset", responses.reset_delta),
    web.get(f"{PREFIX}/faults", responses.list_faults),
    web.post(f"{PREFIX}/faults", responses.add_fault),
    web.delete(f"{PREFIX}/faults", responses.clear_faults),
    web.get(f"{PREFIX}/provisioning-faults", responses.list_provisioning_faults),
    web.post(f"{PREFIX}/provisioning-faults", responses.add_provisioning_fault),
    web.delete(f"{PREFIX}/provisioning-faults", responses.clear_provisioning_faults),
    web.get(f"{PREFIX}/requests", responses.list_requests),
    web.delete(f"{PREFIX}/requests", responses.clear_requests),
    web.get(f"{PREFIX}/state", responses.dump_state),
    web.post(f"{PREFIX}/config", responses.configure),
    web.post(f"{PREFIX}/device-codes/{{user_code}}/complete", responses.complete_device_code),
    web.post(f"{PREFIX}/directory-roles", responses.assign_directory_role),
]
