"""Injected provisioning failures (`/_entrasim/provisioning-faults`): the engine's exports of one source user
fail with the code asked for, are logged as failures with that code, retried at every cycle while the fault
lasts, and succeed once it is cleared."""

from __future__ import annotations

from typing import Any

from test_provisioning_e2e import CYCLE, _advance, _allow_sync, _configure, _people, _target_user

from entrasim.core.odata import QueryOptions
from support.sim import CONTOSO

FORBIDDEN = "AzureActiveDirectoryForbidden"


def _log(sim: Any) -> list[tuple[str, str, str, str | None]]:
    """(source user, action, status, error code) of every provisioning log entry, oldest first."""

    def read(world: Any) -> list[tuple[str, str, str, str | None]]:
        rows = []
        for event in world.tenant(CONTOSO).audit.provisioning(QueryOptions()):
            info = event["provisioningStatusInfo"]
            code = (info["errorInformation"] or {}).get("errorCode")
            rows.append((event["sourceIdentity"]["displayName"], event["provisioningAction"], info["status"], code))
        return rows

    return sim.call(read)


async def test_a_user_whose_exports_fail_is_logged_with_the_code_and_retried_each_cycle(
    sim: Any, sdk_client: Any, control: Any
) -> None:
    people = sim.call(_people)
    fault = {"tenant": "contoso.onmicrosoft.com", "user": "bob@contoso.onmicrosoft.com", "code": FORBIDDEN}
    created = control.post("/provisioning-faults", json=fault)
    assert created.status_code == 201, created.text
    assert created.json()["user"] == people["users"]["bob"]
    assert created.json()["reason"].startswith("Guest invitations not allowed")
    await _allow_sync(sdk_client)
    job, _ = await _configure(sdk_client, people)

    _advance(sim, 60)
    _advance(sim, CYCLE)
    assert _target_user(sim, "bob") is None
    failures = [row for row in _log(sim) if row[0] == "Bob"]
    assert failures == [("Bob", "create", "failure", FORBIDDEN)] * 2  # escrowed: tried again next cycle
    assert (await job.get()).status.last_execution.state == "EntryLevelErrors"
    assert control.get("/provisioning-faults").json()["provisioningFaults"][0]["hits"] == 2

    assert control.delete("/provisioning-faults").status_code == 204
    _advance(sim, CYCLE)
    assert _target_user(sim, "bob") is not None
    assert _log(sim)[-1] == ("Bob", "create", "success", None)


async def test_updates_and_deletes_fail_too_and_a_counted_fault_wears_off(
    sim: Any, sdk_client: Any, control: Any
) -> None:
    people = sim.call(_people)
    await _allow_sync(sdk_client)
    await _configure(sdk_client, people)
    _advance(sim, 60)
    for name, code in (("ada", "AzureActiveDirectoryQuotaLimitExceeded"), ("cy", "TooManyRequests")):
        spec = {"tenant": CONTOSO, "user": people["users"][name], "code": code, "times": 1}
        assert control.post("/provisioning-faults", json=spec).status_code == 201
    sim.call(lambda w: w.tenant(CONTOSO).directory.update_user(people["users"]["ada"], {"department": "Legal"}))
    sim.call(lambda w: w.tenant(CONTOSO).directory.remove_member(people["group"], people["users"]["cy"]))
    _advance(sim, CYCLE)
    assert _log(sim)[-2:] == [
        ("Ada", "update", "failure", "AzureActiveDirectoryQuotaLimitExceeded"),
        ("Cy", "delete", "failure", "TooManyRequests"),
    ]
    assert control.get("/provisioning-faults").json() == {"provisioningFaults": []}
    _advance(sim, CYCLE)
    assert _log(sim)[-2:] == [("Ada", "update", "success", None), ("Cy", "delete", "success", None)]


def test_a_fault_names_a_known_tenant_and_user_and_an_error_code(sim: Any, control: Any) -> None:
    sim.call(_people)
    base = {"tenant": CONTOSO, "user": "ada@contoso.onmicrosoft.com", "code": FORBIDDEN}
    for bad, message in (
        ({**base, "code": "not a code"}, "'code' must be an error code"),
        ({**base, "times": 0}, "'times' must be an integer"),
        ({**base, "colour": "red"}, "Unknown provisioning fault properties: ['colour']"),
        ({"tenant": CONTOSO, "code": FORBIDDEN}, "'user' must name a source user"),
    ):
        answer = control.post("/provisioning-faults", json=bad)
        assert (answer.status_code, message in answer.json()["error"]["message"]) == (400, True), answer.text
    assert (
        control.post("/provisioning-faults", json={**base, "user": "nobody@contoso.onmicrosoft.com"}).status_code == 404
    )
    assert control.post("/provisioning-faults", json={**base, "tenant": "nowhere.example"}).status_code == 404
    custom = control.post("/provisioning-faults", json={**base, "code": "SomethingNew", "reason": "Because."}).json()
    assert (custom["code"], custom["reason"], custom["times"]) == ("SomethingNew", "Because.", None)
