"""Which Graph user property holds each source attribute: one map, read alike by the scope count and the
dynamic-group projection."""

import pytest

from ctsync.api.syncscope import Clause, ScopingFilter
from ctsync.api.userschema import GRAPH_PROPERTY, graph_value
from ctsync.planning import dynamic_groups, scoping
from entrasim.core.resources import USER

# What entrasim's user knows beyond Graph v1.0's user resource: the manager relationship and Azure AD
# Graph's telephoneNumber, which Microsoft Graph exposes as businessPhones.
_BEYOND_GRAPH = {"manager", "telephoneNumber"}


def test_every_source_attribute_is_read_from_a_property_graph_exposes() -> None:
    assert set(GRAPH_PROPERTY.values()) <= USER.known - _BEYOND_GRAPH


@pytest.mark.parametrize(("phones", "expected"), [(["+1 555 0100"], "+1 555 0100"), ([], None), (None, None)])
def test_telephone_number_is_the_first_business_phone(phones: list[str] | None, expected: str | None) -> None:
    user = {"businessPhones": phones, "telephoneNumber": "not a Graph property"}
    assert graph_value(user, "telephoneNumber") == expected
    assert dynamic_groups.graph_value(user, "telephoneNumber") == expected


def test_scope_count_and_dynamic_groups_select_the_same_property() -> None:
    scope = scoping.from_spec((ScopingFilter((Clause("telephoneNumber", "EQUALS", "+1 555 0100"),)),))
    assert scope.graph_properties == {"businessPhones"} == {dynamic_groups.graph_select("telephoneNumber")}
    assert scope.admits({"businessPhones": ["+1 555 0100"]})
    assert not scope.admits({"telephoneNumber": "+1 555 0100", "businessPhones": []})


def test_extension_attributes_are_read_from_on_premises_extension_attributes() -> None:
    user = {"onPremisesExtensionAttributes": {"extensionAttribute3": "x"}, "mobilePhone": "+1 555 0199"}
    assert graph_value(user, "extensionAttribute3") == "x" and graph_value(user, "mobile") == "+1 555 0199"
