"""The user attributes of the Azure2Azure (cross-tenant synchronization) job schema and the operators its
scoping filters take, as data.

Source: Microsoft's documentation of the CTS schema (the default user attribute mappings of "Configure
cross-tenant synchronization", the synchronization schema resources directoryDefinition / objectDefinition
/ attributeDefinition, the service's `filterOperators`) and the user properties of Microsoft Graph. The
template's directories list more attributes than it maps by default; these are the ones a mapping or a
scoping filter may name offline. A live job schema (its directories' objects[].attributes) takes
precedence when ctsync can read it.
"""

from collections.abc import Mapping
from typing import Any, Final

UNARY_OPERATORS: Final = ("IS TRUE", "IS FALSE", "IS NULL", "IS NOT NULL")
BINARY_OPERATORS: Final = (
    "EQUALS",
    "NOT EQUALS",
    "REGEX MATCH",
    "NOT REGEX MATCH",
    "Greater_Than",
    "Greater_Than_OR_EQUALS",
    "Includes",
    "ENDS_WITH",
    "&",
    "!&",
)
REGEX_OPERATORS: Final = ("REGEX MATCH", "NOT REGEX MATCH")

EXTENSION_ATTRIBUTES: Final = tuple(f"extensionAttribute{i}" for i in range(1, 16))
# Directory extensions (extension_<appId without dashes>_<name>) are tenant-specific: offline, any name of
# this form passes a mapping, and a live schema decides.
DIRECTORY_EXTENSION_PREFIX: Final = "extension_"

# Schema attribute -> the Graph user property that holds it, where the names differ.
RENAMED_IN_GRAPH: Final[Mapping[str, str]] = {
    "mobile": "mobilePhone",
    "physicalDeliveryOfficeName": "officeLocation",
    "facsimileTelephoneNumber": "faxNumber",
    "objectId": "id",
    # Graph's user has no telephoneNumber: the schema's (Azure AD Graph's) business phone is the first, and
    # only, value of businessPhones (graph_value).
    "telephoneNumber": "businessPhones",
}
# Graph collections that hold one single-valued schema attribute as their first value.
_FIRST_VALUE_OF: Final = frozenset({"businessPhones"})
_SAME_NAME: Final = (
    "accountEnabled",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "otherMails",
    "postalCode",
    "preferredLanguage",
    "showInAddressList",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
)
# Source attributes Graph exposes on the user: schema name -> Graph property to $select.
GRAPH_PROPERTY: Final[Mapping[str, str]] = {
    **{name: name for name in _SAME_NAME},
    **RENAMED_IN_GRAPH,
    **{name: "onPremisesExtensionAttributes" for name in EXTENSION_ATTRIBUTES},
}
# Source attributes with a value Graph does not expose but that a filter sees all the same: multi-valued
# ones never compare (a scoping filter treats them as empty), and every user read is live.
FIXED_VALUES: Final[Mapping[str, object]] = {
    "alternativeSecurityIds": None,
    "appRoleAssignments": None,
    "IsSoftDeleted": False,
}
# In the schema, but no Graph user property holds the value (netId is the user's PUID, manager a
# reference), so ctsync could not count a scope that filters on them.
UNREADABLE: Final = frozenset({"netId", "manager"})

SOURCE_USER_ATTRIBUTES: Final = frozenset(GRAPH_PROPERTY) | frozenset(FIXED_VALUES) | UNREADABLE
# Only the source user has its object id, the netId the matching attribute is built from
# (AltSecIdFromNetId([netId])) and its app role assignments (the scope).
TARGET_USER_ATTRIBUTES: Final = SOURCE_USER_ATTRIBUTES - {"objectId", "netId", "appRoleAssignments"}
FILTERABLE_ATTRIBUTES: Final = SOURCE_USER_ATTRIBUTES - UNREADABLE


def graph_value(user: Mapping[str, Any], attribute: str) -> object:
    """A source attribute's value, by its schema name, in a user as Graph returns it."""
    prop = GRAPH_PROPERTY.get(attribute, attribute)
    value = user.get(prop)
    if prop == "onPremisesExtensionAttributes":
        return (value or {}).get(attribute)
    if prop in _FIRST_VALUE_OF:
        return value[0] if isinstance(value, list) and value else None
    return value
