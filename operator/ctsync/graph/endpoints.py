"""Where a tenant's token endpoint and Graph live, and the token scope that Graph expects."""

from __future__ import annotations

from dataclasses import dataclass

GRAPH_SCOPE_PUBLIC = "https://graph.microsoft.com/.default"


@dataclass(frozen=True)
class CloudEndpoints:
    authority_host: str  # https://login.microsoftonline.com
    graph_endpoint: str  # https://graph.microsoft.com (no version, no trailing slash)
    scope: str  # the .default scope of that Graph

    @property
    def graph_base(self) -> str:
        return f"{self.graph_endpoint}/v1.0"


def endpoints_for(cloud: str, authority_host: str, graph_endpoint: str) -> CloudEndpoints:
    """National clouds have their own Graph scope; a Custom cloud (an emulator, a proxy) stands in for the
    public one and keeps its scope."""
    graph = graph_endpoint.rstrip("/")
    scope = GRAPH_SCOPE_PUBLIC if cloud == "Custom" else f"{graph}/.default"
    return CloudEndpoints(authority_host.rstrip("/"), graph, scope)
