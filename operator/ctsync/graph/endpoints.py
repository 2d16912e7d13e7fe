"""Where a tenant's token endpoint and Graph live, per national cloud or custom (an emulator, a proxy)."""

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


CLOUDS = {
    "AzurePublic": CloudEndpoints("https://login.microsoftonline.com", "https://graph.microsoft.com",
                                  GRAPH_SCOPE_PUBLIC),
    "AzureUSGovernment": CloudEndpoints("https://login.microsoftonline.us", "https://graph.microsoft.us",
                                        "https://graph.microsoft.us/.default"),
    "AzureChina": CloudEndpoints("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn",
                                 "https://microsoftgraph.chinacloudapi.cn/.default"),
}


def endpoints_for(cloud: str, authority_host: str | None = None, graph_endpoint: str | None = None) -> CloudEndpoints:
    """A Custom cloud keeps the public Graph scope: it stands in for the public cloud (tests, proxies)."""
    if cloud == "Custom":
        if not authority_host or not graph_endpoint:
            raise ValueError("a Custom cloud needs authorityHost and graphEndpoint")
        return CloudEndpoints(authority_host.rstrip("/"), graph_endpoint.rstrip("/"), GRAPH_SCOPE_PUBLIC)
    return CLOUDS[cloud]
