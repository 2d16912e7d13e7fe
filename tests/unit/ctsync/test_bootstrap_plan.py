"""The bootstrap planner: from what a tenant holds to the Graph calls that complete ctsync's app registration."""

from __future__ import annotations

import pytest

from ctsync.planning.bootstrap import (
    GLOBAL_ADMIN,
    GRANT_ROLES,
    BootstrapRefused,
    Desired,
    Observed,
    fic_name,
    plan,
)

APP_ADMIN = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
ROLES = {"Policy.ReadWrite.CrossTenantAccess": "r-policy", "User.Read.All": "r-users"}
APP = {
    "id": "app-object",
    "appId": "app-id",
    "tags": ["ctsync"],
    "requiredResourceAccess": [
        {
            "resourceAppId": "00000003-0000-0000-c000-000000000000",
            "resourceAccess": [{"id": "r-policy", "type": "Role"}, {"id": "r-users", "type": "Role"}],
        }
    ],
    "passwordCredentials": [{"displayName": "ctsync", "endDateTime": "2027-06-01T00:00:00Z"}],
}
WANTED = Desired(
    "ctsync",
    ("Policy.ReadWrite.CrossTenantAccess", "User.Read.All"),
    "secret",
    secret_end="2027-06-01T00:00:00Z",
    renew_before="2027-01-01T00:00:00Z",
)


def observed(**changes) -> Observed:
    base = {
        "user_roles": frozenset({GLOBAL_ADMIN}),
        "graph_sp_id": "graph-sp",
        "graph_roles": ROLES,
        "app": APP,
        "sp": {"id": "sp"},
        "granted_role_ids": frozenset({"r-policy", "r-users"}),
    }
    return Observed(**{**base, **changes})


def test_a_complete_registration_needs_no_step():
    assert plan(WANTED, observed()) == []


def test_an_empty_tenant_gets_app_sp_grants_and_secret_in_order():
    steps = plan(WANTED, observed(app=None, sp=None, granted_role_ids=frozenset()))
    assert [(s.method, s.path) for s in steps] == [
        ("POST", "/applications"),
        ("POST", "/servicePrincipals"),
        ("POST", "/servicePrincipals/graph-sp/appRoleAssignedTo"),
        ("POST", "/servicePrincipals/graph-sp/appRoleAssignedTo"),
        ("POST", "/applications/{application.id}/addPassword"),
    ]
    assert steps[2].body == {"principalId": "{servicePrincipal.id}", "resourceId": "graph-sp", "appRoleId": "r-policy"}
    assert steps[-1].secret_answer and steps[2].needs_roles == GRANT_ROLES


def test_only_the_missing_grant_and_an_expiring_secret_are_redone():
    expiring = {**APP, "passwordCredentials": [{"displayName": "ctsync", "endDateTime": "2026-12-20T00:00:00Z"}]}
    steps = plan(WANTED, observed(app=expiring, granted_role_ids=frozenset({"r-policy"})))
    assert [s.summary.split(" (")[0] for s in steps] == [
        "grant User.Read.All",
        "add a client secret ending 2027-06-01T00:00:00Z",
    ]


def test_an_untagged_app_of_that_name_is_adopted():
    steps = plan(WANTED, observed(app={**APP, "tags": ["other"]}))
    assert [(s.method, s.body) for s in steps] == [("PATCH", {"tags": ["other", "ctsync"]})]


def test_the_missing_role_is_named_before_any_step():
    with pytest.raises(BootstrapRefused, match="needs Global Administrator or Privileged Role Administrator to grant"):
        plan(WANTED, observed(user_roles=frozenset({APP_ADMIN}), granted_role_ids=frozenset()))
    assert plan(WANTED, observed(user_roles=frozenset({APP_ADMIN}))) == []  # nothing to grant: no refusal


def test_workload_identity_adds_one_federated_credential_per_issuer_and_subject():
    wanted = Desired("ctsync", WANTED.permissions, "workload-identity", issuer="https://i", subject="system:sa")
    steps = plan(wanted, observed())
    assert steps[0].body["name"] == fic_name("https://i", "system:sa") and len(steps) == 1
    assert plan(wanted, observed(federated=[{"issuer": "https://i", "subject": "system:sa"}])) == []


def test_a_permission_unknown_to_the_tenants_graph_is_refused():
    with pytest.raises(BootstrapRefused, match=r"no application permission Bogus\.All"):
        plan(Desired("ctsync", ("Bogus.All",), "secret"), observed())
