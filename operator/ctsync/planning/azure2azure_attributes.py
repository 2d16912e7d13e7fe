"""The user attributes of the Azure2Azure (cross-tenant synchronization) job schema, as data.

Source: Microsoft's documentation of the CTS schema (the default user attribute mappings of "Configure
cross-tenant synchronization", the synchronization schema resources directoryDefinition / objectDefinition
/ attributeDefinition) and the user properties of Microsoft Graph. The template's directories list more
attributes than it maps by default; these are the ones a mapping or a scoping filter may name offline.
A live job schema (its directories' objects[].attributes) takes precedence when ctsync can read it.
"""

from typing import Final

EXTENSION_ATTRIBUTES: Final = tuple(f"extensionAttribute{i}" for i in range(1, 16))
# Directory extensions (extension_<appId without dashes>_<name>) are tenant-specific: offline, any name of
# this form passes, and a live schema decides.
DIRECTORY_EXTENSION_PREFIX: Final = "extension_"

# Attributes of the user object in both directories (source "Microsoft Entra ID", target "... (target tenant)").
_COMMON: Final = (
    "accountEnabled",
    "alternativeSecurityIds",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "facsimileTelephoneNumber",
    "givenName",
    "IsSoftDeleted",
    "jobTitle",
    "mail",
    "mailNickname",
    "manager",
    "mobile",
    "otherMails",
    "physicalDeliveryOfficeName",
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
    *EXTENSION_ATTRIBUTES,
)
# Only the source user has these: its object id, the netId the matching attribute is built from
# (AltSecIdFromNetId([netId])) and its app role assignments (the scope).
SOURCE_USER_ATTRIBUTES: Final = (*_COMMON, "appRoleAssignments", "netId", "objectId")
TARGET_USER_ATTRIBUTES: Final = _COMMON
