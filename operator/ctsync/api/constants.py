"""Names shared by every layer: API group, kinds, Graph template ids, annotations and tags."""

from typing import Final

GROUP: Final = "ctsync.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

KIND_TENANT_PAIR: Final = "TenantPair"
KIND_SYNC_SCOPE: Final = "SyncScope"
KIND_ATTRIBUTE_MAPPING: Final = "AttributeMapping"
PLURAL_TENANT_PAIRS: Final = "tenantpairs"
PLURAL_SYNC_SCOPES: Final = "syncscopes"
PLURAL_ATTRIBUTE_MAPPINGS: Final = "attributemappings"

# Gallery template of the cross-tenant synchronization "configuration" app (same id in every tenant).
CTS_APPLICATION_TEMPLATE_ID: Final = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
# Synchronization job template of a CTS configuration.
JOB_TEMPLATE_ID: Final = "Azure2Azure"
# Names the Microsoft 365 admin center gives the configurations it manages; ctsync never takes them over.
MTO_CONFIGURATION_PREFIX: Final = "MTO_Sync_"

# Written on the configuration's service principal `tags` so ctsync can recognise its own configuration
# after losing its status (and refuse one that another resource owns).
OWNER_TAG_PREFIX: Final = f"{GROUP}/owner="

ANNOTATION_ACKNOWLEDGE_SHRINK: Final = f"{GROUP}/acknowledge-shrink"  # value: the generation acknowledged
ANNOTATION_RESTART_JOB: Final = f"{GROUP}/restart-job"  # value: any new token requests one restart
ANNOTATION_ALLOW_DELETIONS: Final = f"{GROUP}/allow-deletions"  # value: any new token releases held deletes
FINALIZER: Final = f"{GROUP}/finalizer"

# AttributeMapping.denyAttributes when the field is omitted.
DEFAULT_DENY_ATTRIBUTES: Final = ("employeeId",)
# spec.managementPolicy of every kind: Manage writes what the spec says; Observe plans and reports, writes nothing.
MANAGEMENT_POLICIES: Final = ("Manage", "Observe")
# The attribute that links a target user to its source user; the service forbids changing its mapping.
MATCHING_ATTRIBUTE: Final = "alternativeSecurityIds"


def owner_tag(namespace: str, name: str) -> str:
    """The service principal tag that marks a configuration as owned by SyncScope namespace/name."""
    return f"{OWNER_TAG_PREFIX}{namespace}/{name}"
