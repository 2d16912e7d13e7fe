"""Plan the partner policies of both tenants and the target's identity synchronization for a TenantPair.

Order (the service's own constraints): target partner, target identity synchronization, source partner.
Booleans compare with null as false: an unset consent or trust flag inherits the default, which is false.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ctsync.api.tenantpair import TenantPair
from ctsync.planning.plan import Action, Json, Plan, Tenant, Verb, short_id, summary

# Keys of the nested partner objects ctsync writes; each section is sent whole (the service does not
# promise to merge keys inside a nested object), keeping the observed value of keys the spec leaves alone.
_SECTION_KEYS: Final = {
    "inboundTrust": ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"),
    "automaticUserConsentSettings": ("inboundAllowed", "outboundAllowed"),
}


@dataclass(frozen=True)
class TenantPairObserved:
    """The Graph objects as read (reference shapes), None when they do not exist."""

    target_partner: Json | None = None  # target's partner policy for the source tenant
    target_identity_sync: Json | None = None  # target's identitySynchronization for the source tenant
    source_partner: Json | None = None  # source's partner policy for the target tenant
    # The source's own identitySynchronization for the target: the reverse direction of a two-way pair
    # (read only when planning a deletion, which must leave it and its partner policy alone).
    source_identity_sync: Json | None = None


@dataclass(frozen=True)
class CreatedFlags:
    """Which objects ctsync created (from status), so deletionPolicy Delete removes only those."""

    target_partner: bool = False
    identity_sync: bool = False
    source_partner: bool = False

    @classmethod
    def from_status(cls, status: Json) -> "CreatedFlags":
        return cls(
            target_partner=bool(status.get("targetPartnerCreated")),
            identity_sync=bool(status.get("identitySyncCreated")),
            source_partner=bool(status.get("sourcePartnerCreated")),
        )


def plan_tenant_pair(pair: TenantPair, observed: TenantPairObserved) -> Plan:
    source_id, target_id = pair.source.tenant_id, pair.target.tenant_id
    target_desired = {
        "inboundTrust": {
            "isMfaAccepted": pair.trust.mfa,
            "isCompliantDeviceAccepted": pair.trust.compliant_device,
            "isHybridAzureADJoinedDeviceAccepted": pair.trust.hybrid_joined_device,
        },
        "automaticUserConsentSettings": {"inboundAllowed": pair.automatic_redemption},
    }
    source_desired = {"automaticUserConsentSettings": {"outboundAllowed": pair.automatic_redemption}}
    return Plan(
        (
            *_plan_partner("target", source_id, observed.target_partner, target_desired),
            *_plan_identity_sync(pair, observed.target_identity_sync),
            *_plan_partner("source", target_id, observed.source_partner, source_desired),
        )
    )


def _plan_partner(
    tenant: Tenant, partner_id: str, observed: Json | None, desired: Mapping[str, Mapping[str, bool]]
) -> list[Action]:
    step, subject = f"{tenant}.partner", f"{tenant} partner policy for {short_id(partner_id)}"
    actions = []
    if observed is None:
        create = Action(
            tenant, step, "create", summary("create", subject), body={"tenantId": partner_id}, key=partner_id
        )
        actions.append(create)
        observed = {}  # a new partner has every setting null
    changes: dict[str, tuple[Any, Any]] = {}
    body: dict[str, Any] = {}
    for section, wanted in desired.items():
        current = observed.get(section) or {}
        differing = {key: value for key, value in wanted.items() if bool(current.get(key)) != value}
        if differing:
            body[section] = {**{key: current.get(key) for key in _SECTION_KEYS[section]}, **wanted}
            changes.update({f"{section}.{key}": (current.get(key), value) for key, value in differing.items()})
    if body:
        actions.append(
            Action(
                tenant,
                step,
                "update",
                summary("update", subject, changes),
                changes,
                body=body,
                key=partner_id,
            )
        )
    return actions


def _plan_identity_sync(pair: TenantPair, observed: Json | None) -> list[Action]:
    source_id, wanted = pair.source.tenant_id, pair.user_sync_inbound
    subject = f"target identity synchronization for {short_id(source_id)}"
    current = None if observed is None else (observed.get("userSyncInbound") or {}).get("isSyncAllowed")
    changes = {"userSyncInbound.isSyncAllowed": (current, wanted)}
    verb: Verb
    if observed is None:
        body = {"displayName": f"{pair.namespace}/{pair.name}", "userSyncInbound": {"isSyncAllowed": wanted}}
        verb = "create"
    elif bool(current) != wanted:
        body, verb = {"userSyncInbound": {"isSyncAllowed": wanted}}, "update"
    else:
        return []
    return [
        Action(
            "target",
            "target.identitySync",
            verb,
            summary(verb, subject, changes),
            changes,
            body=body,
            key=source_id,
        )
    ]


def plan_tenant_pair_deletion(pair: TenantPair, observed: TenantPairObserved, created: CreatedFlags) -> Plan:
    """deletionPolicy Delete: remove what ctsync created, identity synchronization before its partner."""
    if pair.deletion_policy != "Delete":
        return Plan()
    source_id, target_id = pair.source.tenant_id, pair.target.tenant_id
    actions = []
    sync_remains = observed.target_identity_sync is not None
    if created.identity_sync and sync_remains:
        actions.append(_delete("target", "target.identitySync", "identity synchronization", source_id))
        sync_remains = False
    # A partner policy is deleted only when nothing else lives in it. The service refuses to delete one that
    # still has an identity synchronization (one ctsync did not create: the policy is left alone). In a
    # two-way pair the same policy carries the reverse direction's settings: then only this pair's keys are
    # reset to inherit.
    target_partner = observed.target_partner
    if created.target_partner and target_partner is not None and not sync_remains:
        actions.append(
            _reset_target(source_id, target_partner)
            if _consent(target_partner, "outboundAllowed")
            else _delete("target", "target.partner", "partner policy", source_id)
        )
    source_partner = observed.source_partner
    if created.source_partner and source_partner is not None:
        shared = observed.source_identity_sync is not None or _consent(source_partner, "inboundAllowed")
        actions.append(
            _reset_source(target_id, source_partner)
            if shared
            else _delete("source", "source.partner", "partner policy", target_id)
        )
    return Plan(tuple(actions))


def _consent(partner: Json, key: str) -> bool:
    return bool((partner.get("automaticUserConsentSettings") or {}).get(key))


def _reset_target(source_id: str, partner: Json) -> Action:
    consent = {
        "inboundAllowed": None,
        "outboundAllowed": (partner.get("automaticUserConsentSettings") or {}).get("outboundAllowed"),
    }
    return _reset("target", source_id, {"inboundTrust": None, "automaticUserConsentSettings": consent})


def _reset_source(target_id: str, partner: Json) -> Action:
    consent = {
        "inboundAllowed": (partner.get("automaticUserConsentSettings") or {}).get("inboundAllowed"),
        "outboundAllowed": None,
    }
    return _reset("source", target_id, {"automaticUserConsentSettings": consent})


def _reset(tenant: Tenant, partner_id: str, body: dict[str, Any]) -> Action:
    subject = f"{tenant} partner policy for {short_id(partner_id)}: shared with another pair, reset this pair's keys"
    return Action(
        tenant, f"{tenant}.partner", "update", summary("update", subject), destructive=True, body=body, key=partner_id
    )


def _delete(tenant: Tenant, step: str, what: str, partner_id: str) -> Action:
    subject = f"{tenant} {what} for {short_id(partner_id)}"
    return Action(tenant, step, "delete", summary("delete", subject), destructive=True, key=partner_id)
