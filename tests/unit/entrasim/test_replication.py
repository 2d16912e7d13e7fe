"""Replication delay: which reads see an object created through Graph, and when."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.core.errors import BadRequest, ResourceNotFound
from entrasim.core.odata import parse_query
from entrasim.core.profile import FAST, PRODUCTION, Profile
from entrasim.world import Tenant, World

HOME = "11111111-1111-4111-8111-111111111111"
WRITER = "aaaaaaaa-1111-4111-8111-111111111111"
OTHER = "bbbbbbbb-2222-4222-8222-222222222222"
ALWAYS_OWN = replace(PRODUCTION, own_write_visibility=1.0)
NEVER_OWN = replace(PRODUCTION, own_write_visibility=0.0)


def _tenant(profile: Profile) -> Tenant:
    return World(time_scale=0, profile=profile).add_tenant(HOME, "home.onmicrosoft.com", "Home")


def _create_user(tenant: Tenant, name: str = "ada") -> dict:
    """A user created through Graph by WRITER (what the POST /users handler does)."""
    world = tenant.world
    with world.replication.reading_as(tenant.id, WRITER):
        user = tenant.directory.create_user(
            {"userPrincipalName": f"{name}@home.onmicrosoft.com", "displayName": name, "accountEnabled": True}
        )
        world.replication.written(user["id"])
    return user


def _listed_ids(tenant: Tenant) -> list[str]:
    return [u["id"] for u in tenant.directory.find("user", parse_query({}), advanced=False)]


def _sees(tenant: Tenant, app_id: str, object_id: str) -> bool:
    with tenant.world.replication.reading_as(tenant.id, app_id):
        try:
            tenant.directory.get_user(object_id)
        except ResourceNotFound:
            return False
        return True


def test_the_fast_profile_shows_a_new_object_to_everyone_at_once() -> None:
    tenant = _tenant(FAST)
    user = _create_user(tenant)
    assert _sees(tenant, OTHER, user["id"])
    assert tenant.world.replication.pending == {}


def test_another_caller_gets_404_and_a_list_without_it_until_the_delay_passed() -> None:
    tenant = _tenant(PRODUCTION)
    user = _create_user(tenant)
    visible_at = tenant.world.replication.pending[user["id"]].visible_at
    assert 0 < visible_at - tenant.world.clock.now() <= PRODUCTION.replication_delay

    with tenant.world.replication.reading_as(tenant.id, OTHER):
        with pytest.raises(ResourceNotFound, match="does not exist"):
            tenant.directory.get_user(user["id"])
        with pytest.raises(ResourceNotFound):
            tenant.directory.get_user("ada@home.onmicrosoft.com")  # by UPN too
        assert _listed_ids(tenant) == []

    tenant.world.clock.advance(PRODUCTION.replication_delay)
    assert _sees(tenant, OTHER, user["id"])
    with tenant.world.replication.reading_as(tenant.id, OTHER):
        assert _listed_ids(tenant) == [user["id"]]
    assert tenant.world.replication.pending == {}


def test_the_same_app_in_another_tenant_is_another_caller() -> None:
    tenant = _tenant(ALWAYS_OWN)
    user = _create_user(tenant)
    other_tenant = "22222222-2222-4222-8222-222222222222"
    with tenant.world.replication.reading_as(other_tenant, WRITER), pytest.raises(ResourceNotFound):
        tenant.directory.get_user(user["id"])


def test_the_writer_sees_its_write_when_served_by_its_own_replica() -> None:
    tenant = _tenant(ALWAYS_OWN)
    assert _sees(tenant, WRITER, _create_user(tenant)["id"])
    tenant = _tenant(NEVER_OWN)
    assert not _sees(tenant, WRITER, _create_user(tenant)["id"])


def test_the_writers_replica_is_drawn_per_request_and_seeded() -> None:
    def draws() -> list[bool]:
        tenant = _tenant(replace(PRODUCTION, own_write_visibility=0.5))
        user = _create_user(tenant)
        return [_sees(tenant, WRITER, user["id"]) for _ in range(200)]

    first = draws()
    assert 60 < sum(first) < 140  # both replicas serve the writer
    assert draws() == first  # the same seed, the same answers


def test_one_request_reads_from_one_replica() -> None:
    tenant = _tenant(replace(PRODUCTION, own_write_visibility=0.5))
    user = _create_user(tenant)
    for _ in range(50):
        with tenant.world.replication.reading_as(tenant.id, WRITER):
            answers = {_listed_ids(tenant) == [user["id"]] for _ in range(5)}
        assert len(answers) == 1


def test_outside_a_graph_request_everything_is_visible() -> None:
    """Seeds, the control API and the provisioning engine's cycles read the directory itself."""
    tenant = _tenant(NEVER_OWN)
    user = _create_user(tenant)
    assert tenant.directory.get_user(user["id"]) is user
    assert _listed_ids(tenant) == [user["id"]]


def test_objects_created_outside_a_graph_request_have_no_delay() -> None:
    tenant = _tenant(NEVER_OWN)
    tenant.directory.create_user(
        {"userPrincipalName": "s@home.onmicrosoft.com", "displayName": "S", "accountEnabled": True}
    )
    tenant.world.replication.written("any-id")  # no caller: nothing to record
    assert tenant.world.replication.pending == {}


def test_adding_an_unreplicated_member_or_to_an_unreplicated_group_is_the_documented_400() -> None:
    tenant = _tenant(NEVER_OWN)
    d = tenant.directory
    old_group = d.create_group(
        {"displayName": "Old", "mailEnabled": False, "mailNickname": "o", "securityEnabled": True}
    )
    user = _create_user(tenant)
    with tenant.world.replication.reading_as(tenant.id, WRITER):
        new_group = d.create_group(
            {"displayName": "New", "mailEnabled": False, "mailNickname": "n", "securityEnabled": True}
        )
        tenant.world.replication.written(new_group["id"])
        message = "The source resource object or one of the objects being referenced don't exist."
        with pytest.raises(BadRequest, match=message):
            d.add_member(old_group["id"], user["id"])
        with pytest.raises(BadRequest, match=message):
            d.add_member(new_group["id"], user["id"])
        with pytest.raises(BadRequest, match=message):
            d.create_group(
                {"displayName": "Bound", "mailEnabled": False, "mailNickname": "b", "securityEnabled": True},
                members=[user["id"]],
            )
    tenant.world.clock.advance(PRODUCTION.replication_delay)
    with tenant.world.replication.reading_as(tenant.id, WRITER):
        d.add_member(new_group["id"], user["id"])
        assert [m["id"] for m in d.direct_members(new_group["id"])] == [user["id"]]


def test_an_instantiated_service_principal_is_hidden_by_id_appid_list_and_template() -> None:
    tenant = _tenant(NEVER_OWN)
    apps = tenant.applications
    with tenant.world.replication.reading_as(tenant.id, WRITER):
        app, sp = apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")
        tenant.world.replication.written(app["id"])
        tenant.world.replication.written(sp["id"])
    with tenant.world.replication.reading_as(tenant.id, OTHER):
        for lookup in (apps.service_principal, apps.get_application):
            with pytest.raises(ResourceNotFound):
                lookup(sp["id"] if lookup == apps.service_principal else app["id"])
        with pytest.raises(ResourceNotFound):
            apps.service_principal_by_app_id(app["appId"])
        assert apps.list_service_principals() == []
        assert apps.list_applications() == []
        assert apps.service_principals_by_template(CTS_TEMPLATE_ID) == []
    tenant.world.clock.advance(PRODUCTION.replication_delay)
    with tenant.world.replication.reading_as(tenant.id, OTHER):
        assert apps.service_principal(sp["id"]) is sp


def test_assigning_an_unreplicated_principal_is_404_and_a_new_assignment_is_not_listed() -> None:
    tenant = _tenant(NEVER_OWN)
    apps = tenant.applications
    _, sp = apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")  # outside a request: visible at once
    user = _create_user(tenant)
    body = {"principalId": user["id"], "resourceId": sp["id"], "appRoleId": sp["appRoles"][0]["id"]}
    with tenant.world.replication.reading_as(tenant.id, WRITER), pytest.raises(ResourceNotFound):
        apps.assign(sp["id"], body)
    tenant.world.clock.advance(PRODUCTION.replication_delay)
    with tenant.world.replication.reading_as(tenant.id, WRITER):
        assignment = apps.assign(sp["id"], body)
        tenant.world.replication.written(assignment["id"])
        assert apps.assignments(sp["id"]) == []
        assert apps.assignments_of(user["id"]) == []
    assert apps.assignments(sp["id"]) == [assignment]


def test_deleting_an_application_takes_its_unreplicated_service_principal_along() -> None:
    tenant = _tenant(NEVER_OWN)
    apps = tenant.applications
    app, sp = apps.instantiate(CTS_TEMPLATE_ID, "Fabrikam")
    with tenant.world.replication.reading_as(tenant.id, WRITER):
        tenant.world.replication.written(sp["id"])  # only the service principal is still replicating
        apps.delete_application(app["id"])
    assert apps.list_service_principals() == [] and list(apps.service_principals) == [apps.graph["id"]]


def test_delays_are_seeded_capped_and_mostly_brief() -> None:
    def delays(seed: int) -> list[float]:
        world = World(time_scale=0, profile=PRODUCTION, random_seed=seed)
        return [world.replication.delay() for _ in range(2000)]

    drawn = delays(7)
    assert drawn == delays(7)
    assert drawn != delays(8)
    assert max(drawn) <= PRODUCTION.replication_delay
    assert 2.5 < statistics.median(drawn) < 3.5  # a fifth of the 15 s maximum
    assert sum(d == PRODUCTION.replication_delay for d in drawn) < 0.02 * len(drawn)


def test_reset_forgets_pending_objects() -> None:
    tenant = _tenant(NEVER_OWN)
    _create_user(tenant)
    tenant.world.reset()
    assert tenant.world.replication.pending == {}


def test_replicated_objects_are_forgotten_even_if_nobody_reads() -> None:
    tenant = _tenant(PRODUCTION)
    for n in range(1_100):
        _create_user(tenant, f"user{n}")
        tenant.world.clock.advance(1)
    assert len(tenant.world.replication.pending) < 1_024


def test_a_cached_member_listing_still_hides_what_the_readers_replica_lacks() -> None:
    tenant = _tenant(NEVER_OWN)
    d = tenant.directory
    group = d.create_group({"displayName": "Team", "mailEnabled": False, "mailNickname": "t", "securityEnabled": True})
    old, new = (
        d.create_user({"userPrincipalName": "old@home.onmicrosoft.com", "displayName": "Old", "accountEnabled": True}),
        _create_user(tenant),
    )
    d.add_member(group["id"], old["id"])
    d.add_member(group["id"], new["id"])  # outside a Graph request (as a seed or the engine): allowed
    everyone = [old["id"], new["id"]]
    for transitive in (False, True):
        assert [m["id"] for m in d.member_listing(group["id"], transitive=transitive)] == everyone  # cached
        with tenant.world.replication.reading_as(tenant.id, OTHER):
            assert [m["id"] for m in d.member_listing(group["id"], transitive=transitive)] == [old["id"]]
            assert [m["id"] for m in d.member_listing(group["id"], transitive=transitive, kind="user")] == [old["id"]]
    tenant.world.clock.advance(PRODUCTION.replication_delay)
    with tenant.world.replication.reading_as(tenant.id, OTHER):
        assert [m["id"] for m in d.member_listing(group["id"], transitive=True)] == everyone
