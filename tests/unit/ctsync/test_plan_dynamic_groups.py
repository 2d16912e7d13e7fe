"""Source users projected through the job's mappings into the users CTS creates, and the dynamic groups
of the target their rules would put them in."""

from ctsync_samples import cts_schema, mapping, user_mappings

from ctsync.planning.dynamic_groups import describe, find_collisions, membership_changes, projection_of

ALICE = {"id": "a", "displayName": "Alice", "department": "Finance", "companyName": "Contoso", "mobilePhone": "1"}
BOB = {
    "id": "b",
    "displayName": "Bob",
    "department": "Sales",
    "onPremisesExtensionAttributes": {"extensionAttribute2": "x"},
}


def group(name: str, rule: str, state: str = "On") -> dict:
    return {"id": name.lower(), "displayName": name, "membershipRule": rule, "membershipRuleProcessingState": state}


def schema_with(*extra: dict) -> dict:
    schema = cts_schema()
    user_mappings(schema).extend(extra)
    return schema


def test_the_default_mapping_makes_members_from_the_source_attributes():
    guest = projection_of(cts_schema()).guest(ALICE)
    assert (guest["usertype"], guest["department"], guest["objectid"] is not None) == ("Member", "Finance", True)
    assert "companyname" not in guest  # not mapped: the new user has none


def test_constants_defaults_and_renamed_graph_properties_are_projected():
    schema = schema_with(
        mapping("companyName", '"Contoso (Synced)"'),
        mapping("mobile", "[mobile]"),
        mapping("extensionAttribute2", "[extensionAttribute2]"),
        mapping("jobTitle", "[jobTitle]", defaultValue="Staff"),
    )
    projection = projection_of(schema)
    alice, bob = projection.guest(ALICE), projection.guest(BOB)
    assert (alice["companyname"], alice["mobile"], alice["jobtitle"]) == ("Contoso (Synced)", "1", "Staff")
    assert bob["extensionattribute2"] == "x"
    assert projection.source_attributes({"mobile", "companyname", "department"}) == {"mobile", "department"}


def test_each_rule_is_evaluated_once_per_user():
    groups = [group("Finance", 'user.department -eq "Finance"'), group("All", "user.objectId -ne null")]
    found = find_collisions(groups, {"a": ALICE, "b": BOB}, projection_of(cts_schema()))
    assert found.evaluations == 4
    assert [(m.name, m.members) for m in found.matches] == [("All", ("a", "b")), ("Finance", ("a",))]
    assert "'Finance' (user.department -eq \"Finance\"): 1 synced user(s) match, e.g. Alice" in describe(found)


def test_a_rule_on_an_attribute_mapped_through_a_function_is_not_evaluated():
    schema = schema_with(mapping("companyName", 'Join(" ", [companyName], "Ltd")'))
    groups = [
        group("Contoso", 'user.companyName -contains "Contoso"'),
        group("UPN", 'user.userPrincipalName -contains "x"'),
    ]
    found = find_collisions(groups, {"a": ALICE}, projection_of(schema))
    assert found.matches == () and found.evaluations == 0
    reasons = {n.name: n.reason for n in found.not_evaluated}
    assert "companyname" in reasons["Contoso"] and "Join" in reasons["Contoso"]
    assert "#EXT#" in reasons["UPN"]


def test_a_paused_group_is_reported_with_its_state():
    found = find_collisions(
        [group("Finance", 'user.department -eq "Finance"', "Paused")], {"a": ALICE}, projection_of(cts_schema())
    )
    assert "processing is Paused" in describe(found)


def test_a_change_lists_the_groups_users_join_and_leave():
    groups = [group("Finance", 'user.department -eq "Finance"'), group("Sales", 'user.department -eq "Sales"')]
    projection = projection_of(cts_schema())
    before = find_collisions(groups, {"a": ALICE}, projection)
    after = find_collisions(groups, {"b": BOB}, projection)
    assert membership_changes(before, after) == [
        "1 synced user(s) would leave dynamic group 'Finance'",
        "1 synced user(s) would join dynamic group 'Sales'",
    ]
