"""The HTTP contract between the server and the services: routes, requests and replies.

A service's urls.py lists `Route`s; its responses.py turns a `GraphRequest` into a `Reply` by calling
its backend (models.py). Handlers never see aiohttp, so the dispatch layer owns the wire details
(ids, headers, error envelope, faults, throttling)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .errors import BadRequest
from .odata import (
    QueryOptions,
    encode_skiptoken,
    normalize_query,
    parse_query,
    select_fields,
    skiptoken_offset,
)

if TYPE_CHECKING:
    from ..world import Tenant, World


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["GraphRequest"], "Reply | Awaitable[Reply]"]


@dataclass(frozen=True)
class CallContext:
    """Who is calling: the tenant and app of the access token, and the app's granted roles. For a delegated
    token (a signed-in user), `roles` holds the consented scopes and `wids` the user's directory roles."""

    tenant: Tenant
    app_id: str
    roles: frozenset[str]
    user_id: str | None = None
    wids: frozenset[str] = frozenset()


@dataclass
class GraphRequest:
    method: str
    path: str  # after /v1.0, slashes collapsed
    params: dict[str, str]  # path parameters of the matched route
    query: Mapping[str, str]
    headers: Mapping[str, str]
    raw_body: bytes
    world: World
    base_url: str  # https://host:port/v1.0
    ctx: CallContext | None = None
    _json: Any = None

    def __post_init__(self) -> None:
        self.query = normalize_query(self.query)

    @property
    def tenant(self) -> Tenant:
        assert self.ctx is not None, "route without authentication asked for a tenant"
        return self.ctx.tenant

    def json(self) -> Any:
        """The request body as JSON. Malformed JSON or a non-JSON content type is a 400."""
        if self._json is None:
            if not self.raw_body.strip():
                raise BadRequest("Empty Payload. JSON content expected.")
            ctype = self.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
            if ctype not in ("application/json", "text/json", ""):
                raise BadRequest(f"Content type '{ctype}' is not supported. Use application/json.")
            try:
                self._json = json.loads(self.raw_body)
            except (ValueError, UnicodeDecodeError):
                raise BadRequest(
                    "Unable to read JSON request payload. Please ensure Content-Type header is set "
                    "and payload is of valid JSON format."
                ) from None
        return self._json

    def json_object(self, *, allowed: set[str] | None = None) -> dict[str, Any]:
        """The body as a JSON object; properties outside `allowed` are a 400 naming the property."""
        body = self.json()
        if not isinstance(body, dict):
            raise BadRequest("A JSON object was expected as request payload.")
        if allowed is not None:
            for key in body:
                if key not in allowed and not key.startswith("@odata."):
                    raise BadRequest(
                        f"Property '{key}' does not exist on type of the request payload.",
                        code="Request_BadRequest",
                    )
        return body

    def options(self, *, max_top: int = 999) -> QueryOptions:
        return parse_query(self.query, max_top=max_top)


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /users/{id}; also the bounded label for request logs and faults
    handler: Handler
    permissions: tuple[str, ...] = ()  # any one of these application roles grants access
    authenticated: bool = True
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$", re.IGNORECASE))


def route(method: str, template: str, handler: Handler, *permissions: str) -> Route:
    return Route(method, template, handler, tuple(dict.fromkeys(permissions)))  # listed once each, in order


_URL_SAFE = "$,/()'"


def odata_context(entity_set: str, select: list[str] | None, suffix: str = "") -> str:
    """The @odata.context fragment of a read: Graph names the $select-ed properties in it."""
    return f"{entity_set}({','.join(select)}){suffix}" if select else f"{entity_set}{suffix}"


# --- reply helpers ------------------------------------------------------------------------------------


def ok(body: Any, *, context: str | None = None, req: GraphRequest | None = None) -> Reply:
    if context and req is not None and isinstance(body, dict):
        body = {"@odata.context": f"{req.base_url}/$metadata#{context}", **body}
    return Reply(200, body)


def created(body: Any, *, context: str | None = None, req: GraphRequest | None = None) -> Reply:
    reply = ok(body, context=context, req=req)
    reply.status = 201
    return reply


def no_content() -> Reply:
    return Reply(204, None)


def collection(
    req: GraphRequest,
    items: list[Mapping[str, Any]],
    *,
    context: str,
    opts: QueryOptions | None = None,
    default_top: int = 100,
    view: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> Reply:
    """One page of an already filtered and ordered collection, with @odata.nextLink when more remain.
    `view` renders one item (default: its $select-ed properties); only the page's items are rendered."""
    opts = opts or req.options()
    page_size = opts.top or default_top
    offset = skiptoken_offset(opts.skiptoken) if opts.skiptoken else opts.skip  # a skiptoken's offset is absolute
    page = items[offset : offset + page_size]
    body: dict[str, Any] = {"@odata.context": f"{req.base_url}/$metadata#{context}"}
    if opts.count:
        body["@odata.count"] = len(items)
    select = opts.select
    body["value"] = [view(o) for o in page] if view else [select_fields(o, select) for o in page]
    if offset + page_size < len(items):
        query = {k: v for k, v in req.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = encode_skiptoken({"offset": offset + page_size})
        body["@odata.nextLink"] = f"{req.base_url}{req.path}?{urlencode(query, quote_via=quote, safe=_URL_SAFE)}"
    return Reply(200, body)
