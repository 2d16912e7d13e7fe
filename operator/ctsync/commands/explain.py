"""`ctsync explain [KIND/][NAMESPACE/]NAME [PATH...]`: one screen on a SyncScope (or a TenantPair) for
whoever is paged about it.

What the pair and the scope are, whether each tenant matches the spec, the job's state and last cycle, users
in scope against synced, disabled, soft-deleted and missing ones, every active warning with its reason and a
fix, the provisioning failures of the last 24 hours grouped by reason, and the next steps.

The objects come from the cluster (the status the operator wrote, too), or from manifests (PATH...) as for
`ctsync plan`. Both tenants are read now with the operator's own passes, as dry runs: explain never writes.
Credentials come from the Secrets the TenantPair names, read through the kubeconfig, or from --credentials.
When the tenants cannot be read, the report says why and shows the status the operator wrote.

Exit codes: 0 nothing needs attention, 3 something does (a warning, pending changes, provisioning
failures, tenants that could not be read), 1 error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from ctsync.api import constants
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.commands import (
    EXIT_ATTENTION,
    EXIT_OK,
    CommandError,
    Subparsers,
    add_cluster_flags,
    add_command,
    add_output_flag,
)
from ctsync.commands.output import Style, age, print_json
from ctsync.commands.plan import Secrets, credentials_file, read_manifests
from ctsync.commands.validate import MODELS, Resources, add_crds_flag
from ctsync.errors import InvalidSpec

if TYPE_CHECKING:  # the reconcilers bring the Graph SDK: imported when the command runs
    from ctsync.commands.kube import Cluster
    from ctsync.reconcile.explain import Explanation

KINDS: Final = {
    "syncscope": constants.KIND_SYNC_SCOPE,
    "syncscopes": constants.KIND_SYNC_SCOPE,
    "tenantpair": constants.KIND_TENANT_PAIR,
    "tenantpairs": constants.KIND_TENANT_PAIR,
}
PLURALS: Final = {
    constants.KIND_TENANT_PAIR: constants.PLURAL_TENANT_PAIRS,
    constants.KIND_SYNC_SCOPE: constants.PLURAL_SYNC_SCOPES,
    constants.KIND_ATTRIBUTE_MAPPING: constants.PLURAL_ATTRIBUTE_MAPPINGS,
}
MESSAGE_WIDTH: Final = 220  # longer messages are cut in text (JSON has them whole)


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "explain",
        run,
        help="explain one sync scope or tenant pair: state, warnings with fixes, failures, next steps",
        description=__doc__,
    )
    parser.add_argument("name", metavar="[KIND/][NAMESPACE/]NAME", help="kind syncscope (default) or tenantpair")
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="manifests to read the objects from (default: the cluster)"
    )
    parser.add_argument("--namespace", "-n", help="the namespace (default: the kubeconfig context's, else default)")
    parser.add_argument(
        "--credentials", metavar="FILE", help="YAML map of Secret name -> data, instead of reading the cluster"
    )
    add_cluster_flags(parser)
    add_crds_flag(parser)
    add_output_flag(parser)


def parse_name(text: str) -> tuple[str, str | None, str]:
    """(kind, namespace or None, name) of KIND/NAMESPACE/NAME, KIND/NAME or NAME."""
    parts = text.split("/")
    kind = constants.KIND_SYNC_SCOPE
    if len(parts) > 1 and parts[0].lower() in KINDS:
        kind = KINDS[parts.pop(0).lower()]
    if len(parts) > 2 or not all(parts):
        raise CommandError(f"cannot read {text!r} as [KIND/][NAMESPACE/]NAME", "e.g. syncscope/tenants/contoso")
    return kind, parts[0] if len(parts) == 2 else None, parts[-1]


def run(args: argparse.Namespace) -> int:
    from ctsync.commands.kube import Cluster

    kind, named_namespace, name = parse_name(args.name)
    cluster = None if args.paths and args.credentials else Cluster(args.kubeconfig, args.context)
    try:
        namespace = named_namespace or args.namespace or (cluster.namespace if cluster else "default")
        if args.namespace and named_namespace and args.namespace != named_namespace:
            raise CommandError(f"{args.name} names namespace {named_namespace}, --namespace says {args.namespace}")
        if args.paths:
            resources, stored = read_manifests(args, namespace, "explain"), _stored_of(cluster)
        else:
            assert cluster is not None
            resources, stored = _from_cluster(cluster, namespace)
        secrets = Secrets(credentials_file(args.credentials) if args.credentials else None, cluster)
        explanation = asyncio.run(_explain(resources, kind, namespace, name, stored, secrets))
    finally:
        if cluster is not None:
            cluster.close()
    if args.output == "json":
        print_json(explanation.to_dict())
    else:
        for line in render(explanation, Style(sys.stdout), datetime.now(UTC)):
            print(line)
    return EXIT_OK if explanation.healthy else EXIT_ATTENTION


Stored = Callable[[Any], Mapping[str, Any]]  # a model -> the status the operator wrote for it


def _stored_of(cluster: Cluster | None) -> Stored:
    """For objects read from manifests: their status in the cluster, if there is one."""
    if cluster is None:
        return lambda model: {}
    return lambda model: cluster.status(PLURALS[model.kind], model.namespace, model.name)


def _from_cluster(cluster: Cluster, namespace: str) -> tuple[Resources, Stored]:
    """The ctsync objects of a namespace, and their status."""
    resources, stored = Resources(), {}
    for kind, plural in PLURALS.items():
        for body in cluster.list(plural, namespace):
            try:
                model = MODELS[kind](body)
            except InvalidSpec as exc:
                raise CommandError(f"{kind} {namespace}/{body['metadata']['name']}: {exc.message}") from None
            resources.add(model)
            stored[(kind, namespace, model.name)] = body.get("status") or {}
    return resources, lambda model: stored.get((model.kind, model.namespace, model.name)) or {}


async def _explain(
    resources: Resources, kind: str, namespace: str, name: str, stored: Stored, secrets: Secrets
) -> Explanation:
    from ctsync.reconcile.connections import ClientPool
    from ctsync.reconcile.explain import View, assemble, read_live

    pair, scope = _find(resources, kind, namespace, name)
    mappings = resources.mappings_of(scope) if scope else []

    pool = ClientPool(secrets.read)
    try:
        read = await read_live(
            pair, scope, mappings, pool, (stored(pair), stored(scope) if scope else {}), datetime.now(UTC)
        )
    finally:
        await pool.close()
    if read.error and secrets.missing:
        read.error = f"{read.error} (hint: {secrets.hint()})"
    if not read.mappings:  # not read now: as the operator last reported them
        read.mappings = [View.stored(stored(m)) for m in mappings]
    return assemble(pair, scope, mappings, read, live=True)


def _find(resources: Resources, kind: str, namespace: str, name: str) -> tuple[TenantPair, SyncScope | None]:
    if kind == constants.KIND_TENANT_PAIR:
        pair = resources.pairs.get((namespace, name))
        if pair is None:
            raise CommandError(f"TenantPair {namespace}/{name} not found", "check the name and --namespace")
        return pair, None
    scope = resources.scopes.get((namespace, name))
    if scope is None:
        raise CommandError(f"SyncScope {namespace}/{name} not found", "check the name and --namespace")
    found = resources.pair_of(scope)
    if found is None:
        raise CommandError(
            f"{scope.ref} names TenantPair {scope.tenant_pair_name}, which is not found",
            "create the TenantPair, or pass its manifest",
        )
    return found, scope


# --- text ---------------------------------------------------------------------------------------------------


def render(explanation: Explanation, style: Style, now: datetime) -> list[str]:
    pair, scope = explanation.pair, explanation.scope
    lines = [_headline(explanation, style)]
    if not explanation.live:
        lines.append(style.yellow(f"  tenants not read now ({explanation.live_error}); shown as last reported"))
    lines += ["", f"Pair    {pair['ref']}: source {pair['sourceTenantId']} -> target {pair['targetTenantId']}"]
    lines.append(f"        {_policy(pair)}; Ready {_ready(pair['ready'])}")
    lines += _reported(pair, explanation.live)
    if scope is not None:
        lines += _scope_lines(scope, now, read=explanation.tenants is not None, live=explanation.live)
    lines += _tenant_lines(explanation, style)
    lines += _warning_lines(explanation, style)
    lines += _failure_lines(explanation)
    lines += ["", "Next steps"] + [f"  {i}. {step}" for i, step in enumerate(explanation.next_steps, 1)]
    return lines


def _headline(explanation: Explanation, style: Style) -> str:
    ref = style.bold((explanation.scope or explanation.pair)["ref"])
    if explanation.healthy:
        return f"{ref}: {style.green('healthy')}, nothing needs attention"
    failures = explanation.failures
    counts = [f"{len(explanation.warnings)} warning(s)"]
    if failures and failures.groups:
        counts.append(f"{sum(g.count for g in failures.groups)} provisioning failure(s)")
    return f"{ref}: {style.yellow('needs attention')} ({', '.join(counts)})"


def _policy(resource: Mapping[str, Any]) -> str:
    return f"managementPolicy {resource['managementPolicy']}" + (", suspended" if resource["suspend"] else "")


def _ready(ready: Mapping[str, Any]) -> str:
    return f"{ready['status']} {ready['reason']}".rstrip() + (f": {_cut(ready['message'])}" if ready["message"] else "")


def _reported(resource: Mapping[str, Any], live: bool) -> list[str]:
    """The operator's last word, when the line above is a fresh read that may say otherwise."""
    reported = resource.get("reported")
    if not live or reported is None:
        return []
    stale = "" if reported["current"] else " (before the latest spec)"
    return [f"        the operator reported Ready {_ready(reported)}{stale}"]


def _scope_lines(scope: Mapping[str, Any], now: datetime, *, read: bool, live: bool) -> list[str]:
    """`read`: the source was read now, so a job that is not there does not exist yet."""
    who = (
        "every member of the source"
        if scope["syncAll"]
        else ", ".join([f"group {g}" for g in scope["groups"]] + [f"user {u}" for u in scope["users"]])
    )
    filters = f"; {scope['scopingFilters']} scoping filter(s)" if scope["scopingFilters"] else ""
    job, counts = scope["job"], scope["counts"]
    code = job["jobCode"] or ("not created yet" if read else "unknown")
    lines = [
        f"Scope   configuration {scope['configurationName']!r}: {who or 'nobody'}{filters}",
        f"        {_policy(scope)}; Ready {_ready(scope['ready'])}",
        *_reported(scope, live),
        f"Job     {code}; last cycle {_ago(job['lastExecutionTime'], now)}, "
        f"last success {_ago(job['lastSuccessfulExecutionTime'], now)}; "
        f"{job['successiveFailures'] or 0} successive failure(s)",
    ]
    quarantine = job.get("quarantine")
    if quarantine:
        lines.append(
            f"        quarantined since {quarantine.get('since')}: {quarantine.get('reason')} "
            f"({quarantine.get('error') or 'no error code'}); next attempt {quarantine.get('nextAttempt')}"
        )
    if job.get("estimatedCycleCompletion"):
        lines.append(f"        current cycle expected to finish at {job['estimatedCycleCompletion']}")
    if counts["scopeSize"] is None:
        lines.append("Users   not counted yet")
    else:
        lines.append(
            f"Users   {counts['scopeSize']} in scope: {counts['syncedUsers'] or 0} synced "
            f"({counts['syncedDisabledUsers'] or 0} disabled), {counts['softDeletedUsers'] or 0} soft-deleted, "
            f"{counts['missingUsers'] or 0} missing; {counts['orphanedUsers'] or 0} orphaned in the target"
        )
    if scope["upnExample"]:
        example = scope["upnExample"]
        lines.append(f"        named in the target like {example['target']} (from {example['source']})")
    return lines


def _tenant_lines(explanation: Explanation, style: Style) -> list[str]:
    tenants = explanation.tenants
    if tenants is None:
        return ["Tenants not compared with the spec: a pass failed or read nothing (see Ready above)"]
    lines = []
    for tenant in ("source", "target"):
        changes = tenants[tenant]
        state = style.green("matches the spec") if not changes else style.yellow(f"{len(changes)} change(s) pending")
        lines.append(f"{'Tenants' if tenant == 'source' else '':8}{tenant}: {state}")
        lines += [f"          {change}" for change in changes[:5]]
        if len(changes) > 5:
            lines.append(f"          … and {len(changes) - 5} more (--output json lists them)")
    if explanation.held:
        lines.append(f"        {len(explanation.held)} change(s) held, not written (see the warnings)")
    return lines


def _warning_lines(explanation: Explanation, style: Style) -> list[str]:
    if not explanation.warnings:
        return ["", "Warnings: none"]
    lines = ["", f"Warnings ({len(explanation.warnings)})"]
    for w in explanation.warnings:
        # Whole: a warning's message names every policy or group concerned, those not evaluated last.
        lines.append(f"  {style.yellow('!')} {w.resource}: {w.condition} {w.status} {w.reason}: {w.message}")
        lines.append(f"    fix: {w.fix} ({w.docs})")
    return lines


def _failure_lines(explanation: Explanation) -> list[str]:
    failures = explanation.failures
    if failures is None:
        return []
    if failures.unread:
        return ["", f"Provisioning failures: not read: {failures.unread}"]
    more = "" if failures.complete else ", the first ones only"
    head = f"Provisioning failures since {failures.since} ({failures.entries_read} log entries read{more})"
    if not failures.groups:
        return ["", f"{head}: none"]
    lines = ["", head]
    for g in failures.groups:
        codes = ", ".join(g.error_codes) or "no error code"
        lines.append(f"  {g.count} {g.reason} ({codes}), last at {g.last_seen}: {_cut(g.example)}")
    return lines


def _ago(timestamp: str | None, now: datetime) -> str:
    text = age(timestamp, now)
    return "never" if text == "-" else f"{text} ago"


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 1] + "…"
