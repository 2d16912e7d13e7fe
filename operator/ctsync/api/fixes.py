"""What to do about each condition reason and each provisioning failure reason: a short fix and the page
that explains it. Data only, read by `ctsync explain`; one place, so that a new reason gets its fix here.

Also which condition states are healthy: a condition in any other state is an active warning, except the
reasons that only say work is under way (they resolve by themselves and are shown as progress).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from . import conditions


@dataclass(frozen=True)
class Fix:
    text: str
    docs: str  # a path under the project's docs/, with an anchor where one helps


_GUARDRAILS: Final = "docs/guardrails.md"
_PERMISSIONS: Final = "docs/permissions.md"

# The state in which each condition type needs nothing: kstatus' abnormal-true types and the warnings are
# healthy when False, the others when True. A type not listed is not judged: SourceConfigured and
# TargetConfigured only restate the pending writes, which explain lists per tenant.
HEALTHY: Final[dict[str, str]] = {
    conditions.READY: "True",
    conditions.RECONCILING: "False",
    conditions.STALLED: "False",
    conditions.CREDENTIALS_VALID: "True",
    conditions.SYNCED: "True",
    conditions.DRIFTED: "False",
    conditions.GUEST_MFA_RISK: "False",  # Unknown is a warning too: a check not made is never "safe"
    conditions.DYNAMIC_GROUP_COLLISION: "False",
    conditions.WRITES_ALLOWED: "True",
}

# Work under way, not a problem: the first cycle, a create Graph does not show yet, a configuration to come.
PROGRESS_REASONS: Final = frozenset({conditions.INITIAL_CYCLE, conditions.PROGRESSING, conditions.AWAITING_REPLICATION})

CONDITION_FIXES: Final[dict[str, Fix]] = {
    conditions.POLICIES_NEED_TRUST: Fix(
        "accept what the policies require in the TenantPair's spec.trust (trust.mfa: true for MFA), or exclude "
        "the source's B2B collaboration users from those policies in the target",
        f"{_GUARDRAILS}#conditional-access-vs-mfa-trust",
    ),
    conditions.POLICIES_NOT_EVALUATED: Fix(
        "review the policies named by hand: ctsync could not read or interpret them, so it does not call them safe",
        f"{_GUARDRAILS}#conditional-access-vs-mfa-trust",
    ),
    conditions.POLICY_READ_DENIED: Fix(
        "grant Policy.Read.All in the target tenant (with admin consent) so that Conditional Access is checked",
        _PERMISSIONS,
    ),
    conditions.GUESTS_JOIN_DYNAMIC_GROUPS: Fix(
        'make the groups\' rules tell synced users apart (e.g. -and (user.companyName -eq "<target>")), or '
        "narrow the scope or the mappings that put them in",
        f"{_GUARDRAILS}#dynamic-groups-that-synced-guests-would-join",
    ),
    conditions.RULES_NOT_EVALUATED: Fix(
        "review the rules of the groups named by hand: ctsync cannot evaluate them, so it does not call them safe",
        f"{_GUARDRAILS}#dynamic-groups-that-synced-guests-would-join",
    ),
    conditions.QUARANTINED: Fix(
        "fix the error the quarantine names, then restart the job (annotate ctsync.io/restart-job=<any new value>)",
        "docs/runbooks/CtsyncJobQuarantined.md",
    ),
    conditions.DELETIONS_HELD: Fix(
        "review the deletions in the provisioning log; if intended, annotate ctsync.io/allow-deletions=<any new "
        "value>, otherwise fix the scope",
        "docs/runbooks/CtsyncDeletionsHeld.md",
    ),
    conditions.JOB_PAUSED: Fix(
        "the job was paused outside ctsync: set spec.suspend to match, or let ctsync start it again",
        "docs/runbooks/CtsyncNoSuccessfulCycle.md",
    ),
    conditions.SUSPENDED: Fix("set spec.suspend to false to resume", "docs/cli.md#ctsync-explain"),
    conditions.DRIFT_DETECTED: Fix(
        "someone changed the tenant outside Git: under Manage ctsync restores it; under Observe, apply the "
        "change to Git or revert it in the tenant",
        "docs/runbooks/CtsyncDriftNotCorrected.md",
    ),
    conditions.PAIR_OBSERVED: Fix(
        "set the TenantPair's spec.managementPolicy to Manage to let ctsync write", "docs/cli.md#ctsync-explain"
    ),
    conditions.PAIR_SUSPENDED: Fix("set the TenantPair's spec.suspend to false", "docs/cli.md#ctsync-explain"),
    conditions.MAPPING_OBSERVED: Fix(
        "set the AttributeMapping's spec.managementPolicy to Manage to let ctsync write the job schema",
        "docs/cli.md#ctsync-explain",
    ),
    conditions.OBSERVED: Fix(
        "managementPolicy Observe writes nothing: set it to Manage, or make the tenant match by hand",
        "docs/cli.md#ctsync-explain",
    ),
    conditions.INVALID_SPEC: Fix("correct the field named, then `ctsync validate` the manifests", "docs/cli.md"),
    conditions.DEPENDENCY_NOT_READY: Fix(
        "create or fix what it waits for (named in the message)", "docs/architecture.md#one-reconcile-pass"
    ),
    conditions.SCOPE_SHRINK_BLOCKED: Fix(
        "if the users should leave the scope, annotate ctsync.io/acknowledge-shrink=<generation>",
        "docs/runbooks/CtsyncScopeGap.md",
    ),
    conditions.AMBIGUOUS_REFERENCE: Fix("name the group or user by id instead", "docs/api/syncscope.md"),
    conditions.MAPPING_CONFLICT: Fix(
        "map each target attribute in one AttributeMapping of the SyncScope only", "docs/api/attributemapping.md"
    ),
    conditions.NOT_OWNED: Fix(
        "set spec.adoptionPolicy to adopt the existing configuration, or choose another configurationName",
        "docs/api/syncscope.md",
    ),
    conditions.GRAPH_UNAVAILABLE: Fix("check the tenant's cloud and the network; ctsync retries", "docs/install.md"),
    conditions.THROTTLED: Fix(
        "nothing: ctsync retries after the time Graph asked for", "docs/runbooks/CtsyncGraphThrottling.md"
    ),
    conditions.AUTHENTICATION_FAILED: Fix(
        "check tenantId, and clientId with clientSecret (or tls.crt and tls.key) in the credentials Secret",
        "docs/runbooks/CtsyncCredentialsInvalid.md",
    ),
    conditions.PERMISSION_MISSING: Fix(
        "grant the app registration the permission named, with admin consent", _PERMISSIONS
    ),
    conditions.GRAPH_REQUEST_FAILED: Fix("read the Graph error in the message; rerun with --debug", "docs/install.md"),
    conditions.READ_INCOMPLETE: Fix("nothing: ctsync retries, and removes nothing meanwhile", "docs/architecture.md"),
    conditions.CREATE_NOT_VISIBLE: Fix(
        "check in the tenant whether the object named exists; delete it or let ctsync adopt it",
        "docs/architecture.md#one-reconcile-pass",
    ),
}

# Keyed by the reasons of ctsync.graph.provisioning_failures (the one classifier of the service's codes).
FAILURE_FIXES: Final[dict[str, Fix]] = {
    "policy_not_configured": Fix(
        "automatic redemption or inbound sync is off on one side: check the TenantPair is Ready",
        "docs/runbooks/CtsyncJobQuarantined.md",
    ),
    "cross_cloud_not_configured": Fix(
        "enable cross-cloud synchronization in the target tenant's cross-tenant access settings",
        "docs/runbooks/CtsyncJobQuarantined.md",
    ),
    "invitations_blocked": Fix(
        "the target's external collaboration settings block invitations to the source's domain: allow it",
        "docs/runbooks/CtsyncNoSuccessfulCycle.md",
    ),
    "invitation_failed": Fix(
        "the invitation of the user failed in the target: read the log entry's reason",
        "docs/runbooks/CtsyncNoSuccessfulCycle.md",
    ),
    "source_of_authority": Fix(
        "the target user is managed elsewhere (synced from on-premises or another source): resolve who owns it",
        "docs/runbooks/CtsyncScopeGap.md",
    ),
    "quota_or_license": Fix(
        "the target tenant hit a directory quota or license limit", "docs/runbooks/CtsyncScopeGap.md"
    ),
    "insufficient_rights": Fix(
        "the provisioning service may not change that target user (e.g. an administrator): exclude or fix it",
        "docs/runbooks/CtsyncScopeGap.md",
    ),
    "conflict_or_duplicate": Fix(
        "a target object already holds the user's name or address: remove or rename it, or let the service match it",
        "docs/runbooks/CtsyncScopeGap.md",
    ),
    "anchor_or_schema": Fix(
        "a mapping yields a value the target refuses: check the AttributeMappings of the scope",
        "docs/api/attributemapping.md",
    ),
    "transient": Fix("nothing: the service retries in its next cycle", "docs/runbooks/CtsyncNoSuccessfulCycle.md"),
    "skipped": Fix("nothing, unless the users should be in scope", "docs/runbooks/CtsyncScopeGap.md"),
    "other": Fix(
        "read the log entries' error codes (--output json) and the Entra provisioning docs", "docs/metrics.md"
    ),
}


# Not a condition: `ctsync explain` reads the end dates of the credentials each tenant's app holds.
CREDENTIAL_EXPIRING: Final = Fix(
    "run `ctsync bootstrap` again for that tenant (it adds a fresh credential when the current one ends within "
    "30 days) and update the credentials Secret; workload identity has nothing to renew",
    "docs/cli.md#ctsync-bootstrap",
)
