"""`ctsync plan PATH...` and `ctsync apply PATH...`: what the manifests change in both tenants, and doing it.

Both run the operator's reconcilers on the manifests, without a cluster in between: `plan` with
dry_run=True (reads only), `apply` for real, with the same safety rules (the scope-shrink gate, no
removal after an incomplete read). A SyncScope is planned once its TenantPair has nothing left to change:
its configuration needs the pair's partner policies in place. Like the operator, neither writes for a
resource in managementPolicy Observe, nor for a SyncScope whose TenantPair is in Observe or suspended: they
show what is held and why.

Credentials come from the Secrets the TenantPairs name, read through a kubeconfig, or from a local file
(--credentials) that maps Secret names to their data, for CI:

  contoso-ctsync-credentials: {clientId: ..., clientSecret: ...}
  fabrikam-ctsync-credentials: {clientId: ..., tls.crt: ..., tls.key: ...}

Exit codes: plan 0 no changes, 2 changes, 1 error; apply 0 done, 1 error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import yaml

from ctsync.api import conditions, constants
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.commands import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    CommandError,
    Subparsers,
    add_cluster_flags,
    add_command,
    add_output_flag,
)
from ctsync.commands.manifests import Document, Problem, load
from ctsync.commands.output import Style, plan_lines, print_json
from ctsync.commands.validate import Resources, add_crds_flag, check, load_schemas
from ctsync.planning.cycle_estimate import CycleEstimate, rfc3339
from ctsync.planning.plan import Plan

if TYPE_CHECKING:  # the reconcilers bring the Graph SDK: imported when a command runs (see ctsync.commands)
    from ctsync.commands.kube import Cluster
    from ctsync.reconcile.connections import ClientPool
    from ctsync.reconcile.outcome import Outcome

State = Literal["unchanged", "changes", "applied", "held", "waiting", "skipped", "failed"]
SUMMARY_LABELS: Final[dict[State, str]] = {
    "changes": "with changes",
    "applied": "applied",
    "held": "with changes held",
    "waiting": "waiting for their TenantPair",
    "unchanged": "unchanged",
    "skipped": "skipped",
    "failed": "failed",
}
HINTS: Final = {
    conditions.AUTHENTICATION_FAILED: "check tenantId, and clientId with clientSecret (or tls.crt and tls.key) "
    "in the credentials Secret",
    conditions.PERMISSION_MISSING: "grant the app registration the permission named, with admin consent",
    conditions.GRAPH_UNAVAILABLE: "check the tenant's cloud (or endpoints) and the network, then retry",
    conditions.THROTTLED: "retry after the time Graph asked for",
    conditions.READ_INCOMPLETE: "retry; nothing is removed while a read is incomplete",
    conditions.AWAITING_REPLICATION: "retry in a few seconds: Graph does not show a new object on every replica yet",
}


@dataclass
class Result:
    """What plan or apply concluded about one TenantPair or SyncScope."""

    resource: TenantPair | SyncScope
    state: State
    message: str
    plan: Plan = field(default_factory=Plan)  # what is pending (plan) or what was done (apply)
    held: Plan = field(default_factory=Plan)  # what is pending but may not be written (reconcile.gate)
    reason: str = ""
    hint: str = ""
    users_leaving: int | None = None  # SyncScope: users in scope now that the plan takes out of it
    status: dict[str, Any] = field(default_factory=dict)  # SyncScope after apply: job, scope and synced counts
    dynamic_groups: list[str] = field(default_factory=list)  # SyncScope: target dynamic groups users join/leave
    cycle_estimate: CycleEstimate | None = None  # SyncScope: the cycle that creates a bulk of users entering scope

    def to_dict(self) -> dict[str, Any]:
        resource = self.resource
        return {
            "kind": resource.kind,
            "namespace": resource.namespace,
            "name": resource.name,
            "state": self.state,
            "message": self.message,
            "reason": self.reason,
            "hint": self.hint,
            "usersLeavingScope": self.users_leaving,
            "dynamicGroups": self.dynamic_groups,
            "cycleEstimate": _estimate(self.cycle_estimate),
            "actions": _actions(self.plan),
            "heldActions": _actions(self.held),
            "status": self.status,
        }


def _estimate(estimate: CycleEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "usersEnteringScope": estimate.users,
        "durationSeconds": estimate.duration.total_seconds(),
        "fastestSeconds": estimate.fastest.total_seconds(),
        "slowestSeconds": estimate.slowest.total_seconds(),
        "completion": rfc3339(estimate.completion),
    }


def _actions(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "tenant": a.tenant,
            "step": a.step,
            "verb": a.verb,
            "summary": a.summary,
            "destructive": a.destructive,
            "risks": list(a.risks),
            "changes": {name: list(values) for name, values in a.changes.items()},
        }
        for a in plan.actions
    ]


def register(subparsers: Subparsers) -> None:
    for name, run, summary in (
        ("plan", run_plan, "show what the manifests would change in both tenants (reads only)"),
        ("apply", run_apply, "change both tenants to match the manifests, as the operator would"),
    ):
        parser = add_command(subparsers, name, run, help=summary, description=__doc__)
        parser.add_argument("paths", nargs="+", metavar="PATH", help="YAML files or directories")
        parser.add_argument(
            "--namespace",
            "-n",
            help="namespace of the objects that name none (default: the kubeconfig context's, else default); "
            "the operator recognizes what it manages by namespace/name",
        )
        parser.add_argument(
            "--credentials", metavar="FILE", help="YAML map of Secret name -> data, instead of reading the cluster"
        )
        add_cluster_flags(parser)
        add_crds_flag(parser)
        add_output_flag(parser)


def run_plan(args: argparse.Namespace) -> int:
    results = _run(args, dry_run=True)
    if any(r.state == "failed" for r in results):
        return EXIT_ERROR
    return EXIT_CHANGES if any(r.state in ("changes", "waiting") for r in results) else EXIT_OK


def run_apply(args: argparse.Namespace) -> int:
    results = _run(args, dry_run=False)
    return EXIT_ERROR if any(r.state == "failed" for r in results) else EXIT_OK


def _run(args: argparse.Namespace, *, dry_run: bool) -> list[Result]:
    from ctsync.commands.kube import Cluster

    command = "plan" if dry_run else "apply"
    cluster = None if args.credentials else Cluster(args.kubeconfig, args.context)
    try:
        namespace = args.namespace or (cluster.namespace if cluster else "default")
        resources = read_manifests(args, namespace, command)
        if not resources.pairs:
            raise CommandError("no TenantPair in the manifests given", "pass the directory holding the TenantPair")
        secrets = Secrets(credentials_file(args.credentials) if args.credentials else None, cluster)
        results = asyncio.run(_reconcile_all(resources, secrets, cluster, dry_run=dry_run))
    finally:
        if cluster is not None:
            cluster.close()
    if args.output == "json":
        changes = any(r.state in ("changes", "waiting", "applied") for r in results)
        print_json({"command": command, "changes": changes, "resources": [r.to_dict() for r in results]})
    else:
        _print_results(results, dry_run)
    return results


def read_manifests(args: argparse.Namespace, namespace: str, command: str) -> Resources:
    """The valid objects of the manifests `args.paths`, in `namespace` unless they name one; any problem
    is reported (on stdout as JSON with --output json) and ends the command."""
    documents, problems = load(args.paths)
    problems += _set_namespace(documents, namespace)
    resources, found = check(documents, load_schemas(args.crds))
    problems += found
    if problems:
        _report_problems(problems, args.output, command)
    return resources


def _set_namespace(documents: list[Document], namespace: str) -> list[Problem]:
    """Puts objects that name no namespace into `namespace`, and refuses objects that name another one
    (as kubectl does when given -n)."""
    problems = []
    for document in documents:
        metadata = document.body.get("metadata") if isinstance(document.body, dict) else None
        if not document.is_ctsync or not isinstance(metadata, dict):
            continue
        named = metadata.setdefault("namespace", namespace)
        if named != namespace:
            problems.append(
                document.problem(
                    f"{document.kind} {document.name}: namespace {named!r} differs from --namespace {namespace!r}",
                    "metadata.namespace",
                )
            )
    return problems


def _report_problems(problems: list[Problem], output: str, command: str) -> None:
    if output == "json":
        print_json({"command": command, "problems": [p.to_dict() for p in problems], "resources": []})
    for problem in sorted(problems, key=lambda p: (p.path, p.line)):
        print(problem, file=sys.stderr)
    raise CommandError(
        f"{len(problems)} problem(s) in the manifests; nothing was read from or written to the tenants",
        "`ctsync validate PATH...` checks manifests offline",
    )


def credentials_file(path: str) -> dict[str, dict[str, str]]:
    shape = "a YAML map of Secret name -> {key: value}, e.g. 'contoso-credentials: {clientId: ..., clientSecret: ...}'"
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise CommandError(f"cannot read --credentials {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CommandError(f"--credentials {path} is not valid YAML: {exc}", f"it must be {shape}") from None
    valid = isinstance(data, dict) and all(
        isinstance(values, dict) and all(isinstance(v, str) for v in values.values()) for values in data.values()
    )
    if not valid:
        raise CommandError(f"--credentials {path} has the wrong shape", f"it must be {shape}")
    return {str(name): {str(k): v for k, v in values.items()} for name, values in data.items()}


class Secrets:
    """The ClientPool's Secret reader, from the credentials file or the cluster; it remembers which Secrets
    were missing, so that an error can say where to add them."""

    def __init__(self, file_data: Mapping[str, Mapping[str, str]] | None, cluster: Cluster | None) -> None:
        self._file = file_data
        self._cluster = cluster
        self.missing: set[tuple[str, str]] = set()  # (namespace, name)

    async def read(self, namespace: str, name: str) -> Mapping[str, str] | None:
        if self._file is not None:
            found = self._file.get(name)
        else:
            assert self._cluster is not None
            found = self._cluster.secret(namespace, name)
        if found is None:
            self.missing.add((namespace, name))
        return found

    def hint(self) -> str:
        if not self.missing:
            return ""
        if self._file is not None:
            names = ", ".join(sorted(name for _, name in self.missing))
            return f"add {names} to the --credentials file"
        names = ", ".join(sorted(f"{ns}/{name}" for ns, name in self.missing))
        return f"create the Secret(s) {names} (clientId plus clientSecret), or pass --credentials FILE"


async def _reconcile_all(
    resources: Resources, secrets: Secrets, cluster: Cluster | None, *, dry_run: bool
) -> list[Result]:
    from ctsync.reconcile.connections import ClientPool

    def status_of(resource: TenantPair | SyncScope) -> dict[str, Any]:
        """The live status, when there is a cluster: the ids and handled requests the operator recorded."""
        plural = constants.PLURAL_TENANT_PAIRS if isinstance(resource, TenantPair) else constants.PLURAL_SYNC_SCOPES
        return cluster.status(plural, resource.namespace, resource.name) if cluster else {}

    pool = ClientPool(secrets.read)
    results = []
    try:
        for pair in sorted(resources.pairs.values(), key=lambda p: (p.namespace, p.name)):
            pair_result = await _guarded(pair, secrets, _pair(pair, pool, status_of(pair), dry_run))
            results.append(pair_result)
            for scope in sorted(resources.scopes_of(pair), key=lambda s: s.name):
                # As the operator's SyncScopes wait for a Ready pair: Observe and suspend leave it Ready.
                if pair_result.state not in ("unchanged", "applied", "held"):
                    results.append(_waiting(scope, pair, pair_result))
                    continue
                mappings = resources.mappings_of(scope)
                work = _scope(scope, pair, mappings, pool, status_of(scope), dry_run)
                results.append(await _guarded(scope, secrets, work))
    finally:
        await pool.close()
    return results


async def _guarded(resource: TenantPair | SyncScope, secrets: Secrets, work: Awaitable[Result]) -> Result:
    result = await work
    if result.state == "failed" and not result.hint:
        result.hint = secrets.hint() or HINTS.get(result.reason, "")
    return result


def _failed(resource: TenantPair | SyncScope, outcome: Outcome, done: Plan | None = None) -> Result:
    return Result(resource, "failed", outcome.message, done or Plan(), reason=outcome.reason)


async def _pair(pair: TenantPair, pool: ClientPool, status: dict[str, Any], dry_run: bool) -> Result:
    from ctsync.reconcile.converge import converge
    from ctsync.reconcile.tenantpair import reconcile_tenant_pair

    if dry_run:
        outcome = await reconcile_tenant_pair(pair, pool, status, dry_run=True)
        plan = outcome.plan or Plan()
    else:
        converged = await converge(lambda seen: reconcile_tenant_pair(pair, pool, seen), status, pair.generation)
        outcome, plan = converged.outcome, converged.applied
    if outcome.error is not None:
        return _failed(pair, outcome, plan)
    if outcome.reason == conditions.SUSPENDED:
        return Result(pair, "held", outcome.message, reason=outcome.reason, hint="set spec.suspend to false")
    if outcome.reason == conditions.OBSERVED and pair.management_policy == "Observe":  # not a dry run's
        hint = "set spec.managementPolicy to Manage"
        return Result(pair, "held", outcome.message, held=outcome.plan or Plan(), reason=outcome.reason, hint=hint)
    if plan.empty:
        return Result(pair, "unchanged", "both tenants match the spec", reason=outcome.reason)
    return Result(pair, "changes" if dry_run else "applied", outcome.message, plan, reason=outcome.reason)


def _waiting(scope: SyncScope, pair: TenantPair, pair_result: Result) -> Result:
    if pair_result.state == "changes":
        message = f"planned once {pair.ref} is applied: its configuration needs the pair's policies in place"
        return Result(scope, "waiting", message, reason=conditions.DEPENDENCY_NOT_READY)
    return Result(scope, "skipped", f"not planned: {pair.ref} failed", reason=conditions.DEPENDENCY_NOT_READY)


async def _scope(
    scope: SyncScope,
    pair: TenantPair,
    mappings: Sequence[AttributeMapping],
    pool: ClientPool,
    status: dict[str, Any],
    dry_run: bool,
) -> Result:
    from ctsync.reconcile.converge import converge
    from ctsync.reconcile.syncscope import reconcile_sync_scope

    if dry_run:
        outcome = await reconcile_sync_scope(scope, pair, True, mappings, pool, status, dry_run=True)
        if outcome.error is not None:
            return _failed(scope, outcome)
        plan = outcome.plan or Plan()
        leaving = outcome.users_leaving
        state: State = "changes" if not plan.empty else "held" if not outcome.held.empty else "unchanged"
        message = outcome.message if state != "unchanged" else _progress(outcome.status)
        return Result(
            scope,
            state,
            message,
            plan,
            outcome.held,
            outcome.reason,
            users_leaving=leaving,
            status=outcome.status,
            dynamic_groups=outcome.dynamic_groups,
            cycle_estimate=outcome.cycle_estimate,
        )
    converged = await converge(
        lambda seen: reconcile_sync_scope(scope, pair, True, mappings, pool, seen), status, scope.generation
    )
    outcome, done = converged.outcome, converged.applied
    if outcome.error is not None:
        return _failed(scope, outcome, done)  # with what was written before the failure
    state = "applied" if not done.empty else "held" if not outcome.held.empty else "unchanged"
    message = f"{_progress(outcome.status)}; {outcome.message}" if state == "held" else _progress(outcome.status)
    return Result(scope, state, message, done, outcome.held, outcome.reason, status=outcome.status)


def _progress(status: Mapping[str, Any]) -> str:
    return (
        f"job {status.get('jobCode', 'NotConfigured')}; {status.get('syncedUsers', 0)} of "
        f"{status.get('scopeSize', 0)} users in scope are in the target (the provisioning service syncs "
        "every 40 minutes)"
    )


def _print_results(results: list[Result], dry_run: bool) -> None:
    style = Style(sys.stdout)
    for result in results:
        print(_headline(result, style))
        if result.state == "failed":
            print(f"  {style.red('error')}: {result.reason}: {result.message}")
            if result.hint:
                print(f"  hint: {result.hint}")
        if not result.plan.empty:
            # Plan.render() opens with its counts: right for a plan, replaced by the headline after apply.
            lines = plan_lines(result.plan, style)
            print("\n".join("  " + line for line in (lines if dry_run else lines[1:])))
        for line in _upn_lines(result.status):
            print("  " + line)
        if not result.held.empty:
            print(f"  held, not written ({result.reason}):")
            print("\n".join("  " + line for line in plan_lines(result.held, style)[1:]))
            if result.hint:
                print(f"  hint: {result.hint}")
        if result.users_leaving:
            print("  " + style.alarm(f"{result.users_leaving} user(s) in scope now would leave it"))
        elif result.users_leaving == 0 and result.state == "changes":
            print("  no user leaves the scope")
        for line in result.dynamic_groups:
            print("  " + style.alarm(line))
        if result.cycle_estimate is not None and result.state == "changes":
            print(f"  {result.cycle_estimate.summary}")
            print(f"    ({result.cycle_estimate.detail})")
        print()
    counts = {label: sum(r.state == state for r in results) for state, label in SUMMARY_LABELS.items()}
    print("Resources: " + ", ".join(f"{n} {label}" for label, n in counts.items() if n) + ".")


def _upn_lines(status: Mapping[str, Any]) -> list[str]:
    """A few users in scope and the name each gets in the target (SyncScope status.upnSample)."""
    sample = status.get("upnSample") or []
    head = ["user principal names in the target (sample):"] if sample else []
    return head + [f"  {entry['source']} -> {entry['target']}" for entry in sample]


def _headline(result: Result, style: Style) -> str:
    ref = style.bold(result.resource.ref)
    n = len(result.plan.actions)
    if result.state == "changes":
        return f"{ref}: {n} change(s)"
    # A SyncScope's message says how far the sync has come.
    detail = f"; {result.message}" if isinstance(result.resource, SyncScope) else ""
    if result.state == "applied":
        return f"{ref}: {n} change(s) applied{detail}"
    if result.state == "unchanged":
        return f"{ref}: no changes{detail}"
    if result.state in ("waiting", "skipped", "held"):
        return f"{ref}: {result.message}"
    return f"{ref}: {style.red('failed')}"
