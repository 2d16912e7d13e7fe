"""The CTS configuration (the service principal of an app instantiated from the CTS template): which one
ctsync manages (adoption rules) and the writes that create or claim it.

`source.configuration` create = instantiate the template with `body`, then add the owner tag to the new
service principal's `tags` before anything else: ctsync finds its own configuration by that tag when its
status is lost.
"""

from collections.abc import Sequence
from typing import NoReturn

from ctsync.api import conditions, constants
from ctsync.api.syncscope import SyncScope
from ctsync.errors import Blocked, DependencyNotReady
from ctsync.planning.plan import Action, Json, short_id, summary


def _owners(service_principal: Json) -> set[str]:
    tags = service_principal.get("tags") or ()
    return {tag for tag in tags if tag.startswith(constants.OWNER_TAG_PREFIX)}


def _describe(service_principal: Json) -> str:
    return f'"{service_principal.get("displayName")}" ({service_principal.get("id")})'


def choose_configuration(
    scope: SyncScope, recorded: Json | None, candidates: Sequence[Json], *, answer_lost: bool = False
) -> Json | None:
    """The configuration to manage, or None to create one; Blocked when none may be taken or made.

    A configuration tagged for this SyncScope is always ours. An untagged one is adopted only under
    AdoptOrCreate/AdoptOnly, only when it is the single candidate, and never when the Microsoft 365 admin
    center manages it (MTO_Sync_*). ctsync never creates a second configuration with the same name.
    `answer_lost`: ctsync instantiated one and lost Graph's answer, so the single untagged candidate is that one.
    """
    if recorded is not None:
        owners = _owners(recorded)
        if owners and scope.owner_tag not in owners:
            _not_owned(f"configuration {_describe(recorded)} is tagged {', '.join(sorted(owners))}")
        return recorded
    candidates = [
        sp
        for sp in candidates
        if str(sp.get("applicationTemplateId", constants.CTS_APPLICATION_TEMPLATE_ID)).lower()
        == constants.CTS_APPLICATION_TEMPLATE_ID
    ]
    ours = [sp for sp in candidates if scope.owner_tag in _owners(sp)]
    others = [sp for sp in candidates if scope.owner_tag not in _owners(sp)]
    if len(ours) == 1:
        return ours[0]
    if len(ours) > 1 or len(others) > 1:
        named = "; ".join(_describe(sp) for sp in (ours if len(ours) > 1 else others))
        raise Blocked(
            conditions.AMBIGUOUS_REFERENCE,
            f"configurationName {scope.configuration_name!r} matches several configurations: {named}; "
            "delete or rename all but one",
        )
    if not others:
        if scope.adoption_policy == "AdoptOnly":
            raise DependencyNotReady(
                f"no configuration named {scope.configuration_name!r} to adopt (adoptionPolicy AdoptOnly)"
            )
        return None
    (other,) = others
    if _owners(other):
        _not_owned(f"configuration {_describe(other)} belongs to {', '.join(sorted(_owners(other)))}")
    if str(other.get("displayName", "")).lower().startswith(constants.MTO_CONFIGURATION_PREFIX.lower()):
        _not_owned(f"configuration {_describe(other)} is managed by the Microsoft 365 admin center")
    if scope.adoption_policy == "CreateOnly" and not answer_lost:
        _not_owned(
            f"configuration {_describe(other)} exists and was not created by ctsync; adoptionPolicy "
            "CreateOnly does not adopt it (use AdoptOrCreate, or choose another configurationName)"
        )
    return other


def _not_owned(message: str) -> NoReturn:
    raise Blocked(conditions.NOT_OWNED, message)


def create_configuration(scope: SyncScope) -> Action:
    changes = {"displayName": (None, scope.configuration_name), "tags": (None, [scope.owner_tag])}
    subject = (
        f'source configuration "{scope.configuration_name}" '
        f"(application template {short_id(constants.CTS_APPLICATION_TEMPLATE_ID)})"
    )
    body = {"displayName": scope.configuration_name}
    return Action("source", "source.configuration", "create", summary("create", subject), changes, body=body)


def tag_configuration(scope: SyncScope, configuration: Json) -> list[Action]:
    tags = list(configuration.get("tags") or ())
    if scope.owner_tag in tags:
        return []
    subject = f"source configuration {_describe(configuration)}: adopt, tag {scope.owner_tag}"
    changes = {"tags": (tags, [*tags, scope.owner_tag])}
    return [
        Action(
            "source",
            "source.configuration",
            "update",
            summary("update", subject),
            changes,
            body={"tags": [*tags, scope.owner_tag]},
            key=str(configuration.get("id")),
        )
    ]
