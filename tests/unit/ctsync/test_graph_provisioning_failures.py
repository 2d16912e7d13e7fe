"""Provisioning log error codes fold into a fixed set of reasons; nothing unknown leaks into a label."""

import pytest

from ctsync.graph.provisioning_failures import REASONS, failure_reason


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        ("failure", "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure", "policy_not_configured"),
        ("failure", "MicrosoftEntraIDCrossTenantSyncPolicyCheckFailure", "policy_not_configured"),
        ("failure", "AzureDirectoryB2BManagementPolicyCheckFailure", "policy_not_configured"),
        ("failure", "ExternalTenantNotFound", "cross_cloud_not_configured"),
        ("failure", "AzureActiveDirectoryTokenExpired", "cross_cloud_not_configured"),
        ("failure", "AzureActiveDirectoryForbidden", "invitations_blocked"),
        ("failure", "InvitationCreationFailureAmbiguousUser", "invitation_failed"),
        ("failure", "AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises", "source_of_authority"),
        ("failure", "LicenseLimitExceeded", "quota_or_license"),
        ("failure", "AzureActiveDirectoryInsufficientRights", "insufficient_rights"),
        ("failure", "AzureActiveDirectoryConflict", "conflict_or_duplicate"),
        ("failure", "DuplicateTargetEntries", "conflict_or_duplicate"),
        ("failure", "AzureActiveDirectoryInvalidInput", "anchor_or_schema"),
        ("failure", "SchemaAttributeNotFound", "anchor_or_schema"),
        ("failure", "TooManyRequests", "transient"),
        ("failure", "WebExceptionProtocolError", "transient"),
        ("skipped", "RedundantExport", "skipped"),
        ("skipped", "NotEffectivelyEntitled", "skipped"),
        ("skipped", None, "skipped"),
        ("failure", "SomethingNewTomorrow", "other"),
        ("failure", "", "other"),
        ("failure", "AzureActiveDirectory", "other"),
    ],
)
def test_error_codes_fold_into_reasons(status: str, code: str | None, reason: str) -> None:
    assert failure_reason(status, code) == reason


def test_every_reason_is_one_of_the_fixed_set() -> None:
    codes = ["AzureActiveDirectoryQuotaLimitExceeded", "x" * 300, "Duplicate", "timeout", "🙂"]
    assert {failure_reason("failure", c) for c in codes} <= set(REASONS)
