"""Route templates: a Graph path with its ids replaced, the only form that may label a metric or a log."""

from __future__ import annotations

from urllib.parse import urlsplit

# Collections whose next path segment is an object key.
_KEYED = {
    "users",
    "groups",
    "serviceprincipals",
    "applications",
    "partners",
    "jobs",
    "approleassignedto",
    "deleteditems",
    "applicationtemplates",
    "templates",
    "members",
    "directoryobjects",
}


def route_template(url_or_path: str) -> str:
    path = urlsplit(url_or_path).path
    if path.startswith("/v1.0"):
        path = path[len("/v1.0") :]
    out: list[str] = []
    keyed_next = False
    for segment in path.split("/"):
        if not segment:
            continue
        if keyed_next and segment.lower() not in (
            "delta",
            "$count",
            "validatecredentials",
            "microsoft.graph.user",
            "microsoft.graph.group",
            "$ref",
        ):
            out.append("{id}")
        elif "(" in segment:  # servicePrincipals(appId='...')
            out.append(segment.split("(", 1)[0] + "({key})")
        else:
            out.append(segment)
        keyed_next = segment.lower() in _KEYED and out[-1] == segment
    return "/" + "/".join(out)
