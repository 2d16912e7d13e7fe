"""Who a CTS job provisions: assignments, direct group members, SyncAll, internal members, scoping filters."""

from __future__ import annotations

from typing import Any

import pytest
from test_sync_backend import Cts, build_cts

from entrasim.synchronization.scope import in_scope


@pytest.fixture
def cts() -> Cts:
    return build_cts()


def _scope(cts: Cts) -> set[str]:
    return set(in_scope(cts.source, cts.job))


def _names(cts: Cts, ids: set[str]) -> set[str]:
    return {cts.source.directory.users[i]["displayName"] for i in ids}


def test_direct_users_and_direct_group_members_only(cts: Cts) -> None:
    ada, bob, cy, dee = (cts.user(n) for n in ("ada", "bob", "cy", "dee"))
    nested = cts.group("nested", dee)
    team = cts.group("team", bob, cy)
    cts.source.directory.add_member(team["id"], nested["id"])
    cts.user("eve")  # neither assigned nor in an assigned group
    cts.assign(ada)
    cts.assign(team)
    assert _names(cts, _scope(cts)) == {"Ada", "Bob", "Cy"}  # no nesting: Dee is out


def test_only_internal_members(cts: Cts) -> None:
    guest = cts.user("guest", userType="Guest")
    external = cts.source.directory.create_user(
        {
            "userPrincipalName": "zed_partner.com#EXT#@contoso.onmicrosoft.com",
            "displayName": "Zed",
            "accountEnabled": True,
        }
    )
    member = cts.user("ada")
    for user in (guest, external, member):
        cts.assign(user)
    assert _names(cts, _scope(cts)) == {"Ada"}


def test_sync_all_takes_every_member() -> None:
    cts = build_cts(SyncAll="true")
    for name in ("ada", "bob"):
        cts.user(name)
    cts.user("guest", userType="Guest")
    assert _names(cts, _scope(cts)) == {"Ada", "Bob"}


def _scoped(cts: Cts, operator: str, attribute: str, *values: str) -> None:
    schema: dict[str, Any] = cts.job.schema
    mapping = schema["synchronizationRules"][0]["objectMappings"][0]
    mapping["scope"] = {
        "groups": [
            {
                "name": "filter",
                "clauses": [
                    {
                        "sourceOperandName": attribute,
                        "operatorName": operator,
                        "targetOperand": {"values": list(values)},
                    }
                ],
            }
        ]
    }
    cts.sync.put_schema(cts.sp["id"], cts.job.id, schema)


def test_scoping_filter_narrows_assignments(cts: Cts) -> None:
    team = cts.group(
        "team",
        cts.user("ada", department="Sales"),
        cts.user("bob", department="Ops"),
        cts.user("cy"),
    )
    cts.assign(team)
    _scoped(cts, "EQUALS", "department", "Sales")
    assert _names(cts, _scope(cts)) == {"Ada"}


def test_scoping_filter_reads_extension_attributes(cts: Cts) -> None:
    cy = cts.source.directory.create_user(
        {
            "userPrincipalName": "cy@contoso.com",
            "displayName": "Cy",
            "accountEnabled": True,
            "onPremisesExtensionAttributes": {"extensionAttribute1": "sync"},
        }
    )
    cts.assign(cts.group("team", cy, cts.user("ada")))
    _scoped(cts, "EQUALS", "extensionAttribute1", "sync")
    assert _names(cts, _scope(cts)) == {"Cy"}


def test_disabled_user_mapping_provisions_nothing(cts: Cts) -> None:
    ada = cts.user("ada")
    cts.assign(ada)
    cts.start()
    assert cts.target_user(ada) is not None
    cts.job.schema["synchronizationRules"][0]["objectMappings"][0]["enabled"] = False
    cts.sync.put_schema(cts.sp["id"], cts.job.id, cts.job.schema)
    cts.source.applications.unassign(cts.sp["id"], cts.source.applications.assignments(cts.sp["id"])[0]["id"])
    cts.advance(3 * 3600)
    assert cts.target_user(ada)["deletedDateTime"] is None  # type: ignore[index]
