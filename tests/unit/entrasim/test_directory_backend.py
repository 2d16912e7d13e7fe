"""Rules of the directory backend: users, groups, dynamic membership, the recycle bin, delta bookkeeping
and the query capabilities of directory collections."""

from __future__ import annotations

from typing import Any

import pytest

from entrasim.core.errors import BadRequest, GraphError, ResourceNotFound, UnsupportedQuery
from entrasim.core.odata import compile_search, parse_filter, parse_query
from entrasim.core.resources import RESOURCES
from entrasim.directory.exceptions import DeltaReset, InvalidObjectIdentifier, ObjectConflict, SyncStateNotFound
from entrasim.directory.models import (
    DELTA_TOKEN_SECONDS,
    RECYCLE_BIN_SECONDS,
    DirectoryBackend,
    check_query,
)
from entrasim.world import World

TENANT = "9c3e1b7a-2d4f-4e8b-a1c6-7f5d0e2b4a93"
DAY = 24 * 3600
EXTENSION_1 = "onPremisesExtensionAttributes/extensionAttribute1"
FINANCE_RULE = '(user.department -eq "Finance") -and (user.accountEnabled -eq true)'


@pytest.fixture
def world() -> World:
    return World(time_scale=0)  # simulated time moves only when a test advances it


@pytest.fixture
def d(world: World) -> DirectoryBackend:
    return world.add_tenant(TENANT, "fabrikam.onmicrosoft.com", "Fabrikam").directory


def user(d: DirectoryBackend, name: str, **props: Any) -> dict[str, Any]:
    return d.create_user({"userPrincipalName": f"{name}@fabrikam.com", "displayName": name.title(),
                          "accountEnabled": True, **props})  # fmt: skip


def group(d: DirectoryBackend, name: str, **props: Any) -> dict[str, Any]:
    return d.create_group({"displayName": name, "mailEnabled": False, "mailNickname": name.replace(" ", ""),
                           "securityEnabled": True, **props})  # fmt: skip


def dynamic(d: DirectoryBackend, name: str, rule: str = FINANCE_RULE, **props: Any) -> dict[str, Any]:
    return group(d, name, groupTypes=["DynamicMembership"], membershipRule=rule, **props)


def member_ids(d: DirectoryBackend, group_id: str) -> set[str]:
    return {o["id"] for o in d.direct_members(group_id)}


# --- users ----------------------------------------------------------------------------------------------


def test_guest_user_as_the_provisioning_engine_creates_it_round_trips(d):
    upn = "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com"
    props = {"userPrincipalName": upn, "displayName": "Alice", "accountEnabled": True, "userType": "Guest",
             "creationType": "Invitation", "externalUserState": "Accepted", "showInAddressList": True,
             "mail": "alice@contoso.com",
             "onPremisesExtensionAttributes": {"extensionAttribute1": "CTS"}}  # fmt: skip
    created = d.create_user(props)
    fetched = d.get_user(upn.upper())
    assert fetched is d.get_user(created["id"].upper())
    assert {k: fetched[k] for k in props if k != "onPremisesExtensionAttributes"} == {
        k: v for k, v in props.items() if k != "onPremisesExtensionAttributes"
    }
    assert fetched["onPremisesExtensionAttributes"]["extensionAttribute1"] == "CTS"
    assert fetched["onPremisesExtensionAttributes"]["extensionAttribute15"] is None
    assert fetched["mailNickname"] == "alice_contoso.com#EXT#"


def test_password_profile_is_never_stored(d):
    assert "passwordProfile" not in user(d, "bob", passwordProfile={"password": "x"})


def test_duplicate_upn_is_a_400_object_conflict(d):
    user(d, "bob")
    with pytest.raises(ObjectConflict) as err:
        user(d, "BOB")
    assert (err.value.status, err.value.code) == (400, "Request_BadRequest")
    assert err.value.details == [{"code": "ObjectConflict", "message": err.value.message,
                                  "target": "userPrincipalName"}]  # fmt: skip


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"userPrincipalName": "no-at-sign", "displayName": "x", "accountEnabled": True},
            "userPrincipalName",
        ),
        ({"userPrincipalName": "x@y.com", "accountEnabled": True}, "'displayName' is required"),
        (
            {"userPrincipalName": "x@y.com", "displayName": "x", "accountEnabled": True, "shoeSize": 9},
            "shoeSize",
        ),
    ],
)
def test_invalid_user_payloads(d, props, message):
    with pytest.raises(BadRequest, match=message):
        d.create_user(props)


def test_api_creation_needs_what_graph_needs(d):
    props = {"userPrincipalName": "x@y.com", "displayName": "x", "accountEnabled": True, "mailNickname": "x"}
    with pytest.raises(BadRequest, match="passwordProfile"):
        d.create_user_from_api(props)
    with pytest.raises(BadRequest, match="read-only"):
        d.create_user_from_api({**props, "passwordProfile": {"password": "p"}, "id": TENANT})
    assert d.create_user_from_api({**props, "passwordProfile": {"password": "p"}})["mailNickname"] == "x"


def test_seeded_ids_must_be_guids_and_unique(d):
    with pytest.raises(InvalidObjectIdentifier):
        d.create_user({"userPrincipalName": "a@b.c", "displayName": "a", "accountEnabled": True}, object_id="x")
    d.create_user({"userPrincipalName": "a@b.c", "displayName": "a", "accountEnabled": True}, object_id=TENANT)
    with pytest.raises(ObjectConflict):
        group(d, "g", id=TENANT.upper())


def test_update_user_renames_merges_extension_attributes_and_keeps_read_only_fields(d):
    bob = user(d, "bob", onPremisesExtensionAttributes={"extensionAttribute1": "a"})
    created = bob["createdDateTime"]
    d.update_user(bob["id"], {"userPrincipalName": "robert@fabrikam.com", "createdDateTime": "1999",
                              "onPremisesExtensionAttributes": {"extensionAttribute2": "b"}})  # fmt: skip
    assert d.get_user("robert@fabrikam.com") is bob
    with pytest.raises(ResourceNotFound):
        d.get_user("bob@fabrikam.com")
    assert bob["createdDateTime"] == created
    assert bob["onPremisesExtensionAttributes"]["extensionAttribute1"] == "a"
    assert bob["onPremisesExtensionAttributes"]["extensionAttribute2"] == "b"
    user(d, "carol")
    with pytest.raises(ObjectConflict):
        d.update_user(bob["id"], {"userPrincipalName": "CAROL@fabrikam.com"})
    with pytest.raises(BadRequest, match="userPrincipalName"):
        d.update_user(bob["id"], {"userPrincipalName": None})


def test_unknown_user_is_404(d):
    with pytest.raises(ResourceNotFound) as err:
        d.get_user("nobody@fabrikam.com")
    assert (err.value.status, err.value.code) == (404, "Request_ResourceNotFound")


# --- groups and membership ------------------------------------------------------------------------------


def test_group_lookup_validates_guid_and_indexes_names(d):
    first, second = group(d, "Sales"), group(d, "sales")
    with pytest.raises(InvalidObjectIdentifier) as err:
        d.get_group("not-a-guid")
    assert err.value.message == "Invalid object identifier 'not-a-guid'."
    assert {g["id"] for g in d.groups_named("SALES")} == {first["id"], second["id"]}
    d.update_group(first["id"], {"displayName": "Revenue"})
    assert d.groups_named("sales") == [second]
    assert d.groups_named("revenue") == [first]


def test_mail_enabled_security_groups_are_refused_and_unified_groups_get_mail(d):
    with pytest.raises(BadRequest, match="mail-enabled security groups"):
        group(d, "Mailers", mailEnabled=True)
    m365 = group(d, "Team", mailEnabled=True, securityEnabled=False, groupTypes=["Unified"])
    assert m365["mail"] == "Team@fabrikam.onmicrosoft.com"
    assert m365["visibility"] == "Public"


def test_membership_add_remove_and_indexes(d):
    outer, inner = group(d, "Outer"), group(d, "Inner")
    alice, bob = user(d, "alice"), user(d, "bob")
    d.add_member(outer["id"], inner["id"])
    d.add_member(outer["id"], alice["id"])
    d.add_member(inner["id"], bob["id"].upper())
    with pytest.raises(BadRequest, match="already exist"):
        d.add_member(outer["id"], alice["id"])
    with pytest.raises(ResourceNotFound):
        d.add_member(outer["id"], "00000000-0000-4000-8000-000000000000")
    assert member_ids(d, outer["id"]) == {inner["id"], alice["id"]}
    assert {o["id"] for o in d.transitive_members(outer["id"])} == {inner["id"], alice["id"], bob["id"]}
    assert set(d.member_of(bob["id"])) == {inner["id"]}
    d.remove_member(outer["id"], alice["id"])
    assert set(d.member_of(alice["id"])) == set()
    with pytest.raises(ResourceNotFound):
        d.remove_member(outer["id"], alice["id"])


def test_member_listing_is_read_once_per_directory_change(d):
    """Paging a group reads its member listing once per page: it is listed again only after a change."""
    outer, inner = group(d, "Outer"), group(d, "Inner")
    alice, bob = user(d, "alice"), user(d, "bob")
    d.add_member(outer["id"], inner["id"])
    d.add_member(outer["id"], alice["id"])
    d.add_member(inner["id"], bob["id"])
    first = d.member_listing(outer["id"], transitive=False)
    assert d.member_listing(outer["id"].upper(), transitive=False) is first
    assert {o["id"] for o in first} == {inner["id"], alice["id"]}
    transitive = d.member_listing(outer["id"], transitive=True)
    assert {o["id"] for o in transitive} == {inner["id"], alice["id"], bob["id"]}
    assert {o["id"] for o in d.member_listing(outer["id"], transitive=True, kind="user")} == {alice["id"], bob["id"]}
    assert [o["id"] for o in d.member_listing(outer["id"], transitive=False, kind="group")] == [inner["id"]]
    carol = user(d, "carol")
    d.add_member(inner["id"], carol["id"])
    assert d.member_listing(outer["id"], transitive=False) is not first
    assert carol["id"] in {o["id"] for o in d.member_listing(outer["id"], transitive=True)}
    d.update_user(alice["id"], {"displayName": "Alice Renamed"})
    renamed = {o["id"]: o["displayName"] for o in d.member_listing(outer["id"], transitive=False, kind="user")}
    assert renamed == {alice["id"]: "Alice Renamed"}
    with pytest.raises(ResourceNotFound):
        d.member_listing("00000000-0000-4000-8000-000000000000", transitive=False)


def test_group_creation_with_members(d):
    alice = user(d, "alice")
    team = d.create_group({"displayName": "T", "mailEnabled": False, "mailNickname": "t",
                           "securityEnabled": True}, members=["ALICE@fabrikam.com"])  # fmt: skip
    assert member_ids(d, team["id"]) == {alice["id"]}


# --- dynamic membership ---------------------------------------------------------------------------------


def test_dynamic_group_is_computed_on_create_and_follows_user_changes(d):
    alice, bob = user(d, "alice", department="Finance"), user(d, "bob", department="Sales")
    finance = dynamic(d, "Finance")
    assert finance["membershipRuleProcessingState"] == "On"
    assert member_ids(d, finance["id"]) == {alice["id"]}
    carol = user(d, "carol", department="finance")
    d.update_user(bob["id"], {"department": "Finance"})
    d.update_user(alice["id"], {"accountEnabled": False})
    assert member_ids(d, finance["id"]) == {bob["id"], carol["id"]}
    d.delete_user(carol["id"])
    assert member_ids(d, finance["id"]) == {bob["id"]}
    d.restore(carol["id"])
    assert member_ids(d, finance["id"]) == {bob["id"], carol["id"]}


def test_dynamic_group_members_cannot_be_managed_by_hand(d):
    finance, alice = dynamic(d, "Finance"), user(d, "alice")
    with pytest.raises(BadRequest, match="dynamic membership"):
        d.create_group({**finance, "id": None, "displayName": "Copy"}, members=[alice["id"]])
    with pytest.raises(BadRequest, match="dynamic membership"):
        d.add_member(finance["id"], alice["id"])
    with pytest.raises(BadRequest, match="dynamic membership"):
        d.remove_member(finance["id"], alice["id"])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"groupTypes": ["DynamicMembership"]}, "membershipRule property is required"),
        ({"groupTypes": ["DynamicMembership"], "membershipRule": "user.x -eq 1"}, "Wrong property"),
        ({"membershipRule": FINANCE_RULE}, "only be set on a group whose groupTypes"),
        ({"groupTypes": ["DynamicMembership"], "membershipRule": FINANCE_RULE,
          "membershipRuleProcessingState": "Off"}, "membershipRuleProcessingState"),
        ({"groupTypes": "DynamicMembership"}, "groupTypes"),
        ({"displayName": None}, "displayName"),
    ],
)  # fmt: skip
def test_invalid_dynamic_groups(d, props, message):
    with pytest.raises(BadRequest, match=message):
        group(d, "Broken", **props)


def test_paused_rule_freezes_membership_and_resuming_recomputes(d):
    alice = user(d, "alice", department="Finance")
    finance = dynamic(d, "Finance", membershipRuleProcessingState="Paused")
    assert member_ids(d, finance["id"]) == set()
    d.update_group(finance["id"], {"membershipRuleProcessingState": "On"})
    assert member_ids(d, finance["id"]) == {alice["id"]}
    d.update_group(finance["id"], {"membershipRuleProcessingState": "Paused"})
    user(d, "bob", department="Finance")
    assert member_ids(d, finance["id"]) == {alice["id"]}


def test_rule_change_and_switch_to_assigned(d):
    alice, bob = user(d, "alice", department="Finance"), user(d, "bob", department="Sales")
    team = dynamic(d, "Team")
    d.update_group(team["id"], {"membershipRule": 'user.department -eq "Sales"'})
    assert member_ids(d, team["id"]) == {bob["id"]}
    d.update_group(team["id"], {"groupTypes": []})
    assert team["membershipRule"] is None
    assert member_ids(d, team["id"]) == {bob["id"]}  # an assigned group keeps the members it had
    d.add_member(team["id"], alice["id"])
    d.update_group(team["id"], {"groupTypes": ["DynamicMembership"], "membershipRule": FINANCE_RULE})
    assert member_ids(d, team["id"]) == {alice["id"]}


# --- recycle bin ----------------------------------------------------------------------------------------


def test_soft_delete_restore_brings_back_static_memberships(d):
    team, alice = group(d, "Team"), user(d, "alice")
    d.add_member(team["id"], alice["id"])
    d.delete_user("ALICE@fabrikam.com")
    assert alice["deletedDateTime"] is not None
    assert d.deleted_items("user") == [alice]
    assert member_ids(d, team["id"]) == set()
    with pytest.raises(ResourceNotFound):
        d.get_user(alice["id"])
    restored = d.restore(alice["id"].upper())
    assert restored is alice and alice["deletedDateTime"] is None
    assert member_ids(d, team["id"]) == {alice["id"]}
    assert d.get_user("alice@fabrikam.com") is alice


def test_restore_conflicting_upn_is_refused(d):
    alice = user(d, "alice")
    d.delete_user(alice["id"])
    user(d, "alice")
    with pytest.raises(ObjectConflict):
        d.restore(alice["id"])


def test_security_groups_are_deleted_at_once_and_unified_groups_are_recycled(d):
    security = group(d, "Sec")
    m365 = group(d, "Team", mailEnabled=True, securityEnabled=False, groupTypes=["Unified"])
    alice = user(d, "alice")
    d.add_member(m365["id"], alice["id"])
    d.delete_group(security["id"])
    d.delete_group(m365["id"])
    assert d.deleted_items("group") == [m365]
    with pytest.raises(ResourceNotFound):
        d.get_deleted(security["id"])
    d.restore(m365["id"])
    assert member_ids(d, m365["id"]) == {alice["id"]}
    assert d.groups_named("team") == [m365]


def test_hard_delete_and_thirty_day_purge(world, d):
    alice, bob = user(d, "alice"), user(d, "bob")
    d.delete_user(alice["id"])
    d.hard_delete(alice["id"])
    with pytest.raises(ResourceNotFound):
        d.restore(alice["id"])
    d.delete_user(bob["id"])
    world.clock.advance(RECYCLE_BIN_SECONDS - 60)
    assert d.purge_recycle_bin(world.clock.now()) == []
    world.clock.advance(120)
    world.tick()
    assert d.deleted == {}


# --- delta bookkeeping ----------------------------------------------------------------------------------


def drain(d: DirectoryBackend, kind: str, since: int | None, cursor: int | None = 0) -> list[dict[str, Any]]:
    """The rest of a delta round from `cursor`, two objects a page."""
    items: list[dict[str, Any]] = []
    while cursor is not None:
        page, cursor = d.delta_page(kind, since, cursor, 2)
        items += page
    return items


def test_initial_round_lists_existing_objects_of_the_kind_only(d):
    alice, bob, carol = user(d, "alice"), user(d, "bob"), user(d, "carol")
    group(d, "Team")
    d.delete_user(bob["id"])
    d.update_user(alice["id"], {"jobTitle": "CFO"})
    assert [u["id"] for u in drain(d, "user", None)] == [carol["id"], alice["id"]]


def test_later_round_reports_changes_and_removals(d):
    alice, bob, carol = user(d, "alice"), user(d, "bob"), user(d, "carol")
    since = d.sequence
    d.update_user(alice["id"], {"jobTitle": "CFO"})
    d.delete_user(bob["id"])
    d.delete_user(carol["id"])
    d.hard_delete(carol["id"])
    dave = user(d, "dave")
    assert drain(d, "user", since) == [
        alice,
        {"id": bob["id"], "@removed": {"reason": "changed"}},
        {"id": carol["id"], "@removed": {"reason": "deleted"}},
        dave,
    ]
    assert drain(d, "user", d.sequence) == []


def test_object_changed_while_a_round_is_paged_is_delivered_with_its_latest_state(d):
    users = [user(d, f"u{i}") for i in range(5)]
    first, cursor = d.delta_page("user", None, 0, 2)
    d.update_user(users[0]["id"], {"jobTitle": "moved"})  # already delivered: it comes again (a replay)
    d.update_user(users[3]["id"], {"jobTitle": "moved"})  # not yet delivered: it comes once, at the end
    rest = drain(d, "user", None, cursor)
    ids = [u["id"] for u in first + rest]
    assert sorted(set(ids)) == sorted(u["id"] for u in users)
    assert ids.count(users[3]["id"]) == 1 and ids.count(users[0]["id"]) == 2


def test_a_select_tracks_only_changes_of_the_selected_properties(d):
    alice, bob = user(d, "alice"), user(d, "bob")
    since = d.sequence
    d.update_user(alice["id"], {"jobTitle": "CFO"})  # not selected: not a change for this round
    d.update_user(bob["id"], {"department": "Legal"})
    selected = frozenset({"department", "accountEnabled"})
    page, _ = d.delta_page("user", since, 0, 10, select=selected)
    assert [u["id"] for u in page] == [bob["id"]]
    assert [u["id"] for u in d.delta_page("user", since, 0, 10)[0]] == [alice["id"], bob["id"]]  # no $select
    d.delete_user(alice["id"])  # a removal is always reported
    assert [u["id"] for u in d.delta_page("user", since, 0, 10, select=selected)[0]] == [bob["id"], alice["id"]]


def test_group_delta_carries_member_additions_and_removals(d):
    team, alice, bob = group(d, "Team"), user(d, "alice"), user(d, "bob")
    d.add_member(team["id"], alice["id"])
    [initial] = drain(d, "group", None)
    assert initial["members@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": alice["id"]}]
    since = d.sequence
    d.add_member(team["id"], bob["id"])
    d.remove_member(team["id"], alice["id"])
    [changed] = drain(d, "group", since)
    assert changed["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": bob["id"]},
        {"@odata.type": "#microsoft.graph.user", "id": alice["id"], "@removed": {"reason": "deleted"}},
    ]
    assert "members@delta" not in d.delta_page("group", since, 0, 10, with_members=False)[0][0]


def test_delta_tokens_check_tenant_kind_and_age(world, d):
    state = d.delta_state("user", d.sequence)
    assert d.open_delta_state(state, "user") == (d.sequence, 0)
    for bad in ({**state, "k": "group"}, {**state, "tid": "other"}, {**state, "lo": d.sequence + 5}, {}):
        with pytest.raises(SyncStateNotFound):
            d.open_delta_state(bad, "user")
    world.clock.advance(DELTA_TOKEN_SECONDS + 1)
    with pytest.raises(SyncStateNotFound) as err:
        d.open_delta_state(state, "user")
    assert (err.value.status, err.value.code) == (400, "syncStateNotFound")


def test_a_delta_reset_makes_earlier_tokens_gone(d):
    state = d.delta_state("user", d.sequence)
    d.reset_delta()
    with pytest.raises(DeltaReset) as err:
        d.open_delta_state(state, "user")
    assert (err.value.status, err.value.code) == (410, "resyncRequired")
    fresh = d.delta_state("user", d.sequence)
    assert d.open_delta_state(fresh, "user") == (d.sequence, 0)


def test_bookkeeping_of_gone_objects_expires_with_the_tokens(world, d):
    team, alice = group(d, "Team"), user(d, "alice")
    d.add_member(team["id"], alice["id"])
    d.delete_user(alice["id"])
    d.hard_delete(alice["id"])
    assert alice["id"] in d.changes
    world.clock.advance(DELTA_TOKEN_SECONDS + 1)
    world.tick()
    assert alice["id"] not in d.changes
    assert d._removed[team["id"]] == {}


def test_change_log_stays_bounded(d):
    alice = user(d, "alice")
    since = d.sequence
    for i in range(5000):
        d.update_user(alice["id"], {"jobTitle": str(i)})
    assert len(d._log) <= 2 * len(d.changes) + 1025
    assert drain(d, "user", since) == [alice]


# --- query capabilities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("userType eq 'Member'", [("userType", "eq")]),
        ("startswith(displayName,'A') and accountEnabled eq false", [("displayName", "startswith"),
                                                                    ("accountEnabled", "eq")]),
        ("not(mail eq null)", [("", "not"), ("mail", "eq null")]),
        ("companyName ne null", [("companyName", "ne null")]),
        ("id in ('a', 'b')", [("id", "in")]),
        ("onPremisesExtensionAttributes/extensionAttribute1 eq 'x'",
         [("onPremisesExtensionAttributes/extensionAttribute1", "eq")]),
        ("proxyAddresses/any(p:startswith(p, 'smtp:'))", [("proxyAddresses", "any")]),
        ("identities/any(c:c/issuer eq 'x')", [("identities", "any")]),
        ("displayName eq 'it''s eq x'", [("displayName", "eq")]),
    ],
)  # fmt: skip
def test_filter_terms(text, terms):
    assert [(t.prop, t.op) for t in parse_filter(text).terms] == terms


def opts(**query: str):  # type: ignore[no-untyped-def]
    return parse_query({f"${k}": v for k, v in query.items()})


@pytest.mark.parametrize(
    ("kind", "query", "advanced", "error", "message"),
    [
        ("user", {"filter": "accountEnabled ne true"}, False, UnsupportedQuery, "Operator 'ne' is not"),
        ("user", {"filter": "endswith(mail,'@x.com')"}, False, UnsupportedQuery, "Operator 'endsWith'"),
        ("user", {"filter": "endswith(displayName,'x')"}, True, UnsupportedQuery, "property 'displayName'"),
        ("user", {"filter": f"{EXTENSION_1} eq 'x'"}, False, UnsupportedQuery,
         "Property 'extensionAttribute1' does not exist as a declared property or extension property."),
        ("user", {"filter": "companyName eq 'x'"}, False, UnsupportedQuery,
         "Unsupported or invalid query filter clause specified for property 'companyName' of resource "
         "'User'."),
        ("user", {"filter": "department eq null"}, False, UnsupportedQuery, "property 'department'"),
        ("user", {"filter": "createdDateTime gt 2021-01-01"}, True, UnsupportedQuery, "createdDateTime"),
        ("user", {"filter": "shoeSize eq 9"}, True, BadRequest, "Could not find a property named 'shoeSize'"),
        ("user", {"filter": "faxNumber eq '1'"}, True, UnsupportedQuery, "property 'faxNumber'"),
        ("user", {"select": "id,shoeSize"}, False, BadRequest, "'shoeSize' on type 'microsoft.graph.user'"),
        ("user", {"orderby": "createdDateTime"}, False, UnsupportedQuery, "Sorting not supported"),
        ("user", {"orderby": "displayName", "filter": "userType eq 'Member'"}, False, UnsupportedQuery,
         "Sorting not supported"),
        ("user", {"expand": "manager"}, False, UnsupportedQuery, "manager"),
        ("group", {"filter": "description eq 'x'"}, False, UnsupportedQuery, "of resource 'Group'"),
    ],
)  # fmt: skip
def test_refused_queries(kind, query, advanced, error, message):
    with pytest.raises(GraphError) as err:
        check_query(kind, opts(**query), advanced=advanced)
    assert type(err.value) is error
    assert message in err.value.message


@pytest.mark.parametrize(
    ("kind", "query", "advanced"),
    [
        ("user", {"filter": "startswith(userPrincipalName,'a') or userType eq 'Guest'"}, False),
        ("user", {"filter": "accountEnabled eq false"}, False),
        ("user", {"filter": "id in ('a','b')"}, False),
        ("user", {"filter": f"{EXTENSION_1} eq 'x'"}, True),
        ("user", {"filter": "accountEnabled ne true and not(companyName eq null)"}, True),
        ("user", {"filter": "endswith(userPrincipalName,'#EXT#@x.com')", "orderby": "createdDateTime"}, True),
        ("user", {"orderby": "displayName", "select": "id,displayName"}, False),
        ("group", {"filter": "groupTypes/any(c:c eq 'Unified') and startswith(displayName,'C')"}, False),
    ],
)  # fmt: skip
def test_accepted_queries(kind, query, advanced):
    check_query(kind, opts(**query), advanced=advanced)


def test_indexed_equality_filters_give_the_same_answer_as_a_scan(d):
    alice = user(d, "alice")
    sales = group(d, "Sales")
    assert d.find("user", opts(filter="userPrincipalName eq 'ALICE@fabrikam.com'"), advanced=False) == [alice]
    assert d.find("user", opts(filter=f"id eq '{alice['id']}'"), advanced=False) == [alice]
    assert d.find("user", opts(filter="userPrincipalName eq 'nobody@x.com'"), advanced=False) == []
    assert d.find("group", opts(filter="displayName eq 'sales'"), advanced=False) == [sales]


def test_search_matches_word_prefixes():
    matches = compile_search('"displayName:ada" OR "mail:zed" AND "jobTitle:boss"', RESOURCES["user"])
    assert matches({"displayName": "Alice Adams"})
    assert matches({"mail": "zed@x.com", "jobTitle": "Big Boss"})
    assert not matches({"mail": "zed@x.com", "jobTitle": "Intern"})
    with pytest.raises(BadRequest):
        compile_search("displayName:ada", RESOURCES["user"])
