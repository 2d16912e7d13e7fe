"""The user principal name cross-tenant synchronization gives a user in the target tenant.

The service maps the source user's userPrincipalName (the default mapping [userPrincipalName] ->
userPrincipalName; not the mail, as a manual B2B invitation does) and names the target user
`<that value with @ replaced by _>#EXT#@<target tenant's initial domain>`, e.g. ada@contoso.com ->
ada_contoso.com#EXT#@fabrikam.onmicrosoft.com.
"""

import heapq
from collections.abc import Iterable, Mapping
from typing import Any, Final

EXTERNAL_MARK: Final = "#EXT#@"
SAMPLE_SIZE: Final = 3


def target_upn(source_upn: str, target_initial_domain: str) -> str:
    return f"{source_upn.replace('@', '_')}{EXTERNAL_MARK}{target_initial_domain}"


def initial_domain_of(target_upns: Iterable[str]) -> str | None:
    """The target's initial domain as the service writes it: the part after #EXT#@ of an external user's
    name (every external user of a tenant carries the same one); None when the tenant has none yet."""
    for upn in target_upns:
        head, mark, domain = upn.upper().partition(EXTERNAL_MARK)
        if mark and domain:
            return upn[len(head) + len(mark) :].lower()
    return None


def upn_sample(source_users: Iterable[Mapping[str, Any]], target_initial_domain: str) -> list[dict[str, str]]:
    """A few source users (the first by UPN, so the sample is stable) with the target UPN each gets."""
    upns = heapq.nsmallest(
        SAMPLE_SIZE, (str(u["userPrincipalName"]) for u in source_users if u.get("userPrincipalName"))
    )
    return [{"source": upn, "target": target_upn(upn, target_initial_domain)} for upn in upns]
