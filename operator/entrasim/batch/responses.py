"""POST /$batch: up to 20 Graph requests in one call, each run through the same dispatcher (so each is
authorised and throttled on its own), sequenced by dependsOn.

A malformed batch (not an object, too many requests, duplicate or missing ids, unknown or circular
dependsOn) fails as a whole with 400; a malformed item (absolute URL, a write without Content-Type or
body) fails alone with 400, and its dependents with 424."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict

from ..core.errors import GraphError, InternalServerError, InvalidRequest
from ..core.http import GraphRequest, Reply, ok
from ..core.ids import new_guid

MAX_REQUESTS = 20
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
WRITES = frozenset({"POST", "PUT", "PATCH"})


@dataclass
class Item:
    id: str
    method: str
    url: str
    headers: CIMultiDict[str]
    body: Any
    depends_on: list[str] = field(default_factory=list)


def _item(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise InvalidRequest("Each entry of 'requests' must be a JSON object.")
    for prop in ("id", "method", "url"):
        if not isinstance(raw.get(prop), str) or not raw[prop]:
            raise InvalidRequest(f"Each request in a batch needs a non-empty string '{prop}'.")
    if raw["method"].upper() not in METHODS:
        raise InvalidRequest(f"Request id : {raw['id']} has an unsupported method '{raw['method']}'.")
    headers = {} if raw.get("headers") is None else raw["headers"]
    depends_on = [] if raw.get("dependsOn") is None else raw["dependsOn"]
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise InvalidRequest(f"Request id : {raw['id']} has headers that are not an object of strings.")
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise InvalidRequest(f"Request id : {raw['id']} has a dependsOn that is not an array of request ids.")
    return Item(raw["id"], raw["method"].upper(), raw["url"], CIMultiDict(headers), raw.get("body"), depends_on)


def parse_batch(body: Mapping[str, Any]) -> list[Item]:
    requests = body.get("requests")
    if not isinstance(requests, list):
        raise InvalidRequest("The batch request body must have a 'requests' array.")
    if len(requests) > MAX_REQUESTS:
        raise InvalidRequest(
            f"The number of requests in a batch ({len(requests)}) exceeds the limit of {MAX_REQUESTS}."
        )
    items = [_item(raw) for raw in requests]
    seen: set[str] = set()
    for item in items:
        if item.id.lower() in seen:  # ids are not case-sensitive
            raise InvalidRequest(f"Batch request contains duplicate request id '{item.id}'.")
        seen.add(item.id.lower())
    execution_order(items)  # refuses unknown and circular dependencies up front
    return items


def execution_order(items: list[Item]) -> list[Item]:
    """The items in an order that runs every request after the requests it depends on."""
    by_id = {i.id.lower(): i for i in items}
    for item in items:
        for dep in item.depends_on:
            if dep.lower() not in by_id or dep.lower() == item.id.lower():
                raise InvalidRequest(
                    f"Request id : {item.id} depends on '{dep}', which is not another request of the batch."
                )
    ordered: list[Item] = []
    done: set[str] = set()
    pending = list(items)
    while pending:
        ready = [i for i in pending if all(d.lower() in done for d in i.depends_on)]
        if not ready:
            raise InvalidRequest("The dependsOn of the batch requests form a cycle.")
        ordered.extend(ready)
        done.update(i.id.lower() for i in ready)
        pending = [i for i in pending if i.id.lower() not in done]
    return ordered


def _item_error(item: Item) -> GraphError | None:
    """Problems that fail one item without running it."""
    if "://" in item.url or item.url.startswith("//"):
        return InvalidRequest(
            f"Invalid request URL '{item.url}': a batch request needs a URL relative to the version root."
        )
    if item.url.lstrip("/").lower().startswith("$batch"):
        return InvalidRequest("A batch request cannot contain another batch request.")
    if item.method in WRITES and (item.body is None or "Content-Type" not in item.headers):
        return InvalidRequest(f"Write request id : {item.id} does not contain Content-Type header or body.")
    return None


def _failed(error: GraphError, req: GraphRequest) -> Reply:
    envelope = error.body(request_id=new_guid(), client_request_id=None, date=req.world.clock.iso_now())
    return Reply(error.status, envelope, {})


async def _run(req: GraphRequest, item: Item, failed: set[str]) -> Reply:
    if any(d.lower() in failed for d in item.depends_on):
        return _failed(GraphError("Failed Dependency", code="FailedDependency", status=424), req)
    error = _item_error(item)
    if error is not None:
        return _failed(error, req)
    if req.world.dispatch is None:
        raise InternalServerError("The batch endpoint has no dispatcher.")
    url = item.url if item.url.startswith("/") else "/" + item.url
    reply: Reply = await req.world.dispatch(req.ctx, item.method, url, item.headers, item.body)
    return reply


def _response(item: Item, reply: Reply) -> dict[str, Any]:
    headers = dict(reply.headers)
    entry: dict[str, Any] = {"id": item.id, "status": reply.status, "headers": headers}
    if reply.body is not None:
        headers.setdefault("Content-Type", "application/json")
        entry["body"] = reply.body
    return entry


async def batch(req: GraphRequest) -> Reply:
    items = parse_batch(req.json_object())
    failed: set[str] = set()
    replies: dict[str, Reply] = {}
    for item in execution_order(items):
        replies[item.id] = reply = await _run(req, item, failed)
        if reply.status >= 400:
            failed.add(item.id.lower())
    return ok({"responses": [_response(item, replies[item.id]) for item in items]})
