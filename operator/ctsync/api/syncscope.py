"""SyncScope: one CTS configuration in the source tenant, parsed from a CR body with the CRD defaults."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ctsync.api import constants, fields
from ctsync.api.attribute_names import unknown_attribute
from ctsync.api.userschema import BINARY_OPERATORS, FILTERABLE_ATTRIBUTES, REGEX_OPERATORS, UNARY_OPERATORS, UNREADABLE
from ctsync.errors import InvalidSpec

ADOPTION_POLICIES: Final = ("AdoptOrCreate", "CreateOnly", "AdoptOnly")
# provisionOnDemand allows 5 requests per 10 seconds per job (Microsoft's documented limit): 30 a minute.
ON_DEMAND_REQUESTS: Final = 5
ON_DEMAND_WINDOW_SECONDS: Final = 10.0
ON_DEMAND_MAX_PER_MINUTE: Final = 30


@dataclass(frozen=True)
class PrincipalRef:
    """A group or user, by object id (lower-case) or by display name; the reconciler resolves names."""

    id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Clause:
    attribute: str
    operator: str
    value: str | None = None


@dataclass(frozen=True)
class ScopingFilter:
    clauses: tuple[Clause, ...]
    name: str | None = None


@dataclass(frozen=True)
class Scope:
    sync_all: bool = False
    groups: tuple[PrincipalRef, ...] = ()
    users: tuple[PrincipalRef, ...] = ()


@dataclass(frozen=True)
class Deprovisioning:
    deletion_threshold: int = 500  # 0 disables the provisioning service's accidental-deletion threshold
    max_scope_shrink_percent: int = 20


@dataclass(frozen=True)
class FastLane:
    enabled: bool = False
    max_per_minute: int = ON_DEMAND_MAX_PER_MINUTE
    burst_size: int = 30


@dataclass(frozen=True)
class SyncScope(fields.Resource):
    kind: ClassVar[str] = constants.KIND_SYNC_SCOPE
    tenant_pair_name: str
    configuration_name: str
    scope: Scope
    adoption_policy: str = "AdoptOrCreate"
    scoping_filters: tuple[ScopingFilter, ...] = ()
    deprovisioning: Deprovisioning = Deprovisioning()
    fast_lane: FastLane = FastLane()
    suspend: bool = False
    management_policy: str = "Manage"
    # Raw annotation values: one-shot requests are told apart by their value (compare with the last handled).
    acknowledge_shrink: str | None = None
    restart_request: str | None = None
    allow_deletions_request: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> "SyncScope":
        identity, annotations = fields.metadata(body)
        spec = fields.spec(body)
        scope = spec.req_child("scope")
        deprovisioning = spec.child("deprovisioning")
        fast_lane = spec.child("fastLane")
        return cls(
            *identity,
            tenant_pair_name=spec.req_child("tenantPairRef").req_str("name"),
            configuration_name=spec.req_str("configurationName"),
            adoption_policy=spec.opt_str("adoptionPolicy") or "AdoptOrCreate",
            scope=Scope(
                sync_all=scope.flag("syncAll", False),
                groups=_principals(scope.children("groups")),
                users=_principals(scope.children("users")),
            ),
            scoping_filters=tuple(
                ScopingFilter(
                    name=f.opt_str("name"),
                    clauses=tuple(
                        Clause(c.req_str("attribute"), c.req_str("operator"), c.opt_str("value"))
                        for c in f.children("clauses")
                    ),
                )
                for f in spec.children("scopingFilters")
            ),
            deprovisioning=Deprovisioning(
                deletion_threshold=deprovisioning.integer("deletionThreshold", 500),
                max_scope_shrink_percent=deprovisioning.integer("maxScopeShrinkPercent", 20),
            ),
            fast_lane=FastLane(
                enabled=fast_lane.flag("enabled", False),
                max_per_minute=fast_lane.integer("maxPerMinute", ON_DEMAND_MAX_PER_MINUTE),
                burst_size=fast_lane.integer("burstSize", 30),
            ),
            suspend=spec.flag("suspend", False),
            management_policy=spec.opt_str("managementPolicy") or "Manage",
            acknowledge_shrink=annotations.get(constants.ANNOTATION_ACKNOWLEDGE_SHRINK),
            restart_request=annotations.get(constants.ANNOTATION_RESTART_JOB),
            allow_deletions_request=annotations.get(constants.ANNOTATION_ALLOW_DELETIONS),
        )

    @property
    def owner_tag(self) -> str:
        return constants.owner_tag(self.namespace, self.name)

    @property
    def shrink_acknowledged(self) -> bool:
        """An acknowledgement covers only the generation it names, so a later edit needs a new one."""
        return self.acknowledge_shrink is not None and self.acknowledge_shrink.strip() == str(self.generation)

    def validate(self) -> None:
        """Every SyncScope rule, including those the CRD's CEL rules state (an old API server skips CEL)."""
        fields.require_non_empty("spec.tenantPairRef.name", self.tenant_pair_name)
        fields.require_non_empty("spec.configurationName", self.configuration_name)
        if self.configuration_name.lower().startswith(constants.MTO_CONFIGURATION_PREFIX.lower()):
            raise InvalidSpec(
                "spec.configurationName",
                f"names starting with {constants.MTO_CONFIGURATION_PREFIX} are reserved for the "
                "configurations the Microsoft 365 admin center manages",
            )
        fields.require_one_of("spec.adoptionPolicy", self.adoption_policy, ADOPTION_POLICIES)
        fields.require_one_of("spec.managementPolicy", self.management_policy, constants.MANAGEMENT_POLICIES)
        self._validate_scope()
        for i, scoping_filter in enumerate(self.scoping_filters):
            _validate_filter(f"spec.scopingFilters[{i}]", scoping_filter)
        thresholds = self.deprovisioning
        _require_range("spec.deprovisioning.deletionThreshold", thresholds.deletion_threshold, 0, 100_000)
        _require_range("spec.deprovisioning.maxScopeShrinkPercent", thresholds.max_scope_shrink_percent, 0, 100)
        if not 1 <= self.fast_lane.max_per_minute <= ON_DEMAND_MAX_PER_MINUTE:
            raise InvalidSpec(
                "spec.fastLane.maxPerMinute",
                f"must be from 1 to {ON_DEMAND_MAX_PER_MINUTE}: provisionOnDemand allows "
                f"{ON_DEMAND_REQUESTS} requests per {ON_DEMAND_WINDOW_SECONDS:.0f} seconds per job",
            )
        _require_range("spec.fastLane.burstSize", self.fast_lane.burst_size, 1, 1000)
        if self.acknowledge_shrink is not None and not self.acknowledge_shrink.strip().isdigit():
            raise InvalidSpec(
                f"metadata.annotations[{constants.ANNOTATION_ACKNOWLEDGE_SHRINK}]",
                f"must be the metadata.generation being acknowledged (now {self.generation})",
            )

    def _validate_scope(self) -> None:
        scope = self.scope
        if scope.sync_all and (scope.groups or scope.users):
            listed = "spec.scope.groups" if scope.groups else "spec.scope.users"
            raise InvalidSpec(listed, "must be empty when syncAll is true (syncAll already selects every user)")
        if not (scope.sync_all or scope.groups or scope.users):
            raise InvalidSpec("spec.scope", "selects nobody; set syncAll to true or list at least one group or user")
        _validate_principals("spec.scope.groups", scope.groups)
        _validate_principals("spec.scope.users", scope.users)


def _principals(items: Sequence[fields.Fields]) -> tuple[PrincipalRef, ...]:
    refs = []
    for item in items:
        principal_id = item.opt_str("id")
        refs.append(PrincipalRef(principal_id.lower() if principal_id else None, item.opt_str("displayName")))
    return tuple(refs)


def _validate_principals(path: str, refs: Sequence[PrincipalRef]) -> None:
    seen: set[str] = set()
    for i, ref in enumerate(refs):
        if (ref.id is None) == (ref.display_name is None):
            raise InvalidSpec(f"{path}[{i}]", "set exactly one of id or displayName")
        if ref.id is not None:
            fields.require_guid(f"{path}[{i}].id", ref.id)
            key = ref.id
        else:
            display_name = ref.display_name or ""
            fields.require_non_empty(f"{path}[{i}].displayName", display_name)
            key = "name:" + display_name.casefold()  # Entra display names compare case-insensitively
        if key in seen:
            raise InvalidSpec(f"{path}[{i}]", "is listed twice")
        seen.add(key)


def _validate_filter(path: str, scoping_filter: ScopingFilter) -> None:
    if not scoping_filter.clauses:
        raise InvalidSpec(f"{path}.clauses", "must hold at least one clause")
    for j, clause in enumerate(scoping_filter.clauses):
        at = f"{path}.clauses[{j}]"
        fields.require_non_empty(f"{at}.attribute", clause.attribute)
        _validate_attribute(f"{at}.attribute", clause.attribute)
        fields.require_one_of(f"{at}.operator", clause.operator, UNARY_OPERATORS + BINARY_OPERATORS)
        if clause.operator in UNARY_OPERATORS and clause.value is not None:
            raise InvalidSpec(f"{at}.value", f"must not be set for the unary operator {clause.operator}")
        if clause.operator in BINARY_OPERATORS and clause.value is None:
            raise InvalidSpec(f"{at}.value", f"is required for the operator {clause.operator}")
        if clause.operator in REGEX_OPERATORS:
            _validate_regex(f"{at}.value", str(clause.value))


def _validate_attribute(path: str, attribute: str) -> None:
    if attribute in UNREADABLE:
        raise InvalidSpec(path, f"{attribute} is not readable through Graph, so ctsync could not count the scope")
    what = "a source user attribute of the Azure2Azure template"
    error = unknown_attribute(path, attribute, FILTERABLE_ATTRIBUTES, what, exact_case=True)
    if error is not None:
        raise error


def _validate_regex(path: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise InvalidSpec(path, f"is not a valid regular expression: {error}") from None


def _require_range(path: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidSpec(path, f"{value} is outside {low}..{high}")
