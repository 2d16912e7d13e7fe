"""Routes of the directory: users, groups, membership, delta queries and the recycle bin.

Specific templates come before the `{id}` ones they would otherwise match (/users/$count, /users/delta).
The msgraph SDKs address casts and functions as `graph.user` and `delta()`, Graph's docs as
`microsoft.graph.user` and `delta`; both spellings are routed."""

from __future__ import annotations

from functools import partial

from ..core.http import Route, route
from . import responses as r

DELTA_SEGMENTS = ("delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()")
CASTS = {"user": ("microsoft.graph.user", "graph.user"), "group": ("microsoft.graph.group", "graph.group")}


def _object_routes(kind: str, base: str, read: tuple[str, ...], write: tuple[str, ...]) -> list[Route]:
    return [
        route("GET", f"{base}/$count", partial(r.count_objects, kind=kind), *read),
        *(route("GET", f"{base}/{seg}", partial(r.delta, kind=kind), *read) for seg in DELTA_SEGMENTS),
        route("GET", base, partial(r.list_objects, kind=kind), *read),
        route("GET", f"{base}/{{id}}", partial(r.get_object, kind=kind), *read),
        route("PATCH", f"{base}/{{id}}", partial(r.update_object, kind=kind), *write),
        route("DELETE", f"{base}/{{id}}", partial(r.delete_object, kind=kind), *write),
    ]


def _member_routes(relation: str, transitive: bool) -> list[Route]:
    base = f"/groups/{{id}}/{relation}"
    shapes = [(None, base), *((kind, f"{base}/{cast}") for kind, casts in CASTS.items() for cast in casts)]
    return [
        rt
        for cast, path in shapes
        for rt in (
            route(
                "GET",
                f"{path}/$count",
                partial(r.count_members, transitive=transitive, cast=cast),
                *r.GROUP_READ,
            ),
            route("GET", path, partial(r.list_members, transitive=transitive, cast=cast), *r.GROUP_READ),
        )
    ]


def _deleted_item_routes() -> list[Route]:
    base = "/directory/deletedItems"
    lists = [
        route("GET", f"{base}/{cast}", partial(r.list_deleted, kind=kind), *r.READ[kind])
        for kind, casts in CASTS.items()
        for cast in casts
    ]
    restore = r.RESTORE["user"] + r.RESTORE["group"]
    return [
        *lists,
        route("GET", f"{base}/{{id}}", r.get_deleted, *r.USER_READ, *r.GROUP_READ),
        route("DELETE", f"{base}/{{id}}", r.purge_deleted, *restore),
        route("POST", f"{base}/{{id}}/restore", r.restore_deleted, *restore),
        route("POST", f"{base}/{{id}}/microsoft.graph.restore", r.restore_deleted, *restore),
    ]


ROUTES: list[Route] = [
    route("POST", "/users", r.create_user, *r.USER_WRITE),
    *_object_routes("user", "/users", r.USER_READ, r.USER_WRITE),
    route("POST", "/groups", r.create_group, *r.GROUP_CREATE),
    route("POST", "/groups/{id}/members/$ref", r.add_member, *r.MEMBER_WRITE),
    route("DELETE", "/groups/{id}/members/{member_id}/$ref", r.remove_member, *r.MEMBER_WRITE),
    *_member_routes("members", transitive=False),
    *_member_routes("transitiveMembers", transitive=True),
    *_object_routes("group", "/groups", r.GROUP_READ, r.GROUP_WRITE),
    *_deleted_item_routes(),
]
