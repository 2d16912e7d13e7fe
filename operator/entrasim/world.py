"""The emulated world: tenants, each with one backend per service, and the simulated clock."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .applications.models import ApplicationsBackend
from .auditlogs.models import AuditBackend
from .conditionalaccess.models import ConditionalAccessBackend
from .core.clock import SimClock
from .core.errors import ResourceNotFound
from .core.faults import FaultTable
from .core.ids import is_guid
from .core.profile import FAST, Profile
from .core.replication import Replication
from .core.requestlog import RequestLog
from .core.throttling import Throttle
from .core.transient import Transients
from .directory.models import DirectoryBackend
from .identity.models import IdentityBackend, TokenIssuer
from .policies.models import PoliciesBackend
from .synchronization.faults import ProvisioningFaults
from .synchronization.models import SynchronizationBackend


class Tenant:
    def __init__(self, world: World, tenant_id: str, initial_domain: str, display_name: str) -> None:
        self.world = world
        self.id = tenant_id
        self.initial_domain = initial_domain  # e.g. contoso.onmicrosoft.com
        self.display_name = display_name
        self.directory = DirectoryBackend(self)
        self.identity = IdentityBackend(self)
        self.policies = PoliciesBackend(self)
        self.applications = ApplicationsBackend(self)
        self.synchronization = SynchronizationBackend(self)
        self.audit = AuditBackend(self)
        self.conditional_access = ConditionalAccessBackend(self)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "initialDomain": self.initial_domain, "displayName": self.display_name}

    def dump(self) -> dict[str, Any]:
        """Everything the tenant holds, as JSON, for tests and for inspecting a demo."""
        return {
            **self.describe(),
            "apps": [app.describe() for app in self.identity.apps.values()],
            "users": list(self.directory.users.values()),
            "groups": [
                {**g, "members": sorted(self.directory.members[g["id"]])} for g in self.directory.groups.values()
            ],
            "deletedItems": list(self.directory.deleted.values()),
            "conditionalAccessPolicies": self.conditional_access.list(),
        }


class World:
    def __init__(self, *, time_scale: float = 1.0, profile: Profile = FAST, random_seed: int = 0) -> None:
        self.clock = SimClock(time_scale=time_scale)
        # One RNG per concern, so that turning one on does not change the draws of another.
        self.replication = Replication(self.clock, lambda: self.profile, random.Random(f"{random_seed}/replication"))
        self.transients = Transients(random.Random(f"{random_seed}/wire"))
        self.tenants: dict[str, Tenant] = {}
        self.tokens = TokenIssuer()
        self.token_errors: dict[str, int] = {}  # AADSTS error -> count, for tests and the demo
        self.faults = FaultTable()
        self.provisioning_faults = ProvisioningFaults()  # failures of the provisioning engine's exports
        self.requests = RequestLog()
        self.throttle = Throttle()
        self.set_profile(profile)
        self.internal_errors: list[str] = []  # bugs answered as 500; tests assert this stays empty
        self.base_url = "https://127.0.0.1"  # set by the server once it has a port
        # Re-enters the Graph dispatcher for $batch items: (ctx, method, url, headers, body) -> Reply.
        self.dispatch: Callable[..., Awaitable[Any]] | None = None

    def set_profile(self, profile: Profile) -> None:
        self.profile = profile
        self.throttle.enabled = profile.throttling
        self.throttle.wide = profile.wide_throttling

    def add_tenant(self, tenant_id: str, initial_domain: str, display_name: str) -> Tenant:
        if not is_guid(tenant_id):
            raise ValueError(f"tenant id {tenant_id!r} is not a GUID")
        tenant = Tenant(self, tenant_id.lower(), initial_domain.lower(), display_name)
        self.tenants[tenant.id] = tenant
        return tenant

    def tenant(self, id_or_domain: str) -> Tenant:
        """Finds a tenant by id or by its initial domain, as the token endpoint accepts both."""
        key = id_or_domain.lower()
        if key in self.tenants:
            return self.tenants[key]
        for tenant in self.tenants.values():
            if tenant.initial_domain == key:
                return tenant
        raise ResourceNotFound(f"Tenant '{id_or_domain}' not found.")

    def tick(self) -> None:
        """Runs whatever simulated work is due (provisioning cycles, recycle-bin purges) up to now."""
        now = self.clock.now()
        for tenant in list(self.tenants.values()):
            tenant.synchronization.run_due(now)
            tenant.directory.purge_recycle_bin(now)

    def reset(self) -> None:
        self.tenants.clear()
        self.token_errors.clear()
        self.faults.clear()
        self.provisioning_faults.clear()
        self.requests.clear()
        self.internal_errors.clear()
        self.replication.clear()


WORLD = web.AppKey("world", World)
