"""A Graph client for one tenant: msgraph-sdk's request adapter and middleware as transport (auth,
headers, redirects, compression), JSON in and out through the raw-bytes path.

SDK model parsing costs ~14 ms per object, so nothing here deserialises into SDK models. The SDK's
retry handler is off: it retries POSTs (unsafe for instantiate and assignments) and sleeps through any
Retry-After. Instead this client retries short throttling in the call and raises `Throttled` for long
waits, which the handler layer turns into a delayed retry. A 503/504 without Retry-After is retried with
a short capped backoff in the call that got it, and only when the request is safe to repeat."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import random
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from kiota_abstractions.api_client_builder import register_default_deserializer
from kiota_abstractions.api_error import APIError
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph import GraphRequestAdapter
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph_core import GraphClientFactory

from .. import errors as domain
from ..errors import TenantRole
from . import errors
from .endpoints import CloudEndpoints
from .request_slots import RequestSlots
from .routes import route_template

# (tenant role, method, route template, HTTP status or 0 for a transport failure, seconds)
RequestObserver = Callable[[str, str, str, int, float], None]

ERROR_MAP: dict[str, Any] = {"XXX": ODataError}
# Error bodies are parsed into ODataError; GraphServiceClient would register this parser, a bare adapter
# does not, and every error would then lose its code.
register_default_deserializer(JsonParseNodeFactory)
MAX_INLINE_RETRY_AFTER = 5.0  # longer waits go back to the handler layer as Throttled
MAX_ATTEMPTS = 3
QUERY_SAFE = "$,()/'"  # OData punctuation stays readable in URLs, as Graph's own nextLinks do


@dataclass(frozen=True)
class Backoff:
    """Waits between the attempts of one call that Graph answered 503/504 without Retry-After: full jitter
    under a doubling ceiling, so that many callers hit by one outage do not come back in step."""

    attempts: int = 4
    base: float = 0.5  # the ceiling of the first wait, in seconds
    cap: float = 4.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


DEFAULT_BACKOFF = Backoff()


@functools.cache
def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """One context per trust store, shared by every client: each holds its parsed CA certificates, about a
    megabyte, and an operator has a client per tenant."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else httpx.create_ssl_context()


class GraphClient:
    def __init__(
        self,
        *,
        role: TenantRole,
        tenant_id: str,
        credential: AsyncTokenCredential,
        endpoints: CloudEndpoints,
        ca_file: str | None = None,
        observer: RequestObserver | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        slots: RequestSlots | None = None,
    ) -> None:
        self.role = role
        self.tenant_id = tenant_id
        self.endpoints = endpoints
        self._credential = credential
        self._observer = observer
        self._backoff = backoff
        self._slots = slots  # None: no bound (a single client of the CLI)
        # Graph throttles per app and tenant: after a Retry-After longer than an in-call wait, every caller
        # of this client (the change handler and the drift timer alike) waits it out without a request.
        self._not_before = 0.0
        http = httpx.AsyncClient(
            verify=_ssl_context(ca_file),
            timeout=httpx.Timeout(60, connect=15),
            event_hooks={"request": [_stamp_start], "response": [self._observe]},
        )
        options = dict(graph_default_options)
        options[RetryHandlerOption.get_key()] = RetryHandlerOption(should_retry=False, max_retries=0)
        self._http = GraphClientFactory.create_with_default_middleware(client=http, options=options)
        auth = AzureIdentityAuthenticationProvider(credential, scopes=[endpoints.scope])
        self._adapter = GraphRequestAdapter(auth, client=self._http)
        self._adapter.base_url = endpoints.graph_base  # without the trailing slash httpx would add

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def close(self) -> None:
        await self._http.aclose()
        await self._credential.close()

    # --- verbs ---------------------------------------------------------------------------------------
    async def get(
        self, path: str, query: Mapping[str, str] | None = None, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        return await self.request("GET", path, query=query, headers=headers) or {}

    async def get_optional(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """The object, or None when Graph says it does not exist. Any other failure raises."""
        try:
            return await self.get(path, query)
        except errors.GraphNotFound:
            return None

    async def pages(
        self, path: str, query: Mapping[str, str] | None = None, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a collection, following @odata.nextLink verbatim. A failed page raises
        ReadIncomplete: a partial listing must never pass for the whole."""
        url: str | None = self.url(path, query)
        page_no = 0
        while url:
            try:
                doc = await self.request("GET", url, headers=headers) or {}
            except domain.Throttled:
                raise
            except domain.CtsyncError as exc:
                if page_no == 0:
                    raise
                raise domain.ReadIncomplete(
                    f"{self.role} tenant {route_template(path)} after {page_no} pages: {exc}"
                ) from exc
            page_no += 1
            yield doc.get("value", [])
            url = doc.get("@odata.nextLink")

    async def list_all(
        self, path: str, query: Mapping[str, str] | None = None, *, headers: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        async for page in self.pages(path, query, headers=headers):
            items.extend(page)
        return items

    async def post(self, path: str, body: Any = None, *, retry: bool = True) -> dict[str, Any] | None:
        """`retry=False` for non-idempotent creates: the caller looks the object up after an ambiguous failure."""
        return await self.request("POST", path, body=body, retry=retry)

    async def patch(self, path: str, body: Any) -> None:
        await self.request("PATCH", path, body=body)

    async def put(self, path: str, body: Any) -> None:
        await self.request("PUT", path, body=body)

    async def delete(self, path: str) -> None:
        await self.request("DELETE", path)

    async def granted_roles(self) -> set[str]:
        """The application permissions in this app's access token (for the permission preflight)."""
        return set((await self._token_claims()).get("roles", []))

    async def own_app_id(self) -> str:
        """The application (client) id this client signs in as, from its access token."""
        return str((await self._token_claims()).get("appid", ""))

    async def _token_claims(self) -> dict[str, Any]:
        try:
            token = await self._credential.get_token(self.endpoints.scope)
        except ClientAuthenticationError as exc:
            raise domain.AuthenticationFailed(self.role, _first_line(exc.message)) from None
        except ServiceRequestError as exc:
            raise _token_endpoint_unreachable(self.role, exc) from None
        payload = token.token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))

    # --- transport -----------------------------------------------------------------------------------
    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = path if path.startswith("https://") else f"{self.endpoints.graph_base}{path}"
        return f"{url}?{urlencode(query, quote_via=quote, safe=QUERY_SAFE)}" if query else url

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        hold_tenant: bool = True,
    ) -> Any:
        """`retry=False` for requests not safe to repeat: any failure is raised at once. `hold_tenant=False`
        for a limit of its own (provisionOnDemand's, per job): its 429 holds no other caller of the tenant."""
        url = self.url(path, query)
        route = route_template(url)
        held = self._not_before - time.monotonic()
        if held > 0:
            raise domain.Throttled(held, f"{self.role} tenant: still within Graph's Retry-After")
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._slots.hold(self.tenant_id) if self._slots else nullcontext():
                    return await self._send_once(method, url, route, body, headers)
            except domain.Throttled as exc:
                if not retry or attempt >= MAX_ATTEMPTS or exc.retry_after > MAX_INLINE_RETRY_AFTER:
                    if hold_tenant:
                        self._not_before = max(self._not_before, time.monotonic() + exc.retry_after)
                    raise
                await asyncio.sleep(exc.retry_after)
            except errors.ServiceBusy:
                if not retry or attempt >= self._backoff.attempts:
                    raise
                await asyncio.sleep(self._backoff.delay(attempt))

    async def _send_once(self, method: str, url: str, route: str, body: Any, headers: Mapping[str, str] | None) -> Any:
        info = RequestInformation(Method[method])
        info.url = url
        for name, value in (headers or {}).items():
            info.headers.try_add(name, value)
        if body is not None:
            info.headers.try_add("Content-Type", "application/json")
            info.content = json.dumps(body).encode()
        try:
            raw = await self._adapter.send_primitive_async(info, "bytes", ERROR_MAP)
        except APIError as exc:
            code, message = _odata_code(exc)
            raise errors.from_response(
                self.role, exc.response_status_code or 0, code, message, exc.response_headers
            ) from None
        except ClientAuthenticationError as exc:
            raise domain.AuthenticationFailed(self.role, _first_line(exc.message)) from None
        except ServiceRequestError as exc:
            raise _token_endpoint_unreachable(self.role, exc) from None
        except httpx.TransportError as exc:
            if self._observer:
                self._observer(self.role, method, route, 0, 0.0)
            raise domain.GraphUnavailable(f"{self.role} tenant: {route}: {type(exc).__name__}") from None
        return json.loads(raw) if raw else None

    async def _observe(self, response: httpx.Response) -> None:
        if self._observer:
            request = response.request
            elapsed = time.perf_counter() - request.extensions.get("ctsync_started", time.perf_counter())
            self._observer(self.role, request.method, route_template(str(request.url)), response.status_code, elapsed)


async def _stamp_start(request: httpx.Request) -> None:
    request.extensions["ctsync_started"] = time.perf_counter()


def _odata_code(exc: APIError) -> tuple[str | None, str | None]:
    if isinstance(exc, ODataError) and exc.error is not None:
        return exc.error.code, exc.error.message
    return None, exc.message


def _token_endpoint_unreachable(role: TenantRole, exc: ServiceRequestError) -> domain.GraphUnavailable:
    # aiohttp names its SSL context object in the message: noise for the reader.
    detail = re.sub(r" ssl:<[^>]*>", "", _first_line(exc.message))
    return domain.GraphUnavailable(f"{role} tenant: cannot reach the token endpoint: {detail}")


def _first_line(text: str | None) -> str:
    return (text or "authentication failed").splitlines()[0]
