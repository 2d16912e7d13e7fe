"""Route of JSON batching. The batch itself needs no permission; every item is authorised on its own."""

from __future__ import annotations

from ..core.http import route
from . import responses

ROUTES = [route("POST", "/$batch", responses.batch)]
