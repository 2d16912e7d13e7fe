"""Loads tenants, app registrations, users and groups into the world from a seed document.

Format (YAML or JSON):
  tenants:
    - id: <guid>
      domain: contoso.onmicrosoft.com
      displayName: Contoso
      apps: [{appId, displayName, roles: [...], secrets: [...], certificates: [PEM], federated: [{issuer, subject}]}]
      users: [{userPrincipalName, displayName, accountEnabled, department, ...any user property, id?,
               directoryRoles: ["Global Administrator", ...]}]
      groups: [{displayName, securityEnabled, mailEnabled, mailNickname, groupTypes?, id?,
                members: [user principal names or ids]}                 # an assigned group, or
               {displayName, membershipRule, membershipRuleProcessingState?, ...}]  # a dynamic one
      conditionalAccessPolicies: [{displayName, state, conditions, grantControls?, sessionControls?,
                                   templateId?, id?}]
A group with a membershipRule is a dynamic group (groupTypes defaults to ["DynamicMembership"]): its rule
decides its members, so it lists none.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

from .core.errors import GraphError
from .directory.models import DYNAMIC
from .identity.delegated import role_template_id
from .identity.models import ClientApp, FederatedCredential, load_certificate
from .world import Tenant, World

DEPARTMENTS = ("Finance", "Sales", "Marketing", "Engineering", "Legal", "HR", "Operations", "Support")
JOB_TITLES = ("Analyst", "Manager", "Engineer", "Consultant", "Director", "Specialist", "Associate")


class SeedError(ValueError):
    pass


def read_seed_file(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text()
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if str(path).endswith('.json') else 'YAML'}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), list):
        raise SeedError(f"{path}: a seed document needs a top-level 'tenants' list")
    return data


def load_seed(world: World, data: dict[str, Any]) -> list[Tenant]:
    tenants = []
    for entry in data.get("tenants", []):
        if not isinstance(entry, dict):
            raise SeedError("each entry of 'tenants' must be an object")
        try:
            tenants.append(_load_tenant(world, entry))
        except ValueError as exc:  # an unknown directory role
            raise SeedError(f"tenant {entry.get('id', '?')}: {exc}") from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise SeedError(f"tenant {entry.get('id', '?')}: missing or malformed field {exc}") from None
        except GraphError as exc:  # the directory's own validation, e.g. a malformed membershipRule
            raise SeedError(f"tenant {entry.get('id', '?')}: {exc.message}") from None
    return tenants


def _load_tenant(world: World, entry: dict[str, Any]) -> Tenant:
    tenant = world.add_tenant(entry["id"], entry["domain"], entry.get("displayName", entry["domain"]))
    for app in entry.get("apps", []):
        tenant.identity.register(
            ClientApp(
                app_id=app["appId"],
                display_name=app.get("displayName", app["appId"]),
                roles=set(app.get("roles", [])),
                secrets=list(app.get("secrets", [])),
                certificates=[load_certificate(pem) for pem in app.get("certificates", [])],
                federated=[FederatedCredential(f["issuer"], f["subject"]) for f in app.get("federated", [])],
            )
        )
    directory = tenant.directory
    for user in entry.get("users", []):
        props = {k: v for k, v in user.items() if k not in ("id", "directoryRoles")}
        props.setdefault("accountEnabled", True)
        created = directory.create_user(props, object_id=user.get("id"))
        roles = {role_template_id(name) for name in user.get("directoryRoles", [])}
        if roles:
            tenant.identity.directory_roles[created["id"]] = roles
    for group in entry.get("groups", []):
        members = [directory.get_user(member)["id"] for member in group.get("members", [])]
        directory.create_group(_group_props(group), object_id=group.get("id"), members=members)
    for policy in entry.get("conditionalAccessPolicies", []):
        tenant.conditional_access.add(policy)
    return tenant


def _group_props(group: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in group.items() if k not in ("id", "members")}
    if "membershipRule" in props:
        if group.get("members"):
            raise SeedError(
                f"group {props.get('displayName')!r}: a dynamic group's members come from its membershipRule; "
                "it cannot list members"
            )
        props.setdefault("groupTypes", [DYNAMIC])
    props.setdefault("securityEnabled", True)
    props.setdefault("mailEnabled", False)
    props.setdefault("mailNickname", "".join(c for c in props["displayName"] if c.isalnum()) or "group")
    return props


def generate(
    *,
    users: int,
    tenant_id: str,
    domain: str,
    display_name: str,
    groups: int = 1,
    disabled_ratio: float = 0.02,
    seed: int = 7,
) -> dict[str, Any]:
    """A synthetic tenant: `users` members spread over departments, and `groups` security groups
    (CTS-<n>) whose members are every `groups`-th user, so group scopes are predictable."""
    rng = random.Random(seed)
    people = []
    for i in range(users):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        people.append(
            {
                "userPrincipalName": f"user{i:06d}@{domain}",
                "displayName": f"User {i:06d}",
                "givenName": "User",
                "surname": f"{i:06d}",
                "mail": f"user{i:06d}@{domain}",
                "department": department,
                "jobTitle": rng.choice(JOB_TITLES),
                "accountEnabled": rng.random() >= disabled_ratio,
                "onPremisesExtensionAttributes": {"extensionAttribute1": f"CC-{100 + i % 50}"},
            }
        )
    group_docs = [
        {
            "displayName": f"CTS-{g + 1}",
            "members": [people[i]["userPrincipalName"] for i in range(g, users, groups)],
        }
        for g in range(groups)
    ]
    return {
        "tenants": [
            {
                "id": tenant_id,
                "domain": domain,
                "displayName": display_name,
                "users": people,
                "groups": group_docs,
            }
        ]
    }
