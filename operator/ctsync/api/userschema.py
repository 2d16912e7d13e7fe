"""The source user of the Azure2Azure (CTS) job schema: which attributes a scoping filter may read, where
Graph exposes each, and the operators the service's `filterOperators` lists. Pure data."""

from collections.abc import Mapping
from typing import Final

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
# Schema attribute -> the Graph user property that holds it, where the names differ.
_RENAMED: Final[Mapping[str, str]] = {
    "mobile": "mobilePhone",
    "physicalDeliveryOfficeName": "officeLocation",
    "facsimileTelephoneNumber": "faxNumber",
    "objectId": "id",
}
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
    "telephoneNumber",
    "usageLocation",
    "userPrincipalName",
    "userType",
)
# Source attributes of the schema a filter can read from Graph: schema name -> Graph property to $select.
GRAPH_PROPERTY: Final[Mapping[str, str]] = {
    **{name: name for name in _SAME_NAME},
    **_RENAMED,
    **{name: "onPremisesExtensionAttributes" for name in EXTENSION_ATTRIBUTES},
}
# Source attributes with a value Graph does not expose but that a filter sees all the same: multi-valued
# ones never compare (a scoping filter treats them as empty), and every user read is live.
FIXED_VALUES: Final[Mapping[str, object]] = {
    "alternativeSecurityIds": None,
    "appRoleAssignments": None,
    "IsSoftDeleted": False,
}
# In the schema, but its value (the user's PUID) is not in Graph, so ctsync could not count such a scope.
UNREADABLE: Final = frozenset({"netId"})
FILTERABLE_ATTRIBUTES: Final = frozenset(GRAPH_PROPERTY) | frozenset(FIXED_VALUES)
