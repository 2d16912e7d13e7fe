"""Seed documents: tenants, dynamic groups, Conditional Access policies and the synthetic generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from entrasim.cli import main
from entrasim.seed import SeedError, generate, load_seed, read_seed_file
from entrasim.world import World

TENANT = "5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10"
POLICY_ID = "10ef4fe6-5e51-4f5e-b5a2-8fed19d0be67"
MFA_POLICY = {
    "id": POLICY_ID,
    "displayName": "Require MFA for guests",
    "state": "enabled",
    "conditions": {
        "users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationMember"}},
        "applications": {"includeApplications": ["All"]},
        "clientAppTypes": ["all"],
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def _seed(**tenant: Any) -> dict[str, Any]:
    return {"tenants": [{"id": TENANT, "domain": "contoso.onmicrosoft.com", "displayName": "Contoso", **tenant}]}


def _users(*departments: str) -> list[dict[str, Any]]:
    return [
        {"userPrincipalName": f"u{i}@contoso.onmicrosoft.com", "displayName": f"U{i}", "department": d}
        for i, d in enumerate(departments)
    ]


def test_dynamic_group_takes_its_members_from_its_rule() -> None:
    world = World()
    users = _users("Sales", "Finance", "Sales")
    group = {"displayName": "Sales", "membershipRule": 'user.department -eq "Sales"'}
    (tenant,) = load_seed(world, _seed(users=users, groups=[group]))
    directory = tenant.directory
    (sales,) = directory.groups_named("Sales")
    assert sales["groupTypes"] == ["DynamicMembership"]
    assert sales["membershipRuleProcessingState"] == "On"
    members = {m["userPrincipalName"] for m in directory.direct_members(sales["id"])}
    assert members == {"u0@contoso.onmicrosoft.com", "u2@contoso.onmicrosoft.com"}
    finance_user = directory.get_user("u1@contoso.onmicrosoft.com")
    directory.update_user(finance_user["id"], {"department": "Sales"})  # the rule keeps applying after seeding
    assert len(directory.direct_members(sales["id"])) == 3


def test_dynamic_group_with_paused_processing_keeps_no_members() -> None:
    group = {"displayName": "Sales", "membershipRule": 'user.department -eq "Sales"'}
    group["membershipRuleProcessingState"] = "Paused"
    (tenant,) = load_seed(World(), _seed(users=_users("Sales"), groups=[group]))
    (sales,) = tenant.directory.groups_named("Sales")
    assert tenant.directory.direct_members(sales["id"]) == []


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (
            {
                "displayName": "Sales",
                "membershipRule": 'user.department -eq "Sales"',
                "members": ["u0@contoso.onmicrosoft.com"],
            },
            "cannot list members",
        ),
        ({"displayName": "Sales", "membershipRule": "user.department -eq"}, "tenant " + TENANT),
        ({"displayName": "Sales", "groupTypes": [], "membershipRule": 'user.department -eq "x"'}, "groupTypes"),
    ],
)
def test_malformed_dynamic_groups_are_seed_errors(group: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError, match=message):
        load_seed(World(), _seed(users=_users("Sales"), groups=[group]))


def test_conditional_access_policies_are_stored_graph_shaped() -> None:
    (tenant,) = load_seed(World(), _seed(conditionalAccessPolicies=[MFA_POLICY, {**MFA_POLICY, "id": None}]))
    first, second = tenant.conditional_access.list()
    assert first["id"] == POLICY_ID
    assert first["templateId"] is None and first["sessionControls"] is None and first["modifiedDateTime"] is None
    assert first["createdDateTime"].endswith("Z")
    assert first["grantControls"] == MFA_POLICY["grantControls"]
    assert second["id"] != POLICY_ID
    assert tenant.conditional_access.get(POLICY_ID.upper()) is first
    assert tenant.dump()["conditionalAccessPolicies"] == [first, second]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": "on"}, "'state'"),
        ({"displayName": ""}, "'displayName'"),
        ({"conditions": None}, "'conditions' is required"),
        ({"conditions": ["users"]}, "'conditions'"),
        ({"id": "not-a-guid"}, "'id'"),
        ({"createdDateTime": "2024-01-01T00:00:00Z"}, "createdDateTime"),
        ({"description": "x"}, "description"),
    ],
)
def test_malformed_conditional_access_policies_are_seed_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError, match=message):
        load_seed(World(), _seed(conditionalAccessPolicies=[{**MFA_POLICY, **change}]))


def test_duplicate_conditional_access_policy_id_is_a_seed_error() -> None:
    with pytest.raises(SeedError, match="already exists"):
        load_seed(World(), _seed(conditionalAccessPolicies=[MFA_POLICY, MFA_POLICY]))


def test_non_object_tenant_entry_is_a_seed_error() -> None:
    with pytest.raises(SeedError, match="must be an object"):
        load_seed(World(), {"tenants": ["contoso"]})


def test_generated_tenant_round_trips_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    args = ["seed", "generate", "--users", "50", "--groups", "5", "--tenant-id", TENANT]
    assert main([*args, "--domain", "contoso.onmicrosoft.com", "-o", str(out)]) == 0
    data = read_seed_file(out)
    assert data == json.loads(
        json.dumps(
            generate(
                users=50,
                groups=5,
                tenant_id=TENANT,
                domain="contoso.onmicrosoft.com",
                display_name="contoso.onmicrosoft.com",
            )
        )
    )
    (tenant,) = load_seed(World(), data)
    assert len(tenant.directory.users) == 50
    assert [len(tenant.directory.members[g]) for g in tenant.directory.groups] == [10] * 5


@pytest.mark.parametrize(("name", "text"), [("seed.yaml", "tenants: [\n"), ("seed.json", "{")])
def test_unparsable_seed_files_are_seed_errors(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SeedError, match="not valid"):
        read_seed_file(path)
