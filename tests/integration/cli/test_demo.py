"""`ctsync demo` with its default settings, as `make demo` runs it: it finishes in under a minute, and its
summary equals what the emulator itself holds, counted here independently of ctsync."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time
import urllib.request
from typing import Any

import httpx

from support.cli import CTSYNC, cli_env

DEMO_BUDGET_SECONDS = 60
SOURCE_DOMAIN = "contoso.onmicrosoft.com"
SCOPE_GROUP = "CTS-Fabrikam"  # the group examples/tenants/contoso-to-fabrikam/syncscope.yaml names


def test_the_demo_tells_its_story_and_checks_itself(ctsync):
    started = time.monotonic()
    result = ctsync("demo", timeout=DEMO_BUDGET_SECONDS * 2)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed < DEMO_BUDGET_SECONDS
    assert result.stderr == ""
    out = result.stdout
    for heading in (
        "1. TenantPair default/contoso-to-fabrikam: cross-tenant access settings in both tenants",
        "3. The initial provisioning cycle, on the simulated clock",
        "4. The fast lane: a new hire reaches Fabrikam on demand, without waiting for the cycle",
        "5. Lifecycle: Contoso's HR system changes users, the next cycle carries it into Fabrikam",
    ):
        assert heading in out
    assert "     ✓ + target identity synchronization for 3f1c5a9e…: userSyncInbound.isSyncAllowed null -> true" in out
    assert "     ✓ disabled in Fabrikam" in out
    assert_the_guardrails_warn(out)
    assert_the_fast_lane_does_not_wait_for_the_cycle(out)
    assert "restored from Fabrikam's recycle bin: the same user" in out
    summary = out[out.index("6. Summary") :].splitlines()
    assert summary[1] == "   IN SCOPE  SYNCED  DISABLED  SOFT-DELETED  MISSING  JOB     GRAPH REQUESTS"
    assert summary[2].split()[:6] == ["271", "271", "7", "1", "0", "Active"]
    assert summary[3] == "   ✓ equal to entrasim's own state and request log"


def assert_the_guardrails_warn(out: str) -> None:
    """Fabrikam's dynamic group Finance would take in Contoso's Finance staff: ctsync says so on the SyncScope
    before the first cycle, with what to do, and the group holds them after it; then the names they get."""
    configured, cycle = out.index("2. SyncScope"), out.index("3. The initial provisioning cycle")
    warning = out.index(
        "   ⚠ DynamicGroupCollision: 'Finance' (user.department -eq \"Finance\"): 38 synced user(s) match, "
        "e.g. User 000000, User 000008, User 000016, User 000024, User 000032\n"
        "     → "
    )
    assert configured < warning < cycle
    joined = out.index("   ✓ Fabrikam's dynamic group Finance took in the 38 synced users ctsync warned of\n")
    names = out.index(
        "   names in Fabrikam (status.upnSample): user000000@contoso.onmicrosoft.com"
        " -> user000000_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com\n     → "
    )
    assert cycle < joined < names < out.index("4. The fast lane")


def assert_the_fast_lane_does_not_wait_for_the_cycle(out: str) -> None:
    """A new hire joins the scope group after the initial cycle (+00:15): the next delta round, 15 s later,
    provisions her on demand, 25 minutes before the next cycle would."""
    step = out[out.index("4. The fast lane") : out.index("5. Lifecycle")]
    assert "   +00:15:00  baseline round: Contoso's changes are followed from here on\n" in step
    assert "   +00:15:00  Valentina Vega joins Contoso and CTS-Fabrikam\n" in step
    assert (
        "   +00:15:15  ✓ in Fabrikam as valentina.vega_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com: "
        "provisioned on demand, 15 s after joining\n"
    ) in step
    assert "     → the next cycle starts at +00:40:00, 25 minutes after she joined" in step


def test_the_summary_equals_the_emulators_state(tmp_path):
    demo = subprocess.Popen(
        [str(CTSYNC), "demo", "--serve", "--output", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
    )
    try:
        summary = json.loads(demo.stdout.readline())  # printed before it starts serving
        trust = ssl.create_default_context(cafile=summary["entrasim"]["caPath"])
        with httpx.Client(base_url=summary["entrasim"]["baseUrl"], verify=trust) as sim:
            state = sim.get("/_entrasim/state").json()["tenants"]
            requests = sim.get("/_entrasim/requests").json()["requests"]
        with urllib.request.urlopen(summary["metrics"], timeout=10) as reply:
            metrics = reply.read().decode()
    finally:
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=30)
    assert demo.returncode == 0, stderr

    expected = counted(state, requests)
    assert {key: summary[key] for key in expected} == expected
    assert summary["checked"] is True and summary["jobCode"] == "Active"
    assert f'ctsync_scope_users{{name="contoso-to-fabrikam",namespace="default"}} {float(expected["scope"])}' in metrics


def counted(state: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, int]:
    """The demo's numbers, from the emulator's state dump and request log."""
    source = next(t for t in state.values() if t["initialDomain"] == SOURCE_DOMAIN)
    target = next(t for t in state.values() if t is not source)
    (group,) = [g for g in source["groups"] if g["displayName"] == SCOPE_GROUP]
    in_scope = {
        u["userPrincipalName"].replace("@", "_").lower() + "#ext#@" + target["initialDomain"]
        for u in source["users"]
        if u["id"] in group["members"] and u["userType"] == "Member"
    }
    synced = [u for u in target["users"] if u["userPrincipalName"].lower() in in_scope]
    soft_deleted = [u for u in target["deletedItems"] if f"_{SOURCE_DOMAIN}#ext#@" in u["userPrincipalName"].lower()]
    (ctsync_app,) = {a["appId"] for a in source["apps"] if a["displayName"] == "ctsync"}
    return {
        "scope": len(in_scope),
        "synced": len(synced),
        "disabled": sum(1 for u in synced if u["accountEnabled"] is False),
        "softDeleted": len(soft_deleted),
        "missing": len(in_scope) - len(synced),
        "graphRequests": sum(1 for r in requests if r["app_id"] == ctsync_app),
    }


def test_too_few_users_is_a_usage_error(ctsync):
    result = ctsync("demo", "--users", "5")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ctsync demo: argument --users: '5' is not a number of users between 20 and 20000"
    )
