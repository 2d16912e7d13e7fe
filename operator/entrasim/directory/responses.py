"""HTTP layer of the directory: users, groups, membership, delta queries and the recycle bin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import AuthorizationRequestDenied, BadRequest, UnsupportedQuery
from ..core.http import GraphRequest, Reply, collection, created, no_content, odata_context, ok
from ..core.ids import is_guid
from ..core.odata import (
    SEARCH_NEEDS_EVENTUAL,
    QueryOptions,
    apply_query,
    consistency_eventual,
    decode_skiptoken,
    encode_skiptoken,
    parse_query,
)
from ..core.resources import RESOURCES
from .exceptions import DeltaReset, InvalidObjectIdentifier, SyncStateNotFound
from .models import ODATA_TYPES, DirectoryBackend, check_query, check_select

USER_READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
USER_WRITE = ("User.ReadWrite.All", "Directory.ReadWrite.All")
GROUP_READ = (
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
GROUP_CREATE = ("Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All")
GROUP_WRITE = ("Group.ReadWrite.All", "Directory.ReadWrite.All")
MEMBER_WRITE = ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
RESTORE = {
    "user": ("User.DeleteRestore.All", "User.ReadWrite.All", "Directory.ReadWrite.All"),
    "group": ("Group.ReadWrite.All", "Directory.ReadWrite.All"),
}
READ = {"user": USER_READ, "group": GROUP_READ}

DELTA_PAGE_SIZE = 100
_RAW_COUNT_NEEDS_EVENTUAL = (
    "Raw count (/$count) is not supported because the 'ConsistencyLevel:eventual' header is missing. "
    "Refer to https://aka.ms/graph-docs/advanced-queries for more information"
)
_ENTITY_SETS = {"user": "users", "group": "groups"}


def _directory(req: GraphRequest) -> DirectoryBackend:
    return req.tenant.directory


def _eventual(req: GraphRequest) -> bool:
    return consistency_eventual(req.headers, req.query)


def _list_options(req: GraphRequest) -> tuple[QueryOptions, bool]:
    """The query options of a collection read and whether it runs as an advanced query. Without the
    ConsistencyLevel header, $count=true is silently ignored, as Graph documents."""
    opts = req.options()
    eventual = _eventual(req)
    if "$skip" in req.query:
        raise BadRequest("'$skip' is not supported by the service.")  # directory collections page by $skiptoken
    if "$search" in req.query and not eventual:
        raise UnsupportedQuery(SEARCH_NEEDS_EVENTUAL)
    opts.count = advanced = eventual and opts.count
    return opts, advanced


def _check_roles(req: GraphRequest, kind: str, select: list[str] | None) -> None:
    if req.ctx is not None:
        RESOURCES[kind].check_roles(select, req.ctx.roles)


def _view(kind: str, obj: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    """An object as Graph returns it: without $select, exactly the resource's default property set."""
    return RESOURCES[kind].view(obj, select)


def _body(req: GraphRequest) -> dict[str, Any]:
    return {k: v for k, v in req.json_object().items() if not k.startswith("@odata.")}


def _count_reply(count: int) -> Reply:
    return Reply(200, str(count))


# --- users and groups ---------------------------------------------------------------------------------


def list_objects(req: GraphRequest, kind: str) -> Reply:
    opts, advanced = _list_options(req)
    found = _directory(req).find(kind, opts, advanced=advanced, search=req.query.get("$search"))
    _check_roles(req, kind, opts.select)
    context = odata_context(_ENTITY_SETS[kind], opts.select)
    return collection(req, found, context=context, opts=opts, view=lambda o: _view(kind, o, opts.select))


def count_objects(req: GraphRequest, kind: str) -> Reply:
    if not _eventual(req):
        raise UnsupportedQuery(_RAW_COUNT_NEEDS_EVENTUAL)
    found = _directory(req).find(kind, req.options(), advanced=True, search=req.query.get("$search"))
    return _count_reply(len(found))


def _get(req: GraphRequest, kind: str) -> dict[str, Any]:
    d = _directory(req)
    return d.get_user(req.params["id"]) if kind == "user" else d.get_group(req.params["id"])


def get_object(req: GraphRequest, kind: str) -> Reply:
    opts = req.options()
    check_select(kind, opts.select, listing=False)
    _check_roles(req, kind, opts.select)
    obj = _view(kind, _get(req, kind), opts.select)
    return ok(obj, context=odata_context(_ENTITY_SETS[kind], opts.select, "/$entity"), req=req)


def create_user(req: GraphRequest) -> Reply:
    user = _directory(req).create_user_from_api(_body(req))
    req.world.replication.written(user["id"])
    return created(_view("user", user, None), context="users/$entity", req=req)


def update_object(req: GraphRequest, kind: str) -> Reply:
    d = _directory(req)
    if kind == "user":
        d.update_user(req.params["id"], _body(req))
    else:
        d.update_group(req.params["id"], _body(req))
    return no_content()


def delete_object(req: GraphRequest, kind: str) -> Reply:
    d = _directory(req)
    if kind == "user":
        d.delete_user(req.params["id"])
    else:
        d.delete_group(req.params["id"])
    return no_content()


def create_group(req: GraphRequest) -> Reply:
    body = req.json_object()
    binds = body.get("members@odata.bind", [])
    if not isinstance(binds, list) or not all(isinstance(b, str) for b in binds):
        raise BadRequest("Invalid value specified for property 'members@odata.bind' of resource 'Group'.")
    props = {k: v for k, v in body.items() if not k.startswith("@odata.") and k != "members@odata.bind"}
    group = _directory(req).create_group(props, members=[_referenced_id(b, "@odata.bind") for b in binds])
    req.world.replication.written(group["id"])
    return created(_view("group", group, None), context="groups/$entity", req=req)


def _referenced_id(url: str, annotation: str) -> str:
    """The object id at the end of a reference such as https://graph.microsoft.com/v1.0/directoryObjects/{id}."""
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if "://" not in url or not is_guid(tail):
        raise BadRequest(f"Invalid URL format specified in {annotation} for members.")
    return tail


# --- membership ----------------------------------------------------------------------------------------


def _members(req: GraphRequest, *, transitive: bool, cast: str | None) -> tuple[list[Any], QueryOptions]:
    opts, advanced = _list_options(req)
    d = _directory(req)
    found = d.member_listing(req.params["id"], transitive=transitive, kind=cast)
    if cast is not None:
        check_query(cast, opts, advanced=advanced)
    else:
        check_select("user", opts.select, extra=RESOURCES["group"].known)
    if opts.filter is None and not opts.orderby:
        # The cached listing itself, not a copy: a fresh 100k-item list per page is young garbage that
        # every collection of the youngest generation walks (it was a third of the cost of a read).
        return found, opts
    return apply_query(found, opts), opts


def list_members(req: GraphRequest, *, transitive: bool, cast: str | None) -> Reply:
    found, opts = _members(req, transitive=transitive, cast=cast)
    entity_set = _ENTITY_SETS[cast] if cast else "directoryObjects"
    d = _directory(req)
    return collection(
        req,
        found,
        context=odata_context(entity_set, opts.select),
        opts=opts,
        view=lambda o: _member_view(d, o, opts.select, typed=cast is None),
    )


def _member_view(d: DirectoryBackend, obj: Mapping[str, Any], select: list[str] | None, *, typed: bool) -> dict:
    kind = d.kind_of(obj["id"]) or "user"
    view = _view(kind, obj, select)
    return {"@odata.type": ODATA_TYPES[kind], **view} if typed else view


def count_members(req: GraphRequest, *, transitive: bool, cast: str | None) -> Reply:
    if not _eventual(req):
        raise UnsupportedQuery(_RAW_COUNT_NEEDS_EVENTUAL)
    return _count_reply(len(_members(req, transitive=transitive, cast=cast)[0]))


def add_member(req: GraphRequest) -> Reply:
    ref = req.json_object().get("@odata.id")
    if not isinstance(ref, str):
        raise BadRequest("The request body must name the new member in '@odata.id'.")
    _directory(req).add_member(req.params["id"], _referenced_id(ref, "@odata.id"))
    return no_content()


def remove_member(req: GraphRequest) -> Reply:
    member_id = req.params["member_id"]
    if not is_guid(member_id):
        raise InvalidObjectIdentifier(member_id)
    _directory(req).remove_member(req.params["id"], member_id)
    return no_content()


# --- delta ---------------------------------------------------------------------------------------------


def delta(req: GraphRequest, kind: str) -> Reply:
    """One page of a users/groups delta round. Tokens carry the round's state and the caller's $select;
    a $select given with a $deltatoken replaces the one the token carries."""
    tokens = {k.lower(): v for k, v in req.query.items() if k.lower() in ("$deltatoken", "$skiptoken")}
    opts = parse_query({k: v for k, v in req.query.items() if k.lower() not in ("$deltatoken", "$skiptoken")})
    d = _directory(req)
    check_select(kind, opts.select, extra=("members",) if kind == "group" else ())
    if tokens.get("$deltatoken") == "latest":
        latest = {**d.delta_state(kind, d.sequence), "sel": opts.select}
        return _delta_reply(req, kind, [], opts.select, latest, more=False)
    state = _open_token(tokens.get("$deltatoken") or tokens.get("$skiptoken"))
    select = opts.select or (state or {}).get("sel")
    try:
        since, cursor = d.open_delta_state(state, kind) if state is not None else (None, 0)
    except DeltaReset as exc:
        exc.headers["Location"] = _restart_link(req, select)
        raise
    with_members = kind == "group" and (select is None or "members" in select)
    tracked = frozenset(select) - {"id"} if kind == "user" and select else None
    items, next_cursor = d.delta_page(kind, since, cursor, DELTA_PAGE_SIZE, with_members=with_members, select=tracked)
    # a complete round hands over a token for the next one, starting after everything seen so far
    next_state = d.delta_state(kind, d.sequence) if next_cursor is None else d.delta_state(kind, since, next_cursor)
    values = [_delta_view(kind, item, select) for item in items]
    return _delta_reply(req, kind, values, select, {**next_state, "sel": select}, more=next_cursor is not None)


def _restart_link(req: GraphRequest, select: list[str] | None) -> str:
    """The same request with an empty $deltatoken: a full round, with the options the old token carried."""
    query = f"$select={','.join(select)}&" if select else ""
    return f"{req.base_url}{req.path}?{query}$deltatoken="


def _open_token(token: str | None) -> dict[str, Any] | None:
    if token is None:
        return None
    try:
        return decode_skiptoken(token)
    except BadRequest:
        raise SyncStateNotFound() from None


def _delta_view(kind: str, item: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if "@removed" in item:
        return item
    fields = ([s for s in select if s != "members"] or ["id"]) if select else None
    view = _view(kind, item, fields)
    if "members@delta" in item:
        view["members@delta"] = item["members@delta"]
    return view


def _delta_reply(
    req: GraphRequest,
    kind: str,
    values: list[dict[str, Any]],
    select: list[str] | None,
    state: dict[str, Any],
    *,
    more: bool,
) -> Reply:
    """A delta page: @odata.nextLink ($skiptoken) while the round goes on, else @odata.deltaLink."""
    link = f"{req.base_url}{req.path}?{'$skiptoken' if more else '$deltatoken'}={encode_skiptoken(state)}"
    body = {
        "@odata.context": f"{req.base_url}/$metadata#{odata_context(_ENTITY_SETS[kind], select)}",
        "value": values,
        "@odata.nextLink" if more else "@odata.deltaLink": link,
    }
    return Reply(200, body)


# --- recycle bin ---------------------------------------------------------------------------------------


def list_deleted(req: GraphRequest, kind: str) -> Reply:
    opts, advanced = _list_options(req)
    check_query(kind, opts, advanced=advanced)
    found = apply_query(_directory(req).deleted_items(kind), opts)
    entity_set = f"directory/deletedItems/microsoft.graph.{kind}"
    context = odata_context(entity_set, opts.select)
    return collection(req, found, context=context, opts=opts, view=lambda o: _deleted_view(kind, o, opts.select))


def _deleted_view(kind: str, obj: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None and kind == "user":
        return RESOURCES[kind].view(obj, (*RESOURCES[kind].default, "deletedDateTime"))
    return RESOURCES[kind].view(obj, select)


def _deleted_kind(req: GraphRequest, roles: Mapping[str, tuple[str, ...]]) -> str:
    """The kind of the recycle-bin object named in the path, once the caller may act on that kind."""
    object_id = req.params["id"]
    if not is_guid(object_id):
        raise InvalidObjectIdentifier(object_id)
    kind = _directory(req).deleted_kind.get(object_id.lower())
    if kind is not None and req.ctx is not None and not req.ctx.roles & set(roles[kind]):
        raise AuthorizationRequestDenied()
    return kind or "user"


def _deleted_reply(req: GraphRequest, kind: str, obj: Mapping[str, Any]) -> Reply:
    body = {"@odata.type": ODATA_TYPES[kind], **_deleted_view(kind, obj, req.options().select)}
    return ok(body, context="directoryObjects/$entity", req=req)


def get_deleted(req: GraphRequest) -> Reply:
    kind = _deleted_kind(req, READ)
    return _deleted_reply(req, kind, _directory(req).get_deleted(req.params["id"]))


def restore_deleted(req: GraphRequest) -> Reply:
    kind = _deleted_kind(req, RESTORE)
    return _deleted_reply(req, kind, _directory(req).restore(req.params["id"]))


def purge_deleted(req: GraphRequest) -> Reply:
    _deleted_kind(req, RESTORE)
    _directory(req).hard_delete(req.params["id"])
    return no_content()
