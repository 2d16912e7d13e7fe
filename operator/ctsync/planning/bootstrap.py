"""What `ctsync bootstrap` must do in one tenant to give ctsync its app registration: the Graph calls that take
the tenant from what was observed to an app with its service principal, exactly the wanted application
permissions granted, and one usable credential. Pure: the same observation gives the same steps, and an
observation that already matches gives none (a re-run changes nothing).

Ids not known before a step runs are placeholders (`{application.id}`, `{application.appId}`,
`{servicePrincipal.id}`) that the runner fills from earlier answers; a dry run prints them as they are."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

CredentialKind = Literal["workload-identity", "certificate", "secret"]
CREDENTIAL_KINDS: Final = ("workload-identity", "certificate", "secret")
GRAPH_APP_ID: Final = "00000003-0000-0000-c000-000000000000"
CTSYNC_TAG: Final = "ctsync"  # marks the app registration and service principal as ctsync's
CREDENTIAL_NAME: Final = "ctsync"  # display name of the password and key credentials ctsync adds
EXPIRY_WARNING_DAYS: Final = 30

# Built-in directory roles (template ids) that may do each kind of write.
GLOBAL_ADMIN: Final = "62e90394-69f5-4237-9190-012177145e10"
ROLE_NAMES: Final = {
    GLOBAL_ADMIN: "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
}
REGISTER_ROLES: Final = frozenset(
    {GLOBAL_ADMIN, "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "158c047a-c907-4556-b7ef-446551a6b5f7"}
)
GRANT_ROLES: Final = frozenset({GLOBAL_ADMIN, "e8611ab8-c189-46e8-94e1-60213ab1f814"})

APP = "application"
SP = "servicePrincipal"


class BootstrapRefused(ValueError):
    """The signed-in user may not make the writes the plan needs; nothing was written."""


@dataclass(frozen=True)
class Desired:
    display_name: str
    permissions: tuple[str, ...]  # application permission names, least privilege
    credential: CredentialKind
    issuer: str | None = None  # workload identity
    subject: str | None = None
    audience: str = "api://AzureADTokenExchange"
    certificate_der_b64: str | None = None  # certificate: the public part of the new key pair
    secret_end: str | None = None  # secret: ISO end date of a new secret
    renew_before: str | None = None  # ISO date: a credential ending before it counts as expiring


@dataclass(frozen=True)
class Observed:
    """The tenant as read, before any write. `graph_roles`: permission name -> app role id on Microsoft
    Graph's service principal (read at run time: ids may differ between clouds)."""

    user_roles: frozenset[str]  # directory role template ids of the signed-in user
    graph_sp_id: str
    graph_roles: Mapping[str, str]
    app: Mapping[str, Any] | None = None
    sp: Mapping[str, Any] | None = None
    granted_role_ids: frozenset[str] = frozenset()
    federated: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    body: Mapping[str, Any] | None
    summary: str
    saves: str | None = None  # the answer is remembered under this name for later placeholders
    secret_answer: bool = False  # the answer holds a secret: never print it, only hand it to the output
    needs_roles: frozenset[str] = field(default=REGISTER_ROLES)


def fic_name(issuer: str, subject: str) -> str:
    """A stable, URL-safe name for the federated credential of one issuer and subject."""
    return "ctsync-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]


def plan(desired: Desired, observed: Observed) -> list[Step]:
    unknown = [p for p in desired.permissions if p not in observed.graph_roles]
    if unknown:
        raise BootstrapRefused(f"Microsoft Graph in this tenant has no application permission {', '.join(unknown)}")
    steps = _registration(desired, observed)
    steps += _grants(desired, observed)
    steps += _credential(desired, observed)
    check_roles(steps, observed.user_roles)
    return steps


def check_roles(steps: Sequence[Step], user_roles: frozenset[str]) -> None:
    """Refuses before the first write when the user lacks a role some step needs, naming the roles."""
    for step in steps:
        if not step.needs_roles & user_roles:
            wanted = " or ".join(sorted(ROLE_NAMES[r] for r in step.needs_roles))
            held = ", ".join(sorted(ROLE_NAMES.get(r, r) for r in user_roles)) or "no admin role"
            raise BootstrapRefused(f"the signed-in user needs {wanted} to {step.summary} (holds: {held})")


def _required_resource_access(desired: Desired, observed: Observed) -> list[dict[str, Any]]:
    access = [{"id": observed.graph_roles[p], "type": "Role"} for p in desired.permissions]
    return [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": access}]


def _registration(desired: Desired, observed: Observed) -> list[Step]:
    declared = _required_resource_access(desired, observed)
    steps: list[Step] = []
    if observed.app is None:
        body = {
            "displayName": desired.display_name,
            "signInAudience": "AzureADMyOrg",
            "tags": [CTSYNC_TAG],
            "requiredResourceAccess": declared,
        }
        steps.append(Step("POST", "/applications", body, f"create the app registration {desired.display_name}", APP))
    elif _declared_ids(observed.app.get("requiredResourceAccess")) != _declared_ids(declared):
        steps.append(
            Step(
                "PATCH",
                "/applications/{application.id}",
                {"requiredResourceAccess": declared},
                "declare the permissions",
            )
        )
    elif CTSYNC_TAG not in (observed.app.get("tags") or []):
        tags = [*(observed.app.get("tags") or []), CTSYNC_TAG]
        steps.append(Step("PATCH", "/applications/{application.id}", {"tags": tags}, "tag the app registration"))
    if observed.sp is None:
        body = {"appId": "{application.appId}", "tags": [CTSYNC_TAG]}
        steps.append(Step("POST", "/servicePrincipals", body, "create the app's service principal", SP))
    return steps


def _declared_ids(value: Any) -> set[str]:
    return {
        access["id"]
        for resource in value or []
        if resource.get("resourceAppId") == GRAPH_APP_ID
        for access in resource.get("resourceAccess", [])
        if access.get("type") == "Role"
    }


def _grants(desired: Desired, observed: Observed) -> list[Step]:
    path = f"/servicePrincipals/{observed.graph_sp_id}/appRoleAssignedTo"
    return [
        Step(
            "POST",
            path,
            {"principalId": "{servicePrincipal.id}", "resourceId": observed.graph_sp_id, "appRoleId": role_id},
            f"grant {name} (admin consent)",
            needs_roles=GRANT_ROLES,
        )
        for name in desired.permissions
        if (role_id := observed.graph_roles[name]) not in observed.granted_role_ids
    ]


def _credential(desired: Desired, observed: Observed) -> list[Step]:
    app = observed.app or {}
    if desired.credential == "workload-identity":
        assert desired.issuer and desired.subject
        if any(f.get("issuer") == desired.issuer and f.get("subject") == desired.subject for f in observed.federated):
            return []
        body = {
            "name": fic_name(desired.issuer, desired.subject),
            "issuer": desired.issuer,
            "subject": desired.subject,
            "audiences": [desired.audience],
            "description": "ctsync operator service account",
        }
        path = "/applications/{application.id}/federatedIdentityCredentials"
        return [Step("POST", path, body, f"trust {desired.subject} of {desired.issuer} (federated credential)")]
    if desired.credential == "certificate":
        if _current(app.get("keyCredentials"), desired.renew_before):
            return []
        assert desired.certificate_der_b64
        key = {
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": desired.certificate_der_b64,
            "displayName": CREDENTIAL_NAME,
        }
        kept = [{"keyId": k["keyId"]} for k in app.get("keyCredentials") or []]
        return [Step("PATCH", "/applications/{application.id}", {"keyCredentials": [*kept, key]}, "add a certificate")]
    if _current(app.get("passwordCredentials"), desired.renew_before):
        return []
    password: dict[str, Any] = {
        "passwordCredential": {"displayName": CREDENTIAL_NAME, "endDateTime": desired.secret_end}
    }
    path = "/applications/{application.id}/addPassword"
    return [Step("POST", path, password, f"add a client secret ending {desired.secret_end}", secret_answer=True)]


def _current(credentials: Any, renew_before: str | None) -> bool:
    """Whether ctsync already has a credential of this kind that does not expire soon."""
    return any(
        c.get("displayName") == CREDENTIAL_NAME and (renew_before is None or str(c.get("endDateTime")) > renew_before)
        for c in credentials or []
    )


def expiring_credentials(app: Mapping[str, Any], warn_before: str) -> list[str]:
    """The app's secrets and certificates that end before `warn_before` (ISO 8601, UTC), described."""
    kinds = (("passwordCredentials", "client secret"), ("keyCredentials", "certificate"))
    return [
        f"{label} {c.get('displayName') or c.get('keyId')} ends {c['endDateTime']}"
        for key, label in kinds
        for c in app.get(key) or []
        if c.get("endDateTime") and str(c["endDateTime"]) < warn_before
    ]
