"""`ctsync demo`: Contoso's users synchronized into Fabrikam, on a local emulator, in seconds.

Starts entrasim (an emulator of Microsoft Graph, the token endpoint and the provisioning service, on a
clock the demo moves), seeds Contoso (source) and Fabrikam (target), and applies the manifests of
examples/tenants/contoso-to-fabrikam through the operator's own reconcilers, without a cluster: the
credentials are held in memory and the TenantPair's cloud is rewritten to Custom, pointing at the emulator,
which ctsync reaches over HTTPS like any Graph. Fabrikam has a dynamic group for its Finance staff that
Contoso's Finance staff would join: ctsync warns of it before the first cycle. It then runs the 40-minute
provisioning cycles, shows the names synced users get, turns the fast lane on (a new hire reaches Fabrikam on
demand within seconds, while the next cycle is minutes away), and walks users through their lifecycle: a new
hire, leavers, a disabled account, a return within 30 days.

The summary is checked against the emulator's own state; the demo fails if they disagree.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import ssl
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from ctsync.api import conditions, constants
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.conditions import set_conditions
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.commands import EXIT_OK, CommandError, Subparsers, add_command, add_output_flag
from ctsync.commands.manifests import Document, load, shipped_dir
from ctsync.commands.output import Style, print_json, table
from ctsync.commands.validate import Resources, check, load_schemas
from ctsync.planning.plan import Plan

if TYPE_CHECKING:  # imported when the demo runs (see ctsync.commands)
    import httpx

    from ctsync.graph.client import GraphClient
    from ctsync.graph.on_demand import OnDemandResult
    from ctsync.metrics import Metrics
    from ctsync.planning.fast_lane import Change
    from ctsync.reconcile.connections import ClientPool
    from ctsync.reconcile.converge import Pass
    from ctsync.reconcile.outcome import Outcome
    from entrasim.server import EntraSim

EXAMPLE: Final = "tenants/contoso-to-fabrikam"
SOURCE_DOMAIN: Final = "contoso.onmicrosoft.com"
TARGET_DOMAIN: Final = "fabrikam.onmicrosoft.com"
SYNCED_MARK: Final = f"_{SOURCE_DOMAIN}#ext#@"  # in the (lower-cased) name of every user synced from Contoso
TARGET_STAFF: Final = 20  # Fabrikam's own users, which no count of ctsync's may include
# A dynamic group of Fabrikam's written for its own staff, which Contoso's synced Finance staff would join.
FINANCE: Final = {
    "displayName": "Finance",
    "membershipRule": 'user.department -eq "Finance"',
    "membershipRuleProcessingState": "On",
}
CTSYNC_APP_ID: Final = "6b1f0e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"  # ctsync's app registration in each tenant
HR_APP_ID: Final = "2d7c9e41-8f3a-4b6c-9d2e-5a1b7c3f0e68"  # Contoso's HR system, which changes its users
# The application permissions ctsync is granted in each tenant (what its preflight checks, and reads).
CTSYNC_ROLES: Final = (
    "Policy.ReadWrite.CrossTenantAccess",
    "Application.ReadWrite.All",
    "Synchronization.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
)
HR_ROLES: Final = ("User.ReadWrite.All", "GroupMember.ReadWrite.All", "Group.Read.All")
CYCLE: Final = 40 * 60  # the provisioning service's fixed interval, in seconds
# How far the clock moves between two looks at the initial cycle: the service spends a few seconds per user,
# so a step of 5 minutes per 270 users (the default scope) shows the cycle in 4 rows, whatever the scope.
STEP: Final = 5 * 60
USERS_PER_STEP: Final = 270
MAX_INITIAL_STEPS: Final = 24
PROGRESS_ROW: Final = "{:<8}{:<8}{:>8}{:>8}  {}"
RETURN_AFTER_DAYS: Final = 3  # a leaver comes back within the 30 days the recycle bin keeps the user
FAST_LANE_INTERVAL: Final = 15  # seconds between two delta rounds, the operator's --fast-lane-interval
# The new hire the fast lane provisions, and the one the lifecycle's next cycle does: names that sort after
# Contoso's seeded users, whom the lifecycle picks from the top.
FAST_HIRE: Final = {
    "displayName": "Valentina Vega",
    "mailNickname": "valentina.vega",
    "department": "Sales",
    "jobTitle": "Account Executive",
}
CYCLE_HIRE: Final = {
    "displayName": "Nina Novak",
    "mailNickname": "nina.novak",
    "department": "Engineering",
    "jobTitle": "Engineer",
}
PACE: Final = 0.2  # seconds between table rows on a terminal, so that a person can follow them


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "demo",
        run,
        help="synchronize Contoso into Fabrikam on a local Graph emulator (no cluster, no tenant needed)",
        description=__doc__,
    )
    parser.add_argument("--users", type=_user_count, default=300, metavar="N", help="Contoso's users (default 300)")
    parser.add_argument(
        "--manifests",
        metavar="DIR",
        help=f"one TenantPair, SyncScope and AttributeMappings to apply (default: examples/{EXAMPLE})",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep the emulator and /metrics running afterwards, with the clock at 60x, until Ctrl-C",
    )
    add_output_flag(parser)


def _user_count(text: str) -> int:
    if not text.isdigit() or not 20 <= int(text) <= 20_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of users between 20 and 20000")
    return int(text)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # With --output json, stdout carries only the summary: the story goes to stderr.
    console = Console(sys.stderr if args.output == "json" else sys.stdout)
    with tempfile.TemporaryDirectory(prefix="ctsync-demo-") as state_dir:
        asyncio.run(_demo(args, console, Path(state_dir), started))
    return EXIT_OK


class Console:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.style = Style(stream)
        self.pace = PACE if stream.isatty() else 0.0

    def say(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    async def row(self, text: str) -> None:
        self.say(text)
        await asyncio.sleep(self.pace)


@dataclass
class Tenants:
    """The seeded world, as the demo refers to it."""

    source_id: str
    target_id: str
    group: str  # the scope group the SyncScope names
    users: int
    in_group: int
    disabled: int


@dataclass
class Tally:
    """The ClientPool's RequestObserver: counts ctsync's Graph requests and feeds /metrics."""

    metrics: Metrics
    requests: int = 0

    def observe(self, role: str, method: str, route: str, status: int, seconds: float) -> None:
        self.requests += 1
        self.metrics.observe_graph(role, method, route, status, seconds)


@dataclass
class Run:
    """One demo: the emulator, ctsync's clients and the resources it applies."""

    sim: EntraSim
    control: httpx.AsyncClient  # the emulator's control API (/_entrasim)
    hr: GraphClient  # Contoso's HR system
    pool: ClientPool
    tally: Tally
    console: Console
    tenants: Tenants
    pair: TenantPair
    scope: SyncScope
    mappings: Sequence[AttributeMapping]
    elapsed: float = 0.0  # simulated seconds since the job started
    status: dict[str, Any] = field(default_factory=dict)  # the SyncScope's, as the operator would store it
    warnings: dict[str, str] = field(default_factory=dict)  # the SyncScope's warning conditions, type -> message
    steps: int = 0  # the walk-through's steps so far

    def heading(self, title: str) -> None:
        """The next step of the walk-through, numbered."""
        self.steps += 1
        self.console.say()
        self.console.say(self.console.style.bold(f"{self.steps}. {title}"))

    async def advance(self, seconds: float) -> None:
        """Moves the emulator's clock; it runs every provisioning cycle that falls due on the way."""
        reply = await self.control.post("/clock/advance", json={"seconds": seconds})
        reply.raise_for_status()
        self.elapsed += seconds

    async def state(self, tenant_id: str) -> dict[str, Any]:
        reply = await self.control.get("/state", params={"tenant": tenant_id})
        reply.raise_for_status()
        tenant: dict[str, Any] = reply.json()["tenants"][tenant_id]
        return tenant

    async def reconcile_pair(self) -> tuple[Outcome, Plan]:
        from ctsync.reconcile.tenantpair import reconcile_tenant_pair

        return await self._reconcile(self.pair, lambda seen: reconcile_tenant_pair(self.pair, self.pool, seen), {})

    async def reconcile_scope(self) -> tuple[Outcome, Plan]:
        """What the operator does on a change or its drift timer: the SyncScope's passes, from its status."""
        from ctsync.reconcile.syncscope import reconcile_sync_scope

        outcome, done = await self._reconcile(
            self.scope,
            lambda seen: reconcile_sync_scope(self.scope, self.pair, True, self.mappings, self.pool, seen),
            self.status,
        )
        self.status.update(outcome.status)
        # The conditions too, as the operator writes them: the fast lane runs only while Synced is True.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.status["conditions"] = set_conditions(self.status.get("conditions") or [], outcome.all_conditions(), now)
        return outcome, done

    async def _reconcile(
        self, resource: TenantPair | SyncScope, one_pass: Pass, status: Mapping[str, Any]
    ) -> tuple[Outcome, Plan]:
        from ctsync.reconcile.converge import converge

        started = time.perf_counter()
        converged = await converge(one_pass, status, resource.generation)
        outcome, done = converged.outcome, converged.applied
        seconds = time.perf_counter() - started
        self.tally.metrics.record_outcome(resource.kind, resource.namespace, resource.name, outcome, seconds)
        _require_ready(resource.ref, outcome)
        return outcome, done


async def _demo(args: argparse.Namespace, console: Console, state_dir: Path, started: float) -> None:
    import httpx

    from ctsync.graph.client import GraphClient
    from ctsync.graph.credentials import make_credential
    from ctsync.graph.endpoints import endpoints_for
    from ctsync.metrics import Metrics
    from ctsync.reconcile.connections import ClientPool
    from entrasim.server import EntraSim

    directory = Path(args.manifests) if args.manifests else shipped_dir("demo", "--manifests")
    documents = _documents(directory)
    tenants = _tenants(_resources(documents, directory), args.users)
    app_secret = secrets.token_urlsafe(24)
    async with contextlib.AsyncExitStack() as stack:
        sim = EntraSim(state_dir / "entrasim", time_scale=0).start()
        stack.callback(sim.stop)
        ca_file = str(sim.ca_path)
        trust = ssl.create_default_context(cafile=ca_file)
        control = httpx.AsyncClient(base_url=f"{sim.base_url}/_entrasim", verify=trust, timeout=60)
        stack.push_async_callback(control.aclose)
        reply = await control.post("/seed", json=_seed(tenants, app_secret))
        reply.raise_for_status()
        credentials = _point_at(documents, sim.base_url, app_secret, sim.ca_path.read_text())
        resources = _resources(documents, directory)

        async def read_secret(namespace: str, name: str) -> Mapping[str, str] | None:
            return credentials.get(name)

        metrics = Metrics()
        metrics_server = metrics.serve(0, "127.0.0.1")
        stack.callback(metrics_server.shutdown)
        metrics_url = f"http://127.0.0.1:{metrics_server.server_port}/metrics"
        tally = Tally(metrics)
        pool = ClientPool(read_secret, tally.observe)
        stack.push_async_callback(pool.close)
        endpoints = endpoints_for("Custom", sim.base_url, sim.base_url)
        hr_app = {"clientId": HR_APP_ID, "clientSecret": app_secret}
        hr = GraphClient(
            role="source",
            tenant_id=tenants.source_id,
            credential=make_credential(tenants.source_id, hr_app, endpoints, ca_file=ca_file),
            endpoints=endpoints,
            ca_file=ca_file,
        )
        stack.push_async_callback(hr.close)

        (pair,), (scope,) = resources.pairs.values(), resources.scopes.values()
        demo = Run(sim, control, hr, pool, tally, console, tenants, pair, scope, resources.mappings_of(scope))
        _introduce(demo, directory, metrics_url)
        for step in (_apply, _initial_cycle, _fast_lane, _lifecycle):  # each prints its own numbered heading(s)
            await step(demo)
        summary = await _summary(demo)
        summary.update(entrasim={"baseUrl": sim.base_url, "caPath": ca_file}, metrics=metrics_url)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        console.say()
        console.say(f"Done in {summary['seconds']:.1f} s ({_clock(demo.elapsed)} of simulated time).")
        if args.output == "json":
            print_json(summary, one_line=True)  # before --serve, so that a reader has it at once
        if args.serve:
            await _serve(demo, metrics_url)


# --- setting up -------------------------------------------------------------------------------------------


def _documents(directory: Path) -> list[Document]:
    documents, problems = load([str(directory)])
    if problems:
        raise CommandError(f"cannot read the manifests: {problems[0]}", "pass --manifests DIR")
    return documents


def _resources(documents: list[Document], directory: Path) -> Resources:
    """The manifests as `ctsync validate` checks them: one TenantPair and one SyncScope."""
    resources, problems = check(documents, load_schemas(None))
    if problems:
        raise CommandError(f"the manifests are invalid: {problems[0]}", f"ctsync validate {directory}")
    if len(resources.pairs) != 1 or len(resources.scopes) != 1:
        raise CommandError(f"{directory} must hold one TenantPair and one SyncScope", "pass --manifests DIR")
    return resources


def _tenants(resources: Resources, users: int) -> Tenants:
    """The tenants the manifests name: their tenant ids and their scope group become the emulator's."""
    (pair,), (scope,) = resources.pairs.values(), resources.scopes.values()
    groups = [g.display_name for g in scope.scope.groups if g.display_name]
    if not groups:
        raise CommandError(f"{scope.ref} names no group by displayName", "the demo seeds the group the SyncScope names")
    in_group = sum(1 for i in range(users) if _in_group(i))
    disabled = sum(1 for i in range(users) if _disabled(i))
    return Tenants(pair.source.tenant_id, pair.target.tenant_id, groups[0], users, in_group, disabled)


def _in_group(i: int) -> bool:
    return i % 10 != 9  # nine users in ten are in the scope group


def _disabled(i: int) -> bool:
    return i % 50 == 7  # a few accounts are disabled


def _seed(tenants: Tenants, app_secret: str) -> dict[str, Any]:
    """Contoso's users across departments, its scope group, and the app registrations of both tenants."""
    from entrasim.seed import generate

    source = generate(
        users=tenants.users,
        tenant_id=tenants.source_id,
        domain=SOURCE_DOMAIN,
        display_name="Contoso",
        groups=0,
        disabled_ratio=0.0,
    )["tenants"][0]
    for i, user in enumerate(source["users"]):
        user["accountEnabled"] = not _disabled(i)
    members = [u["userPrincipalName"] for i, u in enumerate(source["users"]) if _in_group(i)]
    source["groups"] = [{"displayName": tenants.group, "members": members}]
    target = generate(
        users=TARGET_STAFF, tenant_id=tenants.target_id, domain=TARGET_DOMAIN, display_name="Fabrikam", groups=0
    )["tenants"][0]
    target["groups"] = [dict(FINANCE)]

    def app(app_id: str, name: str, roles: Sequence[str]) -> dict[str, Any]:
        return {"appId": app_id, "displayName": name, "roles": list(roles), "secrets": [app_secret]}

    source["apps"] = [app(CTSYNC_APP_ID, "ctsync", CTSYNC_ROLES), app(HR_APP_ID, "Contoso HR", HR_ROLES)]
    target["apps"] = [app(CTSYNC_APP_ID, "ctsync", CTSYNC_ROLES)]
    return {"tenants": [source, target]}


def _point_at(documents: list[Document], base_url: str, app_secret: str, ca_pem: str) -> dict[str, dict[str, str]]:
    """Rewrites the TenantPair's clouds to Custom, served by the emulator; returns the Secrets it names, held
    in memory: ctsync's app registration in each tenant, and the emulator's CA."""
    (document,) = [d for d in documents if d.kind == constants.KIND_TENANT_PAIR]
    endpoints = {"authorityHost": base_url, "graphEndpoint": base_url, "caSecretRef": {"name": "entrasim-ca"}}
    app = {"clientId": CTSYNC_APP_ID, "clientSecret": app_secret}
    secrets_by_name = {"entrasim-ca": {"ca.crt": ca_pem}}
    for side in ("source", "target"):
        spec = document.body["spec"][side]
        spec.update(cloud="Custom", endpoints=dict(endpoints))
        secrets_by_name[spec["credentialsRef"]["name"]] = app
    return secrets_by_name


def _shown(path: Path) -> str:
    """A path as short as it can be said from the working directory."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def _introduce(demo: Run, directory: Path, metrics_url: str) -> None:
    say, style, t = demo.console.say, demo.console.style, demo.tenants
    say(style.bold("ctsync demo: Contoso's users synchronized into Fabrikam, on a local Graph emulator"))
    say()
    rows = [
        ["entrasim", f"{demo.sim.base_url}  (Graph, token endpoint, provisioning service; CA {demo.sim.ca_path})"],
        ["metrics", metrics_url],
        ["Contoso", f"source {t.source_id}: {t.users} users, {t.in_group} in group {t.group}, {t.disabled} disabled"],
        [
            "Fabrikam",
            f"target {t.target_id}: {TARGET_STAFF} users of its own, "
            f"dynamic group {FINANCE['displayName']} ({FINANCE['membershipRule']})",
        ],
        ["manifests", f"{_shown(directory)}: valid; each tenant's cloud rewritten to Custom (the emulator)"],
    ]
    for line in table((), rows):
        say("  " + line)


# --- applying the manifests --------------------------------------------------------------------------------


async def _apply(demo: Run) -> None:
    from ctsync.reconcile.attributemapping import reconcile_attribute_mapping

    say, style = demo.console.say, demo.console.style
    demo.heading(f"{demo.pair.ref}: cross-tenant access settings in both tenants")
    outcome, done = await demo.reconcile_pair()
    _show_done(demo, done)
    say(f"   {style.green('Ready')}: {outcome.message}")
    mapping_refs = ", ".join(m.ref for m in demo.mappings)
    demo.heading(f"{demo.scope.ref} and {mapping_refs}: the sync configuration in Contoso")
    outcome, done = await demo.reconcile_scope()
    _show_done(demo, done)
    say(f"   {style.green('Ready')}: {outcome.message}; job {demo.status.get('jobCode')}")
    for mapping in demo.mappings:
        mapped = reconcile_attribute_mapping(mapping, demo.status)
        _require_ready(mapping.ref, mapped)
        say(f"   {mapping.ref} {style.green('Ready')}: {mapped.message}")
    _warn(demo, outcome)


def _show_done(demo: Run, done: Plan) -> None:
    names = {"source": "Contoso (source)", "target": "Fabrikam (target)"}
    for tenant, actions in done.by_tenant().items():
        demo.console.say(f"   {names[tenant]}:")
        for action in actions:
            demo.console.say(f"     {demo.console.style.green('✓')} {action.summary}")


def _require_ready(ref: str, outcome: Outcome) -> None:
    if outcome.error is not None:
        raise CommandError(f"{ref}: {outcome.reason}: {outcome.message}", "rerun with --debug, and report it")


# --- provisioning ------------------------------------------------------------------------------------------


async def _initial_cycle(demo: Run) -> None:
    """The clock moves in steps while the initial cycle works through the scope, a few seconds per user."""
    say, style = demo.console.say, demo.console.style
    demo.heading("The initial provisioning cycle, on the simulated clock")
    say("   " + PROGRESS_ROW.format("TIME", "JOB", "IN SCOPE", "SYNCED", "PROGRESS"))
    step = STEP * max(1, round(demo.tenants.in_group / USERS_PER_STEP))
    for _ in range(MAX_INITIAL_STEPS):
        await demo.advance(step)
        await demo.reconcile_scope()
        scope, synced = int(demo.status.get("scopeSize") or 0), int(demo.status.get("syncedUsers") or 0)
        share = synced / scope if scope else 1.0
        bar = "█" * round(share * 20) + "░" * (20 - round(share * 20))
        bar = f"{style.green(bar) if share >= 1 else bar} {share:4.0%}"
        await demo.console.row(
            "   " + PROGRESS_ROW.format(f"+{_clock(demo.elapsed)}", demo.status.get("jobCode"), scope, synced, bar)
        )
        if demo.status.get("jobCode") == "Active" and demo.status.get("missingUsers") == 0:
            await _joined_dynamic_group(demo)
            _show_names(demo)
            return
    raise _went_wrong(f"the initial cycle had not finished after {_clock(demo.elapsed)} of simulated time")


def _clock(seconds: float, *, exact: bool = False) -> str:
    days, rest = divmod(int(seconds), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}" + (f":{rest % 60:02d}" if exact else "")
    return f"{days}d {text}" if days else text


# --- the guardrails ------------------------------------------------------------------------------------------


def _warn(demo: Run, outcome: Outcome) -> None:
    """The SyncScope's warning conditions, as the operator sets them, each with what to do about it."""
    style = demo.console.style
    for condition in outcome.conditions:
        if condition.type == conditions.DYNAMIC_GROUP_COLLISION and condition.status == "True":
            demo.warnings[condition.type] = condition.message
            demo.console.say(f"   {style.yellow('⚠')} {condition.type}: {condition.message}")
            demo.console.say(
                "     → they would get what the group grants in Fabrikam (licenses, apps, sites): "
                f"make its rule tell them apart, {_telling_apart(demo)}"
            )


def _telling_apart(demo: Run) -> str:
    """How a rule can leave out the synced users: by the constant companyName the mappings give them."""
    for mapping in (m for ms in demo.mappings for m in ms.mappings):
        if mapping.target.lower() == "companyname" and mapping.source.startswith('"'):
            return f"e.g. with -and (user.companyName -ne {mapping.source})"
    return "e.g. by a companyName the mappings set (docs/guardrails.md)"


async def _joined_dynamic_group(demo: Run) -> None:
    """After the cycle, the users Fabrikam's dynamic group took in, as the emulator holds them, against the
    number ctsync warned of."""
    target = await demo.state(demo.tenants.target_id)
    (group,) = [g for g in target["groups"] if g["displayName"] == FINANCE["displayName"]]
    members = set(group["members"])
    joined = sum(1 for u in target["users"] if u["id"] in members and SYNCED_MARK in u["userPrincipalName"].lower())
    warned = demo.warnings.get(conditions.DYNAMIC_GROUP_COLLISION, "")
    if joined or "synced user(s) match" in warned:
        name = group["displayName"]
        _expect(
            f"{joined} synced user(s) match" in warned, f"{joined} synced users joined {name}; ctsync warned {warned!r}"
        )
        ok = demo.console.style.green("✓")
        demo.console.say(f"   {ok} Fabrikam's dynamic group {name} took in the {joined} synced users ctsync warned of")


def _show_names(demo: Run) -> None:
    """The name synced users get in Fabrikam (status.upnSample), which ctsync knows once Fabrikam has one."""
    for entry in (demo.status.get("upnSample") or [])[:1]:
        demo.console.say(f"   names in Fabrikam (status.upnSample): {entry['source']} -> {entry['target']}")
        demo.console.say(
            "     → Fabrikam knows them by this name, not by their Contoso address: "
            "whatever finds people by name there (scripts, app rules) must use it"
        )


# --- the fast lane -------------------------------------------------------------------------------------------


async def _fast_lane(demo: Run) -> None:
    """spec.fastLane.enabled: a new hire is provisioned on demand at the next delta round, through the same
    FastLane.step the operator's daemon calls every --fast-lane-interval seconds, between two cycles."""
    from ctsync.api.syncscope import FastLane as FastLaneSpec
    from ctsync.reconcile.fast_lane import FastLane, Links, held_because

    say, style = demo.console.say, demo.console.style
    demo.heading("The fast lane: a new hire reaches Fabrikam on demand, without waiting for the cycle")
    scope = replace(demo.scope, fast_lane=FastLaneSpec(enabled=True))
    held = held_because(scope, demo.pair, True, demo.status)
    _expect(held is None, f"the fast lane is held: {held}")
    source = (await demo.pool.for_pair(demo.pair)).source
    lane, provisioned = FastLane(scope, Links()), []

    def record(change: Change, result: OnDemandResult, seconds: float) -> None:
        provisioned.append(result.outcome)
        demo.tally.metrics.record_on_demand(scope.namespace, scope.name, result.outcome, seconds, result.change_id)

    async def one_round() -> None:
        await lane.step(source, demo.status, lambda: demo.elapsed, demo.advance, record)

    say(f"   spec.fastLane.enabled: true; a delta round of Contoso every {FAST_LANE_INTERVAL} s")
    await one_round()  # the first round reads the scope whole, a baseline: nobody is provisioned
    say(f"   +{_clock(demo.elapsed, exact=True)}  baseline round: Contoso's changes are followed from here on")
    from ctsync.graph.cts import SourceTenant

    (group,) = await SourceTenant(demo.hr).groups_named(demo.tenants.group)
    joined = demo.elapsed
    upn = await _hire(demo, group["id"], FAST_HIRE)
    say(f"   +{_clock(joined, exact=True)}  {FAST_HIRE['displayName']} joins Contoso and {demo.tenants.group}")
    await demo.advance(FAST_LANE_INTERVAL)
    await one_round()
    _expect(provisioned == ["created"], f"the fast lane provisioned {provisioned}, not one new user")
    created = await _in_target(demo, upn)
    seen = demo.elapsed
    say(
        f"   +{_clock(seen, exact=True)}  {style.green('✓')} in Fabrikam as {created['userPrincipalName']}: "
        f"provisioned on demand, {seen - joined:.0f} s after joining"
    )
    cycle = _next_cycle(demo)
    say(
        f"     → the next cycle starts at +{_clock(cycle, exact=True)}, "
        f"{(cycle - joined) / 60:.0f} minutes after she joined: the fast lane did not wait for it"
    )


def _next_cycle(demo: Run) -> float:
    """When the job's next cycle starts, in the demo's simulated seconds: cycles run 40 minutes apart from
    start to start, and the demo started the job at +00:00."""
    return (demo.elapsed // CYCLE + 1) * CYCLE


async def _hire(demo: Run, group_id: str, user: Mapping[str, str]) -> str:
    """Contoso's HR system creates an enabled user and adds it to the scope group; returns its name."""
    upn = f"{user['mailNickname']}@{SOURCE_DOMAIN}"
    password = {"password": secrets.token_urlsafe(16), "forceChangePasswordNextSignIn": True}
    body = {**user, "accountEnabled": True, "userPrincipalName": upn, "passwordProfile": password}
    hire = await demo.hr.post("/users", body)
    await _add_to_group(demo, group_id, (hire or {})["id"])
    return upn


async def _add_to_group(demo: Run, group_id: str, user_id: str) -> None:
    member = {"@odata.id": f"{demo.sim.base_url}/v1.0/directoryObjects/{user_id}"}
    await demo.hr.post(f"/groups/{group_id}/members/$ref", member)


# --- the lifecycle of users ---------------------------------------------------------------------------------


def _external_upn(source_upn: str) -> str:
    """The name cross-tenant synchronization gives a user in the target. Spelt out here rather than taken
    from ctsync, so that the demo's checks do not share ctsync's assumptions."""
    return f"{source_upn.replace('@', '_')}#EXT#@{TARGET_DOMAIN}".lower()


async def _lifecycle(demo: Run) -> None:
    from ctsync.graph.cts import SourceTenant

    say, style = demo.console.say, demo.console.style
    demo.heading("Lifecycle: Contoso's HR system changes users, the next cycle carries it into Fabrikam")
    source = SourceTenant(demo.hr)
    (group,) = await source.groups_named(demo.tenants.group)
    members = sorted(
        (u for u in await source.direct_member_users(group["id"]) if u.get("accountEnabled")),
        key=lambda u: u["userPrincipalName"],
    )
    leaver, returner, disabled = members[0], members[1], members[2]

    def done(text: str) -> None:
        say(f"     {style.green('✓')} {text}")

    new_upn = await _hire(demo, group["id"], CYCLE_HIRE)
    await _step(demo, "new hire", f"{CYCLE_HIRE['displayName']} joins Contoso and {demo.tenants.group}")
    created = await _in_target(demo, new_upn)
    _expect(created.get("accountEnabled") is True, f"{new_upn} was created disabled")
    done(f"created in Fabrikam as {created['userPrincipalName']}, companyName {created.get('companyName')!r}")

    for user in (leaver, returner):
        await demo.hr.delete(f"/groups/{group['id']}/members/{user['id']}/$ref")
    await _step(demo, "leavers", f"{_upns(leaver, returner)} leave {demo.tenants.group}")
    gone = [await _in_target(demo, u["userPrincipalName"], deleted=True) for u in (leaver, returner)]
    done("both soft-deleted in Fabrikam: in its recycle bin, restorable for 30 days")

    await demo.hr.patch(f"/users/{disabled['id']}", {"accountEnabled": False})
    await _step(demo, "disabled", f"{_upns(disabled)}'s Contoso account is disabled")
    target = await _in_target(demo, disabled["userPrincipalName"])
    _expect(target.get("accountEnabled") is False, "the account is still enabled in Fabrikam")
    done("disabled in Fabrikam")

    await demo.advance(RETURN_AFTER_DAYS * 86400)
    await _add_to_group(demo, group["id"], returner["id"])
    await _step(demo, "return", f"{RETURN_AFTER_DAYS} days later, {_upns(returner)} rejoins {demo.tenants.group}")
    restored = await _in_target(demo, returner["userPrincipalName"])
    _expect(restored["id"] == gone[1]["id"], "a new user was created instead of restoring the deleted one")
    done(f"restored from Fabrikam's recycle bin: the same user, object id {restored['id']}")


def _upns(*users: Mapping[str, Any]) -> str:
    return " and ".join(str(u["userPrincipalName"]) for u in users)


async def _step(demo: Run, label: str, what: str) -> None:
    """One change in Contoso, then the cycle that picks it up and the operator's next look."""
    demo.console.say(f"   {demo.console.style.bold(label.ljust(9))} {what}")
    await demo.advance(CYCLE)
    await demo.reconcile_scope()
    synced, scope = demo.status.get("syncedUsers"), demo.status.get("scopeSize")
    deleted = demo.status.get("softDeletedUsers")
    demo.console.say(f"     by +{_clock(demo.elapsed)}: {synced} of {scope} in scope synced, {deleted} soft-deleted")


async def _in_target(demo: Run, source_upn: str, *, deleted: bool = False) -> dict[str, Any]:
    """Fabrikam's user for a Contoso user, as the emulator holds it: live, or in the recycle bin."""
    state = await demo.state(demo.tenants.target_id)
    wanted = _external_upn(source_upn)
    users = state["deletedItems"] if deleted else state["users"]
    found = next((u for u in users if str(u.get("userPrincipalName", "")).lower() == wanted), None)
    if found is None:
        raise _went_wrong(f"{wanted} is not {'in the recycle bin' if deleted else 'a user'} of Fabrikam")
    return dict(found)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _went_wrong(message)


def _went_wrong(message: str) -> CommandError:
    return CommandError(f"the demo went wrong: {message}", "rerun with --debug, and report it")


# --- the summary, checked ----------------------------------------------------------------------------------


async def _summary(demo: Run) -> dict[str, Any]:
    """ctsync's numbers (the SyncScope's status) next to the emulator's, which they must equal."""
    await demo.reconcile_scope()
    status = demo.status
    reported = {
        "scope": status.get("scopeSize"),
        "synced": status.get("syncedUsers"),
        "disabled": status.get("syncedDisabledUsers"),
        "softDeleted": status.get("softDeletedUsers"),
        "missing": status.get("missingUsers"),
        "graphRequests": demo.tally.requests,
    }
    truth = await _truth(demo)
    say, style = demo.console.say, demo.console.style
    demo.heading(f"Summary: {demo.scope.ref} as ctsync reports it, checked against entrasim's state")
    headers = ["IN SCOPE", "SYNCED", "DISABLED", "SOFT-DELETED", "MISSING", "JOB", "GRAPH REQUESTS"]
    keys = ("scope", "synced", "disabled", "softDeleted", "missing")
    for line in table(headers, [[*(reported[k] for k in keys), status.get("jobCode"), demo.tally.requests]]):
        say("   " + line)
    wrong = {key: (reported[key], truth[key]) for key in truth if reported[key] != truth[key]}
    if wrong:
        detail = ", ".join(f"{key}: ctsync {mine}, entrasim {theirs}" for key, (mine, theirs) in wrong.items())
        say("   " + style.alarm(f"✗ disagrees with entrasim's state: {detail}"))
        raise CommandError(f"the demo's summary disagrees with entrasim's state: {detail}", "report it")
    say(f"   {style.green('✓')} equal to entrasim's own state and request log")
    return {**reported, "jobCode": status.get("jobCode"), "checked": True}


async def _truth(demo: Run) -> dict[str, int]:
    """The same numbers, from the emulator's state dump and request log rather than through Graph."""
    source, target = await demo.state(demo.tenants.source_id), await demo.state(demo.tenants.target_id)
    (group,) = [g for g in source["groups"] if g["displayName"] == demo.tenants.group]
    members = set(group["members"])
    in_scope = {
        _external_upn(u["userPrincipalName"])
        for u in source["users"]
        if u["id"] in members and u.get("userType", "Member") == "Member"
    }
    synced = [u for u in target["users"] if str(u.get("userPrincipalName", "")).lower() in in_scope]
    reply = await demo.control.get("/requests")
    reply.raise_for_status()
    requests = sum(1 for r in reply.json()["requests"] if r.get("app_id") == CTSYNC_APP_ID)
    return {
        "scope": len(in_scope),
        "synced": len(synced),
        "disabled": sum(1 for u in synced if u.get("accountEnabled") is False),
        "softDeleted": sum(
            1 for u in target["deletedItems"] if SYNCED_MARK in str(u.get("userPrincipalName", "")).lower()
        ),
        "missing": len(in_scope) - len(synced),
        "graphRequests": requests,
    }


# --- --serve ----------------------------------------------------------------------------------------------


async def _serve(demo: Run, metrics_url: str) -> None:
    """Keeps the emulator and /metrics up, time running at 60x (a cycle every 40 s), the SyncScope reconciled
    every 15 s as the drift timer would, until SIGINT or SIGTERM."""
    reply = await demo.control.post("/config", json={"timeScale": 60})
    reply.raise_for_status()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    say = demo.console.say
    say()
    say(f"Serving until Ctrl-C: entrasim {demo.sim.base_url} (CA {demo.sim.ca_path}), metrics {metrics_url}")
    say(f"  e.g. curl --cacert {demo.sim.ca_path} {demo.sim.base_url}/_entrasim/state")
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=15)
        if not stop.is_set():
            await demo.reconcile_scope()
