"""The one place that reads the provisioning service's error codes: the `errorCode` of a provisioning log
entry's `provisioningStatusInfo.errorInformation` (not an HTTP error of Graph; those are read in errors.py).

The codes are many and open-ended, so they are folded into a small fixed set of reasons that can label a
metric and group an explanation. An unknown code is "other": its raw text belongs in logs, never in a label.
Microsoft's pages print some codes with a "MicrosoftEntraID" prefix where the service writes
"AzureActiveDirectory"; both spellings are read.
"""

from __future__ import annotations

from typing import Final

POLICY_NOT_CONFIGURED: Final = "policy_not_configured"
CROSS_CLOUD_NOT_CONFIGURED: Final = "cross_cloud_not_configured"
INVITATIONS_BLOCKED: Final = "invitations_blocked"
INVITATION_FAILED: Final = "invitation_failed"
SOURCE_OF_AUTHORITY: Final = "source_of_authority"
QUOTA_OR_LICENSE: Final = "quota_or_license"
INSUFFICIENT_RIGHTS: Final = "insufficient_rights"
CONFLICT_OR_DUPLICATE: Final = "conflict_or_duplicate"
ANCHOR_OR_SCHEMA: Final = "anchor_or_schema"
TRANSIENT: Final = "transient"
SKIPPED: Final = "skipped"
OTHER: Final = "other"

REASONS: Final = (
    POLICY_NOT_CONFIGURED,
    CROSS_CLOUD_NOT_CONFIGURED,
    INVITATIONS_BLOCKED,
    INVITATION_FAILED,
    SOURCE_OF_AUTHORITY,
    QUOTA_OR_LICENSE,
    INSUFFICIENT_RIGHTS,
    CONFLICT_OR_DUPLICATE,
    ANCHOR_OR_SCHEMA,
    TRANSIENT,
    SKIPPED,
    OTHER,
)

# Prefixes naming the directory the service failed against; what follows them says what went wrong.
_SERVICE_PREFIXES: Final = ("azureactivedirectory", "microsoftentraid", "azuredirectory")

_EXACT: Final = {
    "crosstenantsyncpolicycheckfailure": POLICY_NOT_CONFIGURED,
    "b2bmanagementpolicycheckfailure": POLICY_NOT_CONFIGURED,
    "externaltenantnotfound": CROSS_CLOUD_NOT_CONFIGURED,
    "tokenexpired": CROSS_CLOUD_NOT_CONFIGURED,  # cross-cloud: the target has not enabled cross-cloud sync
    "forbidden": INVITATIONS_BLOCKED,
    "quotalimitexceeded": QUOTA_OR_LICENSE,
    "licenselimitexceeded": QUOTA_OR_LICENSE,
    "insufficientrights": INSUFFICIENT_RIGHTS,
    "unauthorized": INSUFFICIENT_RIGHTS,
    "notpermitted": INSUFFICIENT_RIGHTS,
    "methodnotallowed": INSUFFICIENT_RIGHTS,
    "conflict": CONFLICT_OR_DUPLICATE,
    "entryconflict": CONFLICT_OR_DUPLICATE,
    "invalidanchor": ANCHOR_OR_SCHEMA,
    "invalidinput": ANCHOR_OR_SCHEMA,
    "schemaattributenotfound": ANCHOR_OR_SCHEMA,
    "mandatoryfieldsmissing": ANCHOR_OR_SCHEMA,
    "missingvalues": ANCHOR_OR_SCHEMA,
    "invaliddomain": ANCHOR_OR_SCHEMA,
    "schemapropertycanonlyacceptvalue": ANCHOR_OR_SCHEMA,
    "importskipped": ANCHOR_OR_SCHEMA,
    "toomanyrequests": TRANSIENT,
    "internalservererror": TRANSIENT,
    "internalerror": TRANSIENT,
    "timeout": TRANSIENT,
    "webexceptionprotocolerror": TRANSIENT,
    "unprocessableentity": TRANSIENT,
    "notimplemented": TRANSIENT,
    "redundantexport": SKIPPED,
    "noteffectivelyentitled": SKIPPED,
    "entitytypenotsupported": SKIPPED,
    "entrysynchronizationskipped": SKIPPED,
}
_PREFIXED: Final = (
    ("invitationcreationfailure", INVITATION_FAILED),
    ("cannotupdateobjects", SOURCE_OF_AUTHORITY),
    ("duplicate", CONFLICT_OR_DUPLICATE),
)


def failure_reason(status: str, error_code: str | None) -> str:
    """The reason of a provisioning log entry that did not succeed, from its status and error code."""
    code = _without_service_prefix((error_code or "").strip().lower())
    if code in _EXACT:
        return _EXACT[code]
    for prefix, reason in _PREFIXED:
        if code.startswith(prefix):
            return reason
    return SKIPPED if status.lower() == "skipped" else OTHER


def _without_service_prefix(code: str) -> str:
    for prefix in _SERVICE_PREFIXES:
        if code.startswith(prefix) and len(code) > len(prefix):
            return code[len(prefix) :]
    return code
