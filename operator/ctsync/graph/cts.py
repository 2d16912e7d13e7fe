"""The Graph calls of a CTS relationship, one method per operation, on the tenant that owns it.

Creates are made safe against retries and crashes: each looks the object up after a conflict or an
ambiguous failure instead of trusting the POST, so a retried create never makes a second object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from .. import errors as domain
from ..api.constants import CTS_APPLICATION_TEMPLATE_ID as CTS_TEMPLATE_ID
from ..api.constants import JOB_TEMPLATE_ID
from .client import GraphClient
from .errors import GraphConflict, GraphNotFound

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
USER_FIELDS = "id,userPrincipalName,accountEnabled,userType"
PROVISIONING_PAGE_SIZE = "500"  # the page size Microsoft's own CTS examples use
# The first-party app the provisioning service acts as in a target tenant, as its directory audit log names
# it. Microsoft shows the name to target admins but documents neither it nor the entries' category in Graph.
SYNC_SERVICE_APP = "Microsoft.Azure.SyncFabric"


def _fields(*extra: str) -> str:
    wanted = USER_FIELDS.split(",")
    return ",".join(wanted + sorted(set(extra) - set(wanted)))


def odata_string(value: str) -> str:
    """A string literal for $filter: single quotes doubled, as OData escapes them."""
    return "'" + value.replace("'", "''") + "'"


class Tenant:
    """Either side of a pair: each keeps a cross-tenant access partner policy for the other."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client

    async def partner(self, tenant_id: str) -> dict[str, Any] | None:
        return await self.client.get_optional(f"{PARTNERS}/{tenant_id}")

    async def create_partner(self, tenant_id: str) -> bool:
        """True when this call created it; False when it already existed."""
        return await create_partner(self.client, tenant_id)

    async def update_partner(self, tenant_id: str, body: dict[str, Any]) -> None:
        await self.client.patch(f"{PARTNERS}/{tenant_id}", body)

    async def delete_partner(self, tenant_id: str) -> None:
        await delete_quietly(self.client, f"{PARTNERS}/{tenant_id}")

    async def identity_sync(self, tenant_id: str) -> dict[str, Any] | None:
        """The inbound user sync this tenant allows from `tenant_id` (under its partner policy)."""
        return await self.client.get_optional(f"{PARTNERS}/{tenant_id}/identitySynchronization")


class TargetTenant(Tenant):
    """The tenant users are provisioned into: it trusts and accepts the source."""

    async def create_identity_sync(self, tenant_id: str, body: dict[str, Any]) -> bool:
        """True when this call created it; False when it existed (a retry, or made by hand) and was updated."""
        try:
            await self.client.put(f"{PARTNERS}/{tenant_id}/identitySynchronization", body)
        except GraphConflict:
            await self.update_identity_sync(tenant_id, body)
            return False
        return True

    async def update_identity_sync(self, tenant_id: str, body: dict[str, Any]) -> None:
        await self.client.patch(f"{PARTNERS}/{tenant_id}/identitySynchronization", body)

    async def delete_identity_sync(self, tenant_id: str) -> None:
        await delete_quietly(self.client, f"{PARTNERS}/{tenant_id}/identitySynchronization")

    async def external_member_pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """The tenant's users with an external (#EXT#) name, as CTS provisions them, a page at a time: an
        audit counts them as they come instead of holding the whole target next to the whole scope."""
        async for users in self.client.pages("/users", {"$select": USER_FIELDS, "$top": "999"}):
            yield [u for u in users if "#EXT#" in u.get("userPrincipalName", "").upper()]

    async def dynamic_groups(self) -> list[dict[str, Any]]:
        """Every group whose members come from a membership rule, with its rule and processing state."""
        return await self.client.list_all(
            "/groups",
            {
                "$filter": "groupTypes/any(c:c eq 'DynamicMembership')",
                "$select": "id,displayName,membershipRule,membershipRuleProcessingState",
                "$top": "999",
            },
        )

    async def deleted_users(self) -> list[dict[str, Any]]:
        return await self.client.list_all(
            "/directory/deletedItems/microsoft.graph.user", {"$select": "id,userPrincipalName", "$top": "999"}
        )

    def service_user_audits(self, since: str | None) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of the directory audit log's user changes made by the provisioning service, oldest first,
        from `since` (ISO 8601, inclusive) on."""
        clauses = [f"initiatedBy/app/displayName eq {odata_string(SYNC_SERVICE_APP)}", "category eq 'UserManagement'"]
        if since is not None:
            clauses.append(f"activityDateTime ge {since}")
        return self.client.pages(
            "/auditLogs/directoryAudits",
            {"$filter": " and ".join(clauses), "$orderby": "activityDateTime asc", "$top": PROVISIONING_PAGE_SIZE},
        )


class SourceTenant(Tenant):
    """The tenant users come from: it holds the CTS configuration (an app + service principal) and its job."""

    # --- the configuration (application + service principal from the CTS template) ------------------
    async def configurations_named(self, display_name: str) -> list[dict[str, Any]]:
        return await self.client.list_all(
            "/servicePrincipals",
            {
                "$filter": f"displayName eq {odata_string(display_name)}",
                "$select": "id,appId,displayName,applicationTemplateId,tags,appRoles",
            },
        )

    async def service_principal(self, sp_id: str) -> dict[str, Any] | None:
        return await self.client.get_optional(f"/servicePrincipals/{sp_id}")

    async def instantiate(self, display_name: str) -> dict[str, Any]:
        """Creates the configuration. Instantiation is not idempotent, so it is never retried blindly:
        after an ambiguous failure the configuration is looked up by name."""
        try:
            created = await self.client.post(
                f"/applicationTemplates/{CTS_TEMPLATE_ID}/instantiate",
                {"displayName": display_name},
                retry=False,
            )
            return (created or {})["servicePrincipal"]
        except (domain.GraphUnavailable, domain.Throttled):
            found = [
                sp
                for sp in await self.configurations_named(display_name)
                if sp.get("applicationTemplateId") == CTS_TEMPLATE_ID
            ]
            if len(found) == 1:
                return found[0]
            raise

    async def set_tags(self, sp_id: str, tags: list[str]) -> None:
        await self.client.patch(f"/servicePrincipals/{sp_id}", {"tags": tags})

    async def delete_application(self, app_object_id: str) -> None:
        await delete_quietly(self.client, f"/applications/{app_object_id}")

    async def application_by_app_id(self, app_id: str) -> dict[str, Any] | None:
        found = await self.client.list_all(
            "/applications",
            {"$filter": f"appId eq {odata_string(app_id)}", "$select": "id,appId,displayName"},
        )
        return found[0] if found else None

    # --- synchronization --------------------------------------------------------------------------
    def _sync(self, sp_id: str) -> str:
        return f"/servicePrincipals/{sp_id}/synchronization"

    async def secrets(self, sp_id: str) -> dict[str, str]:
        doc = await self.client.get(f"{self._sync(sp_id)}/secrets")
        return {item["key"]: item.get("value", "") for item in doc.get("value", [])}

    async def put_secrets(self, sp_id: str, secrets: dict[str, str]) -> None:
        await self.client.put(
            f"{self._sync(sp_id)}/secrets", {"value": [{"key": k, "value": v} for k, v in secrets.items()]}
        )

    async def validate_credentials(self, sp_id: str, target_tenant_id: str) -> None:
        await self.client.post(
            f"{self._sync(sp_id)}/jobs/validateCredentials",
            {
                "useSavedCredentials": False,
                "templateId": JOB_TEMPLATE_ID,
                "credentials": [
                    {"key": "CompanyId", "value": target_tenant_id},
                    {"key": "AuthenticationType", "value": "SyncPolicy"},
                ],
            },
        )

    async def jobs(self, sp_id: str) -> list[dict[str, Any]]:
        return await self.client.list_all(f"{self._sync(sp_id)}/jobs")

    async def job(self, sp_id: str, job_id: str) -> dict[str, Any] | None:
        return await self.client.get_optional(f"{self._sync(sp_id)}/jobs/{job_id}")

    async def create_job(self, sp_id: str) -> dict[str, Any]:
        """One Azure2Azure job per configuration: after an ambiguous failure, the existing one is used."""
        try:
            return (
                await self.client.post(f"{self._sync(sp_id)}/jobs", {"templateId": JOB_TEMPLATE_ID}, retry=False) or {}
            )
        except (domain.GraphUnavailable, domain.Throttled):
            existing = [j for j in await self.jobs(sp_id) if j.get("templateId") == JOB_TEMPLATE_ID]
            if existing:
                return existing[0]
            raise

    async def job_action(self, sp_id: str, job_id: str, action: str, body: dict[str, Any] | None = None) -> None:
        """start, pause or restart: each is safe to repeat."""
        await self.client.post(f"{self._sync(sp_id)}/jobs/{job_id}/{action}", body)

    async def schema(self, sp_id: str, job_id: str) -> dict[str, Any]:
        return await self.client.get(f"{self._sync(sp_id)}/jobs/{job_id}/schema")

    async def put_schema(self, sp_id: str, job_id: str, schema: dict[str, Any]) -> None:
        await self.client.put(f"{self._sync(sp_id)}/jobs/{job_id}/schema", schema)

    # --- scope: app role assignments -------------------------------------------------------------
    async def assignments(self, sp_id: str) -> list[dict[str, Any]]:
        return await self.client.list_all(f"/servicePrincipals/{sp_id}/appRoleAssignedTo")

    async def assign(self, sp_id: str, principal_id: str, app_role_id: str) -> dict[str, Any] | None:
        """The assignment Graph made (or found after an ambiguous failure); None when it existed already."""
        try:
            return await self.client.post(
                f"/servicePrincipals/{sp_id}/appRoleAssignedTo",
                {"principalId": principal_id, "resourceId": sp_id, "appRoleId": app_role_id},
                retry=False,
            )
        except GraphConflict:
            return None  # already assigned: what we wanted
        except (domain.GraphUnavailable, domain.Throttled):
            found = [a for a in await self.assignments(sp_id) if a.get("principalId") == principal_id]
            if not found:
                raise
            return found[0]

    async def unassign(self, sp_id: str, assignment_id: str) -> None:
        await delete_quietly(self.client, f"/servicePrincipals/{sp_id}/appRoleAssignedTo/{assignment_id}")

    # --- directory reads -----------------------------------------------------------------------
    async def groups_named(self, display_name: str) -> list[dict[str, Any]]:
        return await self.client.list_all(
            "/groups",
            {
                "$filter": f"displayName eq {odata_string(display_name)}",
                "$select": "id,displayName,groupTypes",
            },
        )

    async def users_named(self, display_name: str) -> list[dict[str, Any]]:
        return await self.client.list_all(
            "/users",
            {
                "$filter": f"displayName eq {odata_string(display_name)}",
                "$select": "id,displayName,userPrincipalName",
            },
        )

    async def group(self, group_id: str) -> dict[str, Any] | None:
        return await self.client.get_optional(f"/groups/{group_id}", {"$select": "id,displayName,groupTypes"})

    # `properties`: user properties to read besides USER_FIELDS (those the scoping filters compare).
    async def user(self, user_id: str, properties: Iterable[str] = ()) -> dict[str, Any] | None:
        return await self.client.get_optional(f"/users/{user_id}", {"$select": _fields("displayName", *properties)})

    async def direct_member_users(self, group_id: str, properties: Iterable[str] = ()) -> list[dict[str, Any]]:
        return [user async for page in self.direct_member_user_pages(group_id, properties) for user in page]

    def direct_member_user_pages(
        self, group_id: str, properties: Iterable[str] = ()
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """A page at a time: the scope audit keeps less of each user than Graph gives."""
        return self.client.pages(
            f"/groups/{group_id}/members/microsoft.graph.user", {"$select": _fields(*properties), "$top": "999"}
        )

    def member_user_pages(self, properties: Iterable[str] = ()) -> AsyncIterator[list[dict[str, Any]]]:
        return self.client.pages("/users", {"$select": _fields(*properties), "$top": "999"})

    # --- provisioning logs ---------------------------------------------------------------------
    def provisioning_events(self, job_id: str, since: str | None) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of the job's provisioning log, oldest first, from `since` (ISO 8601, inclusive) on."""
        clauses = [f"jobId eq {odata_string(job_id)}"]
        if since is not None:
            clauses.append(f"activityDateTime ge {since}")  # a DateTimeOffset literal is not quoted
        return self.client.pages(
            "/auditLogs/provisioning",
            {
                "$filter": " and ".join(clauses),
                "$orderby": "activityDateTime asc",
                "$top": PROVISIONING_PAGE_SIZE,
            },
        )


async def create_partner(client: GraphClient, tenant_id: str) -> bool:
    """POST is not idempotent; a conflict means the partner exists, which is the goal (but not ours)."""
    try:
        await client.post(PARTNERS, {"tenantId": tenant_id}, retry=False)
    except GraphConflict:
        return False
    except (domain.GraphUnavailable, domain.Throttled):
        if await client.get_optional(f"{PARTNERS}/{tenant_id}") is None:
            raise
    return True


async def delete_quietly(client: GraphClient, path: str) -> None:
    """DELETE where "already gone" counts as done."""
    try:
        await client.delete(path)
    except GraphNotFound:
        return
