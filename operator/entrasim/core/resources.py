"""The properties Graph v1.0 declares for the directory resources entrasim serves, and which of them a read
without $select returns. Properties entrasim does not model are still known: they can be $select-ed and
come back empty (null, or [] for a collection), as Graph answers them for an object that has no value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AuthorizationRequestDenied, BadRequest, GraphError


class NotImplementedQuery(GraphError):
    status, code = 501, "NotImplemented"


@dataclass(frozen=True)
class ResourceProperties:
    type_name: str  # as Graph's errors spell it: microsoft.graph.user
    default: tuple[str, ...]  # returned, in this order, by a read without $select
    known: frozenset[str]  # every property a $select may name
    collections: frozenset[str]  # properties whose empty value is [] rather than null
    single_only: frozenset[str] = frozenset()  # returned only when reading one object, never in a list
    gated: Mapping[str, frozenset[str]] = field(default_factory=dict)  # property -> roles one of which reads it

    def check_select(self, select: Iterable[str] | None, *, listing: bool, extra: Iterable[str] = ()) -> None:
        """An unknown property is a 400; one Graph serves only on a single object is a 501 in a list."""
        for prop in select or ():
            if prop not in self.known and prop not in extra:
                raise self.unknown(prop)
            if listing and prop in self.single_only:
                raise NotImplementedQuery(
                    f"The property '{prop}' is only supported when reading a single {self.type_name} "
                    "(GET /{collection}/{id})."
                )

    def unknown(self, prop: str) -> BadRequest:
        return BadRequest(f"Could not find a property named '{prop}' on type '{self.type_name}'.")

    def check_roles(self, select: Iterable[str] | None, roles: frozenset[str]) -> None:
        """A $select of a property that needs a permission the app-only token lacks is a 403."""
        for prop in select or ():
            if prop in self.gated and not roles & self.gated[prop]:
                raise AuthorizationRequestDenied()

    def view(self, obj: Mapping[str, Any], select: Iterable[str] | None) -> dict[str, Any]:
        """The object as Graph returns it: its default properties, or the $select-ed ones (and its id)."""
        names = list(select) if select else self.default
        out = {name: self.value(obj, name) for name in names}
        if "id" in obj:
            out.setdefault("id", obj["id"])
        return out

    def value(self, obj: Mapping[str, Any], name: str) -> Any:
        if name in obj:
            return obj[name]
        return [] if name in self.collections else None


# fmt: off
_USER_DEFAULT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
    "preferredLanguage", "surname", "userPrincipalName", "id",
)
_USER_SINGLE_ONLY = frozenset({
    "aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
    "responsibilities", "schools", "skills", "mailboxSettings",
})
_USER_COLLECTIONS = frozenset({
    "businessPhones", "assignedLicenses", "assignedPlans", "identities", "imAddresses", "interests",
    "licenseAssignmentStates", "onPremisesProvisioningErrors", "otherMails", "pastProjects", "provisionedPlans",
    "proxyAddresses", "responsibilities", "schools", "serviceProvisioningErrors", "skills",
    "alternativeSecurityIds",
})
USER = ResourceProperties(
    type_name="microsoft.graph.user",
    default=_USER_DEFAULT,
    known=frozenset(_USER_DEFAULT) | _USER_SINGLE_ONLY | _USER_COLLECTIONS | {
        "accountEnabled", "ageGroup", "authorizationInfo", "city", "companyName", "consentProvidedForMinor",
        "country", "createdDateTime", "creationType", "customSecurityAttributes", "deletedDateTime",
        "department", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData",
        "employeeType", "externalUserState", "externalUserStateChangeDateTime", "faxNumber",
        "isManagementRestricted", "isResourceAccount", "lastPasswordChangeDateTime",
        "legalAgeGroupClassification", "mailNickname", "onPremisesDistinguishedName", "onPremisesDomainName",
        "onPremisesExtensionAttributes", "onPremisesImmutableId", "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName", "passwordPolicies", "passwordProfile", "postalCode",
        "preferredDataLocation", "print", "securityIdentifier", "showInAddressList", "signInActivity",
        "signInSessionsValidFromDateTime", "state", "streetAddress", "usageLocation", "userType",
        # beyond v1.0's list, and stored by entrasim: the relationship and AAD Graph's telephone number
        "manager", "telephoneNumber",
    },
    collections=_USER_COLLECTIONS,
    single_only=_USER_SINGLE_ONLY,
    gated={"signInActivity": frozenset({"AuditLog.Read.All"})},
)

# The documented List groups answer ("all default properties"); hasMembersWithLicenseErrors and isArchived
# are never part of it.
_GROUP_DEFAULT = (
    "id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName",
    "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname",
    "membershipRule", "membershipRuleProcessingState", "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage",
    "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions",
    "securityEnabled", "theme", "visibility", "onPremisesProvisioningErrors",
)
_GROUP_SINGLE_ONLY = frozenset({
    "allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists", "hideFromOutlookClients",
    "isSubscribedByMail", "unseenCount",
})
_GROUP_COLLECTIONS = frozenset({
    "assignedLabels", "assignedLicenses", "groupTypes", "onPremisesProvisioningErrors", "proxyAddresses",
    "resourceBehaviorOptions", "resourceProvisioningOptions", "serviceProvisioningErrors",
})
GROUP = ResourceProperties(
    type_name="microsoft.graph.group",
    default=_GROUP_DEFAULT,
    known=frozenset(_GROUP_DEFAULT) | _GROUP_SINGLE_ONLY | _GROUP_COLLECTIONS | {
        "hasMembersWithLicenseErrors", "isArchived", "isManagementRestricted", "licenseProcessingState",
        "onPremisesDomainName", "onPremisesNetBiosName", "onPremisesSamAccountName", "securityIdentifier",
        "uniqueName",
    },
    collections=_GROUP_COLLECTIONS,
    single_only=_GROUP_SINGLE_ONLY,
)

# Service principals and applications have no reduced default set: a read returns every property but
# the ones Graph documents as returned only on $select (customSecurityAttributes, isAuthorizationServiceEnabled).
_SERVICE_PRINCIPAL_COLLECTIONS = frozenset({
    "alternativeNames", "notificationEmailAddresses", "replyUrls", "servicePrincipalNames", "tags", "addIns",
    "appRoles", "keyCredentials", "oauth2PermissionScopes", "passwordCredentials",
    "resourceSpecificApplicationPermissions",
})
_SERVICE_PRINCIPAL_DEFAULT = (
    "id", "deletedDateTime", "accountEnabled", "alternativeNames", "appDisplayName", "appDescription", "appId",
    "applicationTemplateId", "appOwnerOrganizationId", "appRoleAssignmentRequired", "description",
    "disabledByMicrosoftStatus", "displayName", "homepage", "loginUrl", "logoutUrl", "notes",
    "notificationEmailAddresses", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint",
    "replyUrls", "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags",
    "tokenEncryptionKeyId", "samlSingleSignOnSettings", "addIns", "appRoles", "info", "keyCredentials",
    "oauth2PermissionScopes", "passwordCredentials", "resourceSpecificApplicationPermissions",
    "verifiedPublisher",
)
SERVICE_PRINCIPAL = ResourceProperties(
    type_name="microsoft.graph.servicePrincipal",
    default=_SERVICE_PRINCIPAL_DEFAULT,
    known=frozenset(_SERVICE_PRINCIPAL_DEFAULT) | {"customSecurityAttributes", "createdByAppId", "isDisabled"},
    collections=_SERVICE_PRINCIPAL_COLLECTIONS,
)

_APPLICATION_COLLECTIONS = frozenset({
    "identifierUris", "tags", "addIns", "appRoles", "keyCredentials", "passwordCredentials",
    "requiredResourceAccess",
})
_APPLICATION_DEFAULT = (
    "id", "deletedDateTime", "appId", "applicationTemplateId", "disabledByMicrosoftStatus", "createdDateTime",
    "displayName", "description", "groupMembershipClaims", "identifierUris", "isDeviceOnlyAuthSupported",
    "isFallbackPublicClient", "nativeAuthenticationApisEnabled", "notes", "publisherDomain",
    "serviceManagementReference", "signInAudience", "tags", "tokenEncryptionKeyId", "uniqueName",
    "samlMetadataUrl", "defaultRedirectUri", "certification", "optionalClaims",
    "servicePrincipalLockConfiguration", "requestSignatureVerification", "addIns", "api", "appRoles", "info",
    "keyCredentials", "parentalControlSettings", "passwordCredentials", "publicClient",
    "requiredResourceAccess", "verifiedPublisher", "web", "spa",
)
APPLICATION = ResourceProperties(
    type_name="microsoft.graph.application",
    default=_APPLICATION_DEFAULT,
    known=frozenset(_APPLICATION_DEFAULT)
    | {"authenticationBehaviors", "createdByAppId", "isDisabled", "oauth2RequirePostResponse"},
    collections=_APPLICATION_COLLECTIONS,
)
# fmt: on

RESOURCES = {"user": USER, "group": GROUP, "servicePrincipal": SERVICE_PRINCIPAL, "application": APPLICATION}
