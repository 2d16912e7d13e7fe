"""Provisioning one source user into the target: create, match, restore, update, disable, soft delete, or
hold a delete back. A `Provisioner` does it for a cycle (scheduling.py) or for provisionOnDemand
(on_demand.py); what it did comes back as an `Outcome`, which the caller counts and logs."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..auditlogs.models import Change, Step
from ..core.errors import Conflict, GraphError
from ..directory.models import EXTENSION_ATTRIBUTES, USER_PROPERTIES
from . import expressions as ex
from .job import Managed
from .schema import GRAPH_PROPERTY, MATCHING_ATTRIBUTE, FlowMapping
from .scope import source_attributes, sync_all
from .steps import (
    action_steps,
    export_failure_step,
    import_step,
    in_scope_step,
    matching_step,
    out_of_scope_step,
)

if TYPE_CHECKING:
    from ..directory.models import DirectoryBackend
    from ..world import Tenant
    from .job import Job

# Simulated cost of one object. Microsoft's estimate for an initial cycle is 0.01-0.08 min per object,
# creating about twice as long as matching: a create costs 0.04 min and a match 0.02 min, the middles
# (geometric) of their shares of that range, in any cycle. Incremental cycles look only at what changed.
CREATE_SECONDS = 2.4
MATCH_SECONDS = 1.2
INCREMENTAL_EXPORT_SECONDS = 0.6
UNCHANGED_SECONDS = 0.06
_WRITABLE = USER_PROPERTIES - {"id", "createdDateTime", "deletedDateTime", "manager", "passwordProfile"}
_EMPTY: tuple[object, ...] = (None, "", [])
Flows = list[tuple[FlowMapping, object]]  # the value each mapping flows for one user, IGNORE_FLOW left out


def external_upn(upn: str, target_domain: str) -> str:
    return f"{upn.replace('@', '_')}#EXT#@{target_domain}"


@dataclass
class Pass:
    """What one processing pass shares: a cycle, or a single provisionOnDemand call."""

    id: str
    full: bool
    target_id: str
    assigned: frozenset[str]
    index: dict[str, str] | None = None  # matching key -> target user id, built on first use
    escrowed: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class Outcome:
    action: str  # create | update | disable | delete | stageddelete | other
    status: str  # success | failure | skipped
    source: Mapping[str, Any] | None
    target: Mapping[str, Any] | None = None
    changes: tuple[Change, ...] = ()
    steps: tuple[Step, ...] = ()
    error: tuple[str, str] | None = None  # (code, reason)
    exported: bool = False


def failure(
    action: str,
    user: Mapping[str, Any],
    steps: list[Step],
    code: str,
    reason: str,
    target: Mapping[str, Any] | None = None,
) -> Outcome:
    step = export_failure_step(action, user, reason)
    return Outcome(action, "failure", user, target, (), (*steps, step), error=(code, reason))


def cost(outcome: Outcome, full: bool) -> float:
    """Simulated seconds one outcome takes, in a full (initial) or an incremental pass. Creating a user is
    the same work in any cycle: users entering scope later cost what they would have in the initial one."""
    if outcome.action == "create":
        return CREATE_SECONDS
    if not full:
        return INCREMENTAL_EXPORT_SECONDS if outcome.exported else UNCHANGED_SECONDS
    return MATCH_SECONDS


class Provisioner:
    """Provisions the users of one job's source tenant into its target, one at a time."""

    def __init__(self, source: Tenant, job: Job) -> None:
        self.source = source
        self.job = job
        self.rule = job.rule
        self.rng = random.Random()

    def target_tenant_id(self) -> str:
        return str(self.job.secrets.get("CompanyId", "")).lower()

    def target_directory(self) -> DirectoryBackend:
        return self.source.world.tenants[self.target_tenant_id()].directory

    def source_user(self, uid: str) -> Mapping[str, Any]:
        directory = self.source.directory
        return directory.users.get(uid) or directory.deleted.get(uid) or {"id": uid}

    def _desired(self, attributes: Mapping[str, object], at: float) -> Flows:
        context = {"now": datetime.fromtimestamp(at, UTC), "rng": self.rng}
        flows = []
        for mapping in self.rule.mappings:
            value = mapping.value(attributes, context)
            if value is not ex.IGNORE_FLOW:
                flows.append((mapping, value))
        return flows

    def synchronize(self, uid: str, at: float, run: Pass) -> Outcome | None:
        """Creates, matches, restores or updates one in-scope source user in the target."""
        user = self.source.directory.users.get(uid)
        if user is None:
            return None
        attributes = source_attributes(user, uid in run.assigned)
        steps = [
            import_step(user, attributes, uid in self.job.managed),
            in_scope_step(self.rule, attributes, uid in run.assigned),
        ]
        try:
            desired = self._desired(attributes, at)
            target, how = self._locate(uid, desired, run)
            if how == "left-alone":
                return None  # soft-deleted in the target by someone else: the engine does not restore it
            if target is None:
                return self._create(uid, user, desired, steps, run)
            return self._update(user, target, desired, steps, restored=how == "restored")
        except ex.EvaluationError as exc:
            return failure(
                "update" if uid in self.job.managed else "create",
                user,
                steps,
                "ExpressionEvaluationFailure",
                str(exc),
            )
        except GraphError as exc:
            code = "AzureActiveDirectoryConflict" if isinstance(exc, Conflict) else "AzureActiveDirectoryInvalidInput"
            return failure("update" if uid in self.job.managed else "create", user, steps, code, exc.message)

    def _locate(self, uid: str, desired: Flows, run: Pass) -> tuple[Any, str]:
        """The target user for a source user: the one this job manages, a restored one, or a match."""
        job, directory = self.job, self.target_directory()
        managed = job.managed.get(uid)
        if managed is not None and not managed.deleted:
            target = directory.users.get(managed.target_id)
            if target is not None:
                return target, "managed"
            if managed.target_id in directory.deleted:
                return None, "left-alone"
        if managed is not None and managed.deleted and managed.target_id in directory.deleted:
            target = directory.restore(managed.target_id)
            managed.deleted = False
            return target, "restored"
        job.managed.pop(uid, None)
        key = _matching_key(desired)
        target_id = self._index(run).get(key) if key else None
        target = directory.users.get(target_id) if target_id else None
        if target is None or key not in {a.get("key") for a in target.get(MATCHING_ATTRIBUTE) or []}:
            return None, "new"
        job.managed[uid] = Managed(target["id"])
        return target, "matched"

    def _index(self, run: Pass) -> dict[str, str]:
        if run.index is None:
            run.index = {
                alt["key"]: user["id"]
                for user in self.target_directory().users.values()
                for alt in user.get(MATCHING_ATTRIBUTE) or []
                if isinstance(alt, dict) and "key" in alt
            }
        return run.index

    def _graph_value(self, attribute: str, value: object) -> object:
        if attribute == "userPrincipalName" and isinstance(value, str):
            return external_upn(value, self.source.world.tenants[self.target_tenant_id()].initial_domain)
        return value

    def _create(self, uid: str, user: Mapping[str, Any], desired: Flows, steps: list[Step], run: Pass) -> Outcome:
        extensions: dict[str, object] = {}
        props: dict[str, Any] = {
            "creationType": "Invitation",
            "externalUserState": "Accepted",
            "showInAddressList": True,
            "userType": "Member",
        }
        changes = []
        for mapping, value in desired:
            changes.append((mapping.target, None, value))
            if value not in _EMPTY:
                _put(props, extensions, mapping.target, self._graph_value(mapping.target, value))
        if extensions:
            props["onPremisesExtensionAttributes"] = extensions
        props.setdefault("userPrincipalName", self._graph_value("userPrincipalName", user["userPrincipalName"]))
        props.setdefault("displayName", user.get("displayName"))
        props.setdefault("accountEnabled", user.get("accountEnabled", True))
        target = self.target_directory().create_user(props)
        self.job.managed[uid] = Managed(target["id"])
        if run.index is not None:
            run.index.update((alt["key"], target["id"]) for alt in target.get(MATCHING_ATTRIBUTE) or [])
        steps += [matching_step(None), *action_steps("create", user)]
        return Outcome("create", "success", user, target, tuple(changes), tuple(steps), exported=True)

    def _update(
        self,
        user: Mapping[str, Any],
        target: Mapping[str, Any],
        desired: Flows,
        steps: list[Step],
        *,
        restored: bool,
    ) -> Outcome:
        props: dict[str, Any] = {}
        extensions: dict[str, object] = {}
        changes: list[Change] = [("IsSoftDeleted", True, False)] if restored else []
        for mapping, value in desired:
            if mapping.flow_type == "ObjectAddOnly" or not _writable(mapping.target):
                continue
            value = self._graph_value(mapping.target, value)
            current = _current(target, mapping.target)
            if mapping.flow_type == "AttributeAddOnly" and current not in _EMPTY:
                continue
            if not _same(current, value):
                changes.append((mapping.target, current, value))
                _put(props, extensions, mapping.target, value)
        if extensions:
            props["onPremisesExtensionAttributes"] = extensions
        steps.append(matching_step(target))
        if not changes:
            return Outcome("other", "skipped", user, target, (), tuple(steps))
        disabling = props.get("accountEnabled") is False and target.get("accountEnabled") is not False
        action = "disable" if disabling else "update"
        if props:
            target = self.target_directory().update_user(target["id"], props)
        steps += action_steps(action, user)
        return Outcome(action, "success", user, target, tuple(changes), tuple(steps), exported=True)

    def remove(self, uid: str, run: Pass) -> Outcome | None:
        """Soft-deletes the target user of a source user that left scope."""
        managed = self.job.managed.get(uid)
        directory = self.target_directory()
        if managed is None or managed.deleted or managed.target_id not in directory.users:
            return None
        user = self.source_user(uid)
        target = directory.users[managed.target_id]
        steps = [
            import_step(user, None, True),
            out_of_scope_step(
                self.rule, self.source.directory.users.get(uid), uid in run.assigned or sync_all(self.job.secrets)
            ),
            matching_step(target),
        ]
        try:
            directory.delete_user(managed.target_id)
        except GraphError as exc:
            return failure("delete", user, steps, "AzureActiveDirectoryInsufficientRights", exc.message, target)
        managed.deleted = True
        steps += action_steps("delete", user)
        return Outcome(
            "delete", "success", user, target, (("IsSoftDeleted", False, True),), tuple(steps), exported=True
        )

    def stage(self, uid: str, run: Pass) -> Outcome | None:
        """A delete or disable held back by the accidental-deletions threshold."""
        managed = self.job.managed.get(uid)
        if managed is None:
            return None
        user = self.source_user(uid)
        target = self.target_directory().users.get(managed.target_id)
        reason = (
            "The change was not applied: this cycle's deletions and disables exceed the accidental deletions threshold."
        )
        steps: tuple[Step, ...] = (
            import_step(user, None, True),
            matching_step(target),
            ("EntrySynchronizationStagedDelete", "processing", "skipped", reason, {}),
        )
        return Outcome("stageddelete", "skipped", user, target, (), steps, error=("TooManyDeletes", reason))


def _matching_key(desired: Flows) -> str | None:
    for mapping, value in desired:
        if mapping.target == MATCHING_ATTRIBUTE and isinstance(value, list) and value:
            first = value[0]
            return first.get("key") if isinstance(first, dict) else None
    return None


def _writable(attribute: str) -> bool:
    """Whether a target attribute is a user property the engine writes (IsSoftDeleted and references such
    as manager are engine-internal or not modelled)."""
    return attribute in EXTENSION_ATTRIBUTES or GRAPH_PROPERTY.get(attribute, attribute) in _WRITABLE


def _put(props: dict[str, Any], extensions: dict[str, object], attribute: str, value: object) -> None:
    if attribute in EXTENSION_ATTRIBUTES:
        extensions[attribute] = value
    elif _writable(attribute):
        props[GRAPH_PROPERTY.get(attribute, attribute)] = value


def _current(target: Mapping[str, Any], attribute: str) -> object:
    if attribute in EXTENSION_ATTRIBUTES:
        return (target.get("onPremisesExtensionAttributes") or {}).get(attribute)
    return target.get(GRAPH_PROPERTY.get(attribute, attribute))


def _same(current: object, wanted: object) -> bool:
    return current == wanted or (current in _EMPTY and wanted in _EMPTY)
