"""TenantPair: both partner policies and the target's identity synchronization, kept as the spec says."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..api import conditions
from ..api.conditions import Condition, Health
from ..api.tenantpair import TenantPair
from ..errors import CtsyncError
from ..planning import pending
from ..planning.plan import Plan, describe_drift
from ..planning.tenantpair import (
    CreatedFlags,
    TenantPairObserved,
    plan_tenant_pair,
    plan_tenant_pair_deletion,
)
from . import guest_mfa, permissions, replication
from .apply import Applied, apply_plan
from .connections import ClientPool, TenantClients
from .outcome import Event, Outcome, from_error

CREATED_STATUS = {
    "target.partner": "targetPartnerCreated",
    "target.identitySync": "identitySyncCreated",
    "source.partner": "sourcePartnerCreated",
}


async def observe(pair: TenantPair, clients: TenantClients) -> TenantPairObserved:
    source_id, target_id = pair.source.tenant_id, pair.target.tenant_id
    target_partner = await clients.target.partner(source_id)
    return TenantPairObserved(
        target_partner=target_partner,
        # identitySynchronization lives under the partner: without one there is nothing to read.
        target_identity_sync=await clients.target.identity_sync(source_id) if target_partner else None,
        source_partner=await clients.source.partner(target_id),
    )


async def check_permissions(pair: TenantPair, clients: TenantClients) -> None:
    await permissions.require_all(clients, permissions.TENANT_PAIR[pair.management_policy])


async def reconcile_tenant_pair(
    pair: TenantPair,
    pool: ClientPool,
    status: Mapping[str, Any],
    *,
    dry_run: bool = False,
    record: replication.Recorder | None = None,
    clock: replication.Clock = replication.utc_now,
) -> Outcome:
    """One pass: validate, connect, check permissions, observe both tenants, plan, apply (unless Observe,
    suspended or a dry run). `record` writes what a create returned to status before the next write."""
    applied = Applied(record=record, clock=clock, flags=CREATED_STATUS)
    try:
        pair.validate()
        if pair.suspend:
            return Outcome(
                Health.READY,
                conditions.SUSPENDED,
                "spec.suspend is true: nothing is read or written",
                pair.generation,
            )
        clients = await pool.for_pair(pair)
        await check_permissions(pair, clients)
        credentials_valid = Condition(
            conditions.CREDENTIALS_VALID,
            "True",
            conditions.AUTHENTICATED,
            "tokens obtained for both tenants",
            pair.generation,
        )
        observed = await observe(pair, clients)
        visible = pending.visible_in_tenant_pair(observed, pair.source.tenant_id, pair.target.tenant_id)
        settled = replication.settle(status, visible, clock)
        applied.pending = settled.waiting
        guardrail = await guest_mfa.check(pair, clients, guest_mfa.effective_trust(pair, observed))
        plan = pending.hold(guardrail.mark(plan_tenant_pair(pair, observed), pair), settled.waiting)
        already_reconciled = status.get("observedGeneration") == pair.generation
        drift = describe_drift(plan) if already_reconciled else []
        if (plan.empty and not settled.waiting) or dry_run or pair.management_policy == "Observe":
            return _observed(pair, plan, drift, credentials_valid, dry_run, guardrail, status, settled)
        await apply_plan(plan, clients, applied)
    except CtsyncError as error:
        return from_error(
            error, pair.generation, conditions=_error_conditions(error, pair.generation), status=applied.recorded
        )
    report: dict[str, Any] = {CREATED_STATUS[step]: True for step in applied.created_steps if step in CREATED_STATUS}
    report[pending.STATUS_FIELD] = pending.to_status(applied.pending) or None
    # No guardrail Event from a pass that wrote: the pass after it, which settles, sends it once.
    events = applied.events
    if drift:
        events = [
            Event("Warning", "DriftCorrected", f"changed behind ctsync's back, now restored: {line}") for line in drift
        ] + events
    if settled.waiting:
        return replication.awaiting(settled, pair.generation, report, events)
    return Outcome(
        Health.READY,
        conditions.RECONCILED,
        "both tenants match the spec",
        pair.generation,
        conditions=[
            credentials_valid,
            guardrail.condition,
            *_configured(pair.generation, plan=Plan()),
            _drifted(pair.generation, []),
        ],
        status=report,
        events=events,
        plan=plan,
        drift=drift,
        drift_corrected=bool(drift),
    )


def _observed(
    pair: TenantPair,
    plan: Plan,
    drift: list[str],
    credentials_valid: Condition,
    dry_run: bool,
    guardrail: guest_mfa.GuestMfaCheck,
    status: Mapping[str, Any],
    settled: pending.Settled,
) -> Outcome:
    if plan.empty:
        reason, message = conditions.RECONCILED, "both tenants match the spec"
    else:
        reason = conditions.OBSERVED
        message = f"{len(plan.actions)} change(s) pending; managementPolicy {pair.management_policy}: not written"
    events = (
        []
        if dry_run
        else [*guardrail.events(status), *(Event("Warning", conditions.DRIFT_DETECTED, line) for line in drift)]
    )
    return Outcome(
        Health.READY,
        reason,
        message,
        pair.generation,
        conditions=[
            credentials_valid,
            guardrail.condition,
            *_configured(pair.generation, plan),
            _drifted(pair.generation, drift),
        ],
        status={pending.STATUS_FIELD: pending.to_status(settled.waiting) or None},
        events=events,
        plan=plan,
        drift=drift,
    )


def _configured(generation: int, plan: Plan) -> list[Condition]:
    pending = plan.by_tenant()
    out = []
    for tenant, kind in (("target", conditions.TARGET_CONFIGURED), ("source", conditions.SOURCE_CONFIGURED)):
        actions = pending.get(tenant, ())  # type: ignore[call-overload]
        if actions:
            out.append(
                Condition(
                    kind,
                    "False",
                    conditions.DRIFT_DETECTED,
                    "; ".join(a.summary for a in actions),
                    generation,
                )
            )
        else:
            out.append(
                Condition(kind, "True", conditions.CONFIGURED, f"the {tenant} tenant matches the spec", generation)
            )
    return out


def _drifted(generation: int, drift: list[str]) -> Condition:
    if drift:
        return Condition(conditions.DRIFTED, "True", conditions.DRIFT_DETECTED, "; ".join(drift), generation)
    return Condition(conditions.DRIFTED, "False", conditions.NO_DRIFT, "no drift detected", generation)


def _error_conditions(error: CtsyncError, generation: int) -> list[Condition]:
    if error.reason in (conditions.AUTHENTICATION_FAILED, conditions.PERMISSION_MISSING):
        return [Condition(conditions.CREDENTIALS_VALID, "False", error.reason, error.message, generation)]
    return []


async def finalize_tenant_pair(pair: TenantPair, pool: ClientPool, status: Mapping[str, Any]) -> list[Event]:
    """On deletion: with deletionPolicy Delete, remove what ctsync created (identity synchronization before
    its partner). Users already synced into the target are never touched."""
    try:
        if pair.deletion_policy != "Delete" or pair.suspend:
            return []
        clients = await pool.for_pair(pair)
        observed = await observe(pair, clients)
        if observed.source_partner is not None:  # a two-way pair's reverse direction lives under it
            source_sync = await clients.source.identity_sync(pair.target.tenant_id)
            observed = dataclasses.replace(observed, source_identity_sync=source_sync)
        plan = plan_tenant_pair_deletion(pair, observed, CreatedFlags.from_status(status))
        return (await apply_plan(plan, clients, Applied())).events
    finally:
        await pool.forget(pair)
