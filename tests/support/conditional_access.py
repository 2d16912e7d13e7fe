"""A Conditional Access policy as a target tenant would have it: MFA for the source's B2B collaboration users."""

from __future__ import annotations

from typing import Any

from support.sim import CONTOSO

GUEST_MFA_POLICY: dict[str, Any] = {
    "id": "5b3f0c2e-7d4a-4c1b-9a8e-000000000001",
    "displayName": "Require MFA for B2B collaboration members",
    "state": "enabled",
    "conditions": {
        "users": {
            "includeGuestsOrExternalUsers": {
                "guestOrExternalUserTypes": "b2bCollaborationGuest,b2bCollaborationMember",
                "externalTenants": {
                    "@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                    "membershipKind": "enumerated",
                    "members": [CONTOSO],
                },
            }
        },
        "applications": {"includeApplications": ["All"]},
        "clientAppTypes": ["all"],
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}
