"""Matches a Graph path (after /v1.0) to a service route; 404 and 405 the way Graph answers them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import BadRequest, MethodNotAllowed
from .http import Route

# OData's key syntax, `/users('adele@contoso.com')`, addresses the same object as `/users/adele@contoso.com`;
# Graph's docs use it for keys a path segment cannot carry (a user principal name starting with `$`).
_KEY_IN_PARENTHESES = re.compile(r"^/(\w+)\('([^']*)'\)")


def _first_segment(path: str) -> str:
    head = path.lstrip("/").split("/", 1)[0]
    return head.split("(", 1)[0].lower()  # servicePrincipals(appId='...') shares the servicePrincipals bucket


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        self._buckets: dict[str, list[Route]] = {}
        for r in self.routes:
            self._buckets.setdefault(_first_segment(r.template), []).append(r)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        if len(path) > 1:
            path = path.rstrip("/")  # Graph accepts a trailing slash on a resource path (`/users/delta/?...`)
        path = _KEY_IN_PARENTHESES.sub(r"/\1/\2", path)
        candidates = self._buckets.get(_first_segment(path), [])
        allowed = False
        for r in candidates:
            m = r.pattern.match(path)
            if m is None:
                continue
            if r.method == method:
                return r, m.groupdict()
            allowed = True
        if allowed:
            raise MethodNotAllowed()
        segment = path.strip("/").split("/")[-1] or path
        raise BadRequest(f"Resource not found for the segment '{segment}'.", code="BadRequest", status=400)
